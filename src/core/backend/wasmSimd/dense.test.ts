/**
 * The evaluation dense kernel (dense.ts, plain-SIMD variant in Node 20) against the cpu backend's
 * tf.add(tf.matMul(a, W), b), within 1e-5 of the output's magnitude: output counts 4–16 (whole and
 * partial vectors), feature counts from 1 to several chunks of W, image counts that leave a tail
 * after the passes of several images. Image ranges computed apart (as the helper thread does) give
 * the same bits as one call, and leave the other images untouched. Net.predict on wasm runs it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Net } from '../../model/net';
import { specFor } from '../../model/zoo';
import { denseBytes, instantiateDense } from './dense';
import { SIMD_DENSE, denseStats, simdDense } from './denseLayer';
import { relDiff } from './relDiff';

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);


const cases = [
  { n: 1, f: 1, o: 4 },
  { n: 2, f: 3, o: 5 },
  { n: 7, f: 64, o: 10 }, // 3 images per pass: two passes and a tail of 1
  { n: 5, f: 9000, o: 10 }, // W in 3 chunks
  { n: 9, f: 40, o: 12 },
  { n: 3, f: 100, o: 16 }, // 2 images per pass and a tail
  { n: 6, f: 17, o: 8 },
];

describe('SIMD dense kernel (evaluation)', () => {
  beforeAll(() => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('modules are valid WebAssembly under 4 KB (Chrome compiles larger ones synchronously only off the main thread)', () => {
    for (let o = 4; o <= 16; o++) {
      for (const relaxed of [false, true]) {
        const bytes = denseBytes(o, relaxed, true);
        expect(bytes.length).toBeLessThan(4096);
        if (!relaxed) expect(WebAssembly.validate(bytes)).toBe(true);
      }
    }
  });

  for (const c of cases) {
    test(`[${c.n}, ${c.f}] · [${c.f}, ${c.o}] + b matches tf.add(tf.matMul) on cpu`, async () => {
      const inputs = () => ({ a: rand([c.n, c.f], 1) as tf.Tensor2D, w: rand([c.f, c.o], 2) as tf.Tensor2D, b: rand([c.o], 3) as tf.Tensor1D });
      await tf.setBackend('cpu');
      const ref = tf.tidy(() => {
        const { a, w, b } = inputs();
        return tf.add(tf.matMul(a, w), b).dataSync() as Float32Array;
      });
      await tf.setBackend('wasm');
      const calls = denseStats.calls;
      const got = tf.tidy(() => {
        const { a, w, b } = inputs();
        const y = simdDense(a, w, b);
        expect(y).not.toBeNull();
        expect(y!.shape).toEqual([c.n, c.o]);
        return y!.dataSync() as Float32Array;
      });
      expect(denseStats.calls).toBe(calls + 1);
      expect(relDiff(got, ref)).toBeLessThan(1e-5);
    });
  }

  test('unsupported output counts (under 4, over 16) are left to tfjs', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      expect(simdDense(rand([2, 8], 1) as tf.Tensor2D, rand([8, 3], 2) as tf.Tensor2D, rand([3], 3) as tf.Tensor1D)).toBeNull();
      expect(simdDense(rand([2, 8], 1) as tf.Tensor2D, rand([8, 17], 2) as tf.Tensor2D, rand([17], 3) as tf.Tensor1D)).toBeNull();
    });
  });

  test('image ranges computed apart give the bits of one call and leave other images untouched', () => {
    const memory = new WebAssembly.Memory({ initial: 64 });
    const [n, f, o] = [11, 5000, 10];
    const mod = instantiateDense(o, memory, false)!;
    const heap = new Float32Array(memory.buffer);
    const [a, w, b, y1, y2] = [1024, 1024 + n * f * 4, 1024 + (n + o) * f * 4, 1024 + (n + o) * f * 4 + 64, 1024 + (n + o) * f * 4 + 64 + n * o * 4 + 64];
    for (let i = 0; i < n * f; i++) heap[a / 4 + i] = Math.sin(i * 0.37);
    for (let i = 0; i < f * o; i++) heap[w / 4 + i] = Math.cos(i * 0.11);
    for (let i = 0; i < o; i++) heap[b / 4 + i] = i - 4.5;
    mod.dense(a, w, b, y1, f, 0, n);
    heap.fill(-7, y2 / 4, y2 / 4 + n * o);
    mod.dense(a, w, b, y2, f, 2, 6);
    expect(Array.from(heap.subarray(y2 / 4, y2 / 4 + 2 * o))).toEqual(new Array(2 * o).fill(-7));
    expect(Array.from(heap.subarray(y2 / 4 + 6 * o, y2 / 4 + n * o))).toEqual(new Array((n - 6) * o).fill(-7));
    mod.dense(a, w, b, y2, f, 0, 2);
    mod.dense(a, w, b, y2, f, 6, 7);
    mod.dense(a, w, b, y2, f, 7, n);
    expect(Array.from(heap.subarray(y2 / 4, y2 / 4 + n * o))).toEqual(Array.from(heap.subarray(y1 / 4, y1 / 4 + n * o)));
  });

  test('Net.predict on wasm runs the classifier as this kernel (no XNNPACK matMul or add) and matches cpu', async () => {
    const logits = async (backend: string) => {
      await tf.setBackend(backend);
      const net = Net.create(specFor('simplecnn'), 5, [8]);
      const x = rand([6, 32, 32, 3], 7) as tf.Tensor4D;
      const info = await tf.profile(() => net.predict(x));
      const y = info.result as tf.Tensor;
      const out = { values: y.dataSync() as Float32Array, kernels: info.kernels.map((k) => k.name) };
      tf.dispose([y, x]);
      net.dispose();
      return out;
    };
    const ref = await logits('cpu');
    const got = await logits('wasm');
    expect(got.kernels).toContain(SIMD_DENSE);
    expect(got.kernels).not.toContain('BatchMatMul');
    expect(got.kernels).not.toContain('Add');
    expect(relDiff(got.values, ref.values)).toBeLessThan(1e-4);
  });
});
