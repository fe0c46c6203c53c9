/**
 * Glue between tfjs's wasm backend and the SIMD kernels in this folder: finds the backend's
 * WebAssembly.Memory, instantiates the kernels on it once (synchronously: Chrome compiles modules up
 * to 8 MB on the main thread, and these are a few KB, see the tests), and runs them on tensors in place.
 * Anything unexpected (no memory export, a refused import) leaves the tfjs-op paths in charge.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type BatchNormKernels, type ResidualKernels, instantiateBatchNorm, instantiateResidual } from './batchNorm';
import { type FilterGradModule, TILE, instantiateFilterGrad } from './filterGrad';
import { type AddInto, instantiateAddInto } from './addInto';
import { channelSumsOf } from './channelSums';
import { MAX_K, instantiateOuterGrad } from './outerGrad';
import { type Helpers, type HelpersFactory, chunkCount, runJob, workerHelpers } from './parallel';
export { helpersArePaused, jobStats, setChunksPerThread, setHelperSpinMicros, setHelpersPaused, setKernelThreads } from './parallel';

interface EmscriptenWasm {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

interface State {
  backend: BackendWasm;
  mod: FilterGradModule;
  bn: BatchNormKernels | null;
  /** BatchNorm without its own ReLU (before an add, or alone): null when unavailable. */
  res: ResidualKernels | null;
  memory: WebAssembly.Memory;
  /** The kernel modules, for helper threads (parallel.ts). */
  modules: WebAssembly.Module[];
}
let cached: { backend: BackendWasm; state: State | null } | null = null;
type KernelName = 'filterGrad' | 'batchNorm' | 'outerGrad';
const enabledKernels: Record<KernelName, boolean> = { filterGrad: true, batchNorm: true, outerGrad: true };
let enabled = true;
/** Off until installKernels (../kernels.ts) turns the custom kernels on: stock tfjs meanwhile. */
let installed = false;

/** installKernels' switch (the A/B switch below works within it). */
export function setSimdKernelsInstalled(on: boolean): void {
  installed = on;
}

/** Counts kernel calls (tests and the bench check the path is taken). */
export const simdKernelStats = { filterGrad: 0, batchNorm: 0, batchNormGrad: 0, outerGrad: 0, parallelCalls: 0, affine: 0, reluMaskFromZ: 0 };

/** Switch for A/B measurements and tests (the tfjs-op path is used when disabled); all or some kernels. */
export function setSimdKernelsEnabled(on: boolean, only?: KernelName[]): void {
  if (!only) {
    enabled = on;
    for (const k of Object.keys(enabledKernels) as KernelName[]) enabledKernels[k] = true;
    return;
  }
  for (const k of only) enabledKernels[k] = on;
}

function state(): State | null {
  if (!installed || !enabled || tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as BackendWasm;
  if (!cached || cached.backend !== backend) {
    cached = { backend, state: instantiate(backend) };
    // Start the helpers now: a worker boots only when its creator returns to the event loop, which a
    // training loop may do only between steps (or, in the bench, not at all) after the first kernel.
    if (cached.state) helpersFor(cached.state);
  }
  return cached.state;
}

function instantiate(backend: BackendWasm): State | null {
  const w = backend.wasm as unknown as EmscriptenWasm;
  const memory = w.wasmMemory ?? w.asm?.memory ?? null;
  if (!memory) return null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const mod = instantiateFilterGrad(memory, shared);
    if (!mod) return null;
    const bn = instantiateBatchNorm(memory, shared);
    const res = bn ? instantiateResidual(memory, shared) : null;
    const modules = [mod.module, ...(bn ? [bn.module] : []), ...(res ? [res.module] : [])];
    return { backend, mod, bn: bn?.kernels ?? null, res: res?.kernels ?? null, memory, modules };
  } catch {
    return null; // e.g. a memory import the engine refuses: stay on the tfjs-op path
  }
}

let parallelOn = true;
let helpersFactory: HelpersFactory = workerHelpers;
let pool: { memory: WebAssembly.Memory; helpers: Helpers | null } | null = null;

/**
 * Switch for the split of the kernels over the batch between this thread and helper threads (A/B
 * measurements, tests). `factory`: where the helpers come from (default: web workers, only on a
 * shared memory); tests pass helpers that run on this thread.
 */
export function setSimdParallel(on: boolean, factory?: HelpersFactory): void {
  parallelOn = on;
  if (factory && factory !== helpersFactory) {
    pool?.helpers?.dispose();
    pool = null;
    helpersFactory = factory;
  }
  if (cached?.state) helpersFor(cached.state); // as early as possible: see state()
}

/** The helpers on the active memory (created with the kernels; they help once booted). */
function helpersFor(s: State): Helpers | null {
  if (!parallelOn) return null;
  if (pool?.memory !== s.memory) {
    pool?.helpers?.dispose();
    pool = { memory: s.memory, helpers: createHelpers(s) };
  }
  return pool.helpers;
}

function createHelpers(s: State): Helpers | null {
  try {
    return helpersFactory(s.modules, s.memory);
  } catch {
    return null; // no worker here (e.g. a blocked script): single-threaded
  }
}

export type Slice = [start: number, count: number];

/** Image ranges of an n-image batch: the chunks threads claim (just [0, n] without helpers). */
function slicesOf(h: Helpers | null, n: number, floatsPerImage: number): Slice[] {
  return guidedSlices(n, chunkCount(h, n, floatsPerImage), guided);
}

let guided = true;
/** A/B switch (bench: BENCH_AB=guided): slices shrinking towards the end of a batch (default), or equal ones. */
export function setGuidedSlices(on: boolean): void {
  guided = on;
}

