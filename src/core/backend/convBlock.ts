/**
 * The training graph's conv blocks as single taped ops with hand-written gradients:
 *
 *   conv2dSame(x, W)              = conv2d(x, W, stride 1, 'same')
 *   convBiasRelu(x, W, b?)        = relu(conv2d(x, W, stride 1, 'same') + b)
 *   batchNormRelu(z, γ, β, eps, pool) = [maxPool₂](relu(γ·(z − μ)/√(σ² + eps) + β)), μ, σ² the batch's (NHWC, per channel)
 *
 * Why (measured per kernel in the bench, wasm, batch 64; see README Performance):
 * - tf.fused.conv2d's gradient always computes the input gradient, with Conv2DBackpropInput, which on
 *   wasm is a plain loop (55 ms for ConvNet-3's conv3 at b64) — here the input gradient is a forward
 *   conv2d of dz with the flipped filter (XNNPACK, ~2.5 ms), and it is only computed when the tape
 *   asks for it: tfjs prunes inputs that do not lead to a variable, so the first layer (its input is
 *   data) gets none.
 * - the bias gradient is folded into the filter-gradient matMul (a row of ones appended to the
 *   im2col matrix) instead of a Sum over N·H·W, which wasm does slowly for a non-last axis.
 * - tf.batchNorm's gradient tiles γ/√(σ²+eps) to the full activation shape (wasm Tile: ~30 ms per
 *   layer); here every per-channel factor broadcasts, and the two per-channel sums of the backward
 *   pass are one matMul.
 *
 * - on wasm, 3×3 convs run as Winograd SIMD kernels (wasmSimd/winograd*.ts): the forward and input
 *   gradient F(4×4, 3×3), the filter gradient F(3×3, 4×4) where H and W are multiples of 4 (36
 *   multiplies per 4×4 tile instead of 144), else F(2×2, 3×3) / F(3×3, 2×2) (16 per 2×2 tile instead of 36).
 *
 * All are registered kernels (one per backend, running tfjs ops inside) with registered
 * gradients, so the tape sees one node per block. Results agree with the stock ops to float noise
 * (src/core/backend/convBlock.test.ts checks values and gradients against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dInputGradStride1, filterGradWithBias } from './convGrad';
import { type BnGradMode, isSimdReluOutput, simdAffine, simdBatchNorm, simdBatchNormGrad, simdBatchNormRelu, simdBatchNormReluGrad, wasmConvFilterGrad } from './wasmSimd';
import { simdConv3x3, simdConv3x3InputGrad } from './wasmSimd/conv3x3';
import { simdConv1x1Stride2 } from './wasmSimd/conv1x1Stride2';
import { simdConv3x3Stride2 } from './wasmSimd/conv3x3Stride2';
import { winogradFilterGrad, winogradFilterGradWithBias } from './wasmSimd/convFilterGrad3x3';

export const CONV_BIAS_RELU = 'PlaygroundConvBiasRelu';
export const CONV_SAME = 'PlaygroundConvSame';
export const BATCH_NORM_RELU = 'PlaygroundBatchNormRelu';
/** The customGrad scope around BATCH_NORM_RELU: its name in tf.profile (where it wraps that kernel). */
export const BATCH_NORM_RELU_TAPED = 'PlaygroundBatchNormReluTaped';
/** BatchNorm (batch statistics) with no ReLU of its own, or followed by an add and a ReLU (ResNet's). */
export const BATCH_NORM_ADD = 'PlaygroundBatchNormAdd';
export const BATCH_NORM_ADD_TAPED = 'PlaygroundBatchNormAddTaped';
const BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu'];

function asTensor<T extends tf.Tensor>(info: tf.TensorInfo): { t: T; wrapped: boolean } {
  if (info instanceof tf.Tensor) return { t: info as T, wrapped: false };
  return { t: tf.engine().makeTensorFromTensorInfo(info) as T, wrapped: true };
}

