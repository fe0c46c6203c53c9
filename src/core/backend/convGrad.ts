/**
 * A faster gradient for Conv2D (stride 1, NHWC, 'same'/'valid' padding, no dilation).
 *
 * The stock filter gradient (Conv2DBackpropFilter) was measured to be the slowest kernel of a
 * SimpleCNN training step on cpu, webgl and wasm alike, and the wasm backend does not implement
 * it at all. Here it is rewritten as im2col + one matMul:
 *
 *   patches[n·h·w, (i·kw + j)·in + c] = xPadded[n, h + i, w + j, c]
 *   dW[(i·kw + j)·in + c, o]          = Σ_{n,h,w} patches[n·h·w, ·] · dy[n·h·w, o]
 *
 * which reshapes directly to the [kh, kw, in, out] filter layout. The input gradient is
 * conv2dTranspose(dy, W), i.e. the backend's own Conv2DBackpropInput kernel.
 *
 * Anything else (stride ≠ 1, dilation ≠ 1, NCHW, explicit padding lists, …) is delegated to the
 * stock gradient captured from tf.getGradient('Conv2D') before the override.
 */
import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from './matMulGrad';
import { wasmConvFilterGrad } from './wasmSimd';

/**
 * How the filter gradient is computed.
 * - 'im2col': concat the kh·kw shifted slices along channels → [N·H·W, kh·kw·in], then
 *   matMul(patches, dy, transposeA=true).
 * - 'im2colT': same matrix built already transposed ([kh·kw·in, N·H·W], from x transposed to
 *   [in, N, H, W], which is cheap because `in` is small), so the matMul needs no transpose.
 * - 'perPosition': one matMul per kernel position (kh·kw of them) over shifted slices, stacked.
 */
export type FilterGradVariant = 'im2col' | 'im2colT' | 'perPosition';

/** Chosen from browser measurements (bench/ "conv filter-gradient variants"); see README Performance. */
export const DEFAULT_FILTER_GRAD_VARIANT: FilterGradVariant = 'im2colT';

let stockConfig: tf.GradConfig | null = null;
let activeVariant: FilterGradVariant | null = null;

/** Counts how often the fast path / the stock fallback ran (for tests and the bench). */
export const convGradStats = { fast: 0, delegated: 0 };

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | unknown;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: string;
}

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v == null) return [1, 1];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Pads (top, bottom, left, right) TensorFlow uses at stride 1 for 'same' / 'valid'. */
function stride1Padding(kh: number, kw: number, pad: 'same' | 'valid'): [[number, number], [number, number]] {
  if (pad === 'valid') return [[0, 0], [0, 0]];
  const ph = kh - 1;
  const pw = kw - 1;
  const top = Math.floor(ph / 2);
  const left = Math.floor(pw / 2);
  return [[top, ph - top], [left, pw - left]];
}