let reluMaskFromZ = true;
/**
 * A/B switch (bench: BENCH_AB=maskfromz): the backward of BatchNorm + ReLU (no pool) takes the ReLU's
 * mask from z and the forward's affine map (reluSumsZ, reluDzZ: dy and z read twice, five passes), or
 * from the saved output into a masked copy of dy (maskSums, bwdDz: seven passes). Same results, bit for bit.
 */
export function setReluMaskFromZ(on: boolean): void {
  reluMaskFromZ = on;
}

let columnKernels = true;
/**
 * A/B switch and tests: the BatchNorm backward's sums channel by channel up to 16 channels
 * (batchNorm.ts columnsFn: maskSumsCols, reluSumsZCols), or row by row at every width. Same results, bit for bit.
 */
export function setColumnKernels(on: boolean): void {
  columnKernels = on;
}

/** The outputs of simdBatchNormRelu without the pool (by dataId): z·a + b > 0 is their ReLU's mask. */
const reluOutputs = new WeakSet<object>();

/**
 * Whether `y` (the forward's last output, before the engine saves a copy of it) came from
 * simdBatchNormRelu without the pool: only then may its backward take the ReLU's mask from z.
 */
export const isSimdReluOutput = (y: tf.TensorInfo): boolean => reluOutputs.has(y.dataId);

/**
 * `parts` image ranges of an n-image batch (parts ≤ n), each at least one image. Guided: sizes in
 * proportion to parts, parts − 1, …, 1, so the chunks claimed last are the smallest. Threads claim
 * chunks as they go and the caller waits for a helper's chunk in progress at the end of every kernel
 * call: with equal chunks that wait was up to a whole chunk. The helper runs its chunks 15–40 % slower
 * than the caller (a vCPU waking from sleep), so with six equal chunks of a 64-image batch the caller
 * often finished and then waited most of a helper chunk (ResNet-20 b64: 7–13 ms a step).
 */
export function guidedSlices(n: number, parts: number, shrinking = true): Slice[] {
  const weight = (i: number) => (shrinking ? parts - i : 1);
  let total = 0;
  for (let i = 0; i < parts; i++) total += weight(i);
  const starts = [0];
  let acc = 0;
  for (let i = 1; i < parts; i++) {
    acc += weight(i - 1);
    starts.push(Math.min(n - (parts - i), Math.max(starts[i - 1] + 1, Math.floor((acc * n) / total))));
  }
  starts.push(n);
  return starts.slice(0, parts).map((start, i) => [start, starts[i + 1] - start]);
}

/**
 * Runs kernel `name` once per slice (args of slice i, with thread 0's scratch), the slices shared
 * with the helpers when there are several. `perThread(t)`: argument overrides for helper thread t
 * (its own scratch); `reset(i)`: clears slice i's accumulator before it is rerun here.
 */
function runSliced(
  s: State,
  h: Helpers | null,
  name: string,
  slices: Slice[],
  args: (start: number, count: number, i: number) => number[],
  reset?: (i: number) => void,
  perThread?: (t: number) => Array<[number, number]>,
): void {
  const kernel = (fn: string) =>
    fn === 'filterGrad' ? s.mod.filterGrad : s.res && fn in s.res ? s.res[fn as keyof ResidualKernels] : s.bn![fn as keyof BatchNormKernels];
  runSlicedWith(h, name, kernel, slices, args, reset, perThread);
}

function runSlicedWith(
  h: Helpers | null,
  name: string,
  kernel: (name: string) => (...args: number[]) => void,
  slices: Slice[],
  args: (start: number, count: number, i: number) => number[],
  reset: (i: number) => void = () => {},
  perThread: (t: number) => Array<[number, number]> = () => [],
): void {
  const local = (fn: string, a: number[]) => kernel(fn)(...a);
  const chunks = slices.map(([start, count], i) => args(start, count, i));
  if (!h || chunks.length === 1) return chunks.forEach((a) => local(name, a)); // slice by slice: the same sums as a split run
  const overrides = Array.from({ length: 1 + h.count }, (_, t) => (t === 0 ? [] : perThread(t)));
  if (runJob(h, local, { name, chunks, overrides }, reset) > 0) simdKernelStats.parallelCalls++;
}

/** A kernel compiled outside this file (e.g. one module per conv shape), shared with the helpers under a unique `prefix`. */
export interface SharedKernel {
  module: WebAssembly.Module;
  prefix: string;
  name: string;
  local: (...args: number[]) => void;
}

const sharedModules = new WeakMap<Helpers, Set<WebAssembly.Module>>();

/**
 * For kernels in other files: the image slices of an n-image batch a split call uses (one without
 * helpers, or when the helpers cannot take more modules) and how many threads may run them (each
 * needs its own scratch).
 */
export function imageSlices(n: number, floatsPerImage: number): { slices: Slice[]; threads: number } {
  const s = state();
  const h = s ? helpersFor(s) : null;
  const usable = h?.addModules ? h : null;
  const slices = slicesOf(usable, n, floatsPerImage);
  return { slices, threads: slices.length > 1 ? 1 + usable!.count : 1 };
}

/**
 * runSliced for a SharedKernel: the slices (from imageSlices) shared with the helpers, which get the
 * module the first time. Results do not depend on which thread ran which slice.
 */
