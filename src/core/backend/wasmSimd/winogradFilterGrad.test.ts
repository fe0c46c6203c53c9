/**
 * The Winograd F(3×3, 2×2) and F(3×3, 4×4) filter-gradient kernels (plain SIMD in Node 20) against the
 * filter gradient tfjs computes on the cpu backend, within 1e-4 of the largest |dW|: channel counts that
 * are not multiples of 4, H = W = 2 … 16 (4 … 16 for 4×4 tiles), masked and unmasked, with the bias
 * row, and image sub-ranges run into separate accumulators that sum to the whole.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  TILES_PER_BLOCK,
  winogradAccFloats,
  winogradFilterGrad,
  winogradFilterGradOutput,
  winogradFilterGradRange,
  winogradFilterGradWithBias,
  winogradKernels,
  winogradModuleBytes,
  winogradRangeArgs,
  winogradScratchBytes,
} from './convFilterGrad3x3';
import { setWinogradTile } from './conv3x3';
import { simdContext } from './index';

type Mat = number[][];
const Bt: Mat = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]];
const G: Mat = [[1, 0], [0.5, 0.5], [0.5, -0.5], [0, 1]];
const At: Mat = [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]];
const matVec = (m: Mat, v: number[]) => m.map((row) => row.reduce((s, a, k) => s + a * v[k], 0));
// F(3×3, 4×4): F(4×4, 3×3)'s Bᵀ, its A (= Aᵀ transposed) for the gradient tile, its Gᵀ for the output
const Bt4: Mat = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]];
const A4: Mat = [[1, 0, 0, 0], [1, 1, 1, 1], [1, -1, 1, -1], [1, 2, 4, 8], [1, -2, 4, -8], [0, 0, 0, 1]];
const Gt4: Mat = [[1 / 4, -1 / 6, -1 / 6, 1 / 24, 1 / 24, 0], [0, -1 / 6, 1 / 6, 1 / 12, -1 / 12, 0], [0, -1 / 6, -1 / 6, 1 / 6, 1 / 6, 1]];

const cases = [
  { n: 2, h: 4, w: 4, cin: 3, cout: 5 },
  { n: 2, h: 8, w: 8, cin: 5, cout: 7 },
  { n: 3, h: 2, w: 2, cin: 3, cout: 16 },
  { n: 2, h: 16, w: 16, cin: 16, cout: 32 }, // ConvNet-3's conv2
  { n: 2, h: 8, w: 8, cin: 32, cout: 64 }, // conv3
  { n: 5, h: 4, w: 6, cin: 4, cout: 8 }, // 30 tiles: a partial block
  { n: 2, h: 16, w: 16, cin: 3, cout: 16 }, // conv1
];
type Case = (typeof cases)[number];

function inputs(c: Case) {
  const x = tf.randomUniform([c.n, c.h, c.w, c.cin], -1, 1, 'float32', 1) as tf.Tensor4D;
  const g = tf.randomUniform([c.n, c.h, c.w, c.cout], -1, 1, 'float32', 2) as tf.Tensor4D;
  const y = tf.relu(tf.randomUniform([c.n, c.h, c.w, c.cout], -1, 1, 'float32', 3)) as tf.Tensor4D;
  return { x, g, y };
}

/** dW and db on the cpu backend: the gradient of Σ conv2d(x, W)·dz w.r.t. W, dz = g·(y > 0). */
async function reference(c: Case, masked: boolean): Promise<{ dw: Float32Array; db: Float32Array }> {
  await tf.setBackend('cpu');
  return tf.tidy(() => {
    const { x, g, y } = inputs(c);
    const dz = masked ? tf.mul(g, tf.step(y)) : g;
    const w0 = tf.zeros([3, 3, c.cin, c.cout]) as tf.Tensor4D;
    const dw = tf.grad((w) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), dz)))(w0);
    return { dw: dw.dataSync() as Float32Array, db: tf.sum(dz, [0, 1, 2]).dataSync() as Float32Array };
  });
}

