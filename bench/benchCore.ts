/**
 * Measurements that run inside the browser (bench page or bench worker). Each returns plain
 * JSON. Timings: warm-up, then the median of several runs; every tensor is disposed and the
 * tensor count before/after is reported. Models are the playground's own: `Net` with a spec
 * from src/core/model/zoo, trained with trainer.trainStep exactly as the app's worker does.
 */
import * as tf from '@tensorflow/tfjs';
import { type ChannelStats, type Cifar10Set, channelStats, parseCifar10, takeFirst } from '../src/core/data/cifar10';
import { Net } from '../src/core/model/net';
import type { ModelId } from '../src/core/model/spec';
import { specFor } from '../src/core/model/zoo';
import { type DeviceSet, createOptimizer, disposeDeviceSet, disposeOptimizer, toDevice, trainStep } from '../src/core/train/trainer';
import { deriveSeed, mulberry32, shuffledIndices } from '../src/core/random';
import { exclusiveTimes } from './kernelProfile';
import {
  type BackendName,
  type BackendSelection,
  type FilterGradVariant,
  conv2dFilterGradStride1,
  registerFastConv2dGradient,
  registerFastMatMulGradient,
  selectBackend,
  unregisterFastConv2dGradient,
  unregisterFastMatMulGradient,
} from '../src/core/backend';
import { jobStats, setSimdKernelsEnabled, simdKernelInfo } from '../src/core/backend/wasmSimd';
import { type KernelsChoice, type KernelsReport, installKernels, kernelsInstalled, kernelsPrecheck } from '../src/core/backend/kernels';

export { simdKernelInfo };

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Loaded {
  train: Cifar10Set;
  test: Cifar10Set;
  stats: ChannelStats;
}

let loaded: Loaded | null = null;

export async function loadData(base: string): Promise<Loaded> {
  if (loaded) return loaded;
  const get = async (f: string) => new Uint8Array(await (await fetch(new URL(`data/cifar10/${f}`, base))).arrayBuffer());
  const [tr, te] = await Promise.all([get('train_5000.bin'), get('test_1000.bin')]);
  const train = parseCifar10(tr, 'train_5000.bin');
  const test = parseCifar10(te, 'test_1000.bin');
  loaded = { train, test, stats: channelStats(train) };
  return loaded;
}

let selection: (BackendSelection & { kernels: KernelsReport }) | null = null;

/** Starts the backend and installs the custom kernels as the app's engine does (`kernels: 'stock'`: tfjs's own). */
export async function initBackend(requested: BackendName | null, threads?: number, kernels: KernelsChoice = 'custom'): Promise<BackendSelection & { kernels: KernelsReport }> {
  const sel = await selectBackend(requested, { ...(threads ? { wasmThreads: threads } : {}), tfjsPatches: kernelsPrecheck({ kernels }) === null });
  const report = await installKernels({ kernels });
  selection = { ...sel, kernels: report };
  return selection;
}

/** Gradient switches for A/B measurements; the defaults are what the app uses. */
export interface GradOptions {
  /** Conv2D gradient: the fast one (with a filter-gradient variant) or tfjs's stock one. */
  grad?: FilterGradVariant | 'stock';
  /** BatchMatMul gradient: the wasm fast path (default) or tfjs's stock one. */
  mmGrad?: 'fast' | 'stock';
  /** false: the wasm SIMD kernels stay unused (tfjs-op path), to measure what they bring; or the kernels to leave out. */
  simd?: boolean | Array<'filterGrad' | 'batchNorm' | 'outerGrad'>;
}

function applyGradOptions(o: GradOptions): void {
  if (!kernelsInstalled()) return; // kernels=stock (or not installable): everything stays tfjs's own
  if (o.grad === 'stock') unregisterFastConv2dGradient();
  else registerFastConv2dGradient(o.grad);
  if (o.mmGrad === 'stock') unregisterFastMatMulGradient();
  else registerFastMatMulGradient();
  setSimdKernelsEnabled(o.simd !== false);
  if (Array.isArray(o.simd)) setSimdKernelsEnabled(false, o.simd);
}