export interface PadInfo {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Filter gradient of an NHWC convolution by im2col + one matMul (or one per kernel position).
 * x: [N, H, W, in], dy: [N, outH, outW, out], returns [kh, kw, in, out]. Any stride/dilation;
 * `pad` is the explicit padding the forward convolution used.
 */
export function conv2dFilterGradIm2col(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  dilations: [number, number],
  pad: PadInfo,
  variant: FilterGradVariant = activeVariant ?? DEFAULT_FILTER_GRAD_VARIANT,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, inC, outC] = filterShape;
    const n = x.shape[0];
    const [, outH, outW] = dy.shape;
    const [sh, sw] = strides;
    const [dh, dw] = dilations;
    const padded = pad.top + pad.bottom + pad.left + pad.right > 0;
    const rows = n * outH * outW;
    const dy2 = tf.reshape(dy, [rows, outC]) as tf.Tensor2D;
    const unit = sh === 1 && sw === 1;
    // Window of kernel position (i, j) along the two spatial axes at `axis`, `axis + 1`.
    const window = (t: tf.Tensor4D, axis: 1 | 2, i: number, j: number, lead: number, last: number): tf.Tensor4D => {
      const begin = axis === 1 ? [0, i * dh, j * dw, 0] : [0, 0, i * dh, j * dw];
      const size = axis === 1 ? [lead, outH, outW, last] : [lead, last, outH, outW];
      if (unit) return tf.slice(t, begin, size);
      const end = begin.map((b, k) => (k === axis ? b + sh * (outH - 1) + 1 : k === axis + 1 ? b + sw * (outW - 1) + 1 : size[k]));
      const st = axis === 1 ? [1, sh, sw, 1] : [1, 1, sh, sw];
      return tf.stridedSlice(t, begin, end, st) as tf.Tensor4D;
    };
    if (variant === 'im2colT') {
      // [in, N, H+p, W+p]; windows over the two trailing spatial axes, concatenated along
      // axis 0, give row index (i·kw + j)·in + c — the [kh, kw, in] order of the filter.
      const xt = tf.transpose(x, [3, 0, 1, 2]);
      const xp = padded ? tf.pad(xt, [[0, 0], [0, 0], [pad.top, pad.bottom], [pad.left, pad.right]]) : xt;
      const parts: tf.Tensor4D[] = [];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(window(xp, 2, i, j, inC, n));
      const patchesT = tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 0), [kh * kw * inC, rows]);
      return tf.reshape(tf.matMul(patchesT, dy2), filterShape);
    }
    const xp = padded ? tf.pad(x, [[0, 0], [pad.top, pad.bottom], [pad.left, pad.right], [0, 0]]) : x;
    if (variant === 'im2col') {
      // Channel index of the concatenation is (i·kw + j)·in + c.
      const parts: tf.Tensor4D[] = [];
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(window(xp, 1, i, j, n, inC));
      const patches = tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 3), [rows, kh * kw * inC]);
      // On wasm a transposed matMul operand is slow; fastMatMul rewrites it (see matMulGrad.ts).
      const dw = tf.getBackend() === 'wasm' ? fastMatMul(patches as tf.Tensor2D, dy2, true, false) : tf.matMul(patches, dy2, true, false);
      return tf.reshape(dw, filterShape);
    }
    // perPosition: kh·kw matMuls [in, rows]·[rows, out], stacked in (i, j) order.
    const blocks: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const s = tf.reshape(window(xp, 1, i, j, n, inC), [rows, inC]);
        blocks.push(tf.matMul(s, dy2, true, false));
      }
    }
    return tf.reshape(blocks.length === 1 ? blocks[0] : tf.concat(blocks, 0), filterShape);
  });
}

/** Filter gradient of a stride-1, dilation-1 NHWC convolution with 'same' / 'valid' padding. */
export function conv2dFilterGradStride1(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  pad: 'same' | 'valid',
  variant?: FilterGradVariant,
): tf.Tensor4D {
  const [[top, bottom], [left, right]] = stride1Padding(filterShape[0], filterShape[1], pad);
  return conv2dFilterGradIm2col(x, dy, filterShape, [1, 1], [1, 1], { top, bottom, left, right }, variant);
}

/**
 * Input gradient of a stride-1, dilation-1 NHWC conv2d ('same' or 'valid'): a forward conv2d of
 * dy with the filter flipped in space and its in/out channels swapped, padded by the mirror of the
 * forward padding (the "full" padding for 'valid'). On wasm this runs on XNNPACK's convolution;
 * the backend's Conv2DBackpropInput there is a plain loop (~20× slower at ConvNet-3's shapes).
 */
export function conv2dInputGradStride1(dy: tf.Tensor4D, filter: tf.Tensor4D, pad: 'same' | 'valid'): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [[top, bottom], [left, right]] = stride1Padding(kh, kw, pad);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const pt = kh - 1 - top;
    const pb = kh - 1 - bottom;
    const pl = kw - 1 - left;
    const pr = kw - 1 - right;
    // 'same' with symmetric padding is the conv's own 'same'; otherwise explicit (mirrored) padding.
    if (pad === 'same' && pt === pb && pl === pr) return tf.conv2d(dy, flipped, 1, 'same');
    return tf.conv2d(dy, flipped, 1, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  });
}

