/**
 * Glue for the Winograd filter-gradient kernel (winogradFilterGrad.ts): instantiates it on the tfjs
 * wasm backend's memory and runs it as the registered wasm kernel 'PlaygroundSimdWinogradFilterGrad'
 * (so tf.profile shows it by name), plus the per-image-range entry point a multi-threaded runtime
 * calls on each thread with its own accumulator and scratch.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chooseTile } from './conv3x3';
import { addSlicesInto, imageSlices, runImageSlices, simdContext } from './index';
import { type FilterGradTile, type WinogradKernels, instantiateWinograd, winogradAccFloats, winogradScratchBytes } from './winogradFilterGrad';

export { winogradAccFloats, winogradModuleBytes, winogradScratchBytes, type FilterGradTile, type WinogradKernels } from './winogradFilterGrad';

export const SIMD_WINOGRAD_FILTER_GRAD = 'PlaygroundSimdWinogradFilterGrad';

/**
 * Tiles transformed per GEMM pass: their V and Gd planes (one ξ at a time) stay in L1, and a block's
 * planes in L2. 4×4 tiles: 16 (36 planes of 16 tiles ≈ 16 planes of 32): CPU time of the filter
 * gradient at batch 64, Node, one thread, 8 interleaved rounds (load 6.9), 2×2 tiles / 4×4 tiles in
 * blocks of 8, 16, 32: 32×32×16 7.0 / 6.5, 5.9, 6.0 ms; 16×16×32 6.8 / 6.0, 5.6, 5.9 ms; 8×8×64
 * 5.6 / 4.2, 4.3, 3.8 ms.
 */
export const TILES_PER_BLOCK = 32;
export const TILES_PER_BLOCK_4 = 16;
const tilesPerBlock = (tile: FilterGradTile) => (tile === 4 ? TILES_PER_BLOCK_4 : TILES_PER_BLOCK);