function restoreGradDefaults(): void {
  if (!kernelsInstalled()) return;
  registerFastConv2dGradient();
  registerFastMatMulGradient();
  setSimdKernelsEnabled(true);
}

export interface TrainBenchOptions extends GradOptions {
  model?: ModelId;
  batch: number;
  warmup: number;
  steps: number;
  optimizer?: 'adam' | 'sgd';
  /** Images on device (the step gathers a shuffled batch from them, like trainer.train). */
  subset?: number;
  /** Called after each step (the worker uses it to report progress). */
  onStep?: (i: number, ms: number) => void;
}

export interface TrainBenchResult {
  backend: string;
  model: ModelId;
  optimizer: 'adam' | 'sgd';
  batch: number;
  steps: number;
  medianStepMs: number;
  imagesPerSecond: number;
  stepMs: number[];
  finalLoss: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /**
   * Where the timed steps' time went outside the kernels' own work (medians per step): `syncMs` the
   * synchronous part (tape, dispatch, kernels — on wasm and cpu every kernel runs inside it),
   * `readMs` the await of loss and accuracy; `helperWaitMs` the time our kernels' calling thread
   * waited for a helper thread (mean), and `helperShare` the share of our kernels' chunks the
   * helper ran (0 when no kernel was split); callerUsPerChunk / helperUsPerChunk: wall µs per chunk
   * on each side (null when that side ran none).
   */
  split: { syncMs: number; readMs: number; helperWaitMs: number; helperShare: number; jobsPerStep: number; callerUsPerChunk: number | null; helperUsPerChunk: number | null };
}

/** Real trainStep on real CIFAR images, exactly as trainer.train does a batch (gather + step + read loss). */
export async function benchTrain(data: Loaded, o: TrainBenchOptions): Promise<TrainBenchResult> {
  applyGradOptions(o);
  const modelId = o.model ?? 'simplecnn';
  const optName = o.optimizer ?? 'adam';
  const subset = Math.min(o.subset ?? 2048, data.train.count);
  const set: DeviceSet = toDevice(takeFirst(data.train, subset), data.stats);
  const model = Net.create(specFor(modelId), 1);
  const optimizer = createOptimizer({ optimizer: optName, learningRate: optName === 'sgd' ? 0.01 : 1e-3, momentum: 0.9 });
  const order = tf.tensor1d(shuffledIndices(subset, mulberry32(deriveSeed(1, 'bench'))), 'int32');
  let tensorsBefore = 0;
  const times: number[] = [];
  const syncs: number[] = [];
  const reads: number[] = [];
  let jobs0 = { ...jobStats };
  let finalLoss = NaN;
  const total = o.warmup + o.steps;
  // The bench driver's hook (scripts/bench.mjs, page.exposeFunction): it reads the browser's /proc
  // counters (page faults, context switches, CPU time) at the start and end of the timed steps.
  const mark = (globalThis as { __benchCounts?: (phase: 'start' | 'end') => Promise<unknown> }).__benchCounts;
  for (let i = 0; i < total; i++) {
    if (i === o.warmup) {
      if (mark) await mark('start');
      jobs0 = { ...jobStats };
    }
    const start = ((i * o.batch) % (subset - o.batch + 1)) | 0;
    const t0 = performance.now();
    const [lossT, correctT] = tf.tidy(() => {
      const idx = order.slice(start, o.batch);
      return trainStep(model, optimizer, tf.gather(set.xs, idx), tf.gather(set.ys, idx));
    });
    const t1 = performance.now();
    const [l] = await Promise.all([lossT.data(), correctT.data()]);
    tf.dispose([lossT, correctT]);
    const t2 = performance.now();
    const ms = t2 - t0;
    finalLoss = l[0];
    if (i === 0) tensorsBefore = tf.memory().numTensors; // optimiser slots exist from step 1 on
    if (i >= o.warmup) {
      times.push(ms);
      syncs.push(t1 - t0);
      reads.push(t2 - t1);
    }
    o.onStep?.(i, ms);
  }
  const jobs1 = { ...jobStats };
  if (mark) await mark('end');
  const chunks = jobs1.chunks - jobs0.chunks;
  const tensorsAfter = tf.memory().numTensors;
  order.dispose();
  disposeOptimizer(optimizer);
  model.dispose();
  disposeDeviceSet(set);
  restoreGradDefaults();
  const med = median(times);
  return {
    backend: tf.getBackend(),
    model: modelId,
    optimizer: optName,
    batch: o.batch,
    steps: o.steps,
    medianStepMs: med,
    imagesPerSecond: (o.batch * 1000) / med,
    stepMs: times.map((t) => Math.round(t * 10) / 10),
    finalLoss,
    tensorsBefore,
    tensorsAfter,
    split: {
      syncMs: median(syncs),
      readMs: median(reads),
      helperWaitMs: (jobs1.waitMs - jobs0.waitMs) / o.steps,
      helperShare: chunks ? (jobs1.helperChunks - jobs0.helperChunks) / chunks : 0,
      // Wall µs per chunk on each side: a helper slower per chunk than the caller runs fewer of them.
      callerUsPerChunk: jobs1.callerChunks > jobs0.callerChunks ? (1000 * (jobs1.callerMs - jobs0.callerMs)) / (jobs1.callerChunks - jobs0.callerChunks) : null,
      helperUsPerChunk: jobs1.helperChunks > jobs0.helperChunks ? (1000 * (jobs1.helperMs - jobs0.helperMs)) / (jobs1.helperChunks - jobs0.helperChunks) : null,
      jobsPerStep: (jobs1.jobs - jobs0.jobs) / o.steps,
    },
  };
}

