/**
 * Glue for the Winograd 3×3 conv kernel (winograd.ts) on tfjs's wasm backend:
 *
 *   simdConv3x3(x, W, bias?, relu?)      tf.fused.conv2d(x, W, 1, 'same', bias, relu) for 3×3 W
 *   simdConv3x3InputGrad(dy, W)          ∂/∂x of conv2d(x, W, 1, 'same') given dy
 *
 * Both run as the registered wasm kernel 'PlaygroundSimdConv3x3' (tf.profile shows it) and return
 * null when the kernel is unavailable or the shape unsupported (odd H or W): callers fall back to
 * tf ops. For a runtime splitting a call across threads by image range:
 *
 *   conv3x3ModuleBytes(shape, relaxed, shared)   the same module, to instantiate in a worker
 *   conv3x3Filter(mod, memory, shape, W, …)      writes `u` (transformed filter + bias), shared by all ranges
 *   conv3x3ScratchBytes(shape)                   scratch per concurrent call
 *   conv3x3Range(mod, ptrs, n0, n1)              images [n0, n1) — disjoint ranges with their own
 *                                                scratch may run at the same time on shared memory
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type EmscriptenHeap, type Slice, imageSlices, moduleCache, runImageSlices, simdContext } from './index';
import { setChannelSums } from './channelSums';
import { MAX_CHUNKS } from './parallel';
import { type Conv3x3Shape, type WinogradModule, instantiateWinograd, winogradBytes, winogradFilter, winogradLayout, winogradSupports } from './winograd';

export type { Conv3x3Shape, WinogradModule };

export const SIMD_CONV3X3 = 'PlaygroundSimdConv3x3';

export const conv3x3ModuleBytes = winogradBytes;
export const conv3x3Filter = winogradFilter;
export const conv3x3ScratchBytes = (s: Conv3x3Shape) => winogradLayout(s).scratchBytes;

/** Byte addresses: x [N, H, W, cin], u (written by conv3x3Filter), y [N, H, W, cout], scratch (conv3x3ScratchBytes). */
export interface Conv3x3Pointers {
  x: number;
  u: number;
  y: number;
  scratch: number;
}

export function conv3x3Range(mod: WinogradModule, p: Conv3x3Pointers, n0: number, n1: number): void {
  mod.conv(p.x, p.u, p.y, n0, n1, p.scratch, 0);
}

let sumsOn = true;
/** A/B switch (bench: BENCH_AB=convsums) and tests: forward convs take their output's channel sums (on) or not. */
export function setConvOutputSums(on: boolean): void {
  sumsOn = on;
}

const shapeKey = (s: Conv3x3Shape) => `${s.h},${s.w},${s.cin},${s.cout},${+s.bias},${+s.relu},${+!!s.pool},${s.tile ?? 2},${+!!s.stats}`;
/** The module for `s` on this memory, compiled once (null: no SIMD, or the engine refused it). */
export const conv3x3Module = moduleCache(shapeKey, instantiateWinograd);

/**
 * Modules that have run once. Why: V8 runs a new wasm module in its baseline tier (Liftoff) and
 * compiles the optimised code in the background once a function is hot, but a call already running
 * stays in the baseline code to its end — so a new shape's first call (every pruned width is a new
 * module) ran 2–3× slower: SimpleCNN's conv on 250 images, Node, first / second call of a new width:
 * 83–334 / 34–64 ms. Its first call is therefore run in pieces of FIRST_CALL_IMAGES images: the first
 * pieces in the baseline tier, the rest in the optimised code once it is there. Each image's output is
 * computed alone, so the pieces give the same result.
 */
const warmed = new WeakSet<WinogradModule>();
const FIRST_CALL_IMAGES = 4;

/** `slices` cut into pieces of at most `size` images, in order, as jobs of at most `maxChunks` pieces (the helper threads' job table holds MAX_CHUNKS). */
export function finerSlices(slices: readonly Slice[], size: number, maxChunks = MAX_CHUNKS): Slice[][] {
  const pieces: Slice[] = [];
  for (const [start, count] of slices) for (let i = 0; i < count; i += size) pieces.push([start + i, Math.min(size, count - i)]);
  const jobs: Slice[][] = [];
  for (let i = 0; i < pieces.length; i += maxChunks) jobs.push(pieces.slice(i, i + maxChunks));
  return jobs;
}

