/**
 * The SIMD filter-gradient kernel (run on the wasm backend in Node: the plain-SIMD variant, Node 20
 * has no relaxed SIMD) against the same gradient from tfjs ops on the cpu backend, within 1e-4.
 * Shapes cover channel counts that are not multiples of 4, pixel counts that are not multiples
 * of the tile, even kernels (asymmetric padding), with and without the ReLU mask and the bias.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { filterGradWithBias } from '../convGrad';
import { simdKernelInfo, simdKernelStats, wasmConvFilterGrad } from './index';
import { batchNormBytes, residualBytes } from './batchNorm';
import { filterGradBytes } from './filterGrad';
import { MAX_K, outerGradBytes } from './outerGrad';

const cases = [
  { n: 2, h: 5, w: 7, cin: 3, cout: 8, k: 3 },
  { n: 3, h: 9, w: 8, cin: 3, cout: 13, k: 3 }, // 216 pixels: 3 full tiles + 24
  { n: 1, h: 6, w: 6, cin: 5, cout: 2, k: 3 },
  { n: 2, h: 6, w: 5, cin: 4, cout: 36, k: 2 },
  { n: 1, h: 4, w: 4, cin: 2, cout: 7, k: 1 },
  { n: 2, h: 8, w: 8, cin: 3, cout: 64, k: 3 }, // SimpleCNN's conv1 shape, small batch
];

function inputs(c: (typeof cases)[number]) {
  const x = tf.randomUniform([c.n, c.h, c.w, c.cin], -1, 1, 'float32', 1) as tf.Tensor4D;
  const g = tf.randomUniform([c.n, c.h, c.w, c.cout], -1, 1, 'float32', 2) as tf.Tensor4D;
  const y = tf.relu(tf.randomUniform([c.n, c.h, c.w, c.cout], -1, 1, 'float32', 3)) as tf.Tensor4D;
  return { x, g, y };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('SIMD conv filter-gradient kernel', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('both variants are valid WebAssembly (shared and unshared memory imports)', () => {
    for (const shared of [false, true]) {
      expect(WebAssembly.validate(filterGradBytes(false, shared))).toBe(true);
    }
  });

  test('every module stays under 4 KB: Chrome compiles larger ones synchronously only off the main thread', () => {
    for (const bytes of [filterGradBytes(true, true), batchNormBytes(true), residualBytes(true), outerGradBytes(MAX_K, true, true)]) {
      expect(bytes.length).toBeLessThan(4096);
    }
  });

  for (const c of cases) {
    for (const masked of [true, false]) {
      for (const bias of [true, false]) {
        test(`${c.n}×${c.h}×${c.w} ${c.cin}→${c.cout} k${c.k}${masked ? ' masked' : ''}${bias ? ' +bias' : ''} matches the cpu backend`, async () => {
          await tf.setBackend('cpu');
          const ref = tf.tidy(() => {
            const { x, g, y } = inputs(c);
            const dz = masked ? tf.mul(g, tf.step(y)) : g;
            const [dw, db] = filterGradWithBias(x, dz as tf.Tensor4D, [c.k, c.k, c.cin, c.cout], bias);
            return [dw, ...(db ? [db] : [])].map((t) => t.dataSync() as Float32Array);
          });
          await tf.setBackend('wasm');
          expect(simdKernelInfo()).not.toBeNull();
          const calls = simdKernelStats.filterGrad;
          const before = tf.memory().numTensors;
          const got = tf.tidy(() => {
            const { x, g, y } = inputs(c);
            const r = wasmConvFilterGrad(x, g, masked ? y : null, [c.k, c.k, c.cin, c.cout], bias);
            expect(r).not.toBeNull();
            return r!.filter((t) => t != null).map((t) => t!.dataSync() as Float32Array);
          });
          expect(tf.memory().numTensors).toBe(before);
          expect(simdKernelStats.filterGrad).toBe(calls + 1);
          expect(got.length).toBe(ref.length);
          for (let i = 0; i < ref.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-4);
        });
      }
    }
  }
});
