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
import { type EmscriptenHeap, convModeCall, convOpOfModes, imageSlices, moduleCache, runAccumulated, runImageSlices, simdContext } from './index';
import { type PointwiseShape, instantiatePointwise, pointwiseSupports } from './pointwise';

export const SIMD_CONV1X1_STRIDE2 = 'PlaygroundSimdConv1x1Stride2';

const pointwiseModule = moduleCache((s: PointwiseShape) => `${s.h},${s.w},${s.cin},${s.cout}`, instantiatePointwise);

export const conv1x1Stride2Kernel: tf.KernelConfig = {
  kernelName: SIMD_CONV1X1_STRIDE2,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: b }) => {
    const backend = b as BackendWasm;
    const ctx = simdContext()!;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const { mode, a, b: bIn, n, shape: s } = convModeCall(inputs, attrs);
    const { h, w, cin, cout } = s;
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
    // an accumulator per slice (the kernel writes every entry of its own: no clearing), slice 0's is dW
    runAccumulated(heap, ctx.memory, slices, ptr(dW), cin * cout, (acc) =>
      runImageSlices(kernel, slices, (start, count, i) => [ptr(a), ptr(bIn), acc(i), start, start + count]),
    );
    return dW;
  },
};


/**
 * conv2d(x, filter, 2, 'valid') for a 1×1 filter and even H, W, with its gradient, on the SIMD
 * kernels; null when they are unavailable (not wasm, no SIMD, fewer than 4 channels either way).
 */
export function simdConv1x1Stride2(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  return convOpOfModes(SIMD_CONV1X1_STRIDE2, 1, x, filter, (s, memory, shared) => pointwiseSupports(s) && !!pointwiseModule(s, memory, shared));
}
