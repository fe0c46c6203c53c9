/**
 * Picks and starts the tfjs backend. Works on the main thread and inside a dedicated Web Worker
 * (no `document`: the WebGL probe uses OffscreenCanvas).
 *
 * Policy
 * - `requested` ('webgl' | 'wasm' | 'cpu') wins if it initialises; otherwise fall back by the
 *   default policy and say why in `reason`.
 * - 'webgpu' only when asked for (or chosen by the measured auto, autoBackend.ts): its package is
 *   imported on demand, so a page on wasm never loads it.
 * - Default: WebGL on a hardware GPU. When WebGL is software (SwiftShader, llvmpipe, softpipe,
 *   or only a failIfMajorPerformanceCaveat-rejected context) or missing, WASM (SIMD; threads
 *   when the page is cross-origin isolated). Then software WebGL, then cpu.
 * - Every choice is verified with tf.getBackend(): setBackend can resolve false and leave tfjs
 *   on another backend silently.
 * - No kernel is registered here: installKernels (kernels.ts) does that after the backend starts.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Vite copies these into the build (hashed, relative to base './') and gives their URLs.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { simdKernelInfo } from './wasmSimd';

export type BackendName = 'webgl' | 'wasm' | 'cpu' | 'webgpu';

/** Every backend the page can run on, in the header's order. */
export const BACKEND_NAMES: readonly BackendName[] = ['webgl', 'wasm', 'cpu', 'webgpu'];

export interface BackendSelection {
  backend: string;
  /** Unmasked WebGL renderer string (null when WebGL is unavailable); on webgpu the adapter's vendor and architecture. */
  renderer: string | null;
  /** Human-readable: why this backend (and why not the requested / preferred one). */
  reason: string;
  /** wasm only: XNNPACK thread-pool size. */
  threads?: number;
  /** wasm only: SIMD binary in use. */
  simd?: boolean;
}

export interface SelectBackendOptions {
  /**
   * wasm thread-pool size when the page is cross-origin isolated. Default
   * DEFAULT_WASM_THREADS (tfjs itself would use hardwareConcurrency / 2). Only effective
   * before the wasm backend first initialises.
   */
  wasmThreads?: number;
  /**
   * The two start-up fixes written for tfjs-backend-wasm 4.22 (the threaded loader's Blob, the thread
   * count); default true. false (kernels=stock, another tfjs version): neither, and on a cross-origin
   * isolated page the single-threaded SIMD binary, which needs no loader fix. Only effective before
   * the wasm backend first initialises.
   */
  tfjsPatches?: boolean;
}

/**
 * null → navigator.hardwareConcurrency: XNNPACK's matMuls and convs use every core (measured: the
 * SimpleCNN's fc1 trains and evaluates faster so; tfjs itself would use half). The SIMD kernels'
 * helper thread is separate (wasmSimd/parallel.ts kernelThreads).
 */
export const DEFAULT_WASM_THREADS: number | null = null;

