/**
 * The stride-2 1×1 conv kernels (pointwise.ts, plain-SIMD variant in Node 20) and their op
 * (conv1x1Stride2.ts) against tf.conv2d at stride 2 differentiated by stock tfjs on the cpu backend:
 * value, ∂x and ∂W, to 1e-4 relative to max(1, the reference's largest magnitude). Shapes cover
 * ResNet-20's two shortcuts, channel counts that are not multiples of 4 (the overlapping last
 * vector), rows whose pixel count is not a multiple of the 4-pixel block, and one image; the module's
 * ranges must leave other images untouched and sum, range by range, to the whole filter gradient.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { simdConv1x1Stride2 } from './conv1x1Stride2';
import { instantiatePointwise, pointwiseBytes, pointwiseSupports, vectorStarts } from './pointwise';
import { relDiff } from './relDiff';

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** [value, ∂x, ∂W] of sum(r · conv(x, W)), ours or tf.conv2d at stride 2. */
function run(ours: boolean, [n, h, w, cin, cout]: number[]): Float32Array[] {
  return tf.tidy(() => {
    const x = rand([n, h, w, cin], 1) as tf.Tensor4D;
    const W = rand([1, 1, cin, cout], 2) as tf.Tensor4D;
    const r = rand([n, h / 2, w / 2, cout], 3);
    const f = (xx: tf.Tensor, ww: tf.Tensor) => {
      if (!ours) return tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'valid');
      const y = simdConv1x1Stride2(xx as tf.Tensor4D, ww as tf.Tensor4D);
      expect(y).not.toBeNull();
      return y!;
    };
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(f(xx, ww), r)))([x, W]);
    return [f(x, W), ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** max |a − b| relative to max(1, the reference's largest magnitude). */
const maxRel = (a: Float32Array, b: Float32Array) => relDiff(a, b, 1);

// [batch, H, W, cin, cout]
const cases: Array<[string, number[]]> = [
  ['stage 2 shortcut (32×32, 16 → 32)', [4, 32, 32, 16, 32]],
  ['stage 3 shortcut (16×16, 32 → 64)', [4, 16, 16, 32, 64]],
  ['odd channels, 5-pixel rows (6×10, 5 → 7)', [3, 6, 10, 5, 7]],
  ['pruned widths (8×8, 27 → 9), one image', [1, 8, 8, 27, 9]],
  ['the smallest (2×2, 4 → 4)', [2, 2, 2, 4, 4]],
];

describe('conv1x1Stride2 on wasm', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test.each(cases)('%s: value, ∂x and ∂W equal tf.conv2d at stride 2 with stock autodiff on cpu', async (_, shape) => {
    await tf.setBackend('cpu');
    const ref = run(false, shape);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run(true, shape);
    expect(tf.memory().numTensors).toBe(before);
    for (let k = 0; k < 3; k++) expect(maxRel(got[k], ref[k])).toBeLessThan(1e-4);
  });

  test('declines fewer than 4 channels, odd sides and other filters (callers fall back to tf ops)', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(simdConv1x1Stride2(rand([1, 4, 4, 3], 1) as tf.Tensor4D, rand([1, 1, 3, 8], 2) as tf.Tensor4D)).toBeNull();
      expect(simdConv1x1Stride2(rand([1, 4, 4, 8], 1) as tf.Tensor4D, rand([1, 1, 8, 2], 2) as tf.Tensor4D)).toBeNull();
      expect(simdConv1x1Stride2(rand([1, 5, 4, 8], 1) as tf.Tensor4D, rand([1, 1, 8, 8], 2) as tf.Tensor4D)).toBeNull();
      expect(simdConv1x1Stride2(rand([1, 4, 4, 8], 1) as tf.Tensor4D, rand([3, 3, 8, 8], 2) as tf.Tensor4D)).toBeNull();
    });
    expect(pointwiseSupports({ h: 2, w: 2, cin: 4, cout: 4 })).toBe(true);
  });

  test('vectors of a row: 4 lanes each, the last ending at the last channel', () => {
    expect(vectorStarts(4)).toEqual([0]);
    expect(vectorStarts(7)).toEqual([0, 3]);
    expect(vectorStarts(9)).toEqual([0, 4, 5]);
    expect(vectorStarts(16)).toEqual([0, 4, 8, 12]);
  });
});