/**
 * Filter gradient of a stride-1 'same' conv (im2colT: the patch matrix built transposed) with,
 * optionally, the bias gradient folded into the same matMul: a row of ones appended to the patch
 * matrix makes the last output row Σ dz over N·H·W. Returns [dW, db or null].
 */
export function filterGradWithBias(
  x: tf.Tensor4D,
  dz: tf.Tensor4D,
  filterShape: [number, number, number, number],
  withBias: boolean,
): [tf.Tensor4D, tf.Tensor1D | null] {
  const res = tf.tidy((): tf.Tensor[] => {
    const [kh, kw, inC, outC] = filterShape;
    const [n, h, w] = dz.shape;
    const rows = n * h * w;
    const [[top, bottom], [left, right]] = stride1Padding(kh, kw, 'same');
    const xt = tf.transpose(x, [3, 0, 1, 2]);
    const xp = top + bottom + left + right > 0 ? tf.pad(xt, [[0, 0], [0, 0], [top, bottom], [left, right]]) : xt;
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(tf.reshape(tf.slice(xp, [0, 0, i, j], [inC, n, h, w]), [inC, rows]));
    if (withBias) parts.push(tf.ones([1, rows]));
    const patchesT = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    const out = tf.matMul(patchesT as tf.Tensor2D, tf.reshape(dz, [rows, outC]) as tf.Tensor2D);
    const k = kh * kw * inC;
    if (!withBias) return [tf.reshape(out, filterShape)];
    const dW = tf.reshape(tf.slice(out, [0, 0], [k, outC]), filterShape) as tf.Tensor4D;
    const db = tf.reshape(tf.slice(out, [k, 0], [1, outC]), [outC]) as tf.Tensor1D;
    return [dW, db];
  });
  return [res[0] as tf.Tensor4D, (res[1] as tf.Tensor1D | undefined) ?? null];
}

function handles(x: tf.Tensor, attrs: Conv2DAttrs): attrs is Conv2DAttrs & { pad: 'same' | 'valid' } {
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations);
  return (
    x.rank === 4 &&
    (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    sh === 1 &&
    sw === 1 &&
    dh === 1 &&
    dw === 1 &&
    (attrs.pad === 'same' || attrs.pad === 'valid') &&
    x.dtype === 'float32'
  );
}

/**
 * Overrides the Conv2D gradient. Idempotent: repeated calls keep the original stock config as
 * the fallback; a different `variant` switches the filter-gradient algorithm.
 */
export function registerFastConv2dGradient(variant: FilterGradVariant = DEFAULT_FILTER_GRAD_VARIANT): void {
  activeVariant = variant;
  if (stockConfig) return;
  const stock = tf.getGradient('Conv2D');
  if (!stock) throw new Error('registerFastConv2dGradient: no stock Conv2D gradient registered');
  stockConfig = stock;
  const config: tf.GradConfig = {
    kernelName: 'Conv2D',
    inputsToSave: stock.inputsToSave ?? ['x', 'filter'],
    outputsToSave: stock.outputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as Conv2DAttrs;
      if (!handles(x, a)) {
        convGradStats.delegated++;
        return stock.gradFunc(dy, saved, attrs);
      }
      convGradStats.fast++;
      const dy4 = dy as tf.Tensor4D;
      return {
        x: () => conv2dInputGradStride1(dy4, filter, a.pad),
        filter: () => {
          const shape = filter.shape as [number, number, number, number];
          // wasm: the SIMD kernel streams dy once (no im2col slices, concat or pad).
          const simd = a.pad === 'same' ? wasmConvFilterGrad(x, dy4, null, shape, false) : null;
          return simd ? simd[0] : conv2dFilterGradStride1(x, dy4, shape, a.pad);
        },
      };
    },
  };
  tf.registerGradient(config);
}

/** Restores the stock gradient (tests, A/B benchmarks). */
export function unregisterFastConv2dGradient(): void {
  if (!stockConfig) return;
  tf.registerGradient(stockConfig);
  stockConfig = null;
  activeVariant = null;
}

export function fastConv2dGradientVariant(): FilterGradVariant | null {
  return stockConfig ? activeVariant : null;
}
