// The source files' import graph, read with the TypeScript parser: what each module imports, which
// imports are type-only (erased from the bundle), and which local modules reach a package through
// value imports. Used by src/architecture.test.ts and by eslint.config.js (the rule that keeps
// tfjs out of the page's modules).
//
// Followed: static imports and re-exports, side-effect imports and dynamic import() — all of them
// put code in the bundle. Not followed: `import type` / all-`type` specifier lists (erased), and
// `new Worker(new URL('./x.ts', import.meta.url))`, which starts a separate bundle (the worker).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const CODE = /\.(ts|tsx|mts|js|jsx|mjs)$/;

/** Every .ts/.tsx file under `dir` (recursive), absolute paths, sorted. */
export function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Test files and their helpers: not part of any bundle. */
export const isTestFile = (file) => /\.test\.tsx?$/.test(file);

/**
 * The imports of one file.
 * @returns {{ specifier: string, typeOnly: boolean, dynamic: boolean, line: number }[]}
 */
export function readImports(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out = [];
  const line = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && named != null && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false, line: line(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : null;
      const typeOnly = node.isTypeOnly || (named != null && named.length > 0 && named.every((e) => e.isTypeOnly));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly, dynamic: false, line: line(node) });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true, line: line(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The package a bare specifier names ('@tensorflow/tfjs-core/dist/x' → '@tensorflow/tfjs-core'); null for a relative one. */
export function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  const parts = specifier.split('?')[0].split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The file a relative specifier names (extension and /index optional; ?url / ?raw dropped), or null. */
export function resolveLocal(fromFile, specifier) {
  if (packageName(specifier) != null) return null;
  const base = path.resolve(path.dirname(fromFile), specifier.split('?')[0]);
  for (const p of [base, `${base}.ts`, `${base}.tsx`, `${base}.mjs`, `${base}.js`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')]) {
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

/**
 * For each module, how it reaches a package matching `isTarget` through value imports, or null.
 * The path is [file, file, …, package]. Memoised over the whole graph; cycles are safe.
 * @param {(pkg: string) => boolean} isTarget
 */
export function reachFinder(isTarget) {
  const memo = new Map();
  const parsed = new Map();
  const importsOf = (file) => {
    if (!parsed.has(file)) parsed.set(file, readImports(file));
    return parsed.get(file);
  };
  const reach = (file, stack = new Set()) => {
    if (memo.has(file)) return memo.get(file);
    if (stack.has(file) || !CODE.test(file)) return null;
    stack.add(file);
    let found = null;
    for (const imp of importsOf(file)) {
      if (imp.typeOnly) continue;
      const pkg = packageName(imp.specifier);
      if (pkg != null) {
        if (isTarget(pkg)) {
          found = [file, pkg];
          break;
        }
        continue;
      }
      const next = resolveLocal(file, imp.specifier);
      const sub = next && reach(next, stack);
      if (sub) {
        found = [file, ...sub];
        break;
      }
    }
    stack.delete(file);
    // A null reached only through a cycle in progress may be incomplete: memoise only at the top.
    if (found || stack.size === 0) memo.set(file, found);
    return found;
  };
  return (file) => reach(path.resolve(file));
}

/** True for the TensorFlow.js packages. */
export const isTensorflow = (pkg) => pkg.startsWith('@tensorflow/');