describe('pointwise module ranges', () => {
  const s = { h: 6, w: 10, cin: 5, cout: 7 };
  const n = 3;
  const mem = new WebAssembly.Memory({ initial: 4 });
  const f32 = () => new Float32Array(mem.buffer);
  const xF = n * s.h * s.w * s.cin;
  const dyF = n * (s.h / 2) * (s.w / 2) * s.cout;
  const [x, w, dy, out, acc] = [1024, 1024 + 4 * xF, 2048 + 4 * xF, 4096 + 4 * (xF + dyF), 8192 + 8 * (xF + dyF)];
  const mod = instantiatePointwise(s, mem, false)!;

  beforeAll(() => {
    const a = f32();
    for (let i = 0; i < xF; i++) a[x / 4 + i] = Math.sin(i + 1);
    for (let i = 0; i < s.cin * s.cout; i++) a[w / 4 + i] = Math.cos(i);
    for (let i = 0; i < dyF; i++) a[dy / 4 + i] = Math.sin(3 * i + 2);
  });

  test('modules are valid WebAssembly', () => {
    expect(WebAssembly.validate(pointwiseBytes(s, false, true))).toBe(true);
    expect(mod).not.toBeNull();
  });

  test('forward and input gradient write only their images (and every pixel of them)', () => {
    const yF = n * (s.h / 2) * (s.w / 2) * s.cout;
    f32().fill(NaN, out / 4, out / 4 + yF);
    mod.forward(x, w, out, 1, 2);
    const y = f32().subarray(out / 4, out / 4 + yF);
    const per = yF / n;
    expect(y.subarray(0, per).every(Number.isNaN)).toBe(true);
    expect(y.subarray(per, 2 * per).every(Number.isFinite)).toBe(true);
    expect(y.subarray(2 * per).every(Number.isNaN)).toBe(true);
    f32().fill(NaN, out / 4, out / 4 + xF);
    mod.inputGrad(dy, w, out, 2, 3);
    const dx = f32().subarray(out / 4, out / 4 + xF);
    const perX = xF / n;
    expect(dx.subarray(0, 2 * perX).every(Number.isNaN)).toBe(true);
    expect(dx.subarray(2 * perX).every(Number.isFinite)).toBe(true);
    // zeros everywhere but the even pixels
    let zeros = 0;
    for (let p = 0; p < s.h * s.w; p++) if (dx.subarray(2 * perX + p * s.cin, 2 * perX + (p + 1) * s.cin).every((v) => v === 0)) zeros++;
    expect(zeros).toBe((s.h * s.w * 3) / 4);
  });

  test('the filter gradient of a range of images, range by range, sums to the whole', () => {
    const F = s.cin * s.cout;
    mod.filterGrad(x, dy, acc, 0, n);
    const whole = f32().slice(acc / 4, acc / 4 + F);
    const parts = new Float32Array(F);
    for (let i = 0; i < n; i++) {
      mod.filterGrad(x, dy, acc, i, i + 1);
      f32().subarray(acc / 4, acc / 4 + F).forEach((v, k) => (parts[k] += v));
    }
    // a direct sum in float64 as the reference
    const ref = new Float64Array(F);
    const a = f32();
    for (let im = 0; im < n; im++)
      for (let i = 0; i < s.h / 2; i++)
        for (let j = 0; j < s.w / 2; j++)
          for (let ci = 0; ci < s.cin; ci++)
            for (let co = 0; co < s.cout; co++)
              ref[ci * s.cout + co] += a[x / 4 + ((im * s.h + 2 * i) * s.w + 2 * j) * s.cin + ci] * a[dy / 4 + ((im * (s.h / 2) + i) * (s.w / 2) + j) * s.cout + co];
    for (let k = 0; k < F; k++) {
      expect(whole[k]).toBeCloseTo(ref[k], 4);
      expect(parts[k]).toBeCloseTo(ref[k], 4);
    }
  });
});
