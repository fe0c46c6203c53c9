/** scripts/importGraph.mjs on a small fake source tree. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { packageName, reachFinder, readImports, resolveLocal, sourceFiles } from './importGraph.mjs';

const root = mkdtempSync(path.join(tmpdir(), 'import-graph-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): string {
  const p = path.join(root, file);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const tf = (pkg: string) => pkg.startsWith('@tensorflow/');

const ui = write(
  'ui/Panel.tsx',
  [
    "import { useState } from 'react';",
    "import type { Heavy } from '../core/heavy';",
    "import { type Heavy2 } from '../core/heavy';",
    "import { light, type Light } from '../core/light';",
    "export type { Heavy } from '../core/heavy';",
    "const code = \"import * as tf from '@tensorflow/tfjs'\"; // a string, not an import",
    'export const Panel = () => useState(light);',
  ].join('\n'),
);
write('core/heavy.ts', "import * as tf from '@tensorflow/tfjs';\nexport type Heavy = number;\nexport const h = tf;");
write('core/light.ts', 'export const light = 1;\nexport type Light = 2;');
write('core/index.ts', "export { h } from './heavy';\nexport * from './light';");
const viaIndex = write('ui/ViaIndex.ts', "import { light } from '../core';\nexport const v = light;");
const lazy = write('ui/Lazy.ts', "export const load = () => import('../core/light').then(() => import('@tensorflow/tfjs-backend-wasm'));");
write('worker/engine.ts', "import * as tf from '@tensorflow/tfjs';\nexport const e = tf;");
const client = write('worker/client.ts', "export const w = () => new Worker(new URL('./engine.ts', import.meta.url), { type: 'module' });");
const cycleA = write('core/cycleA.ts', "import { b } from './cycleB';\nexport const a = b;");
write('core/cycleB.ts', "import { a } from './cycleA';\nimport '@tensorflow/tfjs-core';\nexport const b = a;");
const cycleC = write('core/cycleC.ts', "import { d } from './cycleD';\nexport const c = d;");
write('core/cycleD.ts', "import { c } from './cycleC';\nexport const d = c;");

describe('readImports', () => {
  test('classifies value, type-only, re-export and dynamic imports; ignores strings', () => {
    expect(readImports(ui).map(({ specifier, typeOnly, dynamic }) => [specifier, typeOnly, dynamic])).toEqual([
      ['react', false, false],
      ['../core/heavy', true, false],
      ['../core/heavy', true, false],
      ['../core/light', false, false],
      ['../core/heavy', true, false],
    ]);
    expect(readImports(lazy).map((i) => [i.specifier, i.dynamic])).toEqual([
      ['../core/light', true],
      ['@tensorflow/tfjs-backend-wasm', true],
    ]);
  });

  test('packageName and resolveLocal', () => {
    expect(packageName('@tensorflow/tfjs-backend-wasm/dist/x.wasm?url')).toBe('@tensorflow/tfjs-backend-wasm');
    expect(packageName('zustand/vanilla')).toBe('zustand');
    expect(packageName('./x')).toBeNull();
    expect(resolveLocal(viaIndex, '../core')).toBe(path.join(root, 'core/index.ts'));
    expect(resolveLocal(ui, '../core/light')).toBe(path.join(root, 'core/light.ts'));
    expect(resolveLocal(ui, './missing')).toBeNull();
  });

  test('sourceFiles lists .ts and .tsx recursively', () => {
    expect(sourceFiles(path.join(root, 'ui')).map((f) => path.basename(f))).toEqual(['Lazy.ts', 'Panel.tsx', 'ViaIndex.ts']);
  });
});

describe('reachFinder', () => {
  const reach = reachFinder(tf);
  const short = (chain: string[] | null) => chain?.map((p) => (p.startsWith(root) ? path.relative(root, p) : p));

  test('type-only imports do not count; value imports do', () => {
    expect(reach(ui)).toBeNull();
    expect(short(reach(path.join(root, 'core/heavy.ts')))).toEqual(['core/heavy.ts', '@tensorflow/tfjs']);
  });

  test('a re-export pulls the module in: the chain names every step', () => {
    expect(short(reach(viaIndex))).toEqual(['ui/ViaIndex.ts', 'core/index.ts', 'core/heavy.ts', '@tensorflow/tfjs']);
  });

  test('dynamic import() counts (it is still loaded by the page)', () => {
    expect(short(reach(lazy))).toEqual(['ui/Lazy.ts', '@tensorflow/tfjs-backend-wasm']);
  });

  test('a worker started with new URL() is a separate bundle and does not count', () => {
    expect(reach(client)).toBeNull();
  });

  test('cycles terminate, with and without tfjs in them', () => {
    expect(short(reach(cycleA))).toEqual(['core/cycleA.ts', 'core/cycleB.ts', '@tensorflow/tfjs-core']);
    expect(reach(cycleC)).toBeNull();
  });
});