/** Runs f on Tensor views of the kernel's inputs, releasing the wrappers made for bare TensorInfos. */
function withTensors<R>(infos: Array<tf.TensorInfo | undefined>, f: (ts: Array<tf.Tensor | undefined>) => R): R {
  const views = infos.map((i) => (i ? asTensor(i) : undefined));
  try {
    return f(views.map((v) => v?.t));
  } finally {
    for (const v of views) if (v?.wrapped) v.t.dispose();
  }
}

/** How often the input gradient ran (tests check that a data input gets none). */
export const convBlockStats = { inputGrads: 0, stride2: 0, stride2Direct: 0, pointwiseStride2: 0 };

/**
 * ∂L/∂x of conv2d(x, W, 1, 'same') from dz: wasm's Winograd kernel for 3×3 filters (flip and
 * in/out swap done in its filter transform), else a forward conv with the flipped filter.
 */
function convInputGrad(dz: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  convBlockStats.inputGrads++;
  return simdConv3x3InputGrad(dz, filter) ?? conv2dInputGradStride1(dz, filter, 'same');
}

/**
 * [∂L/∂W, ∂L/∂b or null] of a stride-1 'same' conv from g, masked by y > 0 when `y` is given (a ReLU
 * after the conv). wasm: Winograd F(3×3, 4×4) or F(3×3, 2×2) for 3×3 filters, else the direct SIMD kernel (both
 * apply the mask themselves); other backends: one im2col matMul of dz() — the masked g, which the
 * caller may share with the input gradient.
 */
function convFilterGrad(
  x: tf.Tensor4D,
  g: tf.Tensor4D,
  y: tf.Tensor4D | null,
  dz: () => tf.Tensor4D,
  shape: [number, number, number, number],
  withBias: boolean,
): [tf.Tensor4D, tf.Tensor1D | null] {
  const winograd = withBias ? winogradFilterGradWithBias(x, g, y) : winogradFilterGrad(x, g, y);
  if (winograd) return Array.isArray(winograd) ? winograd : [winograd, null];
  return wasmConvFilterGrad(x, g, y, shape, withBias) ?? filterGradWithBias(x, dz(), shape, withBias);
}

/** Off until installKernels (kernels.ts) turns the custom kernels on: the functions below then run stock tfjs ops. */
let installed = false;

/** installKernels' switch. */
export function setConvBlocksInstalled(on: boolean): void {
  installed = on;
  if (on) registerConvBlockGradients();
}

/** The three ops' kernels, one per backend (installKernels registers them). */
export function convBlockKernels(): tf.KernelConfig[] {
  return BACKENDS.flatMap((backendName): tf.KernelConfig[] => [
    {
      kernelName: CONV_BIAS_RELU,
      backendName,
      kernelFunc: ({ inputs }) =>
        withTensors(
          [inputs.x, inputs.filter, inputs.bias],
          ([x, filter, bias]) =>
            simdConv3x3(x as tf.Tensor4D, filter as tf.Tensor4D, bias as tf.Tensor1D | undefined, true) ??
            tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 1, pad: 'same', activation: 'relu' }),
        ),
    },
    {
      kernelName: CONV_SAME,
      backendName,
      kernelFunc: ({ inputs }) =>
        withTensors([inputs.x, inputs.filter], ([x, filter]) => simdConv3x3(x as tf.Tensor4D, filter as tf.Tensor4D) ?? tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same')),
    },
    {
      kernelName: BATCH_NORM_RELU,
      backendName,
      kernelFunc: ({ inputs, attrs }) =>
        withTensors([inputs.z, inputs.gamma, inputs.beta], ([z, gamma, beta]) => {
          const { eps, pool } = attrs as unknown as BnAttrs;
          return (
            simdBatchNormRelu(z as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps, pool) ??
            batchNormReluForward(z as tf.Tensor4D, gamma!, beta!, eps, pool)
          );
        }),
    },
    {
      kernelName: BATCH_NORM_ADD,
      backendName,
      kernelFunc: ({ inputs, attrs }) =>
        withTensors([inputs.z, inputs.gamma, inputs.beta, inputs.residual], ([z, gamma, beta, residual]) => {
          const { eps, relu } = attrs as unknown as BnAddAttrs;
          const r = (residual as tf.Tensor4D | undefined) ?? null;
          return (
            simdBatchNorm(z as tf.Tensor4D, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps, r, relu) ??
            batchNormAddForward(z as tf.Tensor4D, gamma!, beta!, eps, r, relu)
          );
        }),
    },
  ]);
}