function expectClose(got: Float32Array, ref: Float32Array): void {
  expect(got.length).toBe(ref.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
  }
  expect(scale).toBeGreaterThan(0);
  expect(diff / scale).toBeLessThan(1e-4);
}

describe('Winograd F(3×3, 2×2) filter-gradient kernel', () => {
  beforeAll(() => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('Bᵀ, G, Aᵀ compute the 1-D correlation y[i] = Σ_b d[i+b]·g[b] (and its 2-D nesting)', () => {
    const d = [0.3, -1.2, 2.5, 0.7];
    const g = [1.5, -0.4];
    const y = matVec(At, matVec(G, g).map((v, k) => v * matVec(Bt, d)[k]));
    for (let i = 0; i < 3; i++) expect(y[i]).toBeCloseTo(d[i] * g[0] + d[i + 1] * g[1], 12);
    // F(3×3, 4×4): a 6-point patch, a 4-tap gradient
    const d6 = [0.3, -1.2, 2.5, 0.7, -0.9, 1.1];
    const g4 = [1.5, -0.4, 0.8, -2.2];
    const y4 = matVec(Gt4, matVec(A4, g4).map((v, k) => v * matVec(Bt4, d6)[k]));
    for (let i = 0; i < 3; i++) expect(y4[i]).toBeCloseTo(g4.reduce((sum, gb, b) => sum + d6[i + b] * gb, 0), 12);

    const d2 = [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => Math.sin(3 * r + c + 1)));
    const g2 = [[0.8, -1.1], [0.25, 2]];
    const tr = (m: Mat) => m[0].map((_, j) => m.map((row) => row[j]));
    const mul = (a: Mat, b: Mat) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
    const u = mul(mul(G, g2), tr(G));
    const v = mul(mul(Bt, d2), tr(Bt));
    const y2 = mul(mul(At, u.map((row, i) => row.map((e, j) => e * v[i][j]))), tr(At));
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const direct = [0, 1].reduce((s, a) => s + [0, 1].reduce((t, b) => t + d2[i + a][j + b] * g2[a][b], 0), 0);
        expect(y2[i][j]).toBeCloseTo(direct, 12);
      }
    }
  });

  // Size: see winograd.test.ts (Chrome compiles up to 8 MB synchronously on the main thread; these stay small).
  test('the modules are valid WebAssembly (shared and unshared memory), F(3×3, 2×2) under 4 KB and F(3×3, 4×4) under 16 KB', () => {
    for (const tile of [2, 4] as const) {
      for (const shared of [false, true]) {
        const b = winogradModuleBytes(false, shared, tile);
        expect(WebAssembly.validate(b.range)).toBe(true);
        expect(WebAssembly.validate(b.output)).toBe(true);
      }
      for (const relaxed of [false, true]) {
        const b = winogradModuleBytes(relaxed, true, tile);
        expect(b.range.length).toBeLessThan(tile === 4 ? 16384 : 4096);
        expect(b.output.length).toBeLessThan(tile === 4 ? 16384 : 4096);
      }
    }
  });

  test('sides that are multiples of 4 take F(3×3, 4×4) by default: its rounding differs from F(3×3, 2×2)’s, both within the tolerance', async () => {
    const c = cases[3];
    const ref = await reference(c, true);
    await tf.setBackend('wasm');
    const run = (tile: 'auto' | 2) => {
      setWinogradTile(tile);
      const dw = tf.tidy(() => {
        const { x, g, y } = inputs(c);
        return winogradFilterGrad(x, g, y)!.dataSync() as Float32Array;
      });
      setWinogradTile('auto');
      return dw;
    };
    const [auto, two] = [run('auto'), run(2)];
    expectClose(auto, ref.dw);
    expectClose(two, ref.dw);
    expect(auto.some((v, i) => v !== two[i])).toBe(true);
  });

  // every case with 2×2 gradient tiles; those whose sides are multiples of 4 with 4×4 tiles too
  for (const [c, tile] of cases.flatMap((c) => (c.h % 4 === 0 && c.w % 4 === 0 ? [[c, 2], [c, 4]] : [[c, 2]]) as Array<[Case, 2 | 4]>)) {
    for (const masked of [true, false]) {
      test(`F(3×3, ${tile}×${tile}) ${c.n}×${c.h}×${c.w} ${c.cin}→${c.cout}${masked ? ' masked' : ''} matches the cpu backend`, async () => {
        setWinogradTile(tile);
        const ref = await reference(c, masked);
        await tf.setBackend('wasm');
        expect(winogradKernels()).not.toBeNull();
        const before = tf.memory().numTensors;
        const got = tf.tidy(() => {
          const { x, g, y } = inputs(c);
          const dw = winogradFilterGrad(x, g, masked ? y : null);
          expect(dw).not.toBeNull();
          expect(dw!.shape).toEqual([3, 3, c.cin, c.cout]);
          return dw!.dataSync() as Float32Array;
        });
        setWinogradTile('auto');
        expect(tf.memory().numTensors).toBe(before);
        expectClose(got, ref.dw);
      });
    }
  }

  for (const [c, tile] of [[cases[0], 2], [cases[3], 2], [cases[0], 4], [cases[3], 4]] as Array<[Case, 2 | 4]>) {
    test(`F(3×3, ${tile}×${tile}) ${c.cin}→${c.cout} with the bias row matches dW and Σ dz`, async () => {
      const ref = await reference(c, true);
      await tf.setBackend('wasm');
      setWinogradTile(tile);
      const [dw, db] = tf.tidy(() => {
        const { x, g, y } = inputs(c);
        const r = winogradFilterGradWithBias(x, g, y);
        expect(r).not.toBeNull();
        return r!.map((t) => t.dataSync() as Float32Array);
      });
      setWinogradTile('auto');
      expectClose(dw, ref.dw);
      expectClose(db, ref.db);
    });
  }

  test('odd H or W is declined (callers fall back)', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = tf.ones([1, 5, 4, 3]) as tf.Tensor4D;
      const g = tf.ones([1, 5, 4, 8]) as tf.Tensor4D;
      expect(winogradFilterGrad(x, g, null)).toBeNull();
    });
  });

  for (const [c, tile] of [[{ n: 5, h: 8, w: 8, cin: 4, cout: 8 }, 2], [{ n: 5, h: 6, w: 4, cin: 5, cout: 7 }, 2], [{ n: 5, h: 8, w: 12, cin: 5, cout: 7 }, 4]] as const) {
    test(`F(3×3, ${tile}×${tile}) ${c.cin}→${c.cout}: image ranges [0, 1), [1, 3), [3, 5) into separate accumulators sum to the whole (NaN-filled scratch; the kernel clears NaN-filled accumulators when asked)`, async () => {
      const ref = await reference(c, true);
      await tf.setBackend('wasm');
      const k = winogradKernels(tile)!;
      const backend = tf.backend() as BackendWasm;
      const em = backend.wasm as unknown as { _malloc(n: number): number; _free(p: number): void };
      const { x, g, y } = inputs(c);
      const ptr = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
      const accFloats = winogradAccFloats(c.cin, c.cout, false, tile);
      const ranges = [[0, 1], [1, 3], [3, 5]];
      const accs = ranges.map(() => em._malloc(accFloats * 4));
      const scratchBytes = winogradScratchBytes(c.cin, c.cout, TILES_PER_BLOCK, tile);
      const scratch = em._malloc(scratchBytes);
      const c4 = (c.cout + 3) & ~3;
      const out = em._malloc(9 * c.cin * c4 * 4);
      try {
        const view = (p: number, len: number) => new Float32Array(simdContext()!.memory.buffer, p, len);
        const problem = { tile, x: ptr(x), g: ptr(g), y: ptr(y), h: c.h, w: c.w, cin: c.cin, cout: c.cout, masked: true, withBias: false };
        view(scratch, scratchBytes / 4).fill(NaN); // anything the kernel reads before writing would show
        ranges.forEach(([n0, n1], i) => {
          // The first accumulator zeroed here; the others hold NaN and are cleared by the range (ZERO).
          view(accs[i], accFloats).fill(i === 0 ? 0 : NaN);
          if (i === 0) winogradFilterGradRange(k, problem, n0, n1, accs[i], scratch);
          else k.range(...winogradRangeArgs(problem, n0, n1, accs[i], scratch, accFloats * 4));
        });
        const sum = view(accs[0], accFloats);
        for (const a of accs.slice(1)) view(a, accFloats).forEach((v, i) => (sum[i] += v));
        winogradFilterGradOutput(k, accs[0], c.cin, c.cout, out);
        const padded = view(out, 9 * c.cin * c4);
        const dw = new Float32Array(9 * c.cin * c.cout).map((_, i) => padded[Math.floor(i / c.cout) * c4 + (i % c.cout)]);
        expectClose(dw, ref.dw);
      } finally {
        [...accs, scratch, out].forEach((p) => em._free(p));
        tf.dispose([x, g, y]);
      }
    });
  }
});

