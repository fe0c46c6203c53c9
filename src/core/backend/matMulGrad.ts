/**
 * A faster BatchMatMul gradient for the wasm backend.
 *
 * tfjs's matMul gradients use transposed matMuls (dA = dy·Bᵀ, dB = Aᵀ·dy). On
 * tfjs-backend-wasm 4.22 a transposed operand is very slow when it is large — measured in
 * Chromium, 2 threads, for SimpleCNN's fc1 at batch 64 (N = 65,536):
 *   Aᵀ·dy  ([64,N]ᵀ·[64,10])  129 ms   vs   (dyᵀ·A)ᵀ with a plain matMul   ≈ 4 ms + a transpose
 *   dy·Bᵀ  ([64,10]·[N,10]ᵀ)   51 ms   vs   dy·(Bᵀ materialised)           ≈ 12 ms + a transpose
 * so `fastMatMul` never hands wasm a transpose flag: it either materialises the transposed
 * operand with an explicit Transpose, or computes Cᵀ = op(B)ᵀ·op(A)ᵀ and transposes the result,
 * whichever moves fewer elements.
 *
 * Only rank-2 float32 matMuls on the wasm backend take this path; everything else (batched
 * matMuls, other backends — webgl/cpu handle transposes natively) goes to the stock gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmDenseWeightGrad } from './wasmSimd';

let stockConfig: tf.GradConfig | null = null;

export const matMulGradStats = { fast: 0, delegated: 0 };

const size = (t: tf.Tensor) => t.size;

/**
 * op(a)·op(b) without transpose flags reaching the kernel. Picks the cheaper of
 *   1. transpose(a if tA), transpose(b if tB), then matMul
 *   2. Cᵀ = op(b)ᵀ·op(a)ᵀ = matMul(b', a') where b' = b if tB else bᵀ, a' = a if tA else aᵀ; C = transpose(Cᵀ)
 * Cost model (elements moved, from Chromium measurements on fresh operands): an explicit
 * transpose costs its size; the right-hand operand of a wasm matMul is re-packed by XNNPACK on
 * every call (new tensor ⇒ new cache key), about twice as expensive per element.
 */
export function fastMatMul(a: tf.Tensor2D, b: tf.Tensor2D, tA: boolean, tB: boolean): tf.Tensor2D {
  if (!tA && !tB) return tf.matMul(a, b);
  return tf.tidy((): tf.Tensor2D => {
    const m = tA ? a.shape[1] : a.shape[0];
    const n = tB ? b.shape[0] : b.shape[1];
    const cost1 = (tA ? size(a) : 0) + (tB ? size(b) : 0) + 2 * size(b);
    const cost2 = m * n + (tA ? 0 : size(a)) + (tB ? 0 : size(b)) + 2 * size(a);
    if (cost1 <= cost2) {
      return tf.matMul(tA ? (tf.transpose(a) as tf.Tensor2D) : a, tB ? (tf.transpose(b) as tf.Tensor2D) : b);
    }
    const bp = tB ? b : (tf.transpose(b) as tf.Tensor2D);
    const ap = tA ? a : (tf.transpose(a) as tf.Tensor2D);
    return tf.transpose(tf.matMul(bp, ap)) as tf.Tensor2D;
  });
}

/** Registers the override (idempotent). The fast path applies only while the wasm backend is active. */
export function registerFastMatMulGradient(): void {
  if (stockConfig) return;
  const stock = tf.getGradient('BatchMatMul');
  if (!stock) throw new Error('registerFastMatMulGradient: no stock BatchMatMul gradient');
  stockConfig = stock;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: stock.inputsToSave ?? ['a', 'b'],
    outputsToSave: stock.outputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor2D;
      if (tf.getBackend() !== 'wasm' || a.rank !== 2 || b.rank !== 2 || g.rank !== 2 || a.dtype !== 'float32') {
        matMulGradStats.delegated++;
        return stock.gradFunc(dy, saved, attrs);
      }
      matMulGradStats.fast++;
      // Same algebra as tfjs-core's BatchMatMul_grad, routed through fastMatMul.
      // aᵀ·g for a wide layer (SimpleCNN's fc1): the SIMD kernel streams `a` once, no transpose.
      const aTg = () => (a.shape[1] >= 1024 ? wasmDenseWeightGrad(a, g) : null) ?? fastMatMul(a, g, true, false);
      if (!transposeA && !transposeB) return { a: () => fastMatMul(g, b, false, true), b: aTg };
      if (!transposeA && transposeB) return { a: () => fastMatMul(g, b, false, false), b: () => fastMatMul(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => fastMatMul(b, g, false, true), b: () => fastMatMul(a, g, false, false) };
      return { a: () => fastMatMul(b, g, true, true), b: () => fastMatMul(g, a, true, true) };
    },
  });
}

export function unregisterFastMatMulGradient(): void {
  if (!stockConfig) return;
  tf.registerGradient(stockConfig);
  stockConfig = null;
}
