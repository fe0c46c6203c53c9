// Types for scripts/importGraph.mjs (plain JS so eslint.config.js can load it; the tests import it).
export interface ImportRef {
  specifier: string;
  /** `import type …`, or every specifier marked `type`: erased from the bundle. */
  typeOnly: boolean;
  /** import('…') */
  dynamic: boolean;
  line: number;
}
export function sourceFiles(dir: string): string[];
export function isTestFile(file: string): boolean;
export function readImports(file: string): ImportRef[];
export function packageName(specifier: string): string | null;
export function resolveLocal(fromFile: string, specifier: string): string | null;
/** Returns, per file, the chain [file, …, package] of value imports reaching a target package, or null. */
export function reachFinder(isTarget: (pkg: string) => boolean): (file: string) => string[] | null;
export function isTensorflow(pkg: string): boolean;