/** Runs `winogradRange(args)` in a worker on `memory` once `go[0]` turns 1 (all workers start together). */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { memory, bytes, args, go } = workerData;
const range = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.winogradRange;
const flags = new Int32Array(go);
Atomics.add(flags, 1, 1);
Atomics.wait(flags, 0, 0);
range(...args);
parentPort.postMessage('done');
`;

describe('Winograd filter gradient on two threads', () => {
  test('two image ranges run concurrently on a shared memory give the same bits as run one after the other', async () => {
    const c = { n: 32, h: 16, w: 16, cin: 16, cout: 32 };
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true });
    const bytes = winogradModuleBytes(false, true);
    const inst = (b: Uint8Array<ArrayBuffer>) => new WebAssembly.Instance(new WebAssembly.Module(b), { env: { memory } }).exports;
    const range = inst(bytes.range).winogradRange as (...a: number[]) => void;
    const heap = new Float32Array(memory.buffer);
    let top = 1024; // bump allocator over the shared heap
    const alloc = (floats: number, fill: (i: number) => number) => {
      const p = top;
      for (let i = 0; i < floats; i++) heap[p / 4 + i] = fill(i);
      top += Math.ceil((floats * 4 + 64) / 64) * 64;
      return p;
    };
    const pix = c.n * c.h * c.w;
    const problem = {
      x: alloc(pix * c.cin, (i) => Math.sin(i)),
      g: alloc(pix * c.cout, (i) => Math.cos(3 * i)),
      y: alloc(pix * c.cout, (i) => Math.sin(7 * i)),
      ...c,
      masked: true,
      withBias: true,
    };
    const accFloats = winogradAccFloats(c.cin, c.cout, true);
    const scratchFloats = winogradScratchBytes(c.cin, c.cout, TILES_PER_BLOCK) / 4;
    const ranges = [[0, 13], [13, 32]];
    const run = async (concurrent: boolean) => {
      const accs = ranges.map(() => alloc(accFloats, () => 0));
      const args = ranges.map(([n0, n1], i) => winogradRangeArgs(problem, n0, n1, accs[i], alloc(scratchFloats, () => NaN)));
      if (!concurrent) args.forEach((a) => range(...a));
      else {
        const go = new SharedArrayBuffer(8);
        const flags = new Int32Array(go);
        const done = args.map((a) => {
          const w = new Worker(WORKER, { eval: true, workerData: { memory, bytes: bytes.range, args: a, go } });
          return new Promise<void>((resolve, reject) => {
            w.on('message', () => void w.terminate().then(() => resolve()));
            w.on('error', reject);
          });
        });
        while (Atomics.load(flags, 1) < ranges.length) await new Promise((r) => setTimeout(r, 5));
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        await Promise.all(done);
      }
      return accs.map((a) => heap.slice(a / 4, a / 4 + accFloats));
    };
    const sequential = await run(false);
    const concurrent = await run(true);
    for (let i = 0; i < ranges.length; i++) {
      expect(concurrent[i].some((v) => v !== 0)).toBe(true);
      expect(concurrent[i]).toEqual(sequential[i]);
    }
  });
});