/** Calls of a module's first run in pieces (tests check it). */
export const conv3x3Stats = { firstRunsInPieces: 0 };

interface Conv3x3Attrs {
  relu: boolean;
  inputGrad: boolean;
  pool: boolean;
  /** The Winograd tile, chosen by run() (2 when F(4×4)'s module is unavailable). */
  tile?: 2 | 4;
  /** Take the output's channel sums (F(4×4), no bias, ReLU or pool; chosen by run()). */
  stats?: boolean;
}


/**
 * Which Winograd tile a conv uses: 'auto' (default) takes F(4×4, 3×3) wherever it is supported (sides
 * multiples of 4, no pool) and the conv has at least 4 input channels, F(2×2, 3×3) elsewhere; 2 or 4
 * forces one where supported (tests, the bench's A/B: BENCH_AB=tile4). CPU time of one forward at
 * batch 64, Node, one thread, F(2×2) → F(4×4) (ResNet-20's three stages, 8 interleaved rounds, three
 * runs, load 5): 32×32×16 9.0–11.5 → 7.5–9.9 ms, 16×16×32 7.8 → 4.9–6.1 ms, 8×8×64 (four tiles an
 * image) 5.7–6.9 → 4.1–5.9 ms. With 3 input channels (a network's first conv) F(4×4) gained nothing
 * (4.4–7.1 ms either way): its larger input transform is a cost per image that does not shrink with
 * the output channels, which a pruned first layer's speed-up (the bench's pruned-inference row) needs.
 */
export type WinogradTileChoice = 'auto' | 2 | 4;
let tileChoice: WinogradTileChoice = 'auto';
export function setWinogradTile(choice: WinogradTileChoice): void {
  tileChoice = choice;
}

export function chooseTile(s: Conv3x3Shape, choice: WinogradTileChoice = tileChoice): 2 | 4 {
  if (choice === 2 || !winogradSupports({ ...s, tile: 4 })) return 2;
  return choice === 4 || s.cin >= 4 ? 4 : 2;
}

/** The conv's shape from x and the filter (in/out swapped for the input gradient), with the attrs' tile. */
function shapeOf(x: readonly number[], filter: readonly number[], bias: boolean, a: Conv3x3Attrs): Conv3x3Shape {
  const [fi, fo] = [filter[2], filter[3]];
  const s: Conv3x3Shape = { h: x[1], w: x[2], cin: a.inputGrad ? fo : fi, cout: a.inputGrad ? fi : fo, bias, relu: a.relu, pool: a.pool };
  return a.tile === 4 ? { ...s, tile: 4, stats: !!a.stats } : s;
}

