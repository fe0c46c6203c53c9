import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  type FilterGradVariant,
  convGradStats,
  fastConv2dGradientVariant,
  registerFastConv2dGradient,
  unregisterFastConv2dGradient,
} from './convGrad';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** d/dx and d/dW of sum(conv2d(x, W) · r) — r makes dy non-uniform. */
function convGrads(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  r: tf.Tensor4D,
  stride: number,
  pad: 'same' | 'valid',
): [Float32Array, Float32Array] {
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)),
  );
  const [dx, dw] = g([x, w]);
  const out: [Float32Array, Float32Array] = [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
  tf.dispose([dx, dw]);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const cases: Array<{ n: number; h: number; w: number; cin: number; cout: number; k: [number, number] }> = [
  { n: 2, h: 6, w: 5, cin: 1, cout: 2, k: [3, 3] },
  { n: 3, h: 8, w: 8, cin: 3, cout: 4, k: [3, 3] },
  { n: 2, h: 7, w: 6, cin: 5, cout: 7, k: [3, 3] },
  { n: 2, h: 6, w: 6, cin: 4, cout: 3, k: [2, 2] }, // even kernel: asymmetric 'same' padding
  { n: 1, h: 5, w: 7, cin: 2, cout: 3, k: [1, 3] },
];

describe('registerFastConv2dGradient (cpu backend)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => unregisterFastConv2dGradient());

  for (const variant of ['im2col', 'im2colT', 'perPosition'] as FilterGradVariant[]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const c of cases) {
        test(`${variant} ${pad} n${c.n} ${c.h}x${c.w} ${c.cin}→${c.cout} k${c.k.join('x')} matches stock within 1e-4`, () => {
          const x = rand([c.n, c.h, c.w, c.cin], 1) as tf.Tensor4D;
          const w = rand([c.k[0], c.k[1], c.cin, c.cout], 2) as tf.Tensor4D;
          const outH = pad === 'same' ? c.h : c.h - c.k[0] + 1;
          const outW = pad === 'same' ? c.w : c.w - c.k[1] + 1;
          const r = rand([c.n, outH, outW, c.cout], 3) as tf.Tensor4D;
          unregisterFastConv2dGradient();
          const [dxStock, dwStock] = convGrads(x, w, r, 1, pad);
          registerFastConv2dGradient(variant);
          const before = tf.memory().numTensors;
          const fastBefore = convGradStats.fast;
          const [dxFast, dwFast] = convGrads(x, w, r, 1, pad);
          expect(convGradStats.fast).toBe(fastBefore + 1);
          expect(tf.memory().numTensors).toBe(before); // nothing leaked
          expect(maxAbsDiff(dxFast, dxStock)).toBeLessThan(1e-4);
          expect(maxAbsDiff(dwFast, dwStock)).toBeLessThan(1e-4);
          tf.dispose([x, w, r]);
        });
      }
    }
  }

  test('is idempotent and keeps the stock fallback', () => {
    registerFastConv2dGradient();
    const cfg = tf.getGradient('Conv2D');
    registerFastConv2dGradient();
    registerFastConv2dGradient();
    expect(tf.getGradient('Conv2D')).toBe(cfg);
    expect(fastConv2dGradientVariant()).not.toBeNull();
  });

  test('delegates stride 2 to the stock gradient (same result)', () => {
    const x = rand([2, 8, 8, 3], 4) as tf.Tensor4D;
    const w = rand([3, 3, 3, 4], 5) as tf.Tensor4D;
    for (const pad of ['same', 'valid'] as const) {
      const outH = pad === 'same' ? 4 : 3;
      const r = rand([2, outH, outH, 4], 6) as tf.Tensor4D;
      unregisterFastConv2dGradient();
      const [dxStock, dwStock] = convGrads(x, w, r, 2, pad);
      registerFastConv2dGradient();
      const { fast, delegated } = convGradStats;
      const [dxFast, dwFast] = convGrads(x, w, r, 2, pad);
      expect(convGradStats.delegated).toBe(delegated + 1);
      expect(convGradStats.fast).toBe(fast);
      expect(maxAbsDiff(dxFast, dxStock)).toBe(0);
      expect(maxAbsDiff(dwFast, dwStock)).toBe(0);
      r.dispose();
    }
    tf.dispose([x, w]);
  });
});
