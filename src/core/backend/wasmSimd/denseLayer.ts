/**
 * Glue for the dense kernel (dense.ts) on tfjs's wasm backend:
 *
 *   simdDense(a, W, b)     tf.add(tf.matMul(a, W), b) for W [F, O], 4 ≤ O ≤ 16 — evaluation only (no gradient)
 *
 * Runs as the registered wasm kernel 'PlaygroundSimdDense' (tf.profile shows it), its images split
 * with the SIMD helper thread as the convolutions are; null when unavailable (other backends, the
 * custom kernels off, an unsupported shape): callers then use tfjs's ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { finerSlices } from './conv3x3';
import { DENSE_MAX_OUT, DENSE_MIN_OUT, type DenseModule, instantiateDense } from './dense';
import { imageSlices, runImageSlices, simdContext } from './index';

export const SIMD_DENSE = 'PlaygroundSimdDense';

const modules = new WeakMap<WebAssembly.Memory, Map<number, DenseModule | null>>();

function denseModule(outputs: number, memory: WebAssembly.Memory, shared: boolean): DenseModule | null {
  let byOut = modules.get(memory);
  if (!byOut) modules.set(memory, (byOut = new Map()));
  if (!byOut.has(outputs)) {
    try {
      byOut.set(outputs, instantiateDense(outputs, memory, shared));
    } catch {
      byOut.set(outputs, null);
    }
  }
  return byOut.get(outputs)!;
}

/** Calls (tests check the path is taken). */
export const denseStats = { calls: 0 };

/**
 * Modules that have run once: a new module's first call runs in V8's baseline tier to its end, so it
 * is cut into pieces of a few images (as conv3x3.ts does; each image's outputs are computed alone).
 */
const warmed = new WeakSet<DenseModule>();
const FIRST_CALL_IMAGES = 8;

/** The registered wasm kernel (installKernels, ../kernels.ts, registers it). */
export const denseKernel: tf.KernelConfig = {
  kernelName: SIMD_DENSE,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend: bk }) => {
    const backend = bk as BackendWasm;
    const ctx = simdContext()!;
    const a = inputs.a as tf.TensorInfo;
    const w = inputs.w as tf.TensorInfo;
    const bias = inputs.bias as tf.TensorInfo;
    const [n, features] = a.shape;
    const outputs = w.shape[1];
    const mod = denseModule(outputs, ctx.memory, ctx.shared)!;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const y = backend.makeOutput([n, outputs], 'float32');
    const { slices } = imageSlices(n, features);
    const jobs = warmed.has(mod) ? [slices] : finerSlices(slices, FIRST_CALL_IMAGES);
    warmed.add(mod);
    for (const job of jobs)
      runImageSlices({ module: mod.module, prefix: `dense:${outputs}.`, name: 'dense', local: mod.dense }, job, (start, count) => [ptr(a), ptr(w), ptr(bias), ptr(y), features, start, start + count]);
    denseStats.calls++;
    return y;
  },
};

/**
 * a·W + b (a [N, F], W [F, O], b [O]) on the wasm backend's SIMD kernel, for evaluation (the op has
 * no gradient); null when unavailable.
 */
export function simdDense(a: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D | null {
  const ctx = simdContext();
  if (!ctx || a.dtype !== 'float32' || w.dtype !== 'float32' || bias.dtype !== 'float32') return null;
  const outputs = w.shape[1];
  if (outputs < DENSE_MIN_OUT || outputs > DENSE_MAX_OUT || a.shape[1] !== w.shape[0] || bias.shape[0] !== outputs || a.shape[0] === 0) return null;
  if (!denseModule(outputs, ctx.memory, ctx.shared)) return null;
  return tf.engine().runKernel(SIMD_DENSE, { a, w, bias }) as tf.Tensor2D;
}
