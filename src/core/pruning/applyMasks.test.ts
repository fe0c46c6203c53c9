import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimpleCNN, initialWeights } from '../model/simpleCnn';
import { applyMasks, createMaskApplier } from './applyMasks';
import { prune } from './pruner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('applyMasks', () => {
  it('zeroes the masked weights and leaves the tensor count flat', async () => {
    const base = initialWeights(1, 4);
    const r = prune(base, { method: 'l1', mode: 'mask', conv1: 0.5, fc1: 0.3, seed: 1 });
    const model = new SimpleCNN(base); // e.g. after a training step moved everything
    applyMasks(model, r.masks); // first call may allocate backend state once
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) applyMasks(model, r.masks);
    expect(tf.memory().numTensors).toBe(before);
    const w = await model.readWeights();
    // variable × 0 may give -0 for a negative weight: same value
    const plain = (a: Float32Array) => Array.from(a, (v) => v + 0);
    expect(plain(w.conv1Kernel)).toEqual(plain(r.weights.conv1Kernel));
    expect(plain(w.fc1Kernel)).toEqual(plain(r.weights.fc1Kernel));
    expect(w.conv1Bias).toEqual(base.conv1Bias); // bias never masked

    const applier = createMaskApplier(model, r.masks);
    const withMasks = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) applier.apply();
    expect(tf.memory().numTensors).toBe(withMasks);
    applier.dispose();
    expect(tf.memory().numTensors).toBe(before);
    applyMasks(model, { conv1Kernel: null, fc1Kernel: null });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a mask of the wrong size', () => {
    const model = SimpleCNN.create(1, 2);
    expect(() => applyMasks(model, { conv1Kernel: new Uint8Array(3), fc1Kernel: null })).toThrow(RangeError);
    model.dispose();
  });
});
