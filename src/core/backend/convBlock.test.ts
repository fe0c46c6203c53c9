/**
 * convBiasRelu and batchNormRelu (one taped op each, hand-written gradients) against the stock
 * tfjs composition, on the cpu backend (the reference) and on wasm, within 1e-4: values and
 * gradients for every input. Tiny tensors: Node's cpu conv gradient is slow.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { batchNormRelu, convBiasRelu, convBlockStats } from './convBlock';
import { simdKernelStats } from './wasmSimd';

/** Also run with the custom kernels off (vite.config.ts project 'stock-kernels'): then the blocks are stock tfjs ops. */
const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

type Arrays = Float32Array[];

/** Value and gradients (w.r.t. every input) of sum(f(inputs) · r). */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number): Arrays {
  return tf.tidy(() => {
    const y = f(...inputs);
    const r = rand(y.shape, seed);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const convCases = [
  { n: 2, h: 5, w: 6, cin: 3, cout: 4, k: 3, bias: true },
  { n: 1, h: 4, w: 4, cin: 2, cout: 3, k: 3, bias: false },
  { n: 2, h: 6, w: 5, cin: 4, cout: 2, k: 2, bias: true }, // even kernel: asymmetric 'same' padding
  { n: 1, h: 5, w: 5, cin: 1, cout: 5, k: 1, bias: true },
];

function convRun(c: (typeof convCases)[number], ours: boolean): Arrays {
  const x = rand([c.n, c.h, c.w, c.cin], 1);
  const w = rand([c.k, c.k, c.cin, c.cout], 2);
  const b = rand([c.cout], 3);
  const inputs = c.bias ? [x, w, b] : [x, w];
  const f = ours
    ? (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => convBiasRelu(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D | undefined)
    : (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => {
        const z = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same');
        return tf.relu(bb ? tf.add(z, bb) : z);
      };
  const out = valueAndGrads(f as (...xs: tf.Tensor[]) => tf.Tensor, inputs, 4);
  tf.dispose([x, w, b]);
  return out;
}

function bnRun(shape: number[], ours: boolean, pool = false): Arrays {
  const z = rand(shape, 5);
  const gamma = tf.tidy(() => tf.add(rand([shape[3]], 6), 1.5));
  const beta = rand([shape[3]], 7);
  const eps = 1e-5;
  const f = ours
    ? (zz: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { y, mean, variance } = batchNormRelu(zz as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, eps, pool);
        tf.dispose([mean, variance]);
        return y;
      }
    : (zz: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(zz, [0, 1, 2]);
        const y = tf.relu(tf.batchNorm(zz as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, eps)) as tf.Tensor4D;
        return pool ? tf.maxPool(y, 2, 2, 'valid') : y;
      };
  const out = valueAndGrads(f as (...xs: tf.Tensor[]) => tf.Tensor, [z, gamma, beta], 8);
  // The batch statistics it reports: mean and biased variance.
  const { y, mean, variance } = tf.tidy(() => batchNormRelu(z as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps, pool));
  y.dispose();
  const ref = tf.moments(z, [0, 1, 2]);
  out.push(mean.dataSync() as Float32Array, variance.dataSync() as Float32Array, ref.mean.dataSync() as Float32Array, ref.variance.dataSync() as Float32Array);
  tf.dispose([z, gamma, beta, mean, variance, ref.mean, ref.variance]);
  return out;
}

describe('conv blocks with hand-written gradients', () => {
  beforeAll(() => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of convCases) {
    test(`convBiasRelu ${c.h}×${c.w} ${c.cin}→${c.cout} k${c.k}${c.bias ? ' +bias' : ''}: stock cpu = ours on cpu = ours on wasm (1e-4)`, async () => {
      await tf.setBackend('cpu');
      const ref = convRun(c, false);
      const before = tf.memory().numTensors;
      const cpu = convRun(c, true);
      expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('wasm');
      const wasm = convRun(c, true);
      expect(ref.length).toBe(c.bias ? 4 : 3);
      for (let i = 0; i < ref.length; i++) {
        expect(maxAbsDiff(cpu[i], ref[i])).toBeLessThan(1e-4);
        expect(maxAbsDiff(wasm[i], ref[i])).toBeLessThan(1e-4);
      }
    });
  }

  // Channel counts with and without a SIMD tail; odd sizes with pool take the tfjs-op path on wasm.
  for (const [shape, pool] of [[[4, 3, 3, 5], false], [[2, 4, 4, 3], false], [[2, 4, 6, 8], true], [[3, 6, 4, 7], true], [[2, 5, 4, 4], true]] as Array<[number[], boolean]>) {
    test(`batchNormRelu ${shape.join('×')}${pool ? ' + maxPool 2×2' : ''}: stock cpu = ours on cpu = ours on wasm (1e-4), batch statistics too`, async () => {
      await tf.setBackend('cpu');
      const ref = bnRun(shape, false, pool);
      const before = tf.memory().numTensors;
      const cpu = bnRun(shape, true, pool);
      expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('wasm');
      const simd = { ...simdKernelStats };
      const wasm = bnRun(shape, true, pool);
      const simdShape = !STOCK && (!pool || (shape[1] % 2 === 0 && shape[2] % 2 === 0));
      expect(simdKernelStats.batchNorm > simd.batchNorm).toBe(simdShape);
      expect(simdKernelStats.batchNormGrad > simd.batchNormGrad).toBe(simdShape);
      for (let i = 0; i < 4; i++) {
        expect(maxAbsDiff(cpu[i], ref[i])).toBeLessThan(1e-4);
        expect(maxAbsDiff(wasm[i], ref[i])).toBeLessThan(1e-4);
      }
      for (const got of [cpu, wasm]) {
        expect(maxAbsDiff(got[4], got[6])).toBeLessThan(1e-5); // mean
        expect(maxAbsDiff(got[5], got[7])).toBeLessThan(1e-5); // biased variance
      }
    });
  }

  // One channel (the scalar path) and five (four SIMD lanes and a tail). Not with stock kernels: stock
  // tfjs-wasm's MaxPoolGrad breaks ties otherwise than the cpu backend's (the rule is our kernels').
  for (const channels of [1, 5]) {
    test.skipIf(STOCK)(`max-pool gradient goes to the first maximum of a window (ties), as on the cpu backend (${channels} channel${channels > 1 ? 's' : ''})`, async () => {
      // y after ReLU has exact ties: equal positive values and all-zero windows; channel k scales the pattern by k + 1.
      const pattern = [1, 1, 0.5, 2, 1, 1, 2, 0.5, -1, -2, 3, 3, -3, -1, 3, 3];
      const values = pattern.flatMap((v) => Array.from({ length: channels }, (_, k) => v * (k + 1)));
      const run = () =>
        tf.tidy(() => {
          const z = tf.tensor4d(values, [1, 4, 4, channels]);
          const g = tf.ones([channels]);
          const b = tf.zeros([channels]);
          const r = tf.tensor4d(Array.from({ length: 4 * channels }, (_, i) => 1 + i), [1, 2, 2, channels]);
          const [dz, dg, db] = tf.grads((zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
            const { y, mean, variance } = batchNormRelu(zz as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, true);
            tf.dispose([mean, variance]);
            return tf.sum(tf.mul(y, r));
          })([z, g, b]);
          return [dz, dg, db].map((t) => t.dataSync() as Float32Array);
        });
      await tf.setBackend('cpu');
      const ref = run();
      await tf.setBackend('wasm');
      const grads = simdKernelStats.batchNormGrad;
      const got = run();
      expect(simdKernelStats.batchNormGrad).toBe(grads + (STOCK ? 0 : 1));
      for (let i = 0; i < ref.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-4);
    });
  }

  // Issue 19: tfjs's backprop gives every output of a taped op that received no gradient a zero
  // gradient, made as a JavaScript array of the output's size (fresh memory every training step).
  test.skipIf(STOCK)('backprop through batchNormRelu on wasm makes no zero gradients for the outputs only its backward pass reads', async () => {
    await tf.setBackend('wasm');
    const engine = tf.engine() as unknown as { makeTensor: (values: unknown, ...rest: unknown[]) => tf.Tensor };
    const original = engine.makeTensor;
    /** Sizes of the tensors made from JavaScript values while f runs. */
    const madeBy = (f: () => void): number[] => {
      const made: number[] = [];
      engine.makeTensor = function (this: unknown, values: unknown, ...rest: unknown[]) {
        if (values != null && typeof (values as ArrayLike<number>).length === 'number') made.push((values as ArrayLike<number>).length);
        return original.call(this, values, ...rest);
      };
      try {
        tf.tidy(f);
      } finally {
        engine.makeTensor = original;
      }
      return made.sort((a, b) => a - b);
    };
    const [z, g, b] = [rand([2, 4, 4, 8], 5), tf.ones([8]), tf.zeros([8])];
    const loss = (zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(batchNormRelu(zz as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, true).y);
    const forward = madeBy(() => loss(z, g, b)); // the batch statistics (3 × 8 floats)
    const both = madeBy(() => tf.grads(loss)([z, g, b]));
    tf.dispose([z, g, b]);
    const backward = [...both];
    for (const n of forward) backward.splice(backward.indexOf(n), 1);
    // The backward pass's own: the seed dL/dL = 1 and tf.sum's gradient, ones of the pooled output's size (2·2·2·8).
    expect(backward).toEqual([1, 64]);
  });

  test('batch statistics in one pass keep their precision far from zero (mean 1000, std 0.01): wasm = float64 reference', async () => {
    await tf.setBackend('wasm');
    const values = Float32Array.from({ length: 2 * 4 * 4 * 6 }, (_, i) => 1000 + 0.01 * Math.sin(i * 1.7 + (i % 6)));
    const { y, mean, variance } = tf.tidy(() => batchNormRelu(tf.tensor4d(values, [2, 4, 4, 6]), tf.ones([6]) as tf.Tensor1D, tf.zeros([6]) as tf.Tensor1D, 1e-5, true));
    const [m, v] = [mean.dataSync(), variance.dataSync()];
    tf.dispose([y, mean, variance]);
    for (let c = 0; c < 6; c++) {
      const xs = Array.from(values).filter((_, i) => i % 6 === c);
      const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
      const vr = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length;
      expect(Math.abs(m[c] - mu)).toBeLessThan(1e-4);
      expect(Math.abs(v[c] - vr) / vr).toBeLessThan(1e-3);
    }
  });

  test.skipIf(STOCK)('the input gradient is computed only when asked for (the first layer sees data)', async () => {
    await tf.setBackend('cpu');
    const x = rand([1, 4, 4, 2], 9) as tf.Tensor4D;
    const w = tf.variable(rand([3, 3, 2, 3], 10)) as tf.Variable<tf.Rank.R4>;
    const before = convBlockStats.inputGrads;
    const { grads, value } = tf.variableGrads(() => tf.sum(convBiasRelu(x, w)), [w]);
    expect(convBlockStats.inputGrads).toBe(before);
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(convBiasRelu(a as tf.Tensor4D, w)))([x]);
    expect(convBlockStats.inputGrads).toBe(before + 1);
    expect(dx.shape).toEqual(x.shape);
    tf.dispose([x, w, value, dx, ...Object.values(grads)]);
  });
});
