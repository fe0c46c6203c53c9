/**
 * The forward pass of graph models (ResNet-20): training logits and every gradient against a forward
 * pass written here from stock tfjs ops on the cpu backend (PyTorch's symmetric padding by tf.pad,
 * BatchNorm by tf.moments, the add, global average pooling), the running statistics, tensor hygiene.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomWeights } from '../pruning/testUtil';
import { type BatchStatsByNode, referenceForward } from './graphReference.testUtil';
import { structure } from './graph';
import { Net } from './net';
import { BN_MOMENTUM } from './spec';
import { resnet20 } from './zoo';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A narrower ResNet-20 (same graph) keeps the cpu backend's conv gradients quick. */
const SMALL = [4, 6, 8, 3, 2, 3, 5, 4, 3, 6, 5, 7];

/** Stock-op training forward of any graph, read off the spec; the variables are the net's. */
const reference = (net: Net, x: tf.Tensor4D, stats?: BatchStatsByNode): tf.Tensor2D => referenceForward(net, x, 'batch', stats);

describe('ResNet-20 forward pass', () => {
  it('training logits and all gradients equal a stock-op forward pass (cpu, batch 2)', () => {
    const net = new Net(resnet20, randomWeights(resnet20, 2, SMALL));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const r = tf.randomNormal([2, 10], 0, 1, 'float32', 5);
    const vars = net.trainableVariables;
    const ours = tf.variableGrads(() => tf.sum(tf.mul(net.trainLogits(x), r)) as tf.Scalar, vars);
    const theirs = tf.variableGrads(() => tf.sum(tf.mul(reference(net, x), r)) as tf.Scalar, vars);
    expect(Math.abs(ours.value.dataSync()[0] - theirs.value.dataSync()[0])).toBeLessThan(1e-4 * Math.max(1, Math.abs(theirs.value.dataSync()[0])));
    let worst = 0;
    for (const k of Object.keys(theirs.grads)) {
      const [a, b] = [ours.grads[k].dataSync(), theirs.grads[k].dataSync()];
      const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
      worst = Math.max(worst, ...Array.from(a, (y, i) => Math.abs(y - b[i]) / scale));
    }
    expect(Object.keys(ours.grads).length).toBe(vars.length);
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, r, ours.value, theirs.value, ...Object.values(ours.grads), ...Object.values(theirs.grads)]);
    net.commitBatchStatistics();
    net.dispose();
  }, 120_000);

  it('moves the running statistics of every BatchNorm (fused or before an add) as PyTorch does', () => {
    const net = new Net(resnet20, randomWeights(resnet20, 3, SMALL));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const bns = structure(resnet20).nodes.filter((n) => n.op === 'batchNorm').map((n) => n.name);
    const read = (k: string) => net.variable(k).dataSync().slice() as Float32Array;
    const before = Object.fromEntries(bns.map((b) => [b, [read(`${b}.running_mean`), read(`${b}.running_var`)]]));
    const stats = new Map<string, { mean: Float32Array; variance: Float32Array; count: number }>();
    tf.tidy(() => reference(net, x, stats));
    tf.tidy(() => net.trainLogits(x));
    net.commitBatchStatistics();
    expect(stats.size).toBe(21);
    for (const b of bns) {
      const s = stats.get(b)!;
      const [m0, v0] = before[b];
      const [m1, v1] = [read(`${b}.running_mean`), read(`${b}.running_var`)];
      const unbiased = s.count / (s.count - 1);
      m1.forEach((m, i) => expect(m).toBeCloseTo((1 - BN_MOMENTUM) * m0[i] + BN_MOMENTUM * s.mean[i], 5));
      v1.forEach((v, i) => expect(v).toBeCloseTo((1 - BN_MOMENTUM) * v0[i] + BN_MOMENTUM * unbiased * s.variance[i], 4));
    }
    x.dispose();
    net.dispose();
  });

  it('keeps numTensors flat through predict and a training step, also with a whole group removed', () => {
    for (const ch of [SMALL, [4, 0, 8, 3, 2, 3, 0, 4, 3, 6, 5, 7]]) {
      const net = new Net(resnet20, randomWeights(resnet20, 4, ch));
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const start = tf.memory().numTensors;
      const y = net.predict(x);
      expect(y.shape).toEqual([2, 10]);
      y.dispose();
      const opt = tf.train.sgd(0.01);
      opt.minimize(() => tf.mean(net.trainLogits(x)) as tf.Scalar, false, net.trainableVariables);
      net.commitBatchStatistics();
      opt.dispose();
      expect(tf.memory().numTensors).toBe(start);
      x.dispose();
      net.dispose();
    }
  }, 60_000);
});