let gradientsRegistered = false;

/** The ops' gradients (registered once: tfjs cannot unregister a gradient, and one of a kernel that never runs does nothing). */
function registerConvBlockGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: CONV_BIAS_RELU,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      // Everything made here lives in the tape's 'backward' scope: disposed when backprop ends.
      const shape = filter.shape as [number, number, number, number];
      // dz = dy masked by the ReLU, made at most once (the SIMD filter gradients mask on the fly).
      let dz: tf.Tensor4D | null = null;
      const dzOf = () => (dz ??= tf.mul(dy as tf.Tensor4D, tf.step(y)) as tf.Tensor4D);
      const [dW, db] = convFilterGrad(x, dy as tf.Tensor4D, y, dzOf, shape, true);
      const x2 = () => convInputGrad(dzOf(), filter);
      return { x: x2, filter: () => dW, bias: () => db! };
    },
  });
  tf.registerGradient({
    kernelName: CONV_SAME,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const shape = filter.shape as [number, number, number, number];
      const g = dy as tf.Tensor4D;
      return { x: () => convInputGrad(g, filter), filter: () => convFilterGrad(x, g, null, () => g, shape, false)[0] };
    },
  });
}

/**
 * BatchNorm + ReLU [+ pool]'s backward pass from the forward's saved tensors (z, γ, out, μ, rstd, y).
 * wasm: two SIMD passes with the pool (the per-channel sums over the pooled size, dz), three without.
 */
function batchNormReluGrad(dOut: tf.Tensor4D, saved: tf.Tensor[], pool: boolean): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  const [z, gamma, out, mean, rstd, y, beta] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D | undefined];
  const simd = simdBatchNormReluGrad(dOut, z, gamma, mean, rstd, y, pool, beta);
  if (simd) return simd as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  // The wasm forward saved its pool record, not y: only its own backward reads that.
  if (y.size !== z.size) throw new Error('BatchNorm backward: the SIMD kernels ran the forward pass but are unavailable now');
  const c = z.shape[3];
  const m = z.size / c;
  const dy = pool
    ? (tf.engine().runKernel('MaxPoolGrad', { dy: dOut, input: y, output: out }, { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : dOut;
  const du = tf.reshape(tf.mul(dy, tf.step(y)), [m, c]) as tf.Tensor2D;
  const xhat = tf.reshape(tf.mul(tf.sub(z, mean), rstd), [m, c]) as tf.Tensor2D;
  // [Σ du, Σ du·x̂] per channel in one matMul: ones[1, m] · [du | du·x̂][m, 2c].
  const sums = tf.reshape(tf.matMul(tf.ones([1, m]), tf.concat([du, tf.mul(du, xhat)], 1)), [2, c]);
  const dBeta = tf.reshape(tf.slice(sums, [0, 0], [1, c]), [c]) as tf.Tensor1D;
  const dGamma = tf.reshape(tf.slice(sums, [1, 0], [1, c]), [c]) as tf.Tensor1D;
  const a = tf.mul(gamma, rstd); // γ/σ
  // dz = γ/σ · (du − Σdu/m − x̂·Σ(du·x̂)/m)
  const dz = tf.reshape(tf.mul(tf.sub(tf.sub(du, tf.div(dBeta, m)), tf.mul(xhat, tf.div(dGamma, m))), a), z.shape) as tf.Tensor4D;
  return [dz, dGamma, dBeta];
}

interface BnAttrs {
  eps: number;
  pool: boolean;
}

interface BnAddAttrs {
  eps: number;
  relu: boolean;
}

/** A batch's per-channel statistics of NHWC z (call inside a tidy): z − μ as [N·H·W, C], μ, biased variance, 1/√(var + eps). */
function batchStats(z: tf.Tensor4D, eps: number): { centred: tf.Tensor2D; mean: tf.Tensor1D; variance: tf.Tensor1D; rstd: tf.Tensor1D } {
  const c = z.shape[3];
  const m = z.size / c;
  const z2 = tf.reshape(z, [m, c]);
  // Column sums as one matMul (a Sum over a non-last axis is slow on wasm).
  const ones = tf.ones([1, m]);
  const mean = tf.reshape(tf.div(tf.matMul(ones, z2), m), [c]) as tf.Tensor1D;
  const centred = tf.sub(z2, mean) as tf.Tensor2D;
  const variance = tf.reshape(tf.div(tf.matMul(ones, tf.square(centred)), m), [c]) as tf.Tensor1D;
  return { centred, mean, variance, rstd: tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D };
}

/** Outputs [out, mean, variance (biased), rstd]; out = [relu](γ·(z − μ)·rstd + β [+ residual]). */
function batchNormAddForward(z: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number, residual: tf.Tensor4D | null, relu: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const { centred, mean, variance, rstd } = batchStats(z, eps);
    let out = tf.reshape(tf.add(tf.mul(centred, tf.mul(gamma, rstd)), beta), z.shape) as tf.Tensor4D;
    if (residual) out = tf.add(out, residual);
    if (relu) out = tf.relu(out);
    return [out, mean, variance, rstd];
  });
}

