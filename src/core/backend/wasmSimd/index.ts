/**
 * Glue between tfjs's wasm backend and the SIMD kernels in this folder: finds the backend's
 * WebAssembly.Memory, instantiates the kernels on it once, and runs them on tensors in place.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type FilterGradModule, TILE, instantiateFilterGrad } from './filterGrad';

interface EmscriptenWasm {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

let cached: { backend: BackendWasm; mod: FilterGradModule | null; memory: WebAssembly.Memory | null } | null = null;
let enabled = true;

/** Counts kernel calls (tests and the bench check the path is taken). */
export const simdKernelStats = { filterGrad: 0 };

/** Switch for A/B measurements and tests (the tfjs-op path is used when disabled). */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

function state(): { backend: BackendWasm; mod: FilterGradModule; memory: WebAssembly.Memory } | null {
  if (!enabled || tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as BackendWasm;
  if (!cached || cached.backend !== backend) {
    const w = backend.wasm as unknown as EmscriptenWasm;
    const memory = w.wasmMemory ?? w.asm?.memory ?? null;
    let mod: FilterGradModule | null = null;
    try {
      if (memory) mod = instantiateFilterGrad(memory, typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer);
    } catch {
      mod = null; // e.g. a memory import the engine refuses: stay on the tfjs-op path
    }
    cached = { backend, mod, memory };
  }
  return cached.mod && cached.memory ? { backend, mod: cached.mod, memory: cached.memory } : null;
}

/** Which variant runs (null: the kernel is unavailable on the active backend). */
export function simdKernelInfo(): { relaxed: boolean } | null {
  const s = state();
  return s ? { relaxed: s.mod.relaxed } : null;
}

export const SIMD_FILTER_GRAD = 'PlaygroundSimdConvFilterGrad';

interface FilterGradAttrs {
  filterShape: [number, number, number, number];
  withBias: boolean;
  masked: boolean;
}

let kernelRegistered = false;

/** The kernel runs as a registered wasm kernel, so tf.profile shows it by name. */
function registerKernel(): void {
  if (kernelRegistered) return;
  kernelRegistered = true;
  tf.registerKernel({
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
      const em = backend.wasm as unknown as EmscriptenWasm;
      const scratch = em._malloc((kb * c4 + TILE * c4 + TILE * kb + 4) * 4);
      try {
        const acc = scratch;
        const dTile = acc + kb * c4 * 4;
        const pTile = dTile + TILE * c4 * 4;
        const safe = pTile + TILE * kb * 4;
        new Float32Array(s.memory.buffer, acc, kb * c4).fill(0);
        s.mod.filterGrad(ptr(x), ptr(g), ptr(y), masked ? 1 : 0, n, h, w, cin, cout, kh, kw, Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2), withBias ? 1 : 0, acc, dTile, pTile, safe);
        simdKernelStats.filterGrad++;
        const heap = s.memory.buffer;
        const all = new Float32Array(heap, acc, kb * c4);
        const dw = new Float32Array(heap, ptr(dwOut), k * cout);
        for (let r = 0; r < k; r++) dw.set(all.subarray(r * c4, r * c4 + cout), r * cout);
        if (withBias) new Float32Array(heap, ptr(dbOut), cout).set(all.subarray(k * c4, k * c4 + cout));
      } finally {
        em._free(scratch);
      }
      return [dwOut, dbOut];
    },
  });
}

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
  registerKernel();
  const attrs: FilterGradAttrs = { filterShape, withBias, masked: y != null };
  const [dw, db] = tf.engine().runKernel(SIMD_FILTER_GRAD, { x, g, y: y ?? g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  if (!withBias) {
    db.dispose();
    return [dw as tf.Tensor4D, null];
  }
  return [dw as tf.Tensor4D, db as tf.Tensor1D];
}
