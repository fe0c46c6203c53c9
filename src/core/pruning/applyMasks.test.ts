import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import { convNet3, simpleCnn } from '../model/zoo';
import { applyMasks, createMaskApplier } from './applyMasks';
import { prune } from './pruner';
import { randomWeights } from './testUtil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('applyMasks', () => {
  for (const [spec, ch, amounts] of [
    [simpleCnn, [4], { conv1: 0.5, fc1: 0.3 }],
    [convNet3, [4, 6, 8], { conv1: 0.5, conv3: 0.25, fc1: 0.3 }],
  ] as const) {
    it(`${spec.label}: zeroes the masked weights and leaves the tensor count flat`, async () => {
      const base = randomWeights(spec, 1, [...ch]);
      const r = prune(spec, base, { method: 'l1', mode: 'mask', amounts, seed: 1 });
      const model = new Net(spec, base); // e.g. after a training step moved everything
      applyMasks(model, r.masks); // first call may allocate backend state once
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) applyMasks(model, r.masks);
      expect(tf.memory().numTensors).toBe(before);
      const w = await model.readWeights();
      // variable × 0 may give -0 for a negative weight: same value
      const plain = (a: Float32Array) => Array.from(a, (v) => v + 0);
      for (const k of Object.keys(w.tensors)) expect(plain(w.tensors[k]), k).toEqual(plain(r.weights.tensors[k]));
      const applier = createMaskApplier(model, r.masks);
      const withMasks = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) applier.apply();
      expect(tf.memory().numTensors).toBe(withMasks);
      applier.dispose();
      expect(tf.memory().numTensors).toBe(before);
      applyMasks(model, {});
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('refuses a mask of the wrong size', () => {
    const model = Net.create(simpleCnn, 1, [2]);
    expect(() => applyMasks(model, { 'conv1.weight': new Uint8Array(3) })).toThrow(RangeError);
    model.dispose();
  });
});