/**
 * The backward pass of batchNormAdd from the forward's saved tensors (z, γ, μ, rstd, out): [dz, dγ,
 * dβ] and, after an add, the residual's gradient (= the ReLU-masked dy). wasm: the SIMD kernels
 * (two passes, three with the ReLU's mask).
 */
function batchNormAddGrad(dOut: tf.Tensor4D, saved: tf.Tensor[], mode: BnGradMode): tf.Tensor[] {
  const [z, gamma, mean, rstd, out] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D];
  const simd = simdBatchNormGrad(dOut, z, gamma, mean, rstd, out, mode);
  if (simd) return simd;
  const c = z.shape[3];
  const m = z.size / c;
  const du4 = mode === 'plain' ? dOut : (tf.mul(dOut, tf.step(out)) as tf.Tensor4D);
  const du = tf.reshape(du4, [m, c]) as tf.Tensor2D;
  const xhat = tf.reshape(tf.mul(tf.sub(z, mean), rstd), [m, c]) as tf.Tensor2D;
  const sums = tf.reshape(tf.matMul(tf.ones([1, m]), tf.concat([du, tf.mul(du, xhat)], 1)), [2, c]);
  const dBeta = tf.reshape(tf.slice(sums, [0, 0], [1, c]), [c]) as tf.Tensor1D;
  const dGamma = tf.reshape(tf.slice(sums, [1, 0], [1, c]), [c]) as tf.Tensor1D;
  const a = tf.mul(gamma, rstd);
  const dz = tf.reshape(tf.mul(tf.sub(tf.sub(du, tf.div(dBeta, m)), tf.mul(xhat, tf.div(dGamma, m))), a), z.shape) as tf.Tensor4D;
  return mode === 'addRelu' ? [dz, dGamma, dBeta, du4] : [dz, dGamma, dBeta];
}

/** Outputs [out, mean, variance (biased), rstd, y]; y = relu(γ·(z − μ)·rstd + β), out = maxPool₂(y) or y. */
function batchNormReluForward(z: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number, pool: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    const { centred, mean, variance, rstd } = batchStats(z, eps);
    const y = tf.reshape(tf.relu(tf.add(tf.mul(centred, tf.mul(gamma, rstd)), beta)), z.shape) as tf.Tensor4D;
    return [pool ? tf.maxPool(y, 2, 2, 'valid') : tf.clone(y), mean, variance, rstd, y];
  });
}

/** conv2d(x, W, 1, 'same') as one taped op: Winograd on wasm for 3×3 filters, both ways. */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  if (!installed) return tf.conv2d(x, filter, 1, 'same');
  return tf.engine().runKernel(CONV_SAME, { x, filter } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
}

let stride2On = true;
/** A/B switch (bench: BENCH_ONLY=resnet20-ab BENCH_AB=stride2): off, conv3x3Stride2 declines. */
export function setStride2Conv(on: boolean): void {
  stride2On = on;
}

