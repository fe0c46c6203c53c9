/**
 * Glue for the stride-2 3×3 conv kernels (strided3x3.ts) on tfjs's wasm backend, as one registered
 * kernel 'PlaygroundSimdConv3x3Stride2' (tf.profile shows it) in three modes:
 *
 *   forward      x [N, H, W, cin], filter [3, 3, cin, cout]  → y [N, H/2, W/2, cout]
 *   inputGrad    dy [N, H/2, W/2, cout], filter               → dx [N, H, W, cin]
 *   filterGrad   x, dy                                        → dW [3, 3, cin, cout]
 *
 * PyTorch's padding 1 (rows 2i − 1 … 2i + 1 of the input). Images are split among the kernel threads
 * (index.ts), each with its own scratch image; the filter gradient gets an accumulator per slice,
 * summed in slice order, so no result depends on which thread ran what.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type EmscriptenHeap, convModeCall, convOpOfModes, imageSlices, moduleCache, runAccumulated, runImageSlices, simdContext } from './index';
import { type Strided3x3Shape, instantiateStrided3x3, phaseMatrices, strided3x3Layout, strided3x3Supports } from './strided3x3';

export const SIMD_CONV3X3_STRIDE2 = 'PlaygroundSimdConv3x3Stride2';

const strided3x3Module = moduleCache((s: Strided3x3Shape) => `${s.h},${s.w},${s.cin},${s.cout}`, instantiateStrided3x3);

export const conv3x3Stride2Kernel: tf.KernelConfig = {
  kernelName: SIMD_CONV3X3_STRIDE2,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend: b }) => {
    const backend = b as BackendWasm;
    const ctx = simdContext()!;
    const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const { mode, a, b: bIn, n, shape: s } = convModeCall(inputs, attrs);
    const { h, w, cin, cout } = s;
    const mod = strided3x3Module(s, ctx.memory, ctx.shared)!;
    const kernel = { module: mod.module, prefix: `strided3x3:${h},${w},${cin},${cout}.`, name: mode, local: mod[mode] };
    const { slices, threads } = imageSlices(n, h * w * cin + (h / 2) * (w / 2) * cout);
    const heap = backend.wasm as unknown as EmscriptenHeap;
    if (mode !== 'filterGrad') {
      const out = mode === 'forward' ? backend.makeOutput([n, h / 2, w / 2, cout], 'float32') : backend.makeOutput([n, h, w, cin], 'float32');
      const scratchBytes = strided3x3Layout(s).scratchBytes;
      const matrixBytes = mode === 'inputGrad' ? (9 * cin * cout * 4 + 15) & ~15 : 0;
      const block = heap._malloc(matrixBytes + scratchBytes * threads + 16);
      try {
        const m = (block + 15) & ~15;
        const scratch = (t: number) => m + matrixBytes + t * scratchBytes;
        // the input gradient's transposed taps in the order its reductions read them (9 · cin · cout floats, once per call)
        if (mode === 'inputGrad') phaseMatrices(new Float32Array(ctx.memory.buffer, ptr(bIn), 9 * cin * cout), cin, cout, new Float32Array(ctx.memory.buffer, m, 9 * cin * cout));
        const weights = mode === 'forward' ? ptr(bIn) : m;
        runImageSlices(
          kernel,
          slices,
          (start, count) => [ptr(a), weights, ptr(out), start, start + count, scratch(0)],
          undefined,
          (t) => [[5, scratch(t)]],
        );
      } finally {
        heap._free(block);
      }
      return out;
    }
    const dW = backend.makeOutput([3, 3, cin, cout], 'float32');
    // an accumulator per slice (the kernel zeroes its accumulator first), slice 0's is dW
    runAccumulated(heap, ctx.memory, slices, ptr(dW), 9 * cin * cout, (acc) =>
      runImageSlices(kernel, slices, (start, count, i) => [ptr(a), ptr(bIn), acc(i), start, start + count]),
    );
    return dW;
  },
};


/**
 * conv2d(x, filter, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]) for a 3×3 filter and even H, W, with its
 * gradient, on the SIMD kernels; null when they are unavailable (not wasm, no SIMD, fewer than 4 channels either way).
 */
export function simdConv3x3Stride2(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  return convOpOfModes(SIMD_CONV3X3_STRIDE2, 3, x, filter, (s, memory, shared) => strided3x3Supports(s) && !!strided3x3Module(s, memory, shared));
}