export function runImageSlices(
  k: SharedKernel,
  slices: Slice[],
  args: (start: number, count: number, i: number) => number[],
  reset?: (i: number) => void,
  perThread?: (t: number) => Array<[number, number]>,
): void {
  const s = state();
  const h = s && slices.length > 1 ? helpersFor(s) : null;
  if (h?.addModules) {
    const known = sharedModules.get(h) ?? new Set();
    sharedModules.set(h, known);
    if (!known.has(k.module)) {
      h.addModules(k.prefix, [k.module]);
      known.add(k.module);
    }
  }
  runSlicedWith(h, k.prefix + k.name, () => k.local, slices, args, reset, perThread);
}

/** Emscripten's heap on tfjs-wasm's module: scratch and accumulators for the kernels of this folder. */
export interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

/**
 * A kernel module per shape and memory, built on first use; null (and the caller falls back) when it
 * cannot be built here, also when building threw.
 */
export function moduleCache<S, M>(key: (s: S) => string, build: (s: S, memory: WebAssembly.Memory, shared: boolean) => M | null) {
  const byMemory = new WeakMap<WebAssembly.Memory, Map<string, M | null>>();
  return (s: S, memory: WebAssembly.Memory, shared: boolean): M | null => {
    let byShape = byMemory.get(memory);
    if (!byShape) byMemory.set(memory, (byShape = new Map()));
    const k = key(s);
    if (!byShape.has(k)) {
      try {
        byShape.set(k, build(s, memory, shared));
      } catch {
        byShape.set(k, null);
      }
    }
    return byShape.get(k)!;
  };
}

/**
 * An accumulating kernel over image slices: slice 0 accumulates into `out` itself, the others into
 * accumulators of their own (the kernel overwrites its accumulator), added into `out` in slice order.
 */
export function runAccumulated(heap: EmscriptenHeap, memory: WebAssembly.Memory, slices: Slice[], out: number, floats: number, run: (acc: (i: number) => number) => void): void {
  const accBytes = (floats * 4 + 15) & ~15;
  const extra = slices.length > 1 ? heap._malloc(accBytes * (slices.length - 1)) : 0;
  try {
    const acc = (i: number) => (i === 0 ? out : extra + (i - 1) * accBytes);
    run(acc);
    if (slices.length > 1) addSlicesInto(memory, slices.map((_, i) => acc(i)), floats);
  } finally {
    if (extra) heap._free(extra);
  }
}

/** The attributes of a conv kernel with three modes (convOpOfModes). */
export interface ConvModeAttrs {
  mode: 'forward' | 'inputGrad' | 'filterGrad';
  /** The input's height and width (the input gradient's output size). */
  h: number;
  w: number;
}

/**
 * A three-mode conv kernel's call: the batch and the conv's channels from its inputs a, b — (x, filter),
 * (dy, filter) or (x, dy) — with the attrs.
 */
export function convModeCall(inputs: Parameters<tf.KernelFunc>[0]['inputs'], attrs: Parameters<tf.KernelFunc>[0]['attrs']) {
  const { mode, h, w } = attrs as unknown as ConvModeAttrs;
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  const cin = mode === 'inputGrad' ? b.shape[2] : a.shape[3];
  const cout = mode === 'inputGrad' ? a.shape[3] : b.shape[3];
  return { mode, a, b, n: a.shape[0], shape: { h, w, cin, cout } };
}

/**
 * conv(x, filter) for a k×k float32 filter as a taped op whose value and gradients are one registered
 * kernel in three modes (attrs mode, and h, w: x's height and width): forward (x, filter), inputGrad
 * (dy, filter), filterGrad (x, dy) — the stride-2 convs' glue (conv1x1Stride2.ts, conv3x3Stride2.ts).
 * Null when the SIMD kernels are unavailable or `usable` refuses the shape (or its module did not build).
 */