let stride2DirectOn = true;
/** A/B switch (bench: BENCH_AB=stride2direct): off, conv3x3Stride2 on wasm takes XNNPACK's forward and the Winograd gradients on spread dy. */
export function setStride2Direct(on: boolean): void {
  stride2DirectOn = on;
}

let pointwiseStride2On = true;
/** A/B switch (bench: BENCH_AB=pointwise): off, conv1x1Stride2 declines (a strided slice and tfjs's conv instead). */
export function setPointwiseStride2Conv(on: boolean): void {
  pointwiseStride2On = on;
}

/**
 * conv2d(x, W, 2, 'valid') for a 1×1 filter on an even-sized NHWC map (ResNet-20's projection
 * shortcut) as one op with its own gradient on the wasm SIMD kernels (wasmSimd/conv1x1Stride2.ts);
 * null elsewhere (other backends, no SIMD, fewer than 4 channels), and callers fall back to tf ops.
 */
export function conv1x1Stride2(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  if (!installed || !pointwiseStride2On) return null;
  const y = simdConv1x1Stride2(x, filter);
  if (y) convBlockStats.pointwiseStride2++;
  return y;
}

/** The name of conv3x3Stride2's taped scope (tf.profile shows it as one kernel). */
export const CONV_STRIDE2 = 'PlaygroundConv3x3Stride2';

/**
 * Channel order of the input gradient's 2×2 phase filter: for output-row parity r (0 even, 1 odd) and
 * tap a of dy (row i + a), the forward filter row it multiplies, or -1 (none). x row 2i reads dy row i
 * through filter row 1; x row 2i + 1 reads dy row i through filter row 2 and dy row i + 1 through row 0.
 */
const PHASE_TAP = [
  [1, -1],
  [2, 0],
];

/**
 * conv2d(x, W, 2) with PyTorch's padding 1 for a 3×3 filter on an even-sized NHWC map, as one taped
 * op with its own gradient, all at the output's resolution (custom kernels only; null otherwise or for
 * other shapes — the caller then reads the stride-1 'same' conv at the even pixels, 4× the MACs):
 * - on wasm with SIMD (≥ 4 channels each way): direct SIMD kernels for the value and both gradients
 *   (wasmSimd/strided3x3.ts), taped as their own op;
 * - forward otherwise: the backend's strided conv;
 * - gradients on wasm without those kernels (switch off, fewer channels): the stride-1 Winograd SIMD
 *   kernels (input and filter gradient) on dy spread to the even pixels;
 * - gradients elsewhere, at the output's resolution: ∂x as the four pixel parities of x at once, one
 *   stride-1 conv of dy with a 2×2 filter whose 4·in output channels are the parities' taps of W (zeros
 *   where a parity has no tap), then interleaved; ∂W as matMuls of x's pixel-parity planes with dy
 *   shifted (conv3x3Stride2FilterGrad).
 */
export function conv3x3Stride2(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D | null {
  const [, h, w] = x.shape;
  const [kh, kw] = filter.shape;
  if (!installed || !stride2On || kh !== 3 || kw !== 3 || h % 2 !== 0 || w % 2 !== 0) return null;
  convBlockStats.stride2++;
  const direct = stride2DirectOn ? simdConv3x3Stride2(x, filter) : null;
  if (direct) {
    convBlockStats.stride2Direct++;
    return direct;
  }
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, wIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: tf.conv2d(xIn, wIn, 2, pad),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        // wasm: the stride-1 Winograd SIMD kernels (two threads) on dy spread to the even pixels —
        // measured faster there than XNNPACK (one thread beside them) on the output-resolution
        // routes below, which the other backends take.
        if (tf.getBackend() === 'wasm') {
          const spread = evenPixelsGrad(d);
          const dx = simdConv3x3InputGrad(spread, ws);
          const dW = winogradFilterGrad(xs, spread, null);
          if (dx && dW) {
            spread.dispose();
            return [dx, dW];
          }
          tf.dispose([spread, dx, dW].filter((t): t is tf.Tensor4D => t !== null));
        }
        return [conv3x3Stride2InputGrad(d, ws), conv3x3Stride2FilterGrad(xs, d)];
      },
    };
  });
  return tf.tidy(CONV_STRIDE2, () => op(x, filter)) as tf.Tensor4D;
}

