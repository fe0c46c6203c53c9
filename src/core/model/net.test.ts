import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomWeights } from '../pruning/testUtil';
import { initialWeights } from './init';
import { Net } from './net';
import { BN_EPS, parameterCount, tensors } from './spec';
import { convNet3, simpleCnn } from './zoo';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Net', () => {
  it('SimpleCNN has the article’s 657,162 parameters; ConvNet-3 has 33,946 plus 224 BatchNorm statistics', () => {
    expect(parameterCount(simpleCnn)).toBe(657_162);
    const m = Net.create(simpleCnn, 1);
    expect(m.trainableVariables.reduce((a, v) => a + v.size, 0)).toBe(657_162);
    m.dispose();
    const c = Net.create(convNet3, 1);
    expect(c.trainableVariables.reduce((a, v) => a + v.size, 0)).toBe(33_946);
    expect(c.variables.reduce((a, v) => a + v.size, 0)).toBe(33_946 + 224);
    c.dispose();
  });

  it('holds exactly one variable per tensor, and frees them on dispose', () => {
    const before = tf.memory().numTensors;
    const m = Net.create(convNet3, 1, [2, 3, 4]);
    expect(tf.memory().numTensors).toBe(before + tensors(convNet3, [2, 3, 4]).length);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps [n,32,32,3] images to [n,10] logits without leaking tensors, even with a layer emptied', () => {
    for (const [spec, ch] of [[simpleCnn, [64]], [simpleCnn, [0]], [convNet3, [16, 32, 64]], [convNet3, [3, 0, 5]], [convNet3, [0, 0, 0]]] as const) {
      const m = Net.create(spec, 1, [...ch]);
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const y = m.predict(x);
      expect(y.shape).toEqual([2, 10]);
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
      m.dispose();
    }
  });

  it('initialises deterministically from the seed, within PyTorch’s bounds; BatchNorm starts at γ = 1, β = 0', () => {
    const a = initialWeights(simpleCnn, 7);
    const b = initialWeights(simpleCnn, 7);
    const c = initialWeights(simpleCnn, 8);
    expect(Buffer.compare(Buffer.from(a.tensors['fc1.weight'].buffer), Buffer.from(b.tensors['fc1.weight'].buffer))).toBe(0);
    expect(a.tensors['conv1.weight'][0]).not.toBe(c.tensors['conv1.weight'][0]);
    expect(Math.max(...a.tensors['conv1.weight'].map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(27));
    const n = initialWeights(convNet3, 7);
    expect(Math.max(...n.tensors['conv3.weight'].map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(9 * 32));
    expect(Math.max(...n.tensors['conv3.weight'].map(Math.abs))).toBeGreaterThan(0.9 / Math.sqrt(9 * 32));
    expect([...n.tensors['bn2.weight']].every((v) => v === 1)).toBe(true);
    expect([...n.tensors['bn2.bias'], ...n.tensors['bn2.running_mean']].every((v) => v === 0)).toBe(true);
    expect([...n.tensors['bn2.running_var']].every((v) => v === 1)).toBe(true);
  });

  it('evaluation folds BatchNorm with running statistics: equals the unfused formula', async () => {
    const w = randomWeights(convNet3, 3, [2, 2, 2]);
    const m = new Net(convNet3, w);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const expected = tf.tidy(() => {
      let a: tf.Tensor4D = x;
      for (const [conv, bn] of [['conv1', 'bn1'], ['conv2', 'bn2'], ['conv3', 'bn3']]) {
        const t = (n: string) => m.variable(n) as tf.Tensor;
        const y = tf.conv2d(a, t(`${conv}.weight`) as tf.Tensor4D, 1, 'same');
        const z = tf.batchNorm(y, t(`${bn}.running_mean`) as tf.Tensor1D, t(`${bn}.running_var`) as tf.Tensor1D, t(`${bn}.bias`) as tf.Tensor1D, t(`${bn}.weight`) as tf.Tensor1D, BN_EPS);
        a = tf.maxPool(tf.relu(z) as tf.Tensor4D, 2, 2, 'valid');
      }
      return tf.add(tf.matMul(tf.reshape(a, [2, -1]), m.variable('fc1.weight') as tf.Tensor2D), m.variable('fc1.bias'));
    });
    const got = m.predict(x);
    const [e, g] = [await expected.data(), await got.data()];
    e.forEach((v, i) => expect(Math.abs(v - g[i])).toBeLessThan(1e-4));
    tf.dispose([x, expected, got]);
    m.dispose();
  });

  it('training mode normalises with batch statistics and moves the running ones as PyTorch (momentum 0.1, unbiased variance)', async () => {
    const m = Net.create(convNet3, 5, [2, 2, 2]);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const pre = tf.conv2d(x, m.variable('conv1.weight') as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(pre, [0, 1, 2]);
    const n = 4 * 32 * 32;
    const expMean = Array.from(await mean.data(), (v) => 0.1 * v);
    const expVar = Array.from(await variance.data(), (v) => 0.9 + 0.1 * v * (n / (n - 1)));
    tf.dispose([pre, mean, variance]);
    const y = tf.tidy(() => m.trainLogits(x));
    m.commitBatchStatistics();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const rm = await m.variable('bn1.running_mean').data();
    const rv = await m.variable('bn1.running_var').data();
    expMean.forEach((v, i) => expect(rm[i]).toBeCloseTo(v, 5));
    expVar.forEach((v, i) => expect(rv[i]).toBeCloseTo(v, 5));
    x.dispose();
    m.dispose();
  });

  it('readWeights / assignWeights round-trip exactly', async () => {
    const w = randomWeights(convNet3, 8, [3, 4, 5]);
    const m = Net.create(convNet3, 1, [3, 4, 5]);
    m.assignWeights(w);
    const r = await m.readWeights();
    for (const k of Object.keys(w.tensors)) expect(Buffer.compare(Buffer.from(r.tensors[k].buffer), Buffer.from(w.tensors[k].buffer))).toBe(0);
    expect(() => m.assignWeights(randomWeights(convNet3, 8, [3, 4, 6]))).toThrow(/channels/);
    m.dispose();
  });
});
