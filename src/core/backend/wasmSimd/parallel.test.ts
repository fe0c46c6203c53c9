/**
 * The two-thread split of the SIMD kernels (parallel.ts, index.ts). Node's wasm backend is not
 * threaded, so the helpers here run their slices on this thread (after this thread's own slice):
 * the split kernels must give what the unsplit ones give (float summation order aside) and what
 * the cpu backend's tfjs ops give; a helper that never answers must cost nothing but time.
 * The control-block protocol is exercised on one thread too (Node has SharedArrayBuffer).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { filterGradWithBias } from '../convGrad';
import { batchNormRelu } from '../convBlock';
import { guidedSlices, setColumnKernels, setReluMaskFromZ, setSimdParallel, simdKernelStats, wasmConvFilterGrad } from './index';
import { batchNormAdd } from '../convBlock';
import { BUSY_US, CONTROL_INTS, DONE, FAILED, type HelpersFactory, IDLE, type Job, RUNNING, awaitHelper, chunkArgs, claim, doneMask, jobStats, kernelTable, kernelThreads, runJob, setKernelThreads, postJob, serveJob, wake, workerHelpers } from './parallel';

/**
 * `count` helpers on this thread: before each of this thread's claims, the next chunk goes to a
 * helper (in turn), run at once with that helper's scratch; `ran` lists their kernels.
 */
function inlineHelpers(count: number, ran: string[]): HelpersFactory {
  return (modules, memory) => {
    const table = kernelTable(modules, memory);
    let job: Job | null = null;
    let next = 0;
    let helped = 0;
    let turn = 0;
    return {
      count,
      minChunkFloats: 0,
      start: (j) => {
        [job, next, helped] = [j, 0, 0];
      },
      claim: () => {
        const n = job!.chunks.length;
        if (next < n) {
          table.get(job!.name)!(...chunkArgs(job!, next, 1 + (turn++ % count)));
          ran.push(job!.name);
          helped |= 1 << next++;
        }
        return next < n ? next++ : -1;
      },
      finish: () => helped,
      dispose: () => {},
    };
  };
}

/** A helper that claims the first chunk, accumulates part of it (all of it, here) and dies without reporting it. */
const deadHelper: HelpersFactory = (modules, memory) => {
  const table = kernelTable(modules, memory);
  let job: Job | null = null;
  let next = 0;
  return {
    count: 1,
    minChunkFloats: 0,
    start: (j) => {
      [job, next] = [j, 0];
    },
    claim: () => {
      if (next === 0) table.get(job!.name)!(...chunkArgs(job!, next++, 1));
      return next < job!.chunks.length ? next++ : -1;
    },
    finish: () => 0,
    dispose: () => {},
  };
};

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** dW, db of a 3×3 conv with the ReLU mask, 5 images (uneven slices). */
function filterGrads(): Float32Array[] {
  return tf.tidy(() => {
    const x = rand([5, 6, 7, 3], 1) as tf.Tensor4D;
    const g = rand([5, 6, 7, 13], 2) as tf.Tensor4D;
    const y = tf.relu(rand([5, 6, 7, 13], 3)) as tf.Tensor4D;
    if (tf.getBackend() === 'cpu') return filterGradWithBias(x, tf.mul(g, tf.step(y)) as tf.Tensor4D, [3, 3, 3, 13], true).map((t) => t!.dataSync() as Float32Array);
    const r = wasmConvFilterGrad(x, g, y, [3, 3, 3, 13], true);
    expect(r).not.toBeNull();
    return r!.map((t) => t!.dataSync() as Float32Array);
  });
}