export interface InferenceResult {
  backend: string;
  model: ModelId;
  channels: number[];
  batch: number;
  medianMs: number;
  imagesPerSecond: number;
  runsMs: number[];
}

/** One timed inference call of the bench: predict `xs`, argMax, read the classes back. */
async function predictClasses(model: Net, xs: tf.Tensor4D): Promise<void> {
  const pred = tf.tidy(() => tf.argMax(model.predict(xs), 1));
  await pred.data();
  pred.dispose();
}

/**
 * model.predict on `batch` real test images + reading the argmax back, median of runs.
 * `channels`: a physically smaller network (filters removed), default the full one.
 */
export async function benchInference(
  data: Loaded,
  o: { model?: ModelId; channels?: number[]; batch: number; warmup: number; runs: number },
): Promise<InferenceResult> {
  const modelId = o.model ?? 'simplecnn';
  const set = toDevice(takeFirst(data.test, o.batch), data.stats);
  const model = Net.create(specFor(modelId), 2, o.channels);
  const times: number[] = [];
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const t0 = performance.now();
    await predictClasses(model, set.xs);
    const ms = performance.now() - t0;
    if (i >= o.warmup) times.push(ms);
  }
  const channels = [...model.channels];
  model.dispose();
  disposeDeviceSet(set);
  const med = median(times);
  return {
    backend: tf.getBackend(),
    model: modelId,
    channels,
    batch: o.batch,
    medianMs: med,
    imagesPerSecond: (o.batch * 1000) / med,
    runsMs: times.map((t) => Math.round(t * 10) / 10),
  };
}

/**
 * Inference of several widths of one model timed call by call in turn (pruned-inference row): one
 * call of each width per round, the widths' order rotated every round, so the load's swings on this
 * shared VM (a neighbour's burst lasts about as long as one width's block of calls took) fall on
 * every width alike. Same call as benchInference: predict 250 images, argMax, read back.
 */
