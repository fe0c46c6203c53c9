/**
 * The experiments with the real engine pieces (Net on the cpu backend, train(), the mask applier) on
 * tiny 8×8 networks and 32 random images: checks the wiring the worker will use, not accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import type { NetSpec, NetWeights } from '../model/spec';
import { createMaskApplier } from '../pruning/applyMasks';
import { prune } from '../pruning/pruner';
import { mulberry32 } from '../random';
import { type DeviceSet, createOptimizer, disposeOptimizer, train } from '../train/trainer';
import type { Evaluate } from './common';
import { runSensitivity, sensitivitySettings } from './sensitivity';
import { type FineTune, runSweep } from './sweep';
import { baselineOf, noPause, tinyConvNet, tinySimple } from './testUtil';

let data: DeviceSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const r = mulberry32(11);
  data = {
    xs: tf.randomNormal([32, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
    ys: tf.tensor1d(Array.from({ length: 32 }, () => Math.floor(r() * 10)), 'int32'),
    count: 32,
  };
});

afterAll(() => tf.dispose([data.xs, data.ys]));

const realEvaluate = (spec: NetSpec): Evaluate => async (weights: NetWeights) => {
  const net = new Net(spec, weights);
  try {
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(net.predict(data.xs), 1), data.ys), 'int32')));
    const n = (await correct.data())[0];
    correct.dispose();
    return n / data.count;
  } finally {
    net.dispose();
  }
};

/** What the worker's fine-tuning will do: train with the seed, masks re-applied after each step. */
const realFineTune = (spec: NetSpec, check?: (w: NetWeights, masks: Record<string, Uint8Array>) => void): FineTune => async (pruned, o) => {
  const net = new Net(spec, pruned.weights);
  const masker = createMaskApplier(net, pruned.masks);
  const optimizer = createOptimizer({ optimizer: 'sgd', learningRate: 0.05, momentum: 0.9 });
  try {
    const perEpoch = Math.ceil(data.count / 16);
    await train(net, optimizer, data, { epochs: o.epochs, batchSize: 16, learningRate: 0.05, optimizer: 'sgd', momentum: 0.9, seed: o.seed }, {
      afterStep: () => masker.apply(),
      onBatch: (b) => o.onProgress((b.epoch * perEpoch + b.batch + 1) / (o.epochs * perEpoch)),
      shouldStop: () => o.signal?.aborted ?? false,
    });
    check?.(await net.readWeights(), pruned.masks);
    return { accuracy: await realEvaluate(spec)(await net.readWeights(), net.channels) };
  } finally {
    masker.dispose();
    disposeOptimizer(optimizer);
    net.dispose();
  }
};

describe('experiments on real networks (cpu backend)', () => {
  it('sensitivity scan: its L1 50 % point is the accuracy of that setting pruned on its own, and no tensors leak', async () => {
    const spec = tinyConvNet;
    const baseline = baselineOf(spec);
    const before = tf.memory().numTensors;
    const r = await runSensitivity({ spec, baseline, mode: 'remove', evaluate: realEvaluate(spec), randomSeeds: [1, 2], fractions: [0, 0.5, 0.95], pause: noPause });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.points).toHaveLength(4 * 3 * 4);
    for (const p of r.points) expect(p.accuracy).toBeGreaterThanOrEqual(0);
    const p = r.points.find((x) => x.layer === 'conv2' && x.fraction === 0.5 && x.criterion === 'l1')!;
    const single = prune(spec, baseline, sensitivitySettings('conv2', 'l1', 'remove', 0.5));
    expect(p.accuracy).toBe(await realEvaluate(spec)(single.weights, single.weights.channels));
    expect(p.channels).toEqual([4, 3, 8]);
    // torch rounds 0.95 · 4 = 3.8 up to 4: conv1 is gone entirely, and the smaller network still evaluates.
    expect(r.points.find((x) => x.layer === 'conv1' && x.fraction === 0.95 && x.criterion === 'l1')!.channels[0]).toBe(0);
  });

  it('method comparison: fine-tuning keeps pruned weights at zero, and the same seed reproduces the same point', async () => {
    const spec = tinySimple;
    const baseline = baselineOf(spec);
    let checked = 0;
    const fineTune = realFineTune(spec, (w, masks) => {
      for (const [name, m] of Object.entries(masks)) for (let i = 0; i < m.length; i++) if (!m[i] && w.tensors[name][i] !== 0) throw new Error(`${name}[${i}] moved off zero`);
      checked++;
    });
    const opts = { spec, baseline, mode: 'mask' as const, criteria: ['l1' as const, 'random' as const], sparsities: [0.5], epochs: 1, evaluate: realEvaluate(spec), fineTune, pause: noPause };
    const before = tf.memory().numTensors;
    const a = await runSweep({ ...opts, seeds: [1, 2] });
    expect(tf.memory().numTensors).toBe(before);
    expect(checked).toBe(4);
    expect(a.points).toHaveLength(4);
    for (const p of a.points) {
      expect(p.accAfter).toBeGreaterThanOrEqual(0);
      expect(p.accAfter).toBeLessThanOrEqual(1);
      expect(p.nonzeroParams).toBeLessThan(a.baseline.params);
    }
    const again = await runSweep({ ...opts, seeds: [2] });
    const seed2 = a.points.filter((p) => p.seed === 2);
    expect(again.points.map((p) => [p.criterion, p.accBefore, p.accAfter])).toEqual(seed2.map((p) => [p.criterion, p.accBefore, p.accAfter]));
  });
});
