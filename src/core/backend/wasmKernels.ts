/**
 * Kernels the SimpleCNN training step needs that @tensorflow/tfjs-backend-wasm 4.22 lacks (and an
 * Identity that does not copy, a row gather and a Slice that reads its input in place, below).
 *
 * Measured in headless Chromium (bench/ "wasm missing kernels"): with Adam or SGD momentum,
 * oneHot + softmaxCrossEntropy, argMax, gather and the relu/bias/matMul gradients, the only
 * kernel missing on wasm is Conv2DBackpropFilter (used by the stock Conv2D gradient for the
 * cases our fast gradient delegates — stride ≠ 1, NCHW — and by tf.fused.conv2d's gradient).
 *
 * It is implemented here with tfjs ops (pad, strided slices, concat, one matMul), all of which
 * wasm has. Ops called inside a kernel are not taped (the engine disables the tape while
 * kernelDepth > 0), and the intermediates are disposed by tidy.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradIm2col } from './convGrad';

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function asTensor(info: tf.TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

/** Conv2DBackpropFilter via im2col; same semantics as tfjs-core's conv2DBackpropFilter op. */
export function conv2dBackpropFilterViaIm2col(
  x4: tf.Tensor4D,
  dy4: tf.Tensor4D,
  attrs: BackpropFilterAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const nchw = attrs.dataFormat === 'NCHW';
    const x = nchw ? tf.transpose(x4, [0, 2, 3, 1]) : x4;
    const dy = nchw ? tf.transpose(dy4, [0, 2, 3, 1]) : dy4;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { top, bottom, left, right } = info.padInfo;
    return conv2dFilterGradIm2col(
      x,
      dy,
      attrs.filterShape,
      [info.strideHeight, info.strideWidth],
      [1, 1],
      { top: Math.max(0, top), bottom: Math.max(0, bottom), left: Math.max(0, left), right: Math.max(0, right) },
    );
  });
}

/** Calls of the fast paths here (tests check they are taken). */
export const wasmKernelStats = { rowGather: 0, heapSlice: 0 };

/**
 * A replacement for a stock wasm kernel: `make(stock)` may call the stock kernel for the cases it does
 * not handle. installKernels (kernels.ts) swaps it in keeping the stock setup/dispose (they bind the
 * stock kernel's wasm function), and puts the stock config back when the kernels are turned off.
 */
export interface WasmKernelOverride {
  name: string;
  make: (stock: tf.KernelConfig) => tf.KernelFunc;
}

/**
 * Identity (tf.clone) without a copy: the output shares the input's buffer, counted by reference, as
 * on the cpu backend (tensors are immutable; wasm's Reshape shares buffers the same way). Why: the
 * engine clones every tensor a gradient saves, and tfjs-backend-wasm 4.22's Identity copies it —
 * 35 copies of activations per ConvNet-3 training step (~1.5 ms at batch 64).
 */