export async function benchInferenceWidths(
  data: Loaded,
  o: { model?: ModelId; widths: number[]; batch: number; warmup: number; runs: number },
): Promise<{ widths: number[]; runsMs: number[][]; medianMs: number[]; jobs: number[]; chunks: number[]; helperChunks: number[]; waitMs: number[] }> {
  const modelId = o.model ?? 'simplecnn';
  const set = toDevice(takeFirst(data.test, o.batch), data.stats);
  const models = o.widths.map((k) => Net.create(specFor(modelId), 2, [k]));
  const call = (model: Net) => predictClasses(model, set.xs);
  const runsMs = o.widths.map(() => [] as number[]);
  // Per width, over the timed calls: the SIMD jobs, their chunks, those the helper ran, the caller's wait for it.
  const counts = o.widths.map(() => ({ jobs: 0, chunks: 0, helperChunks: 0, waitMs: 0 }));
  try {
    for (const m of models) for (let i = 0; i < o.warmup; i++) await call(m);
    for (let r = 0; r < o.runs; r++) {
      for (let j = 0; j < models.length; j++) {
        const w = (j + r) % models.length;
        const before = { ...jobStats };
        const t0 = performance.now();
        await call(models[w]);
        runsMs[w].push(performance.now() - t0);
        const c = counts[w];
        c.jobs += jobStats.jobs - before.jobs;
        c.chunks += jobStats.chunks - before.chunks;
        c.helperChunks += jobStats.helperChunks - before.helperChunks;
        c.waitMs += jobStats.waitMs - before.waitMs;
      }
    }
  } finally {
    models.forEach((m) => m.dispose());
    disposeDeviceSet(set);
  }
  return {
    widths: o.widths,
    runsMs: runsMs.map((ts) => ts.map((t) => Math.round(t * 100) / 100)),
    medianMs: runsMs.map(median),
    jobs: counts.map((c) => c.jobs),
    chunks: counts.map((c) => c.chunks),
    helperChunks: counts.map((c) => c.helperChunks),
    waitMs: counts.map((c) => c.waitMs),
  };
}

export interface KernelProfileRow {
  name: string;
  calls: number;
  ms: number;
  share: number;
}

/** A tf.profile's kernels: exclusive time and calls per kernel name, the total, and each call with its shapes (in order). */
async function aggregateKernels(info: Awaited<ReturnType<typeof tf.profile>>) {
  const agg = new Map<string, { calls: number; ms: number }>();
  const each: Array<{ shape: string; ms: number }> = [];
  const records: Array<{ name: string; out: string; ms: number }> = [];
  for (const k of info.kernels) {
    const raw = await (k.kernelTimeMs as unknown as Promise<number | { error: string }> | number | { error: string });
    records.push({ name: k.name, out: JSON.stringify(k.outputShapes), ms: typeof raw === 'number' ? raw : 0 });
  }
  const exclusive = exclusiveTimes(records);
  let total = 0;
  info.kernels.forEach((k, i) => {
    const ms = exclusive[i];
    const a = agg.get(k.name) ?? { calls: 0, ms: 0 };
    a.calls++;
    a.ms += ms;
    agg.set(k.name, a);
    total += ms;
    each.push({ shape: `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('·')}→[${k.outputShapes.join('],[')}]`, ms: Math.round(ms * 100) / 100 });
  });
  return { agg, total, each };
}

