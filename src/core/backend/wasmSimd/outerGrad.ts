/**
 * WebAssembly SIMD kernel for a dense layer's weight gradient aᵀ·g when the layer is wide and has
 * few outputs (SimpleCNN's fc1: a [64, 65,536], g [64, 10]):
 *
 *   out[f, k] = Σ_n a[n, f] · g[n, k]        (F a multiple of 4, K ≤ 16)
 *
 * tfjs on wasm computes this with an explicit transpose of `a` (4 M floats) and a matMul; here `a`
 * is streamed once, 4 columns at a time, with K accumulators in registers. One module per K
 * (the accumulators are unrolled), made by asm.ts at run time.
 */
import { Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';

export const MAX_K = 16;

/** outerGrad(a, g, N, F, out, S): S is scratch for N·K splatted vectors of g (16 bytes each). */
function outerGradFn(K: number, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32]);
  const [a, g, N, F, out, S] = [0, 1, 2, 3, 4, 5];
  const [n, k, fb, aAddr, sAddr, rowBytes, nk] = Array.from({ length: 7 }, () => f.local(I32));
  const acc = Array.from({ length: K }, () => f.local(V128));
  const v = f.local(V128);
  // S[n·K + k] = splat(g[n, k])
  f.get(N).i32(K).mul().set(nk);
  f.forRange(k, () => f.i32(0), nk, 1, () => {
    f.get(S).get(k).i32(4).shl().add();
    f.get(g).get(k).i32(2).shl().add().v128load32splat();
    f.v128store();
  });
  f.get(F).i32(2).shl().set(rowBytes);
  f.forRange(fb, () => f.i32(0), F, 4, () => {
    for (let j = 0; j < K; j++) f.f32(0).f32x4splat().set(acc[j]);
    f.get(a).get(fb).i32(2).shl().add().set(aAddr);
    f.get(S).set(sAddr);
    f.forRange(n, () => f.i32(0), N, 1, () => {
      f.get(aAddr).v128load().set(v);
      for (let j = 0; j < K; j++) {
        if (relaxed) f.get(sAddr).v128load(16 * j).get(v).get(acc[j]).f32x4relaxedMadd().set(acc[j]);
        else f.get(acc[j]).get(sAddr).v128load(16 * j).get(v).f32x4mul().f32x4add().set(acc[j]);
      }
      f.get(aAddr).get(rowBytes).add().set(aAddr);
      f.get(sAddr).i32(16 * K).add().set(sAddr);
    });
    // out[fb + lane, j] = acc[j][lane]
    for (let lane = 0; lane < 4; lane++) {
      for (let j = 0; j < K; j++) {
        f.get(out).get(fb).i32(lane).add().i32(K).mul().i32(j).add().i32(2).shl().add();
        f.get(acc[j]).f32x4extractLane(lane);
        f.f32store();
      }
    }
  });
  return f;
}

export function outerGradBytes(K: number, relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [{ name: 'outerGrad', fn: outerGradFn(K, relaxed) }]);
}

export function instantiateOuterGrad(K: number, memory: WebAssembly.Memory, shared: boolean): ((...args: number[]) => void) | null {
  for (const relaxed of relaxedVariants()) {
    const bytes = outerGradBytes(K, relaxed, shared);
    if (!WebAssembly.validate(bytes)) continue;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return inst.exports.outerGrad as (...args: number[]) => void;
  }
  return null;
}
