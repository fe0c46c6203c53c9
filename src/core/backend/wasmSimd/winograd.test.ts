/**
 * The Winograd 3×3 conv kernel (plain-SIMD variant in Node 20) against the cpu backend's
 * tf.conv2d / tf.fused.conv2d and tf.grad, within 1e-4 of the output's magnitude. Shapes cover
 * channel counts that are not multiples of 4, images down to 2×2, blocks of several tile rows,
 * bias and ReLU; a sub-range of images must leave the others untouched, and two threads running
 * disjoint ranges on one shared memory (each with its own scratch) must not disturb each other.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { simdContext } from './index';
import { chooseTile, conv3x3Filter, conv3x3Module, conv3x3Range, conv3x3ScratchBytes, conv3x3Stats, finerSlices, setWinogradTile, simdConv3x3, simdConv3x3InputGrad } from './conv3x3';
import { type Conv3x3Shape, instantiateWinograd, setWinogradFilterVec, winogradBytes, winogradFilter, winogradLayout } from './winograd';
import { relDiff } from './relDiff';

const cases = [
  { n: 2, h: 4, w: 4, cin: 3, cout: 5 },
  { n: 1, h: 2, w: 2, cin: 5, cout: 7 },
  { n: 2, h: 8, w: 8, cin: 5, cout: 7 },
  { n: 2, h: 8, w: 4, cin: 4, cout: 12 }, // one 4-vector remainder block in the GEMM
  { n: 2, h: 16, w: 16, cin: 16, cout: 32 },
  { n: 2, h: 8, w: 8, cin: 32, cout: 64 },
  { n: 1, h: 8, w: 8, cin: 64, cout: 32 },
  { n: 1, h: 32, w: 32, cin: 3, cout: 16 }, // 4 blocks of 4 tile rows per image
];

type Case = (typeof cases)[number];

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

function inputs(c: Case) {
  return {
    x: rand([c.n, c.h, c.w, c.cin], 1) as tf.Tensor4D,
    w: rand([3, 3, c.cin, c.cout], 2) as tf.Tensor4D,
    b: rand([c.cout], 3) as tf.Tensor1D,
  };
}


async function onCpu<T extends tf.TensorContainer>(f: () => T): Promise<T> {
  await tf.setBackend('cpu');
  return tf.tidy(f);
}

async function onWasm<T extends tf.TensorContainer>(f: () => T): Promise<T> {
  await tf.setBackend('wasm');
  return tf.tidy(f);
}

describe('Winograd 3×3 conv kernel', () => {
  beforeAll(() => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  // Size: Chrome compiles modules synchronously on the main thread up to 8 MB (a 5 MB one compiled in
  // Chromium 150 here; the limit was once 4 KB, which F(2×2)'s modules kept to). A new pruned width is a
  // new module, so they stay small: F(2×2) under 6 KB, F(4×4) under 12 KB (the vector filter transform,
  // unrolled over U's 16 or 36 points, added 1.4 / 2.6 KB to them).
  test('modules are valid WebAssembly, F(2×2) under 6 KB and F(4×4) under 12 KB', () => {
    // each case forward and as its input gradient (channels swapped)
    for (const c of cases.flatMap((c) => [c, { ...c, cin: c.cout, cout: c.cin }])) {
      for (const flags of [{ bias: false, relu: false }, { bias: true, relu: true }, { bias: true, relu: true, pool: true }, { bias: true, relu: true, tile: 4 as const }]) {
        if (flags.tile === 4 && (c.h % 4 || c.w % 4)) continue;
        for (const relaxed of [false, true]) {
          const bytes = winogradBytes({ ...c, ...flags }, relaxed, true);
          expect(bytes.length).toBeLessThan(flags.tile === 4 ? 12 * 1024 : 6 * 1024);
          if (!relaxed) expect(WebAssembly.validate(bytes)).toBe(true);
        }
      }
    }
  });

  // every case through F(2×2, 3×3); those whose sides are multiples of 4 through F(4×4, 3×3) too
  for (const [c, tile] of cases.flatMap((c) => (c.h % 4 === 0 && c.w % 4 === 0 ? [[c, 2], [c, 4]] : [[c, 2]]) as Array<[Case, 2 | 4]>)) {
    const name = `F(${tile}×${tile}) ${c.n}×${c.h}×${c.w} ${c.cin}→${c.cout}`;
    describe(name, () => {
      beforeAll(() => setWinogradTile(tile));
      afterAll(() => setWinogradTile('auto'));
      for (const [bias, relu] of [[false, false], [true, false], [true, true], [false, true]]) {
        test(`${name}${bias ? ' +bias' : ''}${relu ? ' relu' : ''} matches tf.fused.conv2d on cpu`, async () => {
          const conv = ({ x, w, b }: ReturnType<typeof inputs>) =>
            tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: bias ? b : undefined, activation: relu ? 'relu' : 'linear' });
          const ref = await onCpu(() => conv(inputs(c)).dataSync() as Float32Array);
          const got = await onWasm(() => {
            const t = inputs(c);
            const y = simdConv3x3(t.x, t.w, bias ? t.b : undefined, relu);
            expect(y).not.toBeNull();
            expect(y!.shape).toEqual([c.n, c.h, c.w, c.cout]);
            return y!.dataSync() as Float32Array;
          });
          expect(relDiff(got, ref)).toBeLessThan(1e-4);
        });
      }

      test(`${name} +bias relu, 2×2 max-pool in the output transform (always F(2×2)), matches tf.maxPool(tf.fused.conv2d) on cpu`, async () => {
        const ref = await onCpu(() => {
          const { x, w, b } = inputs(c);
          return tf.maxPool(tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' }), 2, 2, 'valid').dataSync() as Float32Array;
        });
        const got = await onWasm(() => {
          const t = inputs(c);
          const y = simdConv3x3(t.x, t.w, t.b, true, true);
          expect(y).not.toBeNull();
          expect(y!.shape).toEqual([c.n, c.h / 2, c.w / 2, c.cout]);
          return y!.dataSync() as Float32Array;
        });
        expect(relDiff(got, ref)).toBeLessThan(1e-4);
      });

      test(`${name} input gradient matches tf.grad on cpu`, async () => {
        const grad = (x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D) => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, w, 1, 'same'), dy)))(x);
        const dyOf = () => rand([c.n, c.h, c.w, c.cout], 4) as tf.Tensor4D;
        const ref = await onCpu(() => {
          const t = inputs(c);
          return grad(t.x, t.w, dyOf()).dataSync() as Float32Array;
        });
        const got = await onWasm(() => {
          const dx = simdConv3x3InputGrad(dyOf(), inputs(c).w);
          expect(dx).not.toBeNull();
          expect(dx!.shape).toEqual([c.n, c.h, c.w, c.cin]);
          return dx!.dataSync() as Float32Array;
        });
        expect(relDiff(got, ref)).toBeLessThan(1e-4);
      });
    });
  }

  test('the vector filter transform (4 output channels at a time) writes the scalar one\'s U bit for bit, forward and input-gradient layouts', () => {
    const memory = new WebAssembly.Memory({ initial: 16 });
    const heap = new Float32Array(memory.buffer);
    for (const [cin, cout, tile] of [[16, 16, 4], [32, 64, 4], [64, 32, 4], [5, 8, 2], [8, 12, 2], [3, 16, 4]] as const) {
      for (const inputGrad of [false, true]) {
        // the U's layout: in and out swapped for the input gradient
        const s: Conv3x3Shape = { h: 8, w: 8, cin: inputGrad ? cout : cin, cout: inputGrad ? cin : cout, bias: false, relu: false, tile };
        if (s.cout % 4 !== 0) continue;
        const mod = instantiateWinograd(s, memory, false)!;
        const L = winogradLayout(s);
        const g = 64;
        for (let i = 0; i < 9 * cin * cout; i++) heap[g / 4 + i] = Math.sin(7 * i + 1);
        const [u1, u2] = [g + 9 * cin * cout * 4 + 64, g + 9 * cin * cout * 4 + 64 + L.filterFloats * 4 + 64];
        setWinogradFilterVec(false);
        winogradFilter(mod, memory, s, g, inputGrad, null, u1);
        setWinogradFilterVec(true);
        winogradFilter(mod, memory, s, g, inputGrad, null, u2);
        const uFloats = L.filterFloats - L.co4; // U without the bias row (none here)
        const a = heap.slice(u1 / 4, u1 / 4 + uFloats);
        const b = heap.slice(u2 / 4, u2 / 4 + uFloats);
        expect(b.some((v) => v !== 0)).toBe(true);
        expect(Array.from(b)).toEqual(Array.from(a));
      }
    }
  });

  test('the tile: F(4×4) where sides are multiples of 4 and there are 4 input channels or more, never with the pool; F(2×2) when asked', () => {
    const s: Conv3x3Shape = { h: 16, w: 16, cin: 16, cout: 16, bias: false, relu: false };
    expect(chooseTile(s, 'auto')).toBe(4);
    expect(chooseTile({ ...s, cin: 3 }, 'auto')).toBe(2);
    expect(chooseTile({ ...s, cin: 3 }, 4)).toBe(4);
    expect(chooseTile({ ...s, h: 4, w: 8 }, 'auto')).toBe(4);
    expect(chooseTile({ ...s, h: 18, w: 16 }, 'auto')).toBe(2);
    expect(chooseTile({ ...s, h: 18, w: 16 }, 4)).toBe(2);
    expect(chooseTile({ ...s, pool: true }, 4)).toBe(2);
    expect(chooseTile(s, 2)).toBe(2);
  });

  test("a new shape's first call runs in pieces of a few images (V8's optimised code takes over between them), with the later calls' result", async () => {
    expect(finerSlices([[0, 10], [10, 3]], 4)).toEqual([[[0, 4], [4, 4], [8, 2], [10, 3]]]);
    // Jobs no larger than the helper threads' job table (MAX_CHUNKS): two slices of 125 images, 32 pieces each.
    const jobs = finerSlices([[0, 125], [125, 125]], 4, 16);
    expect(jobs.map((j) => j.length)).toEqual([16, 16, 16, 16]);
    expect(jobs.flat().reduce((n, [, c]) => n + c, 0)).toBe(250);
    const c = { n: 9, h: 8, w: 8, cin: 7, cout: 11 }; // a shape no other test uses: its module is new here
    const [first, second, pieces] = await onWasm(() => {
      const t = inputs(c);
      const before = conv3x3Stats.firstRunsInPieces;
      const a = simdConv3x3(t.x, t.w, t.b, true)!.dataSync() as Float32Array;
      const b = simdConv3x3(t.x, t.w, t.b, true)!.dataSync() as Float32Array;
      return [a, b, conv3x3Stats.firstRunsInPieces - before] as const;
    });
    expect(pieces).toBe(1); // the first call only
    expect(Buffer.from(first.buffer).equals(Buffer.from(second.buffer))).toBe(true); // bit for bit
  });

  test('odd sizes, other kernels and mismatched channels are declined', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = rand([1, 5, 4, 3], 1) as tf.Tensor4D;
      expect(simdConv3x3(x, rand([3, 3, 3, 4], 2) as tf.Tensor4D)).toBeNull();
      const x2 = rand([1, 4, 4, 3], 1) as tf.Tensor4D;
      expect(simdConv3x3(x2, rand([5, 5, 3, 4], 2) as tf.Tensor4D)).toBeNull();
      expect(simdConv3x3(x2, rand([3, 3, 2, 4], 2) as tf.Tensor4D)).toBeNull();
      expect(simdConv3x3InputGrad(x2, rand([3, 3, 4, 2], 2) as tf.Tensor4D)).toBeNull();
    });
  });

  test.each([2, 4] as const)('F(%i×%i tiles): an image range writes those images only, as the full call does', async (tile) => {
    const s: Conv3x3Shape = { h: 8, w: 8, cin: 5, cout: 6, bias: true, relu: false, tile };
    setWinogradTile(tile);
    const [n0, n1, n] = [1, 3, 4];
    await tf.setBackend('wasm');
    const ctx = simdContext()!;
    const backend = ctx.backend;
    const ptr = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const [got, ref] = tf.tidy(() => {
      const x = rand([n, s.h, s.w, s.cin], 1) as tf.Tensor4D;
      const w = rand([3, 3, s.cin, s.cout], 2) as tf.Tensor4D;
      const b = rand([s.cout], 3) as tf.Tensor1D;
      const y = tf.fill([n, s.h, s.w, s.cout], 7);
      y.dataSync();
      const mod = conv3x3Module(s, ctx.memory, ctx.shared)!;
      const L = winogradLayout(s);
      const heap = backend.wasm as unknown as { _malloc(n: number): number; _free(p: number): void };
      const u = heap._malloc(L.filterFloats * 4 + conv3x3ScratchBytes(s));
      try {
        conv3x3Filter(mod, ctx.memory, s, ptr(w), false, ptr(b), u);
        conv3x3Range(mod, { x: ptr(x), u, y: ptr(y), scratch: u + L.filterFloats * 4 }, n0, n1);
      } finally {
        heap._free(u);
      }
      return [y.dataSync() as Float32Array, simdConv3x3(x, w, b)!.dataSync() as Float32Array];
    });
    setWinogradTile('auto');
    const per = s.h * s.w * s.cout;
    expect(got.subarray(0, n0 * per).every((v) => v === 7)).toBe(true);
    expect(got.subarray(n1 * per).every((v) => v === 7)).toBe(true);
    expect(got.subarray(n0 * per, n1 * per)).toEqual(ref.subarray(n0 * per, n1 * per));
  });

  test('two threads running disjoint image ranges on one shared memory give the single-call result', async () => {
    const s: Conv3x3Shape = { h: 16, w: 16, cin: 16, cout: 32, bias: true, relu: true };
    const n = 8;
    const L = winogradLayout(s);
    await tf.setBackend('cpu'); // only for random inputs
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const mod = instantiateWinograd(s, memory, true)!;
    // x, W, bias, u, y, yRef, then one scratch area per thread (byte addresses, 64-aligned)
    const sizes = [n * s.h * s.w * s.cin, 9 * s.cin * s.cout, s.cout, L.filterFloats, n * s.h * s.w * s.cout, n * s.h * s.w * s.cout, L.scratchBytes / 4, L.scratchBytes / 4];
    const [x, w, b, u, y, yRef, scratchA, scratchB] = sizes.map((_, i) => 64 + sizes.slice(0, i).reduce((acc, v) => acc + Math.ceil(v / 16) * 64, 0));
    for (const [at, len] of [[x, sizes[0]], [w, sizes[1]], [b, sizes[2]]]) {
      new Float32Array(memory.buffer, at, len).set(tf.tidy(() => rand([len], at).dataSync()));
    }
    winogradFilter(mod, memory, s, w, false, b, u);
    mod.conv(x, u, yRef, 0, n, scratchA, 0);

    // each thread runs its half `reps` times and counts the runs whose output differs from yRef's
    const reps = 40;
    const half = (n / 2) * s.h * s.w * s.cout;
    const ctl = new Int32Array(new SharedArrayBuffer(8)); // [worker ready, start]
    const worker = new Worker(
      `const { parentPort, workerData: d } = require('node:worker_threads');
       const conv = new WebAssembly.Instance(new WebAssembly.Module(d.bytes), { env: { memory: d.memory } }).exports.conv;
       const [got, ref] = [d.y, d.yRef].map((at) => new Float32Array(d.memory.buffer, at + 4 * d.half, d.half));
       Atomics.store(d.ctl, 0, 1);
       Atomics.wait(d.ctl, 1, 0);
       let bad = 0;
       for (let i = 0; i < d.reps; i++) {
         conv(...d.args);
         if (got.some((v, k) => v !== ref[k])) bad++;
       }
       parentPort.postMessage(bad);`,
      { eval: true, workerData: { bytes: winogradBytes(s, mod.relaxed, true), memory, ctl, reps, half, y, yRef, args: [x, u, y, n / 2, n, scratchB, 0] } },
    );
    const workerBad = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    while (Atomics.load(ctl, 0) === 0) await new Promise((r) => setTimeout(r, 1));
    Atomics.store(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    const [got, ref] = [y, yRef].map((at) => new Float32Array(memory.buffer, at, half));
    let bad = 0;
    for (let i = 0; i < reps; i++) {
      mod.conv(x, u, y, 0, n / 2, scratchA, 0);
      if (got.some((v, k) => v !== ref[k])) bad++;
    }
    expect(await workerBad).toBe(0);
    expect(bad).toBe(0);
    await worker.terminate();
  });
});
