// Types for scripts/browser.mjs (plain JS so Node runs it directly; playwright.config.ts and the
// unit tests import it).
export interface BrowserProbes {
  env: Record<string, string | undefined>;
  isExecutable(path: string): boolean;
  version(path: string): string | null;
  playwrightPath(): string | null;
}
export type FindResult =
  | { ok: true; path: string; version: string; source: string; tried: string[] }
  | { ok: false; explicit: boolean; tried: string[]; alternative?: { path: string; version: string } };
export const SYSTEM_BROWSERS: string[];
export function systemProbes(): BrowserProbes;
export function findChromium(probes?: BrowserProbes): FindResult;
export function osIds(readOsRelease?: () => string): string[];
export function fixCommand(opts?: { ids?: string[]; root?: boolean }): string;
export function noBrowserMessage(
  result: { explicit: boolean; tried: string[]; alternative?: { path: string; version: string } },
  attempts?: string[],
  fix?: string,
): string;
export function chromiumPathOrExit(probes?: BrowserProbes): string;
export const CHROMIUM_ARGS: string[];