interface EmscriptenWasm {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

let cached: { memory: WebAssembly.Memory; kernels: Map<FilterGradTile, WinogradKernels | null> } | null = null;

/** The kernels for `tile` instantiated on the active wasm backend's memory (null: not the wasm backend, or no SIMD). */
export function winogradKernels(tile: FilterGradTile = 2): WinogradKernels | null {
  const ctx = simdContext();
  if (!ctx) return null;
  if (cached?.memory !== ctx.memory) cached = { memory: ctx.memory, kernels: new Map() };
  if (!cached.kernels.has(tile)) {
    let kernels: WinogradKernels | null;
    try {
      kernels = instantiateWinograd(ctx.memory, ctx.shared, tile);
    } catch {
      kernels = null; // e.g. a memory import the engine refuses: callers fall back
    }
    cached.kernels.set(tile, kernels);
  }
  return cached.kernels.get(tile)!;
}

export interface WinogradProblem {
  /** The gradient tile (the kernels' build-time tile must match). */
  tile?: FilterGradTile;
  /** Byte addresses of x [N,H,W,cin], g [N,H,W,cout] and y (the ReLU output; any valid address when !masked). */
  x: number;
  g: number;
  y: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  masked: boolean;
  withBias: boolean;
}

/**
 * Adds images [n0, n1)'s filter (and bias) gradient into `acc` (winogradAccFloats floats, zeroed by
 * the caller before the first range), using `scratch` (winogradScratchBytes(…, tiles per block, tile) bytes).
 * Calls with disjoint ranges and their own acc and scratch may run concurrently on a shared memory.
 */
export function winogradFilterGradRange(k: WinogradKernels, p: WinogradProblem, n0: number, n1: number, acc: number, scratch: number): void {
  k.range(...winogradRangeArgs(p, n0, n1, acc, scratch));
}

/**
 * The arguments of the module's `winogradRange` export for one range (a helper worker calls it with
 * these). `zeroBytes`: how much of `acc` (16-byte aligned) the range clears first (a multiple of 16; 0: added into as it is).
 */
export function winogradRangeArgs(p: WinogradProblem, n0: number, n1: number, acc: number, scratch: number, zeroBytes = 0): number[] {
  return [p.x, p.g, p.y, p.masked ? 1 : 0, p.h, p.w, p.cin, p.cout, n0, n1, acc, scratch, tilesPerBlock(p.tile ?? 2), p.withBias ? 1 : 0, zeroBytes];
}

/**
 * dW [3,3,cin,C4] (C4 = cout rounded up to 4: exactly dW [3,3,cin,cout] when cout % 4 = 0) at `out`
 * from a summed accumulator; the bias gradient, if any, is the accumulator's row (m + 2)²·cin as is.
 */
export function winogradFilterGradOutput(k: WinogradKernels, acc: number, cin: number, cout: number, out: number): void {
  k.output(acc, cin, cout, out);
}

interface Attrs {
  masked: boolean;
  withBias: boolean;
  tile: FilterGradTile;
}

function kernelFunc({ inputs, attrs, backend: b }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const backend = b as BackendWasm;
  const { masked, withBias, tile } = attrs as unknown as Attrs;
  const k = winogradKernels(tile)!;
  const memory = simdContext()!.memory;
  const points = (tile + 2) * (tile + 2);
  const [x, g, y] = [inputs.x, inputs.g, inputs.y] as tf.TensorInfo[];
  const [n, h, w, cin] = x.shape;
  const cout = g.shape[3];
  const c4 = (cout + 3) & ~3;
  const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const dw = backend.makeOutput([3, 3, cin, cout], 'float32');
  const db = backend.makeOutput([withBias ? cout : 0], 'float32');
  const accFloats = winogradAccFloats(cin, cout, withBias, tile);
  const padded = c4 === cout ? 0 : 9 * cin * c4; // output rows to copy when cout % 4 ≠ 0
  const em = backend.wasm as unknown as EmscriptenWasm;
  // Images split among threads (index.ts): an accumulator per slice, summed in slice order, and a
  // scratch area per thread.
  const { slices, threads } = imageSlices(n, h * w * (cin + cout));
  const scratchBytes = (winogradScratchBytes(cin, cout, tilesPerBlock(tile), tile) + 15) & ~15;
  const accBytes = ((accFloats * 4 + 15) & ~15);
  const base = em._malloc(accBytes * slices.length + padded * 4 + scratchBytes * threads + 16);
  try {
    const acc = (i: number) => ((base + 15) & ~15) + i * accBytes;
    const out = padded ? acc(slices.length) : ptr(dw);
    const scratch = (t: number) => acc(slices.length) + padded * 4 + t * scratchBytes;
    const problem = { tile, x: ptr(x), g: ptr(g), y: ptr(y), h, w, cin, cout, masked, withBias };
    // Each slice's range clears its own accumulator (on the thread that runs it: a JavaScript fill of all
    // of them here took 4–7 ms of the calling thread per ResNet-20 step while the helper waited).
    runImageSlices(
      { module: k.rangeModule, prefix: `winogradFilterGrad${tile}.`, name: 'winogradRange', local: k.range },
      slices,
      (start, count, i) => winogradRangeArgs(problem, start, start + count, acc(i), scratch(0), accBytes),
      undefined, // a rerun clears its accumulator again
      (t) => [[11, scratch(t)]],
    );
    if (slices.length > 1) addSlicesInto(memory, slices.map((_, i) => acc(i)), accFloats);
    winogradFilterGradOutput(k, acc(0), cin, cout, out);
    const heap = memory.buffer;
    if (padded) {
      const all = new Float32Array(heap, out, padded);
      const dst = new Float32Array(heap, ptr(dw), 9 * cin * cout);
      for (let r = 0; r < 9 * cin; r++) dst.set(all.subarray(r * c4, r * c4 + cout), r * cout);
    }
    if (withBias) new Float32Array(heap, ptr(db), cout).set(new Float32Array(heap, acc(0) + points * cin * c4 * 4, cout));
  } finally {
    em._free(base);
  }
  return [dw, db];
}

/** The registered wasm kernel (installKernels, ../kernels.ts, registers it). */
export const winogradFilterGradKernel: tf.KernelConfig = { kernelName: SIMD_WINOGRAD_FILTER_GRAD, backendName: 'wasm', kernelFunc };

/** Whole-vector channel loads read up to 12 bytes past a tensor's last pixel: they must stay in memory. */
function withinMemory(ts: tf.Tensor[]): boolean {
  const backend = tf.backend() as BackendWasm;
  const size = simdContext()!.memory.buffer.byteLength;
  return ts.every((t) => backend.dataIdMap.get(t.dataId)!.memoryOffset + t.size * 4 + 16 <= size);
}

function run(x: tf.Tensor4D, g: tf.Tensor4D, y: tf.Tensor4D | null, withBias: boolean): tf.Tensor[] | null {
  if (!winogradKernels() || x.dtype !== 'float32' || g.dtype !== 'float32') return null;
  const [n, h, w, cin] = x.shape;
  if (g.shape[0] !== n || g.shape[1] !== h || g.shape[2] !== w || h % 2 || w % 2 || cin === 0 || g.shape[3] === 0) return null;
  if (y && (y.dtype !== 'float32' || !y.shape.every((d, i) => d === g.shape[i]))) return null;
  if (!withinMemory(y ? [x, g, y] : [x, g])) return null;
  // F(3×3, 4×4) where the forward conv takes F(4×4, 3×3) (the same switch, conv3x3.ts), when its module instantiated
  let tile: FilterGradTile = chooseTile({ h, w, cin, cout: g.shape[3], bias: false, relu: false });
  if (tile === 4 && !winogradKernels(4)) tile = 2;
  const attrs: Attrs = { masked: y != null, withBias, tile };
  return tf.engine().runKernel(SIMD_WINOGRAD_FILTER_GRAD, { x, g, y: y ?? g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

/**
 * Filter gradient of a 3×3 stride-1 'same' NHWC conv (H and W even) on the wasm backend, with the
 * ReLU mask y > 0 applied to g when `y` is given. Null when unavailable, so callers fall back.
 */
export function winogradFilterGrad(x: tf.Tensor4D, g: tf.Tensor4D, y: tf.Tensor4D | null): tf.Tensor4D | null {
  const r = run(x, g, y, false);
  if (!r) return null;
  r[1].dispose();
  return r[0] as tf.Tensor4D;
}

/** winogradFilterGrad plus the bias gradient Σ dz (one extra add per output vector and tile). */
export function winogradFilterGradWithBias(x: tf.Tensor4D, g: tf.Tensor4D, y: tf.Tensor4D | null): [tf.Tensor4D, tf.Tensor1D] | null {
  const r = run(x, g, y, true);
  return r ? [r[0] as tf.Tensor4D, r[1] as tf.Tensor1D] : null;
}
