import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Cifar10FormatError,
  RECORD_BYTES,
  channelStats,
  classCounts,
  concatSets,
  normalisedBatch,
  parseCifar10,
  parseClassNames,
  takeFirst,
} from './cifar10';

const dir = new URL('../../../public/data/cifar10/', import.meta.url);
const load = (name: string) => parseCifar10(new Uint8Array(readFileSync(new URL(name, dir))), name);

describe('parseCifar10 on the shipped files', () => {
  const train = load('train_5000.bin');
  const test = load('test_1000.bin');

  it('reads 5,000 training and 1,000 test records, balanced', () => {
    expect(train.count).toBe(5000);
    expect(test.count).toBe(1000);
    expect(classCounts(train)).toEqual(new Array(10).fill(500));
    expect(classCounts(test)).toEqual(new Array(10).fill(100));
  });

  it('keeps the original order: labels begin 6 9 9 4 1 (train) and 3 8 8 0 6 (test)', () => {
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([6, 9, 9, 4, 1]);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([3, 8, 8, 0, 6]);
    expect(train.labels[0]).toBe(6); // frog
  });

  it('turns planar RGB into NHWC: the red channel of image 0 begins 59 43 50 68', () => {
    const red = [0, 1, 2, 3].map((p) => train.pixels[p * 3]);
    expect(red).toEqual([59, 43, 50, 68]);
    // Second row, first pixel (row-major 32×32): 16.
    expect(train.pixels[32 * 3]).toBe(16);
  });

  it('has CIFAR-like channel statistics', () => {
    const s = channelStats(train);
    s.mean.forEach((m) => expect(m).toBeGreaterThan(0.4));
    s.mean.forEach((m) => expect(m).toBeLessThan(0.52));
    s.std.forEach((d) => expect(d).toBeGreaterThan(0.2));
    s.std.forEach((d) => expect(d).toBeLessThan(0.3));
  });

  it('normalises to zero mean and unit std per channel', () => {
    const stats = channelStats(train);
    const { images, labels } = normalisedBatch(train, stats, null, 0, train.count);
    expect(labels[0]).toBe(6);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let q = 0;
      for (let i = c; i < images.length; i += 3) {
        s += images[i];
        q += images[i] * images[i];
      }
      const n = images.length / 3;
      expect(Math.abs(s / n)).toBeLessThan(1e-4);
      expect(Math.sqrt(q / n)).toBeCloseTo(1, 4);
    }
  });

  it('gathers records in a given order', () => {
    const stats = channelStats(test);
    const { labels } = normalisedBatch(test, stats, [4, 0], 0, 2);
    expect(Array.from(labels)).toEqual([6, 3]);
  });

  it('concatenates and takes subsets', () => {
    const both = concatSets([test, takeFirst(test, 10)]);
    expect(both.count).toBe(1010);
    expect(both.labels[1000]).toBe(3);
    expect(takeFirst(test, 5000).count).toBe(1000);
  });

  it('reads the class names', () => {
    const names = parseClassNames(readFileSync(new URL('batches.meta.txt', dir), 'utf8'));
    expect(names).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  });
});

describe('parseCifar10 on bad files', () => {
  it('rejects an empty file', () => {
    expect(() => parseCifar10(new Uint8Array(0), 'empty.bin')).toThrow(/empty\.bin: the file is empty/);
  });

  it('rejects a length that is not a multiple of 3,073, naming the file and the length', () => {
    expect(() => parseCifar10(new Uint8Array(RECORD_BYTES + 1), 'cut.bin')).toThrow(
      /cut\.bin: length 3,074 bytes is not a multiple of 3,073/,
    );
  });

  it('rejects a label above 9 with its record index', () => {
    const bytes = new Uint8Array(RECORD_BYTES * 3);
    bytes[RECORD_BYTES * 2] = 12;
    let err: unknown;
    try {
      parseCifar10(bytes, 'bad.bin');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Cifar10FormatError);
    expect((err as Error).message).toBe('bad.bin: record 2 has label 12; CIFAR-10 labels are 0–9.');
  });

  it('rejects a text file', () => {
    const text = new TextEncoder().encode('hello world\n'.repeat(1000));
    expect(() => parseCifar10(text, 'notes.txt')).toThrow(/notes\.txt/);
  });
});
