/**
 * Bench page (bench.html). scripts/bench.mjs opens it in headless Chromium and calls
 * window.bench.* through page.evaluate. URL: bench.html?backend=webgl|wasm|cpu&threads=N
 */
import * as tf from '@tensorflow/tfjs';
import {
  benchFilterGradVariants,
  benchInference,
  benchInferenceWidths,
  benchTrain,
  initBackend,
  loadData,
  profileInference,
  profileTrainStep,
  simdKernelInfo,
  timeOp,
  stepAnatomy,
} from './benchCore';
import { probeWebgl, type BackendName } from '../src/core/backend';
import { compareGradients } from '../src/core/backend/gradCheck';
import { isGraphSpec } from '../src/core/model/graph';
import { type ModelId, geometry } from '../src/core/model/spec';
import { MODELS } from '../src/core/model/zoo';
import { jobStats, setChunksPerThread, setGuidedSlices, setHelperSpinMicros, setColumnKernels, setKernelThreads, setReluMaskFromZ } from '../src/core/backend/wasmSimd';
import { DEFAULT_CHUNKS_PER_THREAD, DEFAULT_SPIN_US } from '../src/core/backend/wasmSimd/parallel';
import { setRelaxedSimd } from '../src/core/backend/wasmSimd/asm';
import { setGraphFusion } from '../src/core/model/net';
import { setPointwiseStride2Conv, setStride2Conv, setStride2Direct } from '../src/core/backend/convBlock';
import { setConvOutputSums, setWinogradTile } from '../src/core/backend/wasmSimd/conv3x3';
import { setWinogradFilterVec } from '../src/core/backend/wasmSimd/winograd';

const params = new URLSearchParams(location.search);
const requested = (params.get('backend') as BackendName | null) ?? null;
const threads = params.get('threads') ? Number(params.get('threads')) : undefined;
// kernels=stock: tfjs's own kernels and gradients, as the app's ?kernels=stock (BENCH_KERNELS=stock in scripts/bench.mjs).
const kernels = params.get('kernels') === 'stock' ? 'stock' : 'custom';
// simdThreads=N: the SIMD kernels' thread count whatever the cores (A/B measurements; default: every core, at most 2).
if (params.get('simdThreads')) setKernelThreads(Number(params.get('simdThreads')));
// relaxed=0: the SIMD kernels without relaxed SIMD's fused multiply-add (A/B).
if (params.get('relaxed') === '0') setRelaxedSimd(false);
// helperSpinUs=N: how long the SIMD helper polls for the next job before sleeping (A/B; default parallel.ts DEFAULT_SPIN_US).
if (params.get('helperSpinUs')) setHelperSpinMicros(Number(params.get('helperSpinUs')));
// chunksPerThread=N: image chunks per thread of a split SIMD kernel call (A/B; default parallel.ts DEFAULT_CHUNKS_PER_THREAD).
if (params.get('chunksPerThread')) setChunksPerThread(Number(params.get('chunksPerThread')));
const base = new URL('./', location.href).href;
const out = document.getElementById('out')!;
const log = (s: string) => (out.textContent += s + '\n');

/**
 * Longest main-thread task while `f` runs: PerformanceObserver 'longtask' (tasks ≥ 50 ms), plus a
 * 10 ms heartbeat whose largest gap bounds the longest task independently of the observer.
 */
async function withLongTasks<T>(f: () => Promise<T>): Promise<{ value: T; longest: number; count: number; total: number; maxHeartbeatGap: number }> {
  const tasks: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push(e.duration);
  });
  obs.observe({ type: 'longtask' });
  let last = performance.now();
  let maxGap = 0;
  const hb = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  const value = await f();
  // Entries are delivered asynchronously; let the observer flush.
  await new Promise((r) => setTimeout(r, 100));
  clearInterval(hb);
  obs.takeRecords().forEach((e) => tasks.push(e.duration));
  obs.disconnect();
  return { value, longest: tasks.length ? Math.max(...tasks) : 0, count: tasks.length, total: tasks.reduce((a, b) => a + b, 0), maxHeartbeatGap: maxGap };
}

/** Calibration: a deliberate busy main-thread task of `ms` must show up as a long task. */
function busyTask(ms: number) {
  return withLongTasks(async () => {
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 20));
    return ms;
  });
}

/** Trains in a dedicated worker; measures the page's longest task meanwhile. */
function trainInWorker(o: { backend: BackendName | null; batch: number; warmup: number; steps: number; threads?: number }) {
  return withLongTasks(
    () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const w = new Worker(new URL('./trainWorker.ts', import.meta.url), { type: 'module' });
        w.onmessage = (ev) => {
          const m = ev.data;
          if (m.type === 'done') {
            w.terminate();
            resolve(m);
          } else if (m.type === 'error') {
            w.terminate();
            reject(new Error(m.message));
          }
        };
        w.onerror = (e) => {
          w.terminate();
          reject(new Error(`worker error: ${e.message}`));
        };
        w.postMessage({ ...o, base, kernels });
      }),
  );
}