export interface WebglProbe {
  available: boolean;
  renderer: string | null;
  vendor: string | null;
  /** Renderer matches a known software rasteriser or the context fails failIfMajorPerformanceCaveat. */
  software: boolean;
  majorPerformanceCaveat: boolean;
  version: 1 | 2 | null;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software rasterizer|microsoft basic render/i;

function makeCanvas(): OffscreenCanvas | HTMLCanvasElement | null {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(1, 1);
  if (typeof document !== 'undefined') return document.createElement('canvas');
  return null;
}

type GL = WebGLRenderingContext | WebGL2RenderingContext;

function context(kind: 'webgl2' | 'webgl', caveat: boolean): GL | null {
  const canvas = makeCanvas();
  if (!canvas) return null;
  try {
    const attrs: WebGLContextAttributes = { failIfMajorPerformanceCaveat: caveat, antialias: false, depth: false };
    return (canvas.getContext(kind, attrs) as GL | null) ?? null;
  } catch {
    return null;
  }
}

/** Reads the WebGL renderer without starting tfjs's webgl backend. */
export function probeWebgl(): WebglProbe {
  for (const kind of ['webgl2', 'webgl'] as const) {
    let gl = context(kind, true);
    let majorPerformanceCaveat = false;
    if (!gl) {
      gl = context(kind, false);
      majorPerformanceCaveat = gl != null;
    }
    if (!gl) continue;
    let renderer: string | null = null;
    let vendor: string | null = null;
    try {
      const dbg = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      vendor = String(gl.getParameter(dbg ? dbg.UNMASKED_VENDOR_WEBGL : gl.VENDOR));
    } catch {
      /* renderer stays null */
    }
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    const software = majorPerformanceCaveat || (renderer != null && SOFTWARE_RENDERER.test(renderer));
    return { available: true, renderer, vendor, software, majorPerformanceCaveat, version: kind === 'webgl2' ? 2 : 1 };
  }
  return { available: false, renderer: null, vendor: null, software: false, majorPerformanceCaveat: false, version: null };
}

/** A probe taken ahead (probeWebglEarly), for the next selectBackend only. */
let earlyProbe: WebglProbe | null = null;

/**
 * Probes now and keeps the result for the next selectBackend. The engine's worker calls it while its
 * module is evaluated, before its first request can arrive: the probe blocks the thread while the GPU
 * process starts the renderer (a cold load measured 336 ms, 880 ms with both cores busy, where WebGL is
 * SwiftShader), and the worker otherwise idles until the page, still rendering and reading the saved
 * work, asks for the backend (280 ms later on the same cold load).
 */
export function probeWebglEarly(): void {
  earlyProbe ??= probeWebgl();
}

let wasmConfigured = false;

const THREADED_FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd = ';

/**
 * Works around a tfjs-backend-wasm + minifier bug: for its pthread workers tfjs builds a Blob
 * from `wasmFactoryThreadedSimd.toString()`, but in a minified bundle that function refers to a
 * renamed closure variable (`_scriptDir` → e.g. `e`) that does not exist inside the worker, so
 * every pthread worker dies with "ReferenceError: e is not defined" and init hangs.
 * While the backend initialises we swap that Blob's text for the package's original,
 * self-contained emscripten loader (same code, unminified, imported as a string).
 */
async function withThreadedLoaderFix<T>(f: () => Promise<T>): Promise<T> {
  const iso = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  if (!iso || typeof Blob === 'undefined') return f();
  const raw: string = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw')).default;
  const Original = globalThis.Blob;
  class LoaderBlob extends Original {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      const fixed =
        parts && parts.length === 1 && typeof parts[0] === 'string' && parts[0].startsWith(THREADED_FACTORY_PREFIX)
          ? [raw]
          : parts;
      super(fixed, options);
    }
  }
  globalThis.Blob = LoaderBlob;
  try {
    return await f();
  } finally {
    globalThis.Blob = Original;
  }
}

let wasmThreadsWanted = 1;

function configureWasm(threads: number | undefined): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlainUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
  });
  const hc = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  wasmThreadsWanted = Math.max(1, Math.floor(threads ?? DEFAULT_WASM_THREADS ?? hc));
  setThreadsCount(wasmThreadsWanted);
}

/**
 * tfjs-backend-wasm 4.22's native init ignores setThreadsCount and sizes the XNNPACK pool at
 * navigator.hardwareConcurrency / 2 (measured: getThreadsCount() stays 1 on a 2-core machine
 * whatever setThreadsCount says, and a 1024² matMul runs at single-thread speed). So while the
 * backend initialises, report hardwareConcurrency = 2 × the wanted thread count.
 */
async function withThreadCount<T>(f: () => Promise<T>): Promise<T> {
  if (typeof navigator === 'undefined') return f();
  const nav = navigator as Navigator & { hardwareConcurrency: number };
  const had = Object.prototype.hasOwnProperty.call(nav, 'hardwareConcurrency');
  const prev = Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency');
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * wasmThreadsWanted, configurable: true });
  } catch {
    return f();
  }
  try {
    return await f();
  } finally {
    if (had && prev) Object.defineProperty(nav, 'hardwareConcurrency', prev);
    else delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface NavigatorGpu {
  gpu?: { requestAdapter(o?: object): Promise<{ info?: GpuAdapterInfoLike; isFallbackAdapter?: boolean } | null> };
}

export interface WebgpuProbe {
  available: boolean;
  /** "google swiftshader" and the like (GPUAdapterInfo's vendor, architecture, description). */
  adapter: string | null;
  /** A software adapter: SwiftShader, a fallback adapter, or a known software rasteriser. */
  software: boolean;
}

/** Asks for a WebGPU adapter (as tfjs-backend-webgpu will) without starting tfjs's webgpu backend. */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  const gpu = typeof navigator !== 'undefined' ? (navigator as NavigatorGpu).gpu : undefined;
  if (!gpu) return { available: false, adapter: null, software: false };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, adapter: null, software: false };
    const i = adapter.info ?? {};
    const name = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || null;
    const software = adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|software|microsoft basic render/i.test(name ?? '');
    return { available: true, adapter: name, software };
  } catch {
    return { available: false, adapter: null, software: false };
  }
}

/** Registers tfjs's webgpu backend: its package (~1 MB) loads only when webgpu is tried. */
async function loadWebgpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-webgpu');
}

