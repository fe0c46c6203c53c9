/**
 * batchNormAdd (BatchNorm with batch statistics, alone or followed by + residual and a ReLU: ResNet's
 * bn2 → add → ReLU and its shortcut's BatchNorm) against the stock tfjs composition differentiated by
 * tfjs on the cpu backend: value, batch statistics and the gradient of every input (z, γ, β, the
 * residual), on ResNet-20's shapes (b8), on cpu (the custom op's tfjs-op path) and on wasm (the SIMD
 * kernels), to 1e-4 relative to max(1, |reference|). Also run with the custom kernels off (project
 * 'stock-kernels'). batchNormEval against tf.batchNorm + add + ReLU.
 */
import { afterAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { batchNormAdd, batchNormEval, globalAvgPool } from './convBlock';
import { simdKernelStats } from './wasmSimd';

const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';
const EPS = 1e-5;

const rand = (shape: number[], seed: number, lo = -1, hi = 1) => tf.randomUniform(shape, lo, hi, 'float32', seed);

/** [value, mean, variance, ∂z, ∂γ, ∂β, (∂residual)] of sum(r · f(z, γ, β, residual?)). */
function run(ours: boolean, shape: [number, number, number, number], residual: boolean, relu: boolean): Float32Array[] {
  return tf.tidy(() => {
    const c = shape[3];
    // z with a channel offset (as a conv's output has): the one-pass variance must not cancel
    const z = tf.add(rand(shape, 1, -2, 2), rand([c], 2, -3, 3));
    const gamma = rand([c], 3, 0.5, 1.5);
    const beta = rand([c], 4);
    const res = rand(shape, 5, -1.5, 1.5);
    const r = rand(shape, 6);
    const inputs = residual ? [z, gamma, beta, res] : [z, gamma, beta];
    const f = (zz: tf.Tensor, g: tf.Tensor, b: tf.Tensor, rr?: tf.Tensor) => {
      if (ours) return batchNormAdd(zz as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, EPS, (rr as tf.Tensor4D) ?? null, relu);
      const { mean, variance } = tf.moments(zz, [0, 1, 2]);
      let y = tf.add(tf.mul(tf.div(tf.sub(zz, mean), tf.sqrt(tf.add(variance, EPS))), g), b);
      if (rr) y = tf.add(y, rr);
      return { y: relu ? tf.relu(y) : y, mean, variance };
    };
    const out = f(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor]));
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor])).y, r)))(inputs);
    return [out.y, out.mean, out.variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const maxRel = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
};

// ResNet-20's shapes at batch 8: bn2 of stages 1–3 before the add, a shortcut's BatchNorm alone, an odd channel count.
const cases: Array<[string, [number, number, number, number], boolean, boolean]> = [
  ['stage 1 bn2 + add + ReLU', [8, 32, 32, 16], true, true],
  ['stage 2 bn2 + add + ReLU', [8, 16, 16, 32], true, true],
  ['stage 3 shortcut BatchNorm alone', [8, 8, 8, 64], false, false],
  ['residual with no channels left: BatchNorm + ReLU', [8, 8, 8, 64], false, true],
  ['odd channels (SIMD tail) + add + ReLU', [8, 8, 8, 7], true, true],
];

describe.each(['cpu', 'wasm'])('batchNormAdd on %s', (backend) => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test.each(cases)('%s: value, statistics and gradients equal stock tfjs autodiff on cpu', async (_, shape, residual, relu) => {
    await tf.setBackend('cpu');
    const ref = run(false, shape, residual, relu);
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
    const [fwd, bwd] = [simdKernelStats.batchNorm, simdKernelStats.batchNormGrad];
    const start = tf.memory().numTensors;
    const got = run(true, shape, residual, relu);
    expect(tf.memory().numTensors).toBe(start);
    if (backend === 'wasm' && !STOCK) {
      expect(simdKernelStats.batchNorm).toBeGreaterThan(fwd);
      expect(simdKernelStats.batchNormGrad).toBeGreaterThan(bwd);
    }
    expect(got.length).toBe(ref.length);
    const names = ['value', 'mean', 'variance', '∂z', '∂γ', '∂β', '∂residual'];
    for (let i = 0; i < ref.length; i++) expect(maxRel(got[i], ref[i]), names[i]).toBeLessThan(1e-4);
  }, 60_000);

  test('globalAvgPool: value and gradient equal tf.mean over H, W and its stock gradient on cpu', async () => {
    const f = (pool: (x: tf.Tensor4D) => tf.Tensor) => () =>
      tf.tidy(() => {
        const x = rand([8, 8, 8, 64], 1) as tf.Tensor4D;
        const r = rand([8, 1, 1, 64], 2);
        return [pool(x), tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(pool(xx as tf.Tensor4D), r)))(x)].map((t) => t.dataSync() as Float32Array);
      });
    await tf.setBackend('cpu');
    const ref = f((x) => tf.mean(x, [1, 2], true))();
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
    const got = f(globalAvgPool)();
    for (let i = 0; i < 2; i++) expect(maxRel(got[i], ref[i])).toBeLessThan(1e-6);
  });

  test('batchNormEval (running statistics) equals tf.batchNorm + add + ReLU', async () => {
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
    tf.tidy(() => {
      const shape: [number, number, number, number] = [4, 16, 16, 13];
      const z = rand(shape, 1, -2, 2) as tf.Tensor4D;
      const [g, b, mu] = [rand([13], 2, 0.5, 1.5), rand([13], 3), rand([13], 4)] as tf.Tensor1D[];
      const v = rand([13], 5, 0.2, 2) as tf.Tensor1D;
      const res = rand(shape, 6) as tf.Tensor4D;
      for (const [residual, relu] of [[res, true], [null, false], [null, true]] as const) {
        const ours = batchNormEval(z, g, b, mu, v, EPS, residual, relu).dataSync() as Float32Array;
        let ref = tf.batchNorm(z, mu, v, b, g, EPS) as tf.Tensor4D;
        if (residual) ref = tf.add(ref, residual);
        if (relu) ref = tf.relu(ref);
        expect(maxRel(ours, ref.dataSync() as Float32Array)).toBeLessThan(1e-5);
      }
    });
  });
});
