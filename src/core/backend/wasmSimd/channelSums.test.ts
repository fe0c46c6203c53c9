/**
 * The channel sums a forward Winograd conv takes of its output (F(4×4), no bias, ReLU or pool) and the
 * BatchNorm after it reading them instead of a pass of its own: the sums against float64 sums of the
 * output's values, only the convs that feed a BatchNorm take them, and conv → BatchNorm (+ ReLU, or
 * + residual + ReLU) gives the same output and statistics with the sums as without, and as stock tfjs
 * on the cpu backend.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { channelSumsOf } from './channelSums';
import { setConvOutputSums, simdConv3x3, simdConv3x3InputGrad } from './conv3x3';
import { batchMomentsStats } from './index';
import { batchNormAdd, batchNormRelu, conv2dSame } from '../convBlock';
import { relDiff } from './relDiff';

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('conv output channel sums → BatchNorm', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    setConvOutputSums(true);
    await tf.setBackend('cpu');
  });

  test.each([
    [2, 8, 8, 16, 8],
    [3, 16, 16, 32, 32],
    [1, 4, 8, 5, 7], // channel counts that are not multiples of 4
  ])('a %i×%i×%i, %i → %i forward conv: Σy and Σy² per channel equal float64 sums of its output', async (n, h, w, cin, cout) => {
    await tf.setBackend('wasm');
    const x = rand([n, h, w, cin], 1) as tf.Tensor4D;
    const W = tf.mul(rand([3, 3, cin, cout], 2), 0.3).add(0.05) as tf.Tensor4D; // a mean away from zero
    const y = simdConv3x3(x, W)!;
    const sums = channelSumsOf(y.dataId);
    expect(sums).not.toBeNull();
    expect(sums!.count).toBe(n * h * w);
    const v = y.dataSync();
    for (let c = 0; c < cout; c++) {
      let [s1, s2, scale] = [0, 0, 0];
      for (let i = c; i < v.length; i += cout) {
        s1 += v[i];
        s2 += v[i] * v[i];
        scale += Math.abs(v[i]);
      }
      expect(Math.abs(sums!.sum[c] - s1)).toBeLessThan(1e-5 * scale);
      expect(Math.abs(sums!.sumSq[c] - s2)).toBeLessThan(1e-5 * s2);
    }
    tf.dispose([x, W, y]);
  });

  test('only a forward conv without bias or ReLU takes them (not the input gradient), and none when switched off', async () => {
    await tf.setBackend('wasm');
    const x = rand([2, 8, 8, 8], 1) as tf.Tensor4D;
    const W = rand([3, 3, 8, 8], 2) as tf.Tensor4D;
    const b = rand([8], 3) as tf.Tensor1D;
    const outs = [simdConv3x3(x, W, b)!, simdConv3x3(x, W, undefined, true)!, simdConv3x3InputGrad(x, W)!];
    for (const o of outs) expect(channelSumsOf(o.dataId)).toBeNull();
    setConvOutputSums(false);
    const off = simdConv3x3(x, W)!;
    expect(channelSumsOf(off.dataId)).toBeNull();
    setConvOutputSums(true);
    tf.dispose([x, W, b, off, ...outs]);
  });

  /** [out, mean, variance] of conv → BatchNorm (+ ReLU, or + residual + ReLU) on the active backend. */
  const block = (residual: boolean) =>
    tf.tidy(() => {
      const x = rand([4, 16, 16, 16], 4) as tf.Tensor4D;
      const W = tf.add(tf.mul(rand([3, 3, 16, 16], 5), 0.3), 0.08) as tf.Tensor4D;
      const gamma = tf.add(rand([16], 6), 1.5) as tf.Tensor1D;
      const beta = rand([16], 7) as tf.Tensor1D;
      const z = conv2dSame(x, W);
      const r = residual ? batchNormAdd(z, gamma, beta, 1e-5, rand([4, 16, 16, 16], 8) as tf.Tensor4D, true) : batchNormRelu(z, gamma, beta, 1e-5);
      return [r.y, r.mean, r.variance].map((t) => t.dataSync() as Float32Array);
    });

  test.each([false, true])('conv → BatchNorm (residual: %s) reads the sums, and gives what it gives without them and on cpu', async (residual) => {
    await tf.setBackend('cpu');
    const ref = block(residual);
    await tf.setBackend('wasm');
    setConvOutputSums(false);
    const before = batchMomentsStats.fromConv;
    const without = block(residual);
    expect(batchMomentsStats.fromConv).toBe(before);
    setConvOutputSums(true);
    const withSums = block(residual);
    expect(batchMomentsStats.fromConv).toBe(before + 1);
    // no further from cpu than the BatchNorm's own pass (whose float32 shifted sums put the mean ~1e-5 off;
    // the conv's float64 sums ~1e-6), and close to it
    for (let k = 0; k < 3; k++) {
      expect(relDiff(withSums[k], ref[k])).toBeLessThan(Math.max(1e-5, relDiff(without[k], ref[k])));
      expect(relDiff(withSums[k], without[k])).toBeLessThan(5e-5);
    }
  });
});