/** Starts `name` and checks it is really active. Returns null on success, else why not. */
async function tryStart(name: BackendName, opts: SelectBackendOptions): Promise<string | null> {
  try {
    if (name === 'webgpu') {
      if (!(await probeWebgpu()).available) return 'webgpu is unavailable (no navigator.gpu or no adapter: WebGPU needs a secure context and a browser that has it on)';
      await loadWebgpu();
    }
    if (name === 'webgl') tf.env().set('SOFTWARE_WEBGL_ENABLED', true);
    if (name === 'wasm') configureWasm(opts.wasmThreads);
    const patches = opts.tfjsPatches !== false;
    if (name === 'wasm' && !patches) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const ok =
      name === 'wasm' && patches
        ? await withThreadedLoaderFix(() => withThreadCount(() => tf.setBackend(name)))
        : await tf.setBackend(name);
    await tf.ready();
    const active = tf.getBackend();
    if (!ok || active !== name) return `${name} did not initialise (tfjs is on ${active ?? 'no backend'})`;
    return null;
  } catch (e) {
    return `${name} failed to initialise: ${errorText(e)}`;
  }
}

async function describe(backend: string, renderer: string | null, reason: string): Promise<BackendSelection> {
  const sel: BackendSelection = { backend, renderer, reason };
  if (backend === 'wasm') {
    sel.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    try {
      sel.threads = getThreadsCount();
    } catch {
      sel.threads = 1;
    }
    // Compile the SIMD kernels and start their helper thread now, and give the event loop a turn:
    // a worker boots only when its creator returns to the event loop. Threads: the most any op uses.
    sel.threads = Math.max(sel.threads, simdKernelInfo()?.threads ?? 1);
    await new Promise((r) => setTimeout(r, 0));
  }
  return sel;
}

function wasmFeatures(opts: SelectBackendOptions): string {
  const iso = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  if (iso && opts.tfjsPatches === false) return 'SIMD, single thread (the threaded build needs a loader fix written for tfjs 4.22)';
  return iso ? 'SIMD, threads (cross-origin isolated)' : 'SIMD, single thread (page not cross-origin isolated)';
}

/**
 * Selects, starts and verifies a backend. Safe to call again (e.g. when the user switches);
 * variables created on another backend move lazily on first use.
 */
export async function selectBackend(
  requested?: BackendName | null,
  opts: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const probe = earlyProbe ?? probeWebgl();
  earlyProbe = null; // a later selection (a backend switch) probes again
  const renderer = probe.renderer;
  const failures: string[] = [];

  if (requested) {
    const why = await tryStart(requested, opts);
    if (!why) {
      let reason = `requested ${requested}`;
      if (requested === 'webgl' && probe.software) reason += ` (WebGL renderer is software: ${renderer ?? 'unknown'})`;
      if (requested === 'wasm') reason += ` (${wasmFeatures(opts)})`;
      if (requested === 'webgpu') {
        const gpu = await probeWebgpu();
        if (gpu.software) reason += ` (WebGPU adapter is software: ${gpu.adapter ?? 'unknown'})`;
        return describe(requested, gpu.adapter, reason);
      }
      return describe(requested, renderer, reason);
    }
    failures.push(`requested ${why}`);
  }

  const order: Array<[BackendName, string]> = [];
  const glSummary = !probe.available
    ? 'WebGL is unavailable'
    : `WebGL${probe.version} renderer ${renderer ?? 'unknown'}${probe.software ? ' (software)' : ''}`;
  if (probe.available && !probe.software) {
    order.push(['webgl', `hardware WebGL${probe.version} (${renderer ?? 'renderer unknown'})`]);
    order.push(['wasm', `WASM (${wasmFeatures(opts)})`]);
  } else {
    const whyNotGl = !probe.available
      ? 'WebGL is unavailable'
      : probe.majorPerformanceCaveat
        ? `WebGL only with a major performance caveat (${renderer ?? 'renderer unknown'})`
        : `WebGL renderer is software (${renderer})`;
    order.push(['wasm', `${whyNotGl}, so WASM (${wasmFeatures(opts)}) — it trains several times faster than software WebGL`]);
    if (probe.available) order.push(['webgl', `software WebGL (${renderer ?? 'renderer unknown'}) because WASM failed`]);
  }
  order.push(['cpu', `${glSummary}; nothing faster initialised, so the plain JavaScript cpu backend`]);

  for (const [name, why] of order) {
    if (name === requested) continue; // already tried
    const err = await tryStart(name, opts);
    if (!err) return describe(name, renderer, [...failures, why].join('; '));
    failures.push(err);
  }
  throw new Error(`No tfjs backend initialised: ${failures.join('; ')}`);
}