/** Per-kernel time of one training step (tf.profile), aggregated by kernel name. */
export async function profileTrainStep(
  data: Loaded,
  o: GradOptions & { model?: ModelId; batch: number; warmup: number; optimizer?: 'adam' | 'sgd' },
): Promise<{
  backend: string;
  model: ModelId;
  wallMs: number;
  kernelMs: number;
  rows: KernelProfileRow[];
  matMuls: Array<{ shape: string; ms: number }>;
  slowest: Array<{ shape: string; ms: number }>;
  /** Every call grouped by kernel and shapes, heaviest first (where a layer shape's time goes). */
  byShape: Array<{ shape: string; calls: number; ms: number }>;
}> {
  applyGradOptions(o);
  const modelId = o.model ?? 'simplecnn';
  const n = o.batch;
  const set = toDevice(takeFirst(data.train, n), data.stats);
  const model = Net.create(specFor(modelId), 3);
  const optimizer = createOptimizer({ optimizer: o.optimizer ?? 'adam', learningRate: 1e-3, momentum: 0.9 });
  const step = async () => {
    const [a, b] = trainStep(model, optimizer, set.xs, set.ys);
    await a.data();
    tf.dispose([a, b]);
  };
  for (let i = 0; i < o.warmup; i++) await step();
  // The quickest of three profiled steps: one step's kernels swing with this shared VM's load.
  let best: (Awaited<ReturnType<typeof aggregateKernels>> & { wallMs: number }) | null = null;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const info = await tf.profile(step);
    const wallMs = performance.now() - t0;
    const got = await aggregateKernels(info);
    if (!best || got.total < best.total) best = { ...got, wallMs };
  }
  const { agg, total, each, wallMs } = best!;
  const matMuls = each.filter((k) => /MatMul|Conv2D/.test(k.shape));
  disposeOptimizer(optimizer);
  model.dispose();
  disposeDeviceSet(set);
  restoreGradDefaults();
  const rows = [...agg.entries()]
    .map(([name, a]) => ({ name, calls: a.calls, ms: Math.round(a.ms * 10) / 10, share: a.ms / Math.max(total, 1e-9) }))
    .sort((x, y) => y.ms - x.ms);
  const slowest = [...each].sort((a, b) => b.ms - a.ms).slice(0, 40);
  const shapes = new Map<string, { shape: string; calls: number; ms: number }>();
  for (const { shape, ms } of each) {
    const g = shapes.get(shape) ?? { shape, calls: 0, ms: 0 };
    g.calls++;
    g.ms += ms;
    shapes.set(shape, g);
  }
  const byShape = [...shapes.values()].map((g) => ({ ...g, ms: Math.round(g.ms * 100) / 100 })).sort((a, b) => b.ms - a.ms);
  return { backend: tf.getBackend(), model: modelId, wallMs, kernelMs: total, rows, matMuls, slowest, byShape };
}

/** Times an arbitrary op closure (median of runs) — used for micro-benchmarks of kernels. */
export async function timeOp(f: () => tf.Tensor, warmup: number, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    const t = f();
    await t.data();
    t.dispose();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

/** Filter-gradient variants head to head on the conv1 shapes (x [b,32,32,3], dy [b,32,32,64]). */
export async function benchFilterGradVariants(batch: number, runs: number): Promise<Record<string, number>> {
  const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, 32, 32, 64]) as tf.Tensor4D;
  const out: Record<string, number> = {};
  for (const v of ['im2col', 'im2colT', 'perPosition'] as FilterGradVariant[]) {
    out[v] = await timeOp(() => conv2dFilterGradStride1(x, dy, [3, 3, 3, 64], 'same', v), 2, runs);
  }
  if (tf.getBackend() !== 'wasm' || tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    out.stockKernel = await timeOp(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 64] }) as tf.Tensor, 1, Math.min(runs, 3));
  }
  tf.dispose([x, dy]);
  return out;
}

export { selection };

