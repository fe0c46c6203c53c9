/**
 * The fused optimiser updates (one SIMD kernel per variable on wasm) give the weights tfjs's own
 * Adam and SGD-momentum give, step after step, on variables whose sizes are and are not multiples of 4,
 * and leave no tensor behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { disposeOptimizer } from '../train/trainer';
import { FusedAdamOptimizer, FusedMomentumOptimizer, setFusedOptimizerEnabled } from './fusedOptimizers';
import { optimizerUpdateBytes } from './wasmSimd/optimizerUpdate';

const SHAPES = [[3, 3, 3, 5], [7], [4, 8], [1]];

function values(seed: number, n: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

/** Weights after `steps` updates with gradients that change every step (x³ − x·step keeps them moving). */
function run(make: () => tf.Optimizer, steps: number): Float32Array[] {
  const vars = tf.tidy(() => SHAPES.map((s, i) => tf.variable(tf.tensor(values(i + 1, tf.util.sizeFromShape(s)), s), true, `fusedOptTest${i}_${Math.random()}`)));
  const opt = make();
  for (let t = 0; t < steps; t++) {
    const cost = opt.minimize(() => tf.addN(vars.map((v) => tf.sum(tf.sub(tf.pow(v, 3), tf.mul(v, t))))) as tf.Scalar, true, vars);
    cost?.dispose();
  }
  const out = vars.map((v) => v.dataSync().slice() as Float32Array);
  disposeOptimizer(opt);
  tf.dispose(vars);
  return out;
}

const makers: Record<string, [() => tf.Optimizer, () => tf.Optimizer]> = {
  adam: [() => new FusedAdamOptimizer(0.01, 0.9, 0.999), () => tf.train.adam(0.01)],
  momentum: [() => new FusedMomentumOptimizer(0.05, 0.9), () => tf.train.momentum(0.05, 0.9)],
};

describe('fused optimiser updates', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    setFusedOptimizerEnabled(true);
    await tf.setBackend('cpu');
  });

  test('the module is valid WebAssembly under 4 KB', () => {
    for (const shared of [false, true]) {
      const bytes = optimizerUpdateBytes(shared);
      expect(WebAssembly.validate(bytes)).toBe(true);
      expect(bytes.length).toBeLessThan(4096);
    }
  });

  for (const [name, [fused, stock]] of Object.entries(makers)) {
    test(`${name}: same weights as tfjs's optimiser after 5 steps, and the kernel ran`, () => {
      setFusedOptimizerEnabled(true);
      const before = tf.memory().numTensors;
      const a = run(fused, 5);
      expect(tf.memory().numTensors).toBe(before);
      const b = run(stock, 5);
      for (let i = 0; i < a.length; i++) {
        expect(Array.from(a[i])).toEqual(Array.from(b[i]));
        expect(Array.from(a[i])).not.toEqual(Array.from(values(i + 1, a[i].length))); // it did move
      }
    });
  }

  test('the fused path is what runs on wasm (its kernel shows in a profile)', async () => {
    const v = tf.tidy(() => tf.variable(tf.ones([6])));
    const opt = new FusedAdamOptimizer(0.1, 0.9, 0.999);
    const info = await tf.profile(() => {
      opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    });
    expect(info.kernelNames).toContain('PlaygroundAdamUpdate');
    expect(info.kernelNames).not.toContain('Sqrt');
    opt.dispose();
    v.dispose();
  });
});
