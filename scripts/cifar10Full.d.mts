// Types for scripts/cifar10Full.mjs (plain JS so Node runs it directly; vite.config.ts and the unit
// tests import it).
import type { Plugin } from 'vite';

export const RECORD_BYTES: number;
export const IMAGES_PER_BATCH: number;
export const TRAIN_BATCHES: string[];
export const TEST_BATCH: string;
export const BATCHES: string[];
export const FULL_DATA_PATH: string;
export const CONVERTER_VERSION: number;
export const DEFAULT_CACHE_DIR: string;
export class Cifar10PngError extends Error {
  constructor(name: string, problem: string);
}
export function pngBatchToBinary(pngBytes: Uint8Array, labels: number[], name: string): Uint8Array;
export interface PackageInfo {
  dir: string;
  version: string;
  /** Images per batch (tests): 10,000 in the real package. */
  perBatch?: number;
}
export function packageInfo(): PackageInfo;
export function batchLabels(pkgDir: string, batch: string, perBatch?: number): number[];
export function convertBatch(batch: string, pkgDir?: string, perBatch?: number): Uint8Array;
export function sha256(bytes: Uint8Array): string;
export interface FullManifest {
  version: 1;
  dataset: 'cifar10-full';
  source: string;
  converterVersion: number;
  format: string;
  files: { name: string; split: 'train' | 'test'; records: number; bytes: number; sha256: string }[];
}
export function ensureFullCifar10(outDir?: string, log?: (msg: string) => void, pkg?: PackageInfo): FullManifest;
/** `pkg` and `log` for tests: another package folder, where the conversion log goes. */
export function cifar10FullPlugin(options?: { cacheDir?: string; pkg?: PackageInfo; log?: (msg: string) => void }): Plugin;