/** Per-kernel time of one model.predict + argMax on `batch` test images (tf.profile). */
export async function profileInference(
  data: Loaded,
  o: { model?: ModelId; channels?: number[]; batch: number; warmup: number; calls?: number },
): Promise<{ kernelMs: number; wallMs: number; rows: KernelProfileRow[]; calls: Array<{ shape: string; ms: number }>; profiledCalls: number }> {
  const set = toDevice(takeFirst(data.test, o.batch), data.stats);
  const model = Net.create(specFor(o.model ?? 'simplecnn'), 2, o.channels);
  const run = () => predictClasses(model, set.xs);
  for (let i = 0; i < o.warmup; i++) await run();
  // Per kernel, the median over several profiled calls: one call's 0.05 ms ArgMax showed as 0.63 ms
  // once (the thread descheduled inside it on the shared VM), which read as a cost of the model.
  const n = Math.max(1, o.calls ?? 1);
  const walls: number[] = [];
  const byKernel = new Map<string, { calls: number; ms: number[] }>();
  const byCall = new Map<string, number[]>();
  for (let c = 0; c < n; c++) {
    const t0 = performance.now();
    const info = await tf.profile(run);
    walls.push(performance.now() - t0);
    const { agg, each } = await aggregateKernels(info);
    for (const [name, a] of agg) {
      const k = byKernel.get(name) ?? { calls: a.calls, ms: [] };
      k.ms.push(a.ms);
      byKernel.set(name, k);
    }
    each.forEach((e, i) => byCall.set(`${i}\u0000${e.shape}`, [...(byCall.get(`${i}\u0000${e.shape}`) ?? []), e.ms]));
  }
  model.dispose();
  disposeDeviceSet(set);
  const kernels = [...byKernel.entries()].map(([name, k]) => ({ name, calls: k.calls, ms: median(k.ms) }));
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const rows = kernels.map((k) => ({ ...k, ms: Math.round(k.ms * 100) / 100, share: k.ms / Math.max(total, 1e-9) })).sort((x, y) => y.ms - x.ms);
  const calls = [...byCall.entries()].map(([key, ms]) => ({ shape: key.split('\u0000')[1], ms: Math.round(median(ms) * 100) / 100 }));
  return { kernelMs: total, wallMs: median(walls), rows, calls, profiledCalls: n };
}

/**
 * Where a training step's time goes outside the kernels: the synchronous part (everything runs inside
 * trainStep on the CPU backends) against the read-back of loss and accuracy, with the batch gathered
 * from a 2,048-image set as the app does or passed as a fixed tensor as PyTorch's timing does. (This
 * found tfjs-wasm's GatherV2 taking 5.7 ms per 64 images; see backend/wasmKernels.ts.)
 */
export async function stepAnatomy(data: Loaded, o: { model: ModelId; batch: number; steps: number; gather: boolean; tidy: boolean }) {
  const subset = 2048;
  const set: DeviceSet = toDevice(takeFirst(data.train, subset), data.stats);
  const small: DeviceSet = toDevice(takeFirst(data.train, o.batch), data.stats);
  const model = Net.create(specFor(o.model), 1);
  const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, momentum: 0.9 });
  const order = tf.tensor1d(shuffledIndices(subset, mulberry32(1)), 'int32');
  const sync: number[] = [];
  const read: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < o.steps + 5; i++) {
    const start = ((i * o.batch) % (subset - o.batch + 1)) | 0;
    const t0 = performance.now();
    const run = () => {
      if (!o.gather) return trainStep(model, optimizer, small.xs, small.ys);
      const idx = order.slice(start, o.batch);
      return trainStep(model, optimizer, tf.gather(set.xs, idx), tf.gather(set.ys, idx));
    };
    const [lossT, correctT] = o.tidy ? tf.tidy(run) : run();
    const t1 = performance.now();
    await Promise.all([lossT.data(), correctT.data()]);
    tf.dispose([lossT, correctT]);
    const t2 = performance.now();
    if (i >= 5) {
      sync.push(t1 - t0);
      read.push(t2 - t1);
      total.push(t2 - t0);
    }
  }
  order.dispose();
  disposeOptimizer(optimizer);
  model.dispose();
  disposeDeviceSet(set);
  disposeDeviceSet(small);
  return { sync: median(sync), read: median(read), total: median(total), numTensors: tf.memory().numTensors };
}