export function convOpOfModes(
  kernelName: string,
  k: number,
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  usable: (s: { h: number; w: number; cin: number; cout: number }, memory: WebAssembly.Memory, shared: boolean) => boolean,
): tf.Tensor4D | null {
  const ctx = simdContext();
  if (!ctx || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const [, h, w, cin] = x.shape;
  const [kh, kw, fi, cout] = filter.shape;
  if (kh !== k || kw !== k || fi !== cin || !usable({ h, w, cin, cout }, ctx.memory, ctx.shared)) return null;
  const run = (mode: ConvModeAttrs['mode'], a: tf.Tensor4D, b: tf.Tensor4D) =>
    tf.engine().runKernel(kernelName, { a, b }, { mode, h, w } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, wIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: run('forward', xIn, wIn),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        return [run('inputGrad', d, ws), run('filterGrad', xs, d)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

/** Zeroes `floats` floats at `ptr` (a slice's accumulator). */
const zero = (memory: WebAssembly.Memory, ptr: number, floats: number) => new Float32Array(memory.buffer, ptr, floats).fill(0);

const adders = new WeakMap<WebAssembly.Memory, AddInto | null>();

/**
 * Adds the per-slice accumulators at ptrs[1..] into the one at ptrs[0] (`floats` floats each), in
 * order — ((a0 + a1) + a2)…, the order sumSlices adds in — with the SIMD kernel where it runs.
 */
export function addSlicesInto(memory: WebAssembly.Memory, ptrs: number[], floats: number): void {
  if (!adders.has(memory)) {
    let add: AddInto | null;
    try {
      add = instantiateAddInto(memory, memory.buffer instanceof SharedArrayBuffer);
    } catch {
      add = null; // a memory import the engine refuses: the loop below
    }
    adders.set(memory, add);
  }
  const add = adders.get(memory) ?? null;
  const vectorFloats = add ? floats & ~3 : 0;
  for (const p of ptrs.slice(1)) {
    if (add && vectorFloats) add(ptrs[0], p, vectorFloats * 4);
    const dst = new Float32Array(memory.buffer, ptrs[0], floats);
    const src = new Float32Array(memory.buffer, p, floats);
    for (let j = vectorFloats; j < floats; j++) dst[j] += src[j];
  }
}

/** The sum of per-slice accumulators of `floats` floats at `ptrs`. */
export function sumSlices(memory: WebAssembly.Memory, ptrs: number[], floats: number): Float32Array {
  const total = new Float32Array(floats);
  for (const p of ptrs) {
    const part = new Float32Array(memory.buffer, p, floats);
    for (let j = 0; j < floats; j++) total[j] += part[j];
  }
  return total;
}

/**
 * The active wasm backend and its memory, for kernels living in other files of this folder (null when
 * the SIMD kernels are off or the backend is not wasm). `shared`: the memory is a SharedArrayBuffer
 * (threaded tfjs build, cross-origin isolated page), so other threads can run kernels on it too.
 */
export function simdContext(): { backend: BackendWasm; memory: WebAssembly.Memory; shared: boolean } | null {
  const s = state();
  if (!s) return null;
  return { backend: s.backend, memory: s.memory, shared: typeof SharedArrayBuffer !== 'undefined' && s.memory.buffer instanceof SharedArrayBuffer };
}

/** Which variant runs (null: the kernel is unavailable on the active backend). */
export function simdKernelInfo(): { relaxed: boolean; threads: number } | null {
  const s = state();
  return s ? { relaxed: s.mod.relaxed, threads: 1 + (helpersFor(s)?.count ?? 0) } : null;
}

export const SIMD_FILTER_GRAD = 'PlaygroundSimdConvFilterGrad';

interface FilterGradAttrs {
  filterShape: [number, number, number, number];
  withBias: boolean;
  masked: boolean;
}

/** The kernel runs as a registered wasm kernel, so tf.profile shows it by name (installKernels registers it). */
const filterGradKernel: tf.KernelConfig = {
  kernelName: SIMD_FILTER_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: b }) => {
    const backend = b as BackendWasm;
    const s = state()!;
    const { filterShape, withBias, masked } = attrs as unknown as FilterGradAttrs;
    const x = inputs.x as tf.TensorInfo;
    const g = inputs.g as tf.TensorInfo;
    const y = inputs.y as tf.TensorInfo;
    const [kh, kw, cin, cout] = filterShape;
    const [n, h, w] = g.shape;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const k = kh * kw * cin;
    const kb = k + (withBias ? 1 : 0);
    const c4 = (cout + 3) & ~3;
    const dwOut = backend.makeOutput(filterShape, 'float32');
    const dbOut = backend.makeOutput([withBias ? cout : 0], 'float32');
    const helpers = helpersFor(s);
    const slices = slicesOf(helpers, n, h * w * cout);
    // An accumulator per slice (summed in a fixed order: results do not depend on which thread ran
    // what), then per thread a dz tile, a patch tile and a safe load address.
    const accFloats = kb * c4;
    const tiles = TILE * c4 + TILE * kb + 4;
    const threads = slices.length > 1 ? 1 + helpers!.count : 1;
    const sc = scratch(backend, accFloats * slices.length + tiles * threads);
    try {
      const acc = (i: number) => sc.ptr + i * accFloats * 4;
      const tileArgs = (t: number) => {
        const dTile = acc(slices.length) + t * tiles * 4;
        const pTile = dTile + TILE * c4 * 4;
        return [dTile, pTile, pTile + TILE * kb * 4];
      };
      zero(s.memory, sc.ptr, accFloats * slices.length);
      const img = h * w * 4;
      const pad = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
      runSliced(
        s,
        helpers,
        'filterGrad',
        slices,
        (start, count, i) => {
          const gy = start * img * cout;
          return [ptr(x) + start * img * cin, ptr(g) + gy, ptr(y) + gy, masked ? 1 : 0, count, h, w, cin, cout, kh, kw, ...pad, withBias ? 1 : 0, acc(i), ...tileArgs(0)];
        },
        (i) => zero(s.memory, acc(i), accFloats),
        (t) => tileArgs(t).map((v, k) => [15 + k, v]),
      );
      simdKernelStats.filterGrad++;
      addSlicesInto(s.memory, slices.map((_, i) => acc(i)), accFloats);
      const heap = s.memory.buffer;
      const all = new Float32Array(heap, acc(0), accFloats);
      const dw = new Float32Array(heap, ptr(dwOut), k * cout);
      for (let r = 0; r < k; r++) dw.set(all.subarray(r * c4, r * c4 + cout), r * cout);
      if (withBias) new Float32Array(heap, ptr(dbOut), cout).set(all.subarray(k * c4, k * c4 + cout));
    } finally {
      sc.free();
    }
    return [dwOut, dbOut];
  },
};

/**
 * Filter gradient (and bias gradient) of a stride-1 'same' NHWC conv on the wasm backend, with the
 * ReLU mask y > 0 applied to g when `y` is given. Returns null when the kernel is unavailable.
 */
export function wasmConvFilterGrad(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  y: tf.Tensor4D | null,
  filterShape: [number, number, number, number],
  withBias: boolean,
): [tf.Tensor4D, tf.Tensor1D | null] | null {
  if (!state() || x.dtype !== 'float32' || g.dtype !== 'float32') return null;
  const [, , cin, cout] = filterShape;
  const [, h, w] = g.shape;
  if (x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== cin || g.shape[3] !== cout || cout === 0 || cin === 0) return null;
  const attrs: FilterGradAttrs = { filterShape, withBias, masked: y != null };
  const [dw, db] = tf.engine().runKernel(SIMD_FILTER_GRAD, { x, g, y: y ?? g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  if (!withBias) {
    db.dispose();
    return [dw as tf.Tensor4D, null];
  }
  return [dw as tf.Tensor4D, db as tf.Tensor1D];
}

/** A malloc'ed float scratch area on the backend's heap; views must be taken after every allocation. */
function scratch(backend: BackendWasm, floats: number): { ptr: number; free: () => void } {
  const em = backend.wasm as unknown as EmscriptenWasm;
  const ptr = em._malloc(Math.max(4, floats * 4));
  return { ptr, free: () => em._free(ptr) };
}

const ptrOf = (backend: BackendWasm, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

/**
 * The batch's per-channel mean, biased variance and rstd = 1/√(σ² + eps) of NHWC z (one SIMD pass),
 * and the normalisation as an affine map: a = γ·rstd, b = β − μ·a, written to `aP` and `bP`.
 */
function batchMoments(
  s: State,
  helpers: Helpers | null,
  slices: Slice[],
  z: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  aP: number,
  bP: number,
): tf.Tensor1D[] {
  const { backend, memory } = s;
  const [n, h, w, c] = z.shape;
  const m = n * h * w;
  const row = (start: number) => start * h * w * c * 4;
  // The conv that made z took its channel sums already (float64, conv3x3.ts): no pass over z here.
  const sums = channelSumsOf(z.dataId);
  if (sums && sums.count === m && sums.sum.length === c) {
    batchMomentsStats.fromConv++;
    const mean = Float32Array.from(sums.sum, (v) => v / m);
    const variance = Float32Array.from(sums.sum, (v, i) => Math.max(0, sums.sumSq[i] / m - (v / m) * (v / m)));
    return affineOf(memory, mean, variance, gamma, beta, eps, aP, bP);
  }
  // shift, then two sums accumulators per slice
  const sc = scratch(backend, (1 + 2 * slices.length) * c);
  try {
    const shiftP = sc.ptr;
    const s1 = slices.map((_, i) => shiftP + (1 + 2 * i) * c * 4);
    const s2 = slices.map((_, i) => shiftP + (2 + 2 * i) * c * 4);
    const zP = ptrOf(backend, z);
    const resetSums = (i: number) => [s1[i], s2[i]].forEach((p) => zero(memory, p, c));
    zero(memory, s1[0], 2 * c * slices.length);
    // Mean and variance in one pass, of z − shift with the shift the first pixel's values (same for
    // every slice): E[(z − K)²] − E[z − K]² then cancels no more than the two-pass formula would.
    new Float32Array(memory.buffer, shiftP, c).set(new Float32Array(memory.buffer, zP, c));
    const origin = Array.from(new Float32Array(memory.buffer, shiftP, c));
    runSliced(s, helpers, 'moments', slices, (start, count, i) => [zP + row(start), count * h * w, c, shiftP, s1[i], s2[i]], resetSums);
    const d1 = sumSlices(memory, s1, c).map((v) => v / m);
    const d2 = sumSlices(memory, s2, c).map((v) => v / m);
    const mean = d1.map((d, i) => origin[i] + d);
    const variance = d2.map((v, i) => Math.max(0, v - d1[i] * d1[i]));
    return affineOf(memory, mean, variance, gamma, beta, eps, aP, bP);
  } finally {
    sc.free();
  }
}

/** How often a BatchNorm took its statistics from the conv before it (tests count them). */
export const batchMomentsStats = { fromConv: 0 };

/** rstd, the affine map a = γ·rstd, b = β − μ·a (written at aP, bP) and the statistics as tensors [mean, variance, rstd]. */
function affineOf(memory: WebAssembly.Memory, mean: Float32Array, variance: Float32Array, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, aP: number, bP: number): tf.Tensor1D[] {
  const c = mean.length;
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const g = gamma.dataSync() as Float32Array;
  const b = beta.dataSync() as Float32Array;
  const a = rstd.map((r, i) => g[i] * r);
  const shift = a.map((ai, i) => b[i] - mean[i] * ai);
  new Float32Array(memory.buffer, aP, c).set(a);
  new Float32Array(memory.buffer, bP, c).set(shift);
  return [tf.tensor1d(mean), tf.tensor1d(variance), tf.tensor1d(rstd)];
}

/**
 * out = [relu](z·a + b [+ residual]) per channel (a, b at aP, bP), into a new output tensor:
 * `affine` (no residual, no ReLU), `affineRelu`, or `affineAddRelu`.
 */
function runAffine(s: State, helpers: Helpers | null, slices: Slice[], z: tf.TensorInfo, aP: number, bP: number, residual: tf.TensorInfo | null, relu: boolean): tf.Tensor4D {
  const { backend } = s;
  const [, h, w, c] = z.shape;
  const row = (start: number) => start * h * w * c * 4;
  const outInfo = backend.makeOutput(z.shape, 'float32');
  const [zP, outP] = [z, outInfo].map((t) => ptrOf(backend, t));
  simdKernelStats.affine++;
  if (residual) {
    const rP = ptrOf(backend, residual);
    runSliced(s, helpers, 'affineAddRelu', slices, (start, count) => [zP + row(start), count * h * w, c, aP, bP, rP + row(start), outP + row(start)]);
  } else runSliced(s, helpers, relu ? 'affineRelu' : 'affine', slices, (start, count) => [zP + row(start), count * h * w, c, aP, bP, outP + row(start)]);
  return tf.engine().makeTensorFromTensorInfo(outInfo) as tf.Tensor4D;
}

/** Whether the SIMD BatchNorm kernels can run `z` (with a residual of its shape, when given). */
function bnUsable(s: State | null, z: tf.Tensor4D, residual: tf.Tensor4D | null): s is State {
  if (!s?.bn || !s.res || !enabledKernels.batchNorm || z.dtype !== 'float32') return false;
  return !residual || (residual.dtype === 'float32' && residual.shape.every((d, i) => d === z.shape[i]));
}

/**
 * BatchNorm with the batch's statistics, then [+ residual, then ReLU] or [ReLU] or nothing, on the
 * wasm backend (NHWC): [out, mean, biased variance, rstd]. A residual needs the ReLU (ResNet's
 * BatchNorm → add → ReLU). Null when the kernels are unavailable.
 */
export function simdBatchNorm(z: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, residual: tf.Tensor4D | null, relu: boolean): tf.Tensor[] | null {
  const s = state();
  if (!bnUsable(s, z, residual) || (residual && !relu)) return null;
  const c = z.shape[3];
  const helpers = helpersFor(s);
  const slices = slicesOf(helpers, z.shape[0], z.shape[1] * z.shape[2] * c);
  const sc = scratch(s.backend, 2 * c);
  try {
    const stats = batchMoments(s, helpers, slices, z, gamma, beta, eps, sc.ptr, sc.ptr + c * 4);
    simdKernelStats.batchNorm++;
    return [runAffine(s, helpers, slices, z, sc.ptr, sc.ptr + c * 4, residual, relu), ...stats];
  } finally {
    sc.free();
  }
}

/**
 * Evaluation: out = [relu](z·a + b [+ residual]) with per-channel a, b given (BatchNorm with its
 * running statistics as an affine map). Null when the kernels are unavailable.
 */
export function simdAffine(z: tf.Tensor4D, a: Float32Array, b: Float32Array, residual: tf.Tensor4D | null, relu: boolean): tf.Tensor4D | null {
  const s = state();
  if (!bnUsable(s, z, residual) || (residual && !relu)) return null;
  const c = z.shape[3];
  if (a.length !== c || b.length !== c) return null;
  const helpers = helpersFor(s);
  const slices = slicesOf(helpers, z.shape[0], z.shape[1] * z.shape[2] * c);
  const sc = scratch(s.backend, 2 * c);
  try {
    new Float32Array(s.memory.buffer, sc.ptr, c).set(a);
    new Float32Array(s.memory.buffer, sc.ptr + c * 4, c).set(b);
    return runAffine(s, helpers, slices, z, sc.ptr, sc.ptr + c * 4, residual, relu);
  } finally {
    sc.free();
  }
}

/**
 * BatchNorm with the batch's statistics + ReLU (+ 2×2 max-pool) forward on the wasm backend, NHWC.
 * Returns [out (pooled if pool), mean, biased variance, rstd, y] — y the activations without a
 * pool, else the pool record the backward pass reads instead — or null when the kernels are
 * unavailable or the shape is not handled (odd size with pool).
 */
export function simdBatchNormRelu(z: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, pool: boolean): tf.Tensor[] | null {
  const s = state();
  if (!s?.bn || !enabledKernels.batchNorm || z.dtype !== 'float32') return null;
  const [n, h, w, c] = z.shape;
  if (pool && (h % 2 || w % 2)) return null;
  const { backend } = s;
  const helpers = helpersFor(s);
  const slices = slicesOf(helpers, n, h * w * c);
  const row = (start: number) => start * h * w * c * 4;
  // a, b
  const sc = scratch(backend, 2 * c);
  try {
    const aP = sc.ptr;
    const bP = aP + c * 4;
    const zP = ptrOf(backend, z);
    const stats = batchMoments(s, helpers, slices, z, gamma, beta, eps, aP, bP);
    simdKernelStats.batchNorm++;
    if (pool) {
      // The pooled output, and for the backward pass the pool record: [2n, h/2, w/2, c] = each window's
      // selected z, then its code (batchNorm.ts poolFwd) — not the full-size activations.
      const outInfo = backend.makeOutput([n, h / 2, w / 2, c], 'float32');
      const recInfo = backend.makeOutput([2 * n, h / 2, w / 2, c], 'float32');
      const [outP, recP] = [outInfo, recInfo].map((t) => ptrOf(backend, t));
      const codeP = recP + n * h * w * c; // bytes: n·(h/2)·(w/2)·c floats further
      runSliced(s, helpers, 'poolFwd', slices, (start, count) => [zP + row(start), count, h, w, c, aP, bP, outP + row(start) / 4, recP + row(start) / 4, codeP + row(start) / 4]);
      const [out, rec] = [outInfo, recInfo].map((t) => tf.engine().makeTensorFromTensorInfo(t));
      return [out, ...stats, rec];
    }
    const yInfo = backend.makeOutput(z.shape, 'float32');
    const yP = ptrOf(backend, yInfo);
    runSliced(s, helpers, 'affineRelu', slices, (start, count) => [zP + row(start), count * h * w, c, aP, bP, yP + row(start)]);
    reluOutputs.add(yInfo.dataId);
    const y = tf.engine().makeTensorFromTensorInfo(yInfo) as tf.Tensor4D;
    return [tf.clone(y), ...stats, y];
  } finally {
    sc.free();
  }
}

export const SIMD_BN_GRAD = 'PlaygroundSimdBatchNormReluGrad';

/** The BatchNorm backward's registered wasm kernel (installKernels registers it). */
const bnGradKernel: tf.KernelConfig = {
  kernelName: SIMD_BN_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: bk }) => {
    const backend = bk as BackendWasm;
    const st = state()!;
    const { pool: pooled, mode = 'relu' } = attrs as unknown as { pool: boolean; mode?: BnGradMode };
    const [dO, zI, gI, mI, rI, yI] = ['dOut', 'z', 'gamma', 'mean', 'rstd', 'y'].map((k) => inputs[k] as tf.TensorInfo);
    const bI = inputs.beta as tf.TensorInfo | undefined;
    const [n, h, w, c] = zI.shape;
    const m = n * h * w;
    const dz = backend.makeOutput(zI.shape, 'float32');
    const dGamma = backend.makeOutput([c], 'float32');
    const dBeta = backend.makeOutput([c], 'float32');
    const helpers = helpersFor(st);
    const slices = slicesOf(helpers, n, h * w * c);
    // The ReLU's mask from z (see setReluMaskFromZ) where y came from simdBatchNormRelu without the pool.
    const fromZ = reluMaskFromZ && mode === 'relu' && !pooled && bI != null && st.res != null;
    // a, k1, k2, then Σdu and Σdu·x̂ accumulators for every slice but the first (which uses dβ, dγ), then b
    const sc = scratch(backend, (4 + 2 * (slices.length - 1)) * c);
    // Without the pool: du = dy·(y > 0), a full-size temporary — an output too after an add (the
    // residual's gradient); without a ReLU, du is dy itself; with the mask from z, never stored.
    const du = pooled || mode === 'plain' || fromZ ? null : backend.makeOutput(zI.shape, 'float32');
    try {
      const heap = () => st.memory.buffer;
      const [zP, yP, dOP, dzP, meanP, rstdP] = [zI, yI, dO, dz, mI, rI].map((t) => ptrOf(backend, t));
      const duP = du ? ptrOf(backend, du) : dOP;
      const codeP = yP + n * h * w * c; // pooled: the pool record's codes (see simdBatchNormRelu)
      const row = (start: number) => start * h * w * c * 4;
      const aP = sc.ptr;
      const k1P = aP + c * 4;
      const k2P = k1P + c * 4;
      const bP = aP + (3 + 2 * (slices.length - 1)) * c * 4;
      const s1 = slices.map((_, i) => (i === 0 ? ptrOf(backend, dBeta) : k2P + (2 * i - 1) * c * 4));
      const s2 = slices.map((_, i) => (i === 0 ? ptrOf(backend, dGamma) : k2P + 2 * i * c * 4));
      const resetSums = (i: number) => [s1[i], s2[i]].forEach((p) => zero(st.memory, p, c));
      slices.forEach((_, i) => resetSums(i));
      if (fromZ) {
        // The forward's a = γ·rstd and b = β − μ·a, rounded to float32 as affineOf rounded them.
        const g = new Float32Array(heap(), ptrOf(backend, gI), c);
        const r = new Float32Array(heap(), rstdP, c);
        const mu = new Float32Array(heap(), meanP, c);
        const beta = new Float32Array(heap(), ptrOf(backend, bI!), c);
        const a = new Float32Array(heap(), aP, c);
        const b = new Float32Array(heap(), bP, c);
        for (let i = 0; i < c; i++) {
          a[i] = g[i] * r[i];
          b[i] = beta[i] - mu[i] * a[i];
        }
        // Channel by channel up to 16 channels (batchNorm.ts columnsFn: 0.99 → 0.64 ms a call at 64×32×32×16 in the page), else row by row.
        runSliced(st, helpers, columnKernels && c <= 16 ? 'reluSumsZCols' : 'reluSumsZ', slices, (start, count, i) => [dOP + row(start), zP + row(start), count * h * w, c, aP, bP, meanP, rstdP, s1[i], s2[i]], resetSums);
        simdKernelStats.reluMaskFromZ++;
      } else if (pooled) {
        runSliced(st, helpers, 'poolSums', slices, (start, count, i) => [dOP + row(start) / 4, yP + row(start) / 4, codeP + row(start) / 4, (count * h * w) / 4, c, meanP, rstdP, s1[i], s2[i]], resetSums);
      } else {
        // du = dy·(y > 0) and its sums in one pass (one job less per BatchNorm than a mask pass, then the sums)
        if (du) runSliced(st, helpers, columnKernels && c <= 16 ? 'maskSumsCols' : 'maskSums', slices, (start, count, i) => [dOP + row(start), yP + row(start), zP + row(start), count * h * w, c, meanP, rstdP, s1[i], s2[i], duP + row(start)], resetSums);
        else runSliced(st, helpers, 'bwdSums', slices, (start, count, i) => [duP + row(start), zP + row(start), count * h * w, c, meanP, rstdP, s1[i], s2[i]], resetSums);
      }
      const sumDu = sumSlices(st.memory, s1, c);
      const sumDuX = sumSlices(st.memory, s2, c);
      new Float32Array(heap(), s1[0], c).set(sumDu);
      new Float32Array(heap(), s2[0], c).set(sumDuX);
      const g = new Float32Array(heap(), ptrOf(backend, gI), c);
      const r = new Float32Array(heap(), rstdP, c);
      const a = new Float32Array(heap(), aP, c);
      const k1 = new Float32Array(heap(), k1P, c);
      const k2 = new Float32Array(heap(), k2P, c);
      for (let i = 0; i < c; i++) {
        a[i] = g[i] * r[i];
        k1[i] = (a[i] * sumDu[i]) / m;
        k2[i] = (a[i] * sumDuX[i]) / m;
      }
      if (fromZ) runSliced(st, helpers, 'reluDzZ', slices, (start, count) => [dOP + row(start), zP + row(start), count * h * w, c, aP, bP, meanP, rstdP, k1P, k2P, dzP + row(start)]);
      else if (pooled) runSliced(st, helpers, 'poolDz', slices, (start, count) => [dOP + row(start) / 4, zP + row(start), codeP + row(start) / 4, count, h, w, c, meanP, rstdP, aP, k1P, k2P, dzP + row(start)]);
      else runSliced(st, helpers, 'bwdDz', slices, (start, count) => [duP + row(start), zP + row(start), count * h * w, c, meanP, rstdP, aP, k1P, k2P, dzP + row(start)]);
      simdKernelStats.batchNormGrad++;
    } finally {
      sc.free();
      if (du && mode !== 'addRelu') backend.disposeData(du.dataId);
    }
    return mode === 'addRelu' ? [dz, dGamma, dBeta, du!] : [dz, dGamma, dBeta];
  },
};

/**
 * Backward of simdBatchNormRelu: [dz, dγ, dβ] from the gradient of its output (pooled or not); `y` is
 * its last output (the pool record when pooled). Runs as a registered wasm kernel (visible in
 * tf.profile). Null when unavailable.
 */
export function simdBatchNormReluGrad(
  dOut: tf.Tensor4D,
  z: tf.Tensor4D,
  gamma: tf.Tensor1D,
  mean: tf.Tensor1D,
  rstd: tf.Tensor1D,
  y: tf.Tensor4D,
  pool: boolean,
  /** β, when y came from simdBatchNormRelu without the pool (isSimdReluOutput): the ReLU's mask then comes from z. */
  beta?: tf.Tensor1D,
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] | null {
  const s = state();
  if (!s?.bn || !enabledKernels.batchNorm || (pool && (z.shape[1] % 2 || z.shape[2] % 2))) return null;
  // Pooled, `y` must be this file's pool record; a full-size y (the forward ran on the tfjs ops) is the caller's.
  if (pool && y.size === z.size) return null;
  const inputs: tf.NamedTensorMap = beta ? { dOut, z, gamma, mean, rstd, y, beta } : { dOut, z, gamma, mean, rstd, y };
  const [dz, dGamma, dBeta] = tf.engine().runKernel(SIMD_BN_GRAD, inputs, { pool } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return [dz as tf.Tensor4D, dGamma as tf.Tensor1D, dBeta as tf.Tensor1D];
}

/** What follows the BatchNorm whose gradient is taken: a ReLU (default), nothing, or an add then a ReLU. */
export type BnGradMode = 'relu' | 'plain' | 'addRelu';

/**
 * Backward of simdBatchNorm (no pool): [dz, dγ, dβ], and for 'addRelu' the residual's gradient
 * du = dOut·(out > 0) as a fourth. `out`: the forward's output (read for the ReLU's mask only).
 */
export function simdBatchNormGrad(dOut: tf.Tensor4D, z: tf.Tensor4D, gamma: tf.Tensor1D, mean: tf.Tensor1D, rstd: tf.Tensor1D, out: tf.Tensor4D, mode: BnGradMode): tf.Tensor[] | null {
  const s = state();
  if (!s?.bn || !enabledKernels.batchNorm || dOut.dtype !== 'float32') return null;
  return tf.engine().runKernel(SIMD_BN_GRAD, { dOut, z, gamma, mean, rstd, y: out }, { pool: false, mode } as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

export const SIMD_OUTER_GRAD = 'PlaygroundSimdDenseWeightGrad';
const outerByK = new Map<number, ((...args: number[]) => void) | null>();

/** The dense weight gradient's registered wasm kernel (installKernels registers it). */
const outerGradKernel: tf.KernelConfig = {
  kernelName: SIMD_OUTER_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: bk }) => {
    const backend = bk as BackendWasm;
    const aI = inputs.a as tf.TensorInfo;
    const gI = inputs.g as tf.TensorInfo;
    const [nn, ff] = aI.shape;
    const kk = gI.shape[1];
    const out = backend.makeOutput([ff, kk], 'float32');
    const sc = scratch(backend, nn * kk * 4);
    try {
      outerByK.get(kk)!(ptrOf(backend, aI), ptrOf(backend, gI), nn, ff, ptrOf(backend, out), sc.ptr);
      simdKernelStats.outerGrad++;
    } finally {
      sc.free();
    }
    return out;
  },
};

/**
 * aᵀ·g for a [N, F] and g [N, K] on the wasm backend (F a multiple of 4, K ≤ 16): a dense layer's
 * weight gradient without transposing `a`. Null when unavailable.
 */
export function wasmDenseWeightGrad(a: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D | null {
  const s = state();
  if (!s || !enabledKernels.outerGrad || a.dtype !== 'float32' || g.dtype !== 'float32') return null;
  const [n, fDim] = a.shape;
  const k = g.shape[1];
  if (g.shape[0] !== n || fDim % 4 !== 0 || k < 1 || k > MAX_K) return null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && s.memory.buffer instanceof SharedArrayBuffer;
  if (!outerByK.has(k)) {
    try {
      outerByK.set(k, instantiateOuterGrad(k, s.memory, shared));
    } catch {
      outerByK.set(k, null);
    }
  }
  if (!outerByK.get(k)) return null;
  return tf.engine().runKernel(SIMD_OUTER_GRAD, { a, g }, {}) as tf.Tensor2D;
}

/** The wasm kernels of this file, for installKernels (../kernels.ts). */
export const simdKernelConfigs = (): tf.KernelConfig[] => [filterGradKernel, bnGradKernel, outerGradKernel];
