import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import { simpleCnn } from '../model/zoo';
import { type DeviceSet, createOptimizer, disposeOptimizer, evaluate, train, trainStep } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 16 tiny images of two easy classes: the class sets the brightness of the red channel. */
function tinySet(): DeviceSet {
  const n = 16;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const xs = tf.tidy(() => {
    const base = tf.randomNormal([n, 32, 32, 3], 0, 0.1, 'float32', 5);
    const shift = tf.tensor4d(labels.flatMap((l) => [l ? 1 : -1, 0, 0]), [n, 1, 1, 3]);
    return tf.add(base, shift) as tf.Tensor4D;
  });
  return { xs, ys: tf.tensor1d(labels, 'int32'), count: n };
}

describe('train', () => {
  it('lowers the loss on tiny data, keeps the tensor count flat, and is deterministic', async () => {
    const data = tinySet();
    const run = async () => {
      const model = Net.create(simpleCnn, 3, [2]); // 2 filters: Node's cpu conv gradient is slow
      const opt = createOptimizer({ optimizer: 'adam', learningRate: 1e-2, momentum: 0 });
      const losses: number[] = [];
      const counts: number[] = [];
      await train(model, opt, data, { epochs: 3, batchSize: 8, learningRate: 1e-2, optimizer: 'adam', momentum: 0, seed: 1 }, {
        onBatch: (r) => {
          losses.push(r.loss);
          counts.push(tf.memory().numTensors);
        },
      });
      const ev = await evaluate(model, data);
      disposeOptimizer(opt);
      model.dispose();
      return { losses, counts, ev };
    };
    const a = await run();
    expect(a.losses.length).toBe(6);
    expect(a.losses[5]).toBeLessThan(a.losses[0]);
    expect(a.ev.accuracy).toBeGreaterThan(0.9);
    // After the optimiser's slots exist (first step), no step adds tensors.
    expect(new Set(a.counts.slice(1)).size).toBe(1);
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    tf.dispose([data.xs, data.ys]);
  });

  it('stops within one batch when asked', async () => {
    const data = tinySet();
    const model = Net.create(simpleCnn, 3, [1]);
    const opt = createOptimizer({ optimizer: 'sgd', learningRate: 1e-2, momentum: 0.9 });
    let batches = 0;
    const out = await train(model, opt, data, { epochs: 5, batchSize: 4, learningRate: 1e-2, optimizer: 'sgd', momentum: 0.9, seed: 1 }, {
      onBatch: () => batches++,
      shouldStop: () => batches >= 2,
    });
    expect(out.cancelled).toBe(true);
    expect(batches).toBe(2);
    // The model is still usable after cancelling.
    const ev = await evaluate(model, data);
    expect(ev.count).toBe(16);
    tf.dispose([data.xs, data.ys]);
    disposeOptimizer(opt);
    model.dispose();
  });

  for (const optimizer of ['adam', 'sgd'] as const) {
    it(`frees every tensor of a used ${optimizer} optimiser`, () => {
      const data = tinySet();
      const model = Net.create(simpleCnn, 3, [1]);
      const before = tf.memory().numTensors;
      const opt = createOptimizer({ optimizer, learningRate: 1e-2, momentum: 0.9 });
      tf.dispose(tf.tidy(() => trainStep(model, opt, data.xs.slice(0, 2), data.ys.slice(0, 2))));
      disposeOptimizer(opt);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([data.xs, data.ys]);
      model.dispose();
    });
  }
});
