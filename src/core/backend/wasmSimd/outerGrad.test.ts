/** The SIMD dense weight-gradient kernel (aᵀ·g) on wasm against tf.matMul on the cpu backend, 1e-4. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { simdKernelStats, wasmDenseWeightGrad } from './index';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('SIMD dense weight gradient', () => {
  beforeAll(() => setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/'));
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [n, f, k] of [[5, 64, 10], [64, 4096, 3], [3, 1024, 16], [1, 8, 1]]) {
    test(`a [${n}, ${f}], g [${n}, ${k}] matches the cpu backend`, async () => {
      const make = () => [tf.randomUniform([n, f], -1, 1, 'float32', 1), tf.randomUniform([n, k], -1, 1, 'float32', 2)] as tf.Tensor2D[];
      await tf.setBackend('cpu');
      const ref = tf.tidy(() => {
        const [a, g] = make();
        return tf.matMul(a, g, true, false).dataSync() as Float32Array;
      });
      await tf.setBackend('wasm');
      const calls = simdKernelStats.outerGrad;
      const before = tf.memory().numTensors;
      const got = tf.tidy(() => {
        const [a, g] = make();
        const r = wasmDenseWeightGrad(a, g);
        expect(r).not.toBeNull();
        expect(r!.shape).toEqual([f, k]);
        return r!.dataSync() as Float32Array;
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(simdKernelStats.outerGrad).toBe(calls + 1);
      expect(maxAbsDiff(got, ref)).toBeLessThan(1e-4);
    });
  }

  test('declines shapes it does not handle (F not a multiple of 4, K > 16)', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(wasmDenseWeightGrad(tf.ones([2, 6]) as tf.Tensor2D, tf.ones([2, 3]) as tf.Tensor2D)).toBeNull();
      expect(wasmDenseWeightGrad(tf.ones([2, 8]) as tf.Tensor2D, tf.ones([2, 17]) as tf.Tensor2D)).toBeNull();
    });
  });
});
