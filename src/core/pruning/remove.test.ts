import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import type { NetSpec, NetWeights } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { mulberry32 } from '../random';
import { prune } from './pruner';
import { range, removeChannels, zeroChannels } from './remove';
import { randomWeights, weightDiff } from './testUtil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function images(seed: number, n = 2): tf.Tensor4D {
  const r = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 32 * 32 * 3 }, () => r() * 2 - 1), [n, 32, 32, 3]);
}

async function logits(spec: NetSpec, w: NetWeights, x: tf.Tensor4D): Promise<Float32Array> {
  const m = new Net(spec, w);
  const y = m.predict(x);
  const out = (await y.data()) as Float32Array;
  y.dispose();
  m.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('removeChannels on the SimpleCNN', () => {
  it('gathers the NHWC fc1 rows (h·32 + w)·k + c of each kept filter', () => {
    const w = randomWeights(simpleCnn, 1, [4]);
    const r = removeChannels(simpleCnn, w, { conv1: [1, 3] });
    expect(r.channels).toEqual([2]);
    const [fcOld, fcNew] = [w.tensors['fc1.weight'], r.tensors['fc1.weight']];
    for (const px of [0, 1, 33, 1023])
      for (const [j, c] of [[0, 1], [1, 3]])
        for (let o = 0; o < 10; o++) expect(fcNew[(px * 2 + j) * 10 + o]).toBe(fcOld[(px * 4 + c) * 10 + o]);
    for (let t = 0; t < 27; t++) expect(r.tensors['conv1.weight'][t * 2 + 1]).toBe(w.tensors['conv1.weight'][t * 4 + 3]);
    expect(Array.from(r.tensors['conv1.bias'])).toEqual([w.tensors['conv1.bias'][1], w.tensors['conv1.bias'][3]]);
  });

  it('removing nothing changes nothing (and copies)', () => {
    const w = randomWeights(simpleCnn, 2);
    const r = removeChannels(simpleCnn, w, { conv1: range(64) });
    expect(weightDiff(r, w)).toEqual([]);
    expect(r.tensors['fc1.weight'] !== w.tensors['fc1.weight']).toBe(true);
  });

  it('rejects unsorted, duplicate or out-of-range filters', () => {
    const w = randomWeights(simpleCnn, 3, [4]);
    expect(() => removeChannels(simpleCnn, w, { conv1: [2, 1] })).toThrow(RangeError);
    expect(() => removeChannels(simpleCnn, w, { conv1: [1, 1] })).toThrow(RangeError);
    expect(() => removeChannels(simpleCnn, w, { conv1: [4] })).toThrow(RangeError);
  });

  it('smaller model logits == full model with removed filters’ weights AND biases zeroed (property, 1e-5)', async () => {
    const x = images(9);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((k) => fc.tuple(fc.constant(k), fc.nat(), fc.subarray(range(k)))),
        async ([k, seed, kept]) => {
          const w = randomWeights(simpleCnn, seed, [k]);
          const small = await logits(simpleCnn, removeChannels(simpleCnn, w, { conv1: kept }), x);
          const zeroed = await logits(simpleCnn, zeroChannels(simpleCnn, w, { conv1: kept }), x);
          expect(maxDiff(small, zeroed)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 25 },
    );
    x.dispose();
  });

  it('torch-style mask mode is NOT removal: a masked filter still emits relu(bias)', async () => {
    const x = images(11);
    const w = randomWeights(simpleCnn, 5, [8]);
    const masked = prune(simpleCnn, w, { method: 'l1', mode: 'mask', amounts: { conv1: 0.5 }, seed: 1 });
    const removed = prune(simpleCnn, w, { method: 'l1', mode: 'remove', amounts: { conv1: 0.5 }, seed: 1 });
    expect(removed.kept).toEqual(masked.kept);
    const b = await logits(simpleCnn, removed.weights, x);
    expect(maxDiff(await logits(simpleCnn, masked.weights, x), b)).toBeGreaterThan(1e-4);
    expect(maxDiff(await logits(simpleCnn, zeroChannels(simpleCnn, w, masked.kept), x), b)).toBeLessThan(1e-5);
    x.dispose();
  });
});

describe('removeChannels on ConvNet-3 (dependency groups)', () => {
  it('filter j of conv_i takes bn_i channel j and input channel j of the next layer; conv3 takes its 16 fc1 rows', () => {
    const w = randomWeights(convNet3, 1);
    const r = removeChannels(convNet3, w, { conv1: range(16).filter((j) => j !== 2), conv3: range(64).filter((j) => j !== 10) });
    expect(r.channels).toEqual([15, 32, 63]);
    for (const n of ['bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'])
      expect(Array.from(r.tensors[n])).toEqual(Array.from(w.tensors[n]).filter((_, j) => j !== 2));
    // conv2 [3,3,16,32] → [3,3,15,32]: input channel 2 gone
    const c2 = w.tensors['conv2.weight'];
    const c2r = r.tensors['conv2.weight'];
    expect(c2r.length).toBe(9 * 15 * 32);
    for (let t = 0; t < 9; t++) for (const [ci, cj] of [[1, 1], [3, 2], [15, 14]]) for (const o of [0, 31]) expect(c2r[(t * 15 + cj) * 32 + o]).toBe(c2[(t * 16 + ci) * 32 + o]);
    // fc1: 1,024 → 1,008 rows, (h·4 + w)·64 + c
    const f = w.tensors['fc1.weight'];
    const fr = r.tensors['fc1.weight'];
    expect(fr.length).toBe(16 * 63 * 10);
    for (const px of [0, 5, 15]) for (let o = 0; o < 10; o++) expect(fr[(px * 63 + 10) * 10 + o]).toBe(f[(px * 64 + 11) * 10 + o]);
  });

  it('the removed network’s logits equal the full network’s with those channels zeroed through BatchNorm (γ = β = 0), to 1e-5 (property)', async () => {
    const x = images(12, 3);
    const keptArb = (n: number) => fc.subarray(range(n));
    await fc.assert(
      fc.asyncProperty(fc.nat(), keptArb(16), keptArb(32), keptArb(64), async (seed, k1, k2, k3) => {
        const w = randomWeights(convNet3, seed);
        const kept = { conv1: k1, conv2: k2, conv3: k3 };
        const small = await logits(convNet3, removeChannels(convNet3, w, kept), x);
        const zeroed = await logits(convNet3, zeroChannels(convNet3, w, kept), x);
        expect(maxDiff(small, zeroed)).toBeLessThan(1e-5);
      }),
      { numRuns: 12 },
    );
    x.dispose();
  });

  it('random amounts on all three layers through prune(): remove == zeroed through BatchNorm', async () => {
    const x = images(13, 2);
    const w = randomWeights(convNet3, 21);
    for (const method of ['random', 'l1', 'bn'] as const) {
      const r = prune(convNet3, w, { method, mode: 'remove', amounts: { conv1: 0.3, conv2: 0.55, conv3: 0.8 }, seed: 4 });
      expect(r.weights.channels).toEqual([11, 14, 13]);
      expect(maxDiff(await logits(convNet3, r.weights, x), await logits(convNet3, zeroChannels(convNet3, w, r.kept), x))).toBeLessThan(1e-5);
    }
    x.dispose();
  });

  it('mask mode leaks β: a masked filter’s BatchNorm output still reaches the next layer', async () => {
    const x = images(14);
    const w = randomWeights(convNet3, 22);
    const s = { method: 'l1', amounts: { conv2: 0.5 }, seed: 1 } as const;
    const masked = await logits(convNet3, prune(convNet3, w, { ...s, mode: 'mask' }).weights, x);
    const removed = await logits(convNet3, prune(convNet3, w, { ...s, mode: 'remove' }).weights, x);
    expect(maxDiff(masked, removed)).toBeGreaterThan(1e-4);
    x.dispose();
  });
});
