import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimpleCNN, initialWeights, type SimpleCnnWeights } from '../model/simpleCnn';
import { mulberry32 } from '../random';
import { removeConv1Filters, zeroConv1Filters } from './remove';
import { prune } from './pruner';
import { weightDiff } from './testUtil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random weights with nonzero biases big enough that a "masked but biased" filter visibly matters. */
function randomWeights(seed: number, k: number): SimpleCnnWeights {
  const w = initialWeights(seed, k);
  const r = mulberry32(seed ^ 0xbeef);
  return { ...w, conv1Bias: Float32Array.from(w.conv1Bias, () => r() - 0.5) };
}

function images(seed: number, n = 2): tf.Tensor4D {
  const r = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 32 * 32 * 3 }, () => r() * 2 - 1), [n, 32, 32, 3]);
}

async function logits(w: SimpleCnnWeights, x: tf.Tensor4D): Promise<Float32Array> {
  const m = new SimpleCNN(w);
  const y = m.predict(x);
  const out = (await y.data()) as Float32Array;
  y.dispose();
  m.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('removeConv1Filters', () => {
  it('gathers the NHWC fc1 rows (h·32 + w)·k + c of each kept filter', () => {
    const w = randomWeights(1, 4);
    const r = removeConv1Filters(w, [1, 3]);
    expect(r.filters).toBe(2);
    for (const px of [0, 1, 33, 1023])
      for (const [j, c] of [[0, 1], [1, 3]])
        for (let o = 0; o < 10; o++) expect(r.fc1Kernel[(px * 2 + j) * 10 + o]).toBe(w.fc1Kernel[(px * 4 + c) * 10 + o]);
    for (let t = 0; t < 27; t++) expect(r.conv1Kernel[t * 2 + 1]).toBe(w.conv1Kernel[t * 4 + 3]);
    expect(Array.from(r.conv1Bias)).toEqual([w.conv1Bias[1], w.conv1Bias[3]]);
  });

  it('removing nothing changes nothing (and copies)', () => {
    const w = randomWeights(2, 64);
    const r = removeConv1Filters(w, Array.from({ length: 64 }, (_, c) => c));
    expect(weightDiff(r, w)).toEqual([]);
    expect(r.fc1Kernel !== w.fc1Kernel).toBe(true);
  });

  it('rejects unsorted, duplicate or out-of-range filters', () => {
    const w = randomWeights(3, 4);
    expect(() => removeConv1Filters(w, [2, 1])).toThrow(RangeError);
    expect(() => removeConv1Filters(w, [1, 1])).toThrow(RangeError);
    expect(() => removeConv1Filters(w, [4])).toThrow(RangeError);
  });

  it('smaller model logits == full model with removed filters’ weights AND biases zeroed (property, 1e-5)', async () => {
    const x = images(9);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((k) => fc.tuple(fc.constant(k), fc.nat(), fc.subarray(Array.from({ length: k }, (_, c) => c), { minLength: 1 }))),
        async ([k, seed, kept]) => {
          const w = randomWeights(seed, k);
          const small = await logits(removeConv1Filters(w, kept), x);
          const zeroed = await logits(zeroConv1Filters(w, kept), x);
          expect(maxDiff(small, zeroed)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 25 },
    );
    x.dispose();
  });

  it('full 64 filters: nothing removed (identical logits) and all-but-one removed', async () => {
    const x = images(10);
    const w = randomWeights(4, 64);
    const all = Array.from({ length: 64 }, (_, c) => c);
    expect(maxDiff(await logits(removeConv1Filters(w, all), x), await logits(w, x))).toBe(0);
    for (const kept of [[17], [0], [63]]) {
      expect(maxDiff(await logits(removeConv1Filters(w, kept), x), await logits(zeroConv1Filters(w, kept), x))).toBeLessThan(1e-5);
    }
    x.dispose();
  });

  it('torch-style mask mode is NOT removal: a masked filter still emits relu(bias)', async () => {
    const x = images(11);
    const w = randomWeights(5, 8);
    const masked = prune(w, { method: 'l1', mode: 'mask', conv1: 0.5, fc1: 0, seed: 1 });
    const removed = prune(w, { method: 'l1', mode: 'remove', conv1: 0.5, fc1: 0, seed: 1 });
    expect(removed.keptFilters).toEqual(masked.keptFilters);
    const a = await logits(masked.weights, x);
    const b = await logits(removed.weights, x);
    expect(maxDiff(a, b)).toBeGreaterThan(1e-4);
    expect(maxDiff(await logits(zeroConv1Filters(w, masked.keptFilters), x), b)).toBeLessThan(1e-5);
    x.dispose();
  });
});
