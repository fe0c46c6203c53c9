/**
 * Glue for the stride-2 1×1 conv kernels (pointwise.ts) on tfjs's wasm backend, as one registered
 * kernel 'PlaygroundSimdConv1x1Stride2' (tf.profile shows it) in three modes:
 *
 *   forward      x [N, H, W, cin], filter [1, 1, cin, cout]  → y [N, H/2, W/2, cout]
 *   inputGrad    dy [N, H/2, W/2, cout], filter               → dx [N, H, W, cin]
 *   filterGrad   x, dy                                        → dW [1, 1, cin, cout]
 *
 * Images are split among the kernel threads (index.ts); the filter gradient gets an accumulator per
 * slice, summed in slice order, so no result depends on which thread ran what.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type EmscriptenHeap, addSlicesInto, imageSlices, moduleCache, runImageSlices, simdContext } from './index';
import { type PointwiseShape, instantiatePointwise, pointwiseSupports } from './pointwise';

export const SIMD_CONV1X1_STRIDE2 = 'PlaygroundSimdConv1x1Stride2';

type Mode = 'forward' | 'inputGrad' | 'filterGrad';

interface Attrs {
  mode: Mode;
  /** The input's height and width (the input gradient's output size). */
  h: number;
  w: number;
}


const pointwiseModule = moduleCache((s: PointwiseShape) => `${s.h},${s.w},${s.cin},${s.cout}`, instantiatePointwise);

export const conv1x1Stride2Kernel: tf.KernelConfig = {
  kernelName: SIMD_CONV1X1_STRIDE2,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: b }) => {
    const backend = b as BackendWasm;
    const ctx = simdContext()!;
    const { mode, h, w } = attrs as unknown as Attrs;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const a = inputs.a as tf.TensorInfo;
    const bIn = inputs.b as tf.TensorInfo;
    const n = a.shape[0];
    const cin = mode === 'inputGrad' ? bIn.shape[2] : a.shape[3];
    const cout = mode === 'inputGrad' ? a.shape[3] : bIn.shape[3];
    const s: PointwiseShape = { h, w, cin, cout };
    const mod = pointwiseModule(s, ctx.memory, ctx.shared)!;
    const kernel = { module: mod.module, prefix: `pointwise:${h},${w},${cin},${cout}.`, name: mode, local: mod[mode] };
    const { slices } = imageSlices(n, h * w * cin + (h / 2) * (w / 2) * cout);
    if (mode === 'forward') {
      const y = backend.makeOutput([n, h / 2, w / 2, cout], 'float32');
      runImageSlices(kernel, slices, (start, count) => [ptr(a), ptr(bIn), ptr(y), start, start + count]);
      return y;
    }
    const heap = backend.wasm as unknown as EmscriptenHeap;
    if (mode === 'inputGrad') {
      const dx = backend.makeOutput([n, h, w, cin], 'float32');
      const wT = heap._malloc(cin * cout * 4);
      try {
        // Wᵀ [cout, cin]: cin · cout ≤ a few thousand floats, once per call
        const src = new Float32Array(ctx.memory.buffer, ptr(bIn), cin * cout);
        const dst = new Float32Array(ctx.memory.buffer, wT, cin * cout);
        for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) dst[co * cin + ci] = src[ci * cout + co];
        runImageSlices(kernel, slices, (start, count) => [ptr(a), wT, ptr(dx), start, start + count]);
      } finally {
        heap._free(wT);
      }
      return dx;
    }
    const dW = backend.makeOutput([1, 1, cin, cout], 'float32');
    const floats = cin * cout;
    const accBytes = (floats * 4 + 15) & ~15;
    // slice 0 accumulates into dW itself; the kernel writes every entry of its accumulator (no clearing)
    const extra = slices.length > 1 ? heap._malloc(accBytes * (slices.length - 1)) : 0;
    try {
      const acc = (i: number) => (i === 0 ? ptr(dW) : extra + (i - 1) * accBytes);
      runImageSlices(kernel, slices, (start, count, i) => [ptr(a), ptr(bIn), acc(i), start, start + count]);
      if (slices.length > 1) addSlicesInto(ctx.memory, slices.map((_, i) => acc(i)), floats);
    } finally {
      if (extra) heap._free(extra);
    }
    return dW;
  },
};

function runMode(mode: Mode, a: tf.Tensor4D, b: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  return tf.engine().runKernel(SIMD_CONV1X1_STRIDE2, { a, b }, { mode, h, w } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * conv2d(x, filter, 2, 'valid') for a 1×1 filter and even H, W, with its gradient, on the SIMD
 * kernels; null when they are unavailable (not wasm, no SIMD, fewer than 4 channels either way).
 */
export function simdConv1x1Stride2(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  const ctx = simdContext();
  if (!ctx || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const [, h, w, cin] = x.shape;
  const [kh, kw, fi, cout] = filter.shape;
  if (kh !== 1 || kw !== 1 || fi !== cin) return null;
  const s = { h, w, cin, cout };
  if (!pointwiseSupports(s) || !pointwiseModule(s, ctx.memory, ctx.shared)) return null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, wIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: runMode('forward', xIn, wIn, h, w),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        return [runMode('inputGrad', d, ws, h, w), runMode('filterGrad', xs, d, h, w)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}