/** dy [N, H/2, W/2, C] at the even pixels of an [N, H, W, C] map, zeros elsewhere (one pad). */
function evenPixelsGrad(dy: tf.Tensor4D): tf.Tensor4D {
  const [n, ho, wo, c] = dy.shape;
  const rows = tf.reshape(dy, [n * ho, 1, wo, c]);
  return tf.reshape(tf.pad(rows, [[0, 0], [0, 1], [0, 0], [0, c]]), [n, 2 * ho, 2 * wo, c]);
}

/**
 * ∂W of conv3x3Stride2: W's tap (kh, kw) = (2a + r, 2b + s) reads parity plane (r, s) of the padded x
 * at offset (a, b). The planes are one transpose of the padded x ([4·in, N·(H/2+1)·(W/2+1)], no strided
 * windows: wasm's StridedSlice took ~100 ms per window at b64), each offset is dy padded by (a, b) on
 * that grid, and one matMul per offset gives all four planes' taps; the nine that exist are gathered.
 */
function conv3x3Stride2FilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, inC] = x.shape;
    const outC = dy.shape[3];
    const [hp, wp] = [h / 2 + 1, w / 2 + 1];
    const rows = n * hp * wp;
    const xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    // (n, u, r, v, (s, c)) → (n, u, v, (r, s, c)) → [(r, s, c), (n, u, v)]
    const planes = tf.transpose(tf.reshape(tf.transpose(tf.reshape(xp, [n * hp, 2, wp, 2 * inC]), [0, 2, 1, 3]), [rows, 4 * inC]));
    const blocks: tf.Tensor[] = [];
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) {
        const shifted = tf.reshape(tf.pad(dy, [[0, 0], [a, 1 - a], [b, 1 - b], [0, 0]]), [rows, outC]);
        blocks.push(tf.matMul(planes as tf.Tensor2D, shifted as tf.Tensor2D)); // [(r, s, c), out]
      }
    const index: number[] = [];
    for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) index.push(((kh >> 1) * 2 + (kw >> 1)) * 4 + (kh & 1) * 2 + (kw & 1));
    const all = tf.reshape(tf.concat(blocks, 0), [16, inC, outC]); // [(a, b, r, s), in, out]
    return tf.reshape(tf.gather(all, tf.tensor1d(index, 'int32')), [3, 3, inC, outC]) as tf.Tensor4D;
  });
}

/** ∂x of conv3x3Stride2 from dy [N, H/2, W/2, out] (see there). */
function conv3x3Stride2InputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, ho, wo, outC] = dy.shape;
    const inC = filter.shape[2];
    // taps [9 + 1 zero, out, in]: the filter's positions with in/out swapped, then a zero one.
    const taps = tf.concat([tf.reshape(tf.transpose(filter, [0, 1, 3, 2]), [9, outC, inC]), tf.zeros([1, outC, inC])], 0);
    const index: number[] = [];
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++)
        for (let r = 0; r < 2; r++)
          for (let s = 0; s < 2; s++) {
            const [i, j] = [PHASE_TAP[r][a], PHASE_TAP[s][b]];
            index.push(i < 0 || j < 0 ? 9 : i * 3 + j);
          }
    // [tap (a, b), parity (r, s), out, in] → [a, b, out, (r, s, in)]
    const phases = tf.reshape(tf.transpose(tf.reshape(tf.gather(taps, tf.tensor1d(index, 'int32')), [4, 4, outC, inC]), [0, 2, 1, 3]), [2, 2, outC, 4 * inC]) as tf.Tensor4D;
    const all = tf.conv2d(dy, phases, 1, [[0, 0], [0, 1], [0, 1], [0, 0]]); // [N, H/2, W/2, (r, s, in)]
    // Rows (n, i), then (j, r, (s, in)) → (r, j, (s, in)): pixel (2i + r, 2j + s).
    const rows = tf.transpose(tf.reshape(all, [n * ho, wo, 2, 2 * inC]), [0, 2, 1, 3]);
    return tf.reshape(rows, [n, 2 * ho, 2 * wo, inC]) as tf.Tensor4D;
  });
}