/** The registered wasm kernel (installKernels, ../kernels.ts, registers it). */
export const conv3x3Kernel: tf.KernelConfig = {
  kernelName: SIMD_CONV3X3,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: b }) => {
    const backend = b as BackendWasm;
    const ctx = simdContext()!;
    const a = attrs as unknown as Conv3x3Attrs;
    const x = inputs.x as tf.TensorInfo;
    const filter = inputs.filter as tf.TensorInfo;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const s = shapeOf(x.shape, filter.shape, bias != null, a);
    const mod = conv3x3Module(s, ctx.memory, ctx.shared)!;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const y = backend.makeOutput(s.pool ? [x.shape[0], s.h / 2, s.w / 2, s.cout] : [x.shape[0], s.h, s.w, s.cout], 'float32');
    const L = winogradLayout(s);
    // Images split among threads (index.ts): the transformed filter u is shared, scratch is per thread.
    const { slices: usual, threads } = imageSlices(x.shape[0], s.h * s.w * (s.cin + s.cout));
    const firstRun = !warmed.has(mod);
    const jobs = firstRun ? finerSlices(usual, FIRST_CALL_IMAGES) : [usual];
    if (firstRun) {
      warmed.add(mod);
      conv3x3Stats.firstRunsInPieces++;
    }
    const scratchBytes = (L.scratchBytes + 15) & ~15;
    const uBytes = (L.filterFloats * 4 + 15) & ~15;
    // the channel sums: 16 · co4 bytes (Σy, Σy² in float64) per image range, added up in range order below
    const pieces = jobs.reduce((k, j) => k + j.length, 0);
    const sumsBytes = s.stats ? 16 * L.co4 : 0;
    const heap = backend.wasm as unknown as EmscriptenHeap;
    const block = heap._malloc(uBytes + scratchBytes * threads + sumsBytes * pieces + 16);
    try {
      const u = (block + 15) & ~15;
      const scratch = (t: number) => u + uBytes + t * scratchBytes;
      const sums = (piece: number) => (s.stats ? scratch(threads) + piece * sumsBytes : 0);
      winogradFilter(mod, ctx.memory, s, ptr(filter), a.inputGrad, bias ? ptr(bias) : null, u);
      let first = 0;
      for (const slices of jobs) {
        const base = first;
        runImageSlices(
          { module: mod.module, prefix: `conv3x3:${shapeKey(s)}.`, name: 'conv', local: mod.conv },
          slices,
          (start, count, i) => [ptr(x), u, ptr(y), start, start + count, scratch(0), sums(base + i)],
          undefined,
          (t) => [[5, scratch(t)]],
        );
        first += slices.length;
      }
      if (s.stats) {
        const sum = new Float64Array(s.cout);
        const sumSq = new Float64Array(s.cout);
        for (let piece = 0; piece < pieces; piece++) {
          const part = new Float64Array(ctx.memory.buffer, sums(piece), 2 * L.co4);
          for (let c = 0; c < s.cout; c++) {
            sum[c] += part[c];
            sumSq[c] += part[L.co4 + c];
          }
        }
        setChannelSums(y.dataId, { sum, sumSq, count: x.shape[0] * s.h * s.w });
      }
    } finally {
      heap._free(block);
    }
    return y;
  },
};

function run(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined, a: Conv3x3Attrs): tf.Tensor4D | null {
  const ctx = simdContext();
  if (!ctx || x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return null;
  const [kh, kw] = filter.shape;
  const s = shapeOf(x.shape, filter.shape, bias != null, a);
  const xChannels = a.inputGrad ? filter.shape[3] : filter.shape[2];
  if (kh !== 3 || kw !== 3 || x.shape[3] !== xChannels || !winogradSupports(s) || (bias && bias.shape[0] !== s.cout)) return null;
  let tile = chooseTile(s);
  // a forward conv without bias, ReLU or pool feeds a BatchNorm (ResNet-20's): its output's channel sums come with it
  const stats = tile === 4 && sumsOn && !a.inputGrad && !bias && !a.relu && !a.pool;
  if (tile === 4 && !conv3x3Module({ ...s, tile, stats }, ctx.memory, ctx.shared)) tile = 2; // the engine refused the larger module
  if (tile === 2 && !conv3x3Module(s, ctx.memory, ctx.shared)) return null;
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return tf.engine().runKernel(SIMD_CONV3X3, inputs, { ...a, tile, stats: tile === 4 && stats } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * tf.fused.conv2d(x, filter, 1, 'same', …, bias, relu) for a 3×3 filter and even H, W, followed by a
 * 2×2/2 max-pool when `pool` (computed in the output transform: y is [N, H/2, W/2, cout]); null when unavailable.
 */
export function simdConv3x3(x: tf.Tensor4D, filter: tf.Tensor4D, bias?: tf.Tensor1D, relu = false, pool = false): tf.Tensor4D | null {
  return run(x, filter, bias, { relu, inputGrad: false, pool });
}

/** The input gradient of conv2d(x, filter, 1, 'same') from dy (filter flipped and swapped in the transform); null when unavailable. */
export function simdConv3x3InputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  return run(dy, filter, undefined, { relu: false, inputGrad: true, pool: false });
}
