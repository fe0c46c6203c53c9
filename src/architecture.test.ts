/**
 * The layering, read from the source's import graph (scripts/importGraph.mjs):
 * - src/core is framework-free: no React, no state library, no DOM-only packages, and nothing from
 *   src/ui, src/state or src/worker, so it runs (and is unit-tested) in Node and in the worker.
 * - The page (src/main.tsx, src/ui, src/state) has no tfjs in it: the engine lives in the worker.
 *   Not only no direct `@tensorflow/*` import, but no value import that leads to one (importing
 *   core/pruning/index.ts would pull tfjs in through applyMasks.ts). Type-only imports are erased
 *   and the worker is a separate bundle (`new Worker(new URL(…))`), so neither counts.
 * eslint.config.js flags the same imports as you type; this test holds even where lint is not run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { isTensorflow, isTestFile, packageName, reachFinder, readImports, resolveLocal, sourceFiles } from '../scripts/importGraph.mjs';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const rel = (p: string) => path.relative(SRC, p);
const inDir = (dir: string) => (p: string) => p.startsWith(path.join(SRC, dir) + path.sep);

/** Packages that need a framework or a DOM: none of them belongs in src/core. */
const NOT_IN_CORE = ['react', 'react-dom', 'recharts', 'zustand', 'idb-keyval'];
const PAGE_DIRS = ['ui', 'state'];

const core = sourceFiles(path.join(SRC, 'core'));
const pageFiles = PAGE_DIRS.flatMap((d) => sourceFiles(path.join(SRC, d)));

describe('architecture (import graph)', () => {
  test('the graph is read: the folders have files, and known tfjs users are seen as such', () => {
    expect(core.length).toBeGreaterThan(10);
    expect(pageFiles.filter((f) => inDir('ui')(f)).length).toBeGreaterThan(3);
    expect(pageFiles.filter((f) => inDir('state')(f)).length).toBeGreaterThan(3);
    const reach = reachFinder(isTensorflow);
    expect(reach(path.join(SRC, 'worker/engine.ts'))?.at(-1)).toMatch(/^@tensorflow\//);
    // Through a re-export: index.ts has no tfjs import of its own.
    expect(reach(path.join(SRC, 'core/pruning/index.ts'))?.length).toBeGreaterThan(2);
  });

  test('src/core imports no React, zustand or DOM packages, and nothing from ui, state or worker', () => {
    const bad: string[] = [];
    for (const file of core) {
      for (const imp of readImports(file)) {
        const pkg = packageName(imp.specifier);
        if (pkg != null && NOT_IN_CORE.includes(pkg)) bad.push(`${rel(file)}:${imp.line} imports ${imp.specifier}`);
        const local = resolveLocal(file, imp.specifier);
        if (local && (inDir('ui')(local) || inDir('state')(local) || inDir('worker')(local) || rel(local) === 'main.tsx')) {
          bad.push(`${rel(file)}:${imp.line} imports ${rel(local)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  test('src/ui and src/state import no @tensorflow package (not even types)', () => {
    const bad = pageFiles.flatMap((file) =>
      readImports(file)
        .filter((imp) => isTensorflow(packageName(imp.specifier) ?? ''))
        .map((imp) => `${rel(file)}:${imp.line} imports ${imp.specifier}`),
    );
    expect(bad).toEqual([]);
  });

  test('nothing the page bundles (main.tsx, ui, state) reaches tfjs through its imports', () => {
    const reach = reachFinder(isTensorflow);
    const roots = [path.join(SRC, 'main.tsx'), ...pageFiles.filter((f) => !isTestFile(f))];
    const chains = roots.map(reach).filter((c): c is string[] => c != null);
    expect(chains.map((c) => c.map((p) => (p.startsWith(SRC) ? rel(p) : p)).join(' → '))).toEqual([]);
  });
});