/**
 * maxPool₂(relu(conv2d(x, W, 1, 'same') + b)) for evaluation (no gradient): on wasm one Winograd
 * kernel whose output transform takes each 2×2 tile's maximum (a tile is a pool window).
 */
export function convBiasReluPool(x: tf.Tensor4D, filter: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  return (installed ? simdConv3x3(x, filter, bias, true, true) : null) ?? tf.maxPool(convBiasRelu(x, filter, bias), 2, 2, 'valid');
}

/** relu(conv2d(x, W, 1, 'same') + b) as one taped op (see the file comment for its gradient). */
export function convBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  if (!installed) return tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same', activation: 'relu' });
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return tf.engine().runKernel(CONV_BIAS_RELU, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
}

/**
 * BatchNorm with the batch's statistics, then ReLU, then (when `pool`) a 2×2 max-pool of stride 2,
 * as one taped op. Returns the block's output and the batch mean and biased variance per channel
 * (for the running statistics; not differentiated).
 */
export function batchNormRelu(
  z: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  pool = false,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (!installed) return stockBatchNormRelu(z, gamma, beta, eps, pool);
  const attrs: BnAttrs = { eps, pool };
  // The tape sees one output, the block's: an op's outputs that get no gradient (the statistics, rstd
  // and y, which only the backward pass reads) are each given a zero gradient by tfjs's backprop,
  // made in JavaScript (a fresh typed array of the output's size) and copied into the backend —
  // measured on wasm, ConvNet-3 b64: ~900 page faults and ~3.6 MB of new memory per step, plus the
  // GC threads' work. So the 5-output kernel runs inside a customGrad (untaped), which saves what
  // the backward pass needs and returns `out` alone; μ and σ² leave through this closure.
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [zIn, gammaIn, betaIn, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [out, mean, variance, rstd, y] = tf.engine().runKernel(BATCH_NORM_RELU, { z: zIn, gamma: gammaIn, beta: betaIn } as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    // β when the SIMD kernel made y: the backward then recomputes the ReLU's mask from z (wasmSimd setReluMaskFromZ).
    save(isSimdReluOutput(y) ? [zIn, gammaIn, out, mean, rstd, y, betaIn] : [zIn, gammaIn, out, mean, rstd, y]);
    stats = [tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D];
    return { value: out, gradFunc: (dy, saved) => batchNormReluGrad(dy as tf.Tensor4D, saved, pool) };
  });
  const out = tf.tidy(BATCH_NORM_RELU_TAPED, () => op(z, gamma, beta)) as tf.Tensor4D;
  const [keptMean, keptVariance] = stats!;
  // Tracked like any op's result again (a clone shares the buffer), so that a caller's tidy disposes them.
  const mean = tf.clone(keptMean);
  const variance = tf.clone(keptVariance);
  tf.dispose([keptMean, keptVariance]);
  return { y: out, mean, variance };
}

/** The same block from stock tfjs ops and their stock gradients (the custom kernels off). */
function stockBatchNormRelu(z: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, pool: boolean): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = tf.moments(z, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  const y = tf.tidy(() => {
    const a = tf.relu(tf.batchNorm(z, mean, variance, beta, gamma, eps)) as tf.Tensor4D;
    return pool ? tf.maxPool(a, 2, 2, 'valid') : a;
  });
  return { y, mean, variance };
}

/**
 * BatchNorm with the batch's statistics and no ReLU of its own (`residual` null, `relu` false), or
 * followed by `+ residual` and a ReLU (ResNet's BatchNorm → add → ReLU; `residual` null there means a
 * residual with no channels left: the ReLU alone), as one taped op: on wasm two SIMD passes forward
 * (moments, then normalise [+ add + ReLU]) and two or three backward, instead of ~15 stock ops each
 * way. Returns the output and the batch mean and biased variance per channel (for the running
 * statistics; not differentiated).
 */