const sharedIdentity: WasmKernelOverride = {
  name: 'Identity',
  make: (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return stock.kernelFunc(args);
    (args.backend as tf.KernelBackend & { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * GatherV2 along axis 0 (the training loop's batch: rows of the data set by shuffled index) as one
 * typed-array copy per row. Why: tfjs-backend-wasm 4.22's gather computes every element's source
 * index on its own — 5.7 ms for 64 CIFAR images in headless Chromium, a fifth of a ConvNet-3 step;
 * the row copies take ~0.1 ms. Any other case (another axis, batchDims, an index out of range,
 * strings) goes to the stock kernel, which also reports bad indices.
 */
const rowGather: WasmKernelOverride = {
  name: 'GatherV2',
  make: (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const indices = args.inputs.indices as tf.TensorInfo;
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    const rows = x.shape[0] ?? 0;
    const plain = x.shape.length >= 1 && (axis === 0 || axis === -x.shape.length) && !batchDims && indices.dtype === 'int32' && (x.dtype === 'float32' || x.dtype === 'int32');
    if (!plain || rows === 0) return stock.kernelFunc(args);
    const backend = args.backend as unknown as HeapBackend;
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < idx.length; i++) if (!(idx[i] >= 0 && idx[i] < rows)) return stock.kernelFunc(args);
    const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    wasmKernelStats.rowGather++;
    // Views after the allocation: growing the heap may replace its buffer.
    const [src, dst, at] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(indices)];
    for (let i = 0; i < at.length; i++) dst.set(src.subarray(at[i] * rowSize, (at[i] + 1) * rowSize), i * rowSize);
    return out;
  },
};

/**
 * Slice reading its input in place. Why: tfjs-backend-wasm 4.22's Slice first copies the WHOLE input
 * out of the wasm heap into a fresh JavaScript array (backend.readSync), then slices that copy
 * element by element. ResNet-20's 1×1 stride-2 shortcuts read the even pixels of a 4 MB and a 2 MB
 * activation with one slice each (net.ts evenPixels), and the shortcut's filter gradient slices
 * again: ~7.5 MB of fresh JavaScript memory per training step — about 1,900 page faults (Node,
 * perf record -e minor-faults), and Slice ×4 at 11 ms of a step in the bench's SGD row; evaluation's
 * chunks of the test set copied 12 MB per 250 images of the 1,000 (a quarter of a slider preview's
 * evaluation in a CPU profile of the engine worker; 120 MB per chunk of the full 10,000). Here the
 * input is a view of the heap and the output is copied in runs of its contiguous innermost block.
 * Strings and other dtypes go to the stock kernel (bool is one byte per element on the heap, like its view).
 */
const heapSlice: WasmKernelOverride = {
  name: 'Slice',
  make: (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') || x.shape.length === 0) return stock.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput(sz, x.dtype);
    wasmKernelStats.heapSlice++;
    if (sz.some((d) => d === 0)) return out;
    // Views after the allocation: growing the heap may replace its buffer.
    const [src, dst] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
    const rank = x.shape.length;
    const strides = [...tf.util.computeStrides(x.shape), 1];
    // The innermost axes taken whole, plus the next one: each output run is contiguous in the input.
    let inner = rank - 1;
    while (inner > 0 && sz[inner] === x.shape[inner]) inner--;
    const run = sz.slice(inner).reduce((p, d) => p * d, 1);
    // Runs along the axis before `inner` step by its stride (a tight loop); the axes before that
    // are counted by an odometer (ResNet-20's even-pixel slice: 1,024 × 16 runs of 16 floats).
    const mid = inner - 1; // −1: a single run
    const midCount = mid >= 0 ? sz[mid] : 1;
    const midStride = mid >= 0 ? strides[mid] : 0;
    const outer = dst.length / (run * midCount);
    const idx = new Array<number>(Math.max(0, mid)).fill(0);
    let at = 0;
    for (let o = 0; o < outer; o++) {
      let from = b[inner] * strides[inner] + (mid >= 0 ? b[mid] * midStride : 0);
      for (let a = 0; a < mid; a++) from += (b[a] + idx[a]) * strides[a];
      for (let m = 0; m < midCount; m++, from += midStride, at += run) {
        if (run >= 64) dst.set(src.subarray(from, from + run), at);
        else for (let k = 0; k < run; k++) dst[at + k] = src[from + k];
      }
      for (let a = mid - 1; a >= 0 && ++idx[a] === sz[a]; a--) idx[a] = 0;
    }
    return out;
  },
};

/** The stock wasm kernels installKernels replaces. */
export const wasmKernelOverrides = (): WasmKernelOverride[] => [sharedIdentity, rowGather, heapSlice];

/**
 * Registers Conv2DBackpropFilter for 'wasm' when tfjs lacks it (4.22 does: without it no conv layer
 * trains on wasm, stock gradients included). Built from public tfjs ops only, so it stays when the
 * custom kernels are off. Idempotent; safe before or after the backend starts. Returns what it registered (now or before).
 */
let filled = false;

export function registerMissingWasmKernels(): string[] {
  if (filled) return ['Conv2DBackpropFilter'];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return [];
  filled = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const x = asTensor(inputs.x as tf.TensorInfo) as tf.Tensor4D;
      const dy = asTensor(inputs.dy as tf.TensorInfo) as tf.Tensor4D;
      const out = conv2dBackpropFilterViaIm2col(x, dy, attrs as unknown as BackpropFilterAttrs);
      // Wrappers made for bare TensorInfos hold a reference; release it.
      if (x !== inputs.x) x.dispose();
      if (dy !== inputs.dy) dy.dispose();
      return out;
    },
  });
  return ['Conv2DBackpropFilter'];
}