/** batchNormRelu (+ pool): output, batch mean and variance, and the gradients of sum(out · r) for z, γ, β. */
function bnValuesAndGrads(shape: number[], pool: boolean): Float32Array[] {
  return tf.tidy(() => {
    const z = rand(shape, 5) as tf.Tensor4D;
    const gamma = tf.add(rand([shape[3]], 6), 1.5) as tf.Tensor1D;
    const beta = rand([shape[3]], 7) as tf.Tensor1D;
    const f = (zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => batchNormRelu(zz as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, pool);
    const { y, mean, variance } = f(z, gamma, beta);
    const r = rand(y.shape, 8);
    const grads = tf.grads((zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(zz, gg, bb).y, r)))([z, gamma, beta]);
    return [y, mean, variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

describe('control block protocol (one thread)', () => {
  const control = () => new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  const job: Job = { name: 'k', chunks: [[0, 10], [1, 11], [2, 12]], overrides: [[], [[1, 99]]] };

  test('a woken helper runs every chunk left, with its overrides, then the caller collects DONE', () => {
    const ctl = control();
    const calls: number[][] = [];
    postJob(ctl, 1, job);
    expect(claim(ctl)).toBe(0); // the caller's first chunk
    wake(ctl, 0);
    serveJob(ctl, [() => calls.push([-1]), (...a: number[]) => calls.push(a)], 0);
    expect(calls).toEqual([[1, 99], [2, 99]]);
    expect(Atomics.load(ctl, 0)).toBe(DONE);
    expect(claim(ctl)).toBe(-1);
    expect(awaitHelper(ctl, 0, true, 0)).toBe(true);
    expect(Atomics.load(ctl, 0)).toBe(IDLE);
    expect(doneMask(ctl)).toBe(0b110);
  });

  test('a job the helper has not entered yet is taken back; the late helper then does nothing', () => {
    const ctl = control();
    const calls: number[][] = [];
    postJob(ctl, 0, job);
    wake(ctl, 0);
    while (claim(ctl) >= 0); // the caller runs everything
    expect(awaitHelper(ctl, 0, true, 0)).toBe(true);
    serveJob(ctl, [(...a: number[]) => calls.push(a)], 0);
    expect(calls).toEqual([]);
    expect(Atomics.load(ctl, 0)).toBe(IDLE);
  });

  test('a chunk that traps on the helper is reported FAILED and left undone (the caller reruns it)', () => {
    const ctl = control();
    postJob(ctl, 0, job);
    wake(ctl, 0);
    serveJob(ctl, [(c: number) => { if (c === 1) throw new WebAssembly.RuntimeError('out of bounds'); }], 0);
    expect(Atomics.load(ctl, 0)).toBe(FAILED);
    expect(awaitHelper(ctl, 0, true, 0)).toBe(true);
    expect(doneMask(ctl)).toBe(0b001);
  });

  test('a helper still running after the timeout is reported', () => {
    const ctl = control();
    postJob(ctl, 0, job);
    wake(ctl, 0);
    Atomics.compareExchange(ctl, 0, 1, RUNNING); // it entered the job, and hangs
    expect(awaitHelper(ctl, 0, true, 5)).toBe(false);
    expect(awaitHelper(ctl, 0, false, 5)).toBe(false);
  });

  test('kernel threads: every core, at most two; an override wins until cleared', () => {
    expect([1, 2, 3, 8].map(kernelThreads)).toEqual([1, 2, 2, 2]);
    setKernelThreads(1);
    expect(kernelThreads(8)).toBe(1);
    setKernelThreads(null);
    expect(kernelThreads(8)).toBe(2);
  });

  test('runJob counts jobs, chunks and the chunks a helper ran (the bench splits a step with them)', () => {
    // A fake pool: the caller claims chunks 0 and 2; the helper did chunk 1.
    const order = [0, 2, -1];
    const helpers = { count: 1, minChunkFloats: 0, start: () => {}, claim: () => order.shift()!, finish: () => 0b010, dispose: () => {} };
    const before = { ...jobStats };
    const local: number[] = [];
    expect(runJob(helpers, (_n, args) => local.push(args[0]), job, () => {})).toBe(1);
    expect(local).toEqual([0, 2]);
    expect(jobStats.jobs - before.jobs).toBe(1);
    expect(jobStats.chunks - before.chunks).toBe(3);
    expect(jobStats.helperChunks - before.helperChunks).toBe(1);
    expect(jobStats.callerChunks - before.callerChunks).toBe(2);
    expect(jobStats.callerMs).toBeGreaterThanOrEqual(before.callerMs);
    expect(jobStats.waitMs).toBeGreaterThanOrEqual(before.waitMs);
  });

  test('a helper adds the time it spent in a job (entry to its last chunk); the caller collects it once', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    postJob(ctl, 0, job);
    wake(ctl, 0);
    // A clock that moves 5 ms each time it is read (no wall clock in a unit test); each chunk moves it 10 ms more.
    let t = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (t += 5));
    try {
      serveJob(ctl, [() => (t += 10)], 0);
    } finally {
      clock.mockRestore();
    }
    // Reads: the entry stamp, the job's start, its end; between start and end three chunks: 5 + 3 × 10 = 35 ms.
    expect(Atomics.load(ctl, BUSY_US(0))).toBe(35_000);
  });

  test('no worker helpers on an unshared memory (the unthreaded wasm build)', () => {
    expect(workerHelpers([], new WebAssembly.Memory({ initial: 1 }))).toBeNull();
  });
});

describe('SIMD kernels split over the batch', () => {
  const ran: string[] = [];
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterEach(() => {
    setSimdParallel(true, workerHelpers);
    ran.length = 0;
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  async function compare(f: () => Float32Array[], names: string[]) {
    await tf.setBackend('cpu');
    const ref = f();
    await tf.setBackend('wasm');
    setSimdParallel(false);
    const alone = f();
    for (const helpers of [1, 2]) {
      setSimdParallel(true, inlineHelpers(helpers, ran));
      const calls = simdKernelStats.parallelCalls;
      const split = f();
      expect(new Set(ran)).toEqual(new Set(names));
      expect(simdKernelStats.parallelCalls).toBeGreaterThan(calls);
      ran.length = 0;
      expect(split.length).toBe(alone.length);
      for (let i = 0; i < alone.length; i++) {
        expect(maxRelDiff(split[i], alone[i])).toBeLessThan(1e-5);
        expect(maxRelDiff(split[i], ref[i])).toBeLessThan(1e-4);
      }
    }
  }

  test('filter gradient: split = unsplit (1e-5) = cpu (1e-4), 2 and 3 threads', async () => {
    await compare(filterGrads, ['filterGrad']);
  });

  test('BatchNorm + ReLU + pool, forward and backward: split = unsplit = cpu', async () => {
    await compare(() => bnValuesAndGrads([5, 4, 6, 8], true), ['moments', 'poolFwd', 'poolSums', 'poolDz']);
  });

  test('BatchNorm + ReLU without pool (7 or 21 channels: a SIMD tail): split = unsplit = cpu, the mask from z or from y', async () => {
    await compare(() => bnValuesAndGrads([3, 4, 4, 7], false), ['moments', 'affineRelu', 'reluSumsZCols', 'reluDzZ']);
    await compare(() => bnValuesAndGrads([3, 4, 4, 21], false), ['moments', 'affineRelu', 'reluSumsZ', 'reluDzZ']);
    setReluMaskFromZ(false);
    try {
      await compare(() => bnValuesAndGrads([3, 4, 4, 7], false), ['moments', 'affineRelu', 'maskSumsCols', 'bwdDz']);
      setColumnKernels(false);
      await compare(() => bnValuesAndGrads([3, 4, 4, 7], false), ['moments', 'affineRelu', 'maskSums', 'bwdDz']);
    } finally {
      setReluMaskFromZ(true);
      setColumnKernels(true);
    }
  });

  test.each([9, 19])('BatchNorm + ReLU backward with the mask from z: the same values bit for bit as from the saved output, split or not (%i channels)', async (channels) => {
    await tf.setBackend('wasm');
    // A fifth of z is 0, and β = μ·γ·rstd (rounded) in most channels: there the zeros' pre-activation
    // z·a + b is b = β − μ·a, within a rounding error of 0 — the ReLU's edge, on both sides of it.
    const shape = [4, 6, 6, channels];
    const gammas = Array.from({ length: channels }, (_, c) => [1.5, -0.7, 2, 1e-3, 1, 0.25, -2, 3, 1][c % 9] * (1 + c / 10));
    const zOf = () => {
      const base = rand(shape, 11);
      return tf.where(tf.less(tf.abs(base), 0.2), tf.zerosLike(base), base) as tf.Tensor4D;
    };
    const edgeBeta = tf.tidy(() => {
      const { mean, variance } = batchNormRelu(zOf(), tf.tensor1d(gammas), tf.zeros([channels]) as tf.Tensor1D, 1e-5, false);
      const [mu, v] = [mean.dataSync(), variance.dataSync()];
      return Float32Array.from(gammas, (g, c) => (c % 9 === 8 ? 0.3 : mu[c] * Math.fround(g * Math.fround(1 / Math.sqrt(v[c] + 1e-5)))));
    });
    const run = (fromZ: boolean, columns = fromZ) => {
      setReluMaskFromZ(fromZ);
      setColumnKernels(columns);
      return tf.tidy(() => {
        const z = zOf();
        const gamma = tf.tensor1d(gammas);
        const beta = tf.tensor1d(edgeBeta);
        const f = (zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => batchNormRelu(zz as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, false).y;
        const r = rand(shape, 12);
        return tf.grads((zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(zz, gg, bb), r)))([z, gamma, beta]).map((t) => t.dataSync() as Float32Array);
      });
    };
    try {
      for (const helpers of [0, 2]) {
        setSimdParallel(helpers > 0, helpers > 0 ? inlineHelpers(helpers, ran) : undefined);
        const fromY = run(false); // maskSums and bwdDz row by row: the reference
        const counted = simdKernelStats.reluMaskFromZ;
        const fromZ = run(true);
        expect(simdKernelStats.reluMaskFromZ).toBe(counted + 1);
        const fromYColumns = run(false, true);
        for (let i = 0; i < 3; i++) {
          expect(Array.from(fromZ[i])).toEqual(Array.from(fromY[i]));
          expect(Array.from(fromYColumns[i])).toEqual(Array.from(fromY[i]));
        }
      }
    } finally {
      setReluMaskFromZ(true);
      setColumnKernels(true);
    }
  });

  test.each([6, 17])('BatchNorm → add → ReLU backward: the sums channel by channel give the same values bit for bit as row by row (%i channels)', async (channels) => {
    await tf.setBackend('wasm');
    const shape = [3, 5, 4, channels];
    const run = (columns: boolean) => {
      setColumnKernels(columns);
      return tf.tidy(() => {
        const [z, res, r] = [rand(shape, 21), rand(shape, 22), rand(shape, 23)];
        const gamma = tf.add(rand([channels], 24), 1.2);
        const beta = rand([channels], 25);
        const f = (zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, rr: tf.Tensor) => batchNormAdd(zz as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, rr as tf.Tensor4D, true).y;
        return tf.grads((zz: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor, rr: tf.Tensor) => tf.sum(tf.mul(f(zz, gg, bb, rr), r)))([z, gamma, beta, res]).map((t) => t.dataSync() as Float32Array);
      });
    };
    try {
      for (const helpers of [0, 2]) {
        setSimdParallel(helpers > 0, helpers > 0 ? inlineHelpers(helpers, ran) : undefined);
        const rows = run(false);
        const columns = run(true);
        if (helpers) expect(new Set(ran)).toContain(channels <= 16 ? 'maskSumsCols' : 'maskSums');
        ran.length = 0;
        for (let i = 0; i < 4; i++) expect(Array.from(columns[i])).toEqual(Array.from(rows[i]));
      }
    } finally {
      setColumnKernels(true);
    }
  });

  test('a helper that dies in a chunk: the chunk is cleared and rerun here, results unchanged', async () => {
    await tf.setBackend('wasm');
    setSimdParallel(false);
    const alone = [...filterGrads(), ...bnValuesAndGrads([4, 4, 4, 8], true)];
    setSimdParallel(true, deadHelper);
    const calls = simdKernelStats.parallelCalls;
    const got = [...filterGrads(), ...bnValuesAndGrads([4, 4, 4, 8], true)];
    expect(simdKernelStats.parallelCalls).toBe(calls);
    for (let i = 0; i < alone.length; i++) expect(maxRelDiff(got[i], alone[i])).toBeLessThan(1e-5);
  });
});

describe('guidedSlices', () => {
  test('shrinking image ranges that cover the batch once, each at least one image', () => {
    expect(guidedSlices(64, 6)).toEqual([
      [0, 18],
      [18, 15],
      [33, 12],
      [45, 9],
      [54, 6],
      [60, 4],
    ]);
    for (const [n, parts] of [[6, 6], [7, 6], [2, 2], [1, 1], [13, 5], [250, 6], [64, 16]]) {
      const s = guidedSlices(n, parts);
      expect(s.length).toBe(parts);
      expect(s.every(([, c]) => c >= 1)).toBe(true);
      expect(s.map(([start]) => start)).toEqual(s.map((_, i) => s.slice(0, i).reduce((a, [, c]) => a + c, 0)));
      expect(s.reduce((a, [, c]) => a + c, 0)).toBe(n);
      for (let i = 1; i < parts; i++) expect(s[i][1]).toBeLessThanOrEqual(s[i - 1][1] + 1);
    }
  });
  test('equal ranges when not shrinking (the layout before)', () => {
    expect(guidedSlices(64, 6, false)).toEqual([0, 10, 21, 32, 42, 53].map((start, i, a) => [start, (a[i + 1] ?? 64) - start]));
  });
});