const api = {
  async init() {
    const t0 = performance.now();
    const selection = await initBackend(requested, threads, kernels);
    const data = await loadData(base);
    return {
      selection,
      probe: probeWebgl(),
      crossOriginIsolated: self.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      userAgent: navigator.userAgent,
      initMs: performance.now() - t0,
      trainCount: data.train.count,
      testCount: data.test.count,
      simdKernel: simdKernelInfo(),
      // The chain models' geometry (the matMul FLOP model of scripts/bench.mjs); ResNet-20 is a graph.
      geometry: Object.fromEntries(Object.entries(MODELS).flatMap(([id, spec]) => (isGraphSpec(spec) ? [] : [[id, geometry(spec)]]))),
    };
  },
  /**
   * Running totals the bench driver differences around the timed steps: the SIMD kernels' jobs,
   * chunks, helper wake-ups and blocking waits (parallel.ts jobStats), the wasm memory's size (its
   * growth means fresh pages), and V8's JS heap where Chromium reports it.
   */
  pageCounts() {
    const mem = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory } }).wasm?.wasmMemory;
    const heap = (performance as Performance & { memory?: { totalJSHeapSize: number } }).memory;
    return {
      simdJobs: jobStats.jobs,
      simdChunks: jobStats.chunks,
      helperChunks: jobStats.helperChunks,
      helperWakes: jobStats.wakes,
      callerBlocks: jobStats.blocks,
      handoffs: jobStats.handoffs,
      handoffUs: jobStats.handoffUs,
      helperSleeps: jobStats.helperSleeps,
      callerWaitMs: jobStats.waitMs,
      wasmMemoryBytes: mem?.buffer.byteLength ?? 0,
      jsHeapTotalBytes: heap?.totalJSHeapSize ?? 0,
    };
  },
  async train(o: Parameters<typeof benchTrain>[1]) {
    return benchTrain(await loadData(base), o);
  },
  async trainMainThreadLongTasks(o: Parameters<typeof benchTrain>[1]) {
    const data = await loadData(base);
    return withLongTasks(() => benchTrain(data, o));
  },
  async inference(o: Parameters<typeof benchInference>[1]) {
    return benchInference(await loadData(base), o);
  },
  async inferenceWidths(o: Parameters<typeof benchInferenceWidths>[1]) {
    return benchInferenceWidths(await loadData(base), o);
  },
  async profileInference(o: Parameters<typeof profileInference>[1]) {
    return profileInference(await loadData(base), o);
  },
  async profile(o: Parameters<typeof profileTrainStep>[1]) {
    return profileTrainStep(await loadData(base), o);
  },
  filterGradVariants: benchFilterGradVariants,
  async anatomy(o: Parameters<typeof stepAnatomy>[1]) {
    return stepAnatomy(await loadData(base), o);
  },
  trainInWorker,
  busyTask,
  /** A/B within one page (BENCH_ONLY=resnet20-ab): the graph models' fused BatchNorm ops on or off (net.ts). */
  setGraphFusion,
  /** A/B (BENCH_ONLY=resnet20-ab BENCH_AB=stride2): the 3×3 stride-2 convs' own op on, or the stride-1 conv read at the even pixels. */
  setStride2Conv,
  /** A/B (BENCH_AB=pointwise): ResNet-20's 1×1 stride-2 shortcut on the SIMD kernels, or a strided slice and tfjs's conv. */
  setPointwiseStride2Conv,
  /** A/B (BENCH_AB=stride2direct): ResNet-20's stride-2 3×3 convs on direct SIMD kernels, or XNNPACK's forward and Winograd gradients on spread dy. */
  setStride2Direct,
  /** A/B (BENCH_AB=maskfromz): BatchNorm + ReLU's backward with the ReLU's mask from z (five passes), or from the saved output (seven). */
  setReluMaskFromZ,
  /** A/B (BENCH_AB=columns): the BatchNorm backward's sums channel by channel up to 16 channels, or row by row. */
  setColumnKernels,
  /** A/B (BENCH_AB=guided): the SIMD kernels' image slices shrinking towards a batch's end, or equal. */
  setGuidedSlices,
  /** A/B (BENCH_AB=convsums): the BatchNorms' statistics from the sums the conv before them took (default), or their own pass. */
  setConvOutputSums,
  /** A/B (BENCH_AB=filtervec): the Winograd conv's filter transform on vectors (default) or scalar. */
  setWinogradFilterVec,
  /** The Winograd conv's tile: on = the default choice (F(4×4) where it applies), off = F(2×2) everywhere. */
  setWinogradTile4: (on: boolean) => setWinogradTile(on ? 'auto' : 2),
  /** A/B (BENCH_AB=chunks:N): chunks per thread of the split SIMD kernels (null: the default). */
  setChunksPerThread: (n: number | null) => setChunksPerThread(n ?? DEFAULT_CHUNKS_PER_THREAD),
  /** A/B (BENCH_AB=spin:N): how long the SIMD helper polls for the next job (null: the default). */
  setHelperSpinMicros: (us: number | null) => setHelperSpinMicros(us ?? DEFAULT_SPIN_US),
  memory: () => tf.memory(),
  /**
   * The backend's matMul rate: an n×n·n×n float32 matMul, kernel time from tf.profile (no
   * download), median of runs, in GFLOP/s.
   */
  async matMulGflops(n: number, runs = 7) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    const times: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const info = await tf.profile(() => tf.matMul(a, b));
      (info.result as tf.Tensor).dispose();
      const k = info.kernels.find((x) => x.name === 'BatchMatMul');
      const ms = await (k?.kernelTimeMs as unknown as Promise<number> | number);
      if (i >= 2 && typeof ms === 'number') times.push(ms);
    }
    tf.dispose([a, b]);
    const med = times.sort((x, y) => x - y)[times.length >> 1];
    return (2 * n * n * n) / (med * 1e6);
  },
  /** Square float32 matMul, median ms (thread-scaling sanity check). */
  async matmul(n: number, runs = 5) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    const ms = await timeOp(() => tf.matMul(a, b), 2, runs);
    tf.dispose([a, b]);
    return ms;
  },
  /** Times matMul(a[aShape], b[bShape], tA, tB), median ms. */
  async mm(aShape: [number, number], bShape: [number, number], tA = false, tB = false, runs = 5) {
    const a = tf.randomNormal(aShape) as tf.Tensor2D;
    const b = tf.randomNormal(bShape) as tf.Tensor2D;
    void a.shape;
    const ms = await timeOp(() => tf.matMul(a, b, tA, tB), 2, runs);
    tf.dispose([a, b]);
    return ms;
  },
  /**
   * Median ms of f(a, b) on fresh operands each run (so per-tensor caches such as XNNPACK's
   * packed weights do not flatter the result, as in a real training step).
   */
  async mmFresh(aShape: number[], bShape: number[], expr: string, runs = 7) {
    const f = new Function('tf', 'a', 'b', `return ${expr};`) as (t: typeof tf, a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    const times: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const a = tf.randomNormal(aShape);
      const b = tf.randomNormal(bShape);
      await Promise.all([a.data(), b.data()]);
      const t0 = performance.now();
      const c = tf.tidy(() => f(tf, a, b));
      await c.data();
      const ms = performance.now() - t0;
      tf.dispose([a, b, c]);
      if (i >= 2) times.push(ms);
    }
    return times.sort((x, y) => x - y)[times.length >> 1];
  },
  /** Per-kernel times (tf.profile) of f(tf, a, b) on fresh random operands: for kernel micro-benchmarks. */
  async profileExpr(shapes: number[][], expr: string, runs = 3) {
    const f = new Function('tf', 'a', 'b', 'c', `return ${expr};`) as (t: typeof tf, ...xs: tf.Tensor[]) => tf.Tensor;
    const totals = new Map<string, number[]>();
    for (let i = 0; i < runs + 1; i++) {
      const xs = shapes.map((s) => tf.randomNormal(s));
      await Promise.all(xs.map((x) => x.data()));
      const info = await tf.profile(() => {
        const out = tf.tidy(() => f(tf, ...xs));
        return out;
      });
      tf.dispose(xs);
      (Array.isArray(info.result) ? (info.result as tf.Tensor[]) : [info.result as tf.Tensor]).forEach((t) => t.dispose());
      if (i === 0) continue;
      const per = new Map<string, number>();
      for (const k of info.kernels) {
        const ms = await (k.kernelTimeMs as unknown as Promise<number> | number);
        per.set(k.name, (per.get(k.name) ?? 0) + (typeof ms === 'number' ? ms : 0));
      }
      per.set('TOTAL', [...per.values()].reduce((a, b) => a + b, 0));
      for (const [k, v] of per) totals.set(k, [...(totals.get(k) ?? []), v]);
    }
    return Object.fromEntries([...totals].map(([k, v]) => [k, Math.round(v.sort((x, y) => x - y)[v.length >> 1] * 100) / 100]));
  },
  /** Direct conv2d forward (x [b,32,32,3] → 64 filters), median ms. */
  /** Training gradients on the active backend against the cpu backend (e2e/webgpu.spec.ts). */
  async gradientCheck(model: ModelId, batch = 8) {
    return compareGradients(tf.getBackend(), model, { batch });
  },
  async conv(batch: number, runs = 5) {
    const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 64]) as tf.Tensor4D;
    const ms = await timeOp(() => tf.conv2d(x, w, 1, 'same'), 2, runs);
    tf.dispose([x, w]);
    return ms;
  },
};

declare global {
  interface Window {
    bench: typeof api;
  }
}
window.bench = api;
log(`bench ready (backend request: ${requested ?? 'default'})`);
document.title = 'bench ready';