export function batchNormAdd(
  z: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  residual: tf.Tensor4D | null,
  relu: boolean,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (residual && !relu) throw new Error('batchNormAdd: an add without the ReLU after it is not fused');
  if (!installed) {
    const { mean, variance } = tf.moments(z, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    const y = tf.tidy(() => {
      // per-channel factors that broadcast (tf.batchNorm's gradient tiles them: see the file comment)
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
      let out = tf.add(tf.mul(z, scale), tf.sub(beta, tf.mul(mean, scale))) as tf.Tensor4D;
      if (residual) out = tf.add(out, residual);
      return relu ? tf.relu(out) : out;
    });
    return { y, mean, variance };
  }
  const attrs: BnAddAttrs = { eps, relu };
  const mode: BnGradMode = residual ? 'addRelu' : relu ? 'relu' : 'plain';
  // Untaped inside a customGrad, for the reason given in batchNormRelu (one differentiated output).
  let stats: [tf.Tensor1D, tf.Tensor1D] | null = null;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [zIn, gammaIn, betaIn, resIn] = args as tf.Tensor[];
    const inputs = residual ? { z: zIn, gamma: gammaIn, beta: betaIn, residual: resIn } : { z: zIn, gamma: gammaIn, beta: betaIn };
    const [out, mean, variance, rstd] = tf.engine().runKernel(BATCH_NORM_ADD, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    save([zIn, gammaIn, mean, rstd, out]);
    stats = [tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D];
    return { value: out, gradFunc: (dy, saved) => batchNormAddGrad(dy as tf.Tensor4D, saved, mode) };
  });
  const out = tf.tidy(BATCH_NORM_ADD_TAPED, () => (residual ? op(z, gamma, beta, residual) : op(z, gamma, beta))) as tf.Tensor4D;
  const [keptMean, keptVariance] = stats!;
  const mean = tf.clone(keptMean);
  const variance = tf.clone(keptVariance);
  tf.dispose([keptMean, keptVariance]);
  return { y: out, mean, variance };
}

/**
 * Evaluation: [relu](BatchNorm(z) with the running statistics [+ residual]). On wasm one SIMD pass
 * (the normalisation as a per-channel affine map, the add and the ReLU) instead of three stock ops.
 */
export function batchNormEval(
  z: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  eps: number,
  residual: tf.Tensor4D | null,
  relu: boolean,
): tf.Tensor4D {
  // dataSync of the per-channel vectors: cheap on wasm (a copy out of its memory), a GPU read elsewhere, so wasm only.
  if (installed && tf.getBackend() === 'wasm') {
    const [g, b, mu, v] = [gamma, beta, runningMean, runningVar].map((t) => t.dataSync() as Float32Array);
    // (z − μ)·γ/√(σ² + ε) + β = z·a + (β − μ·a)
    const a = Float32Array.from(v, (vi, i) => g[i] / Math.sqrt(vi + eps));
    const shift = Float32Array.from(a, (ai, i) => b[i] - mu[i] * ai);
    const out = simdAffine(z, a, shift, residual, relu);
    if (out) return out;
  }
  return tf.tidy(() => {
    let out = tf.batchNorm(z, runningMean, runningVar, beta, gamma, eps) as tf.Tensor4D;
    if (residual) out = tf.add(out, residual);
    return relu ? tf.relu(out) : out;
  });
}

/**
 * Global average pooling, [N, H, W, C] → [N, 1, 1, C], with its gradient written as dy/(H·W) times a
 * [1, H, W, 1] constant the backend fills: tfjs's own Mean gradient multiplies by ones(x.shape), a
 * typed array of the activation's size made in JavaScript and copied into the backend every step
 * (fresh pages: page faults; from branch h-perf's experiment). Stock tf.mean with the kernels off.
 */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor4D {
  if (!installed) return tf.mean(x, [1, 2], true);
  const [, h, w] = x.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xIn = args[0] as tf.Tensor4D;
    return {
      value: tf.mean(xIn, [1, 2], true) as tf.Tensor4D,
      gradFunc: (dy) => tf.mul(dy as tf.Tensor4D, tf.fill([1, h, w, 1], 1 / (h * w))) as tf.Tensor4D,
    };
  });
  return op(x) as tf.Tensor4D;
}
