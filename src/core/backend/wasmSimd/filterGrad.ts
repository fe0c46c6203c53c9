/**
 * A WebAssembly SIMD kernel for the filter (and bias) gradient of a stride-1 NHWC convolution,
 * with the ReLU mask applied on the fly:
 *
 *   dz[p, o]         = g[p, o] · (y[p, o] > 0)            (or g itself when MASKED = 0)
 *   dW[(i,j,c), o]   = Σ_p xpad[p shifted by (i, j), c] · dz[p, o]
 *   db[o]            = Σ_p dz[p, o]
 *
 * over every output pixel p = (n, h, w). This is SimpleCNN's hot spot: its im2col matMul has a
 * 65,536-long inner dimension and only 27×64 outputs, a shape XNNPACK handles poorly (it re-packs
 * the whole 65,536×64 gradient as weights every step: ~42 ms at batch 64), while this kernel
 * streams the gradient once, 64 pixels at a time, keeping everything it reuses in L1.
 *
 * It runs single-threaded in its own tiny module that imports the tfjs wasm backend's memory, so
 * it reads the tensors in place (no copies) and writes into a scratch area malloc'ed once. The
 * module's bytes are produced at run time by asm.ts from the code below; relaxed SIMD's fused
 * multiply-add is used when the browser validates it (one rounding instead of two: float noise).
 */
import { Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';

/** Pixels per tile: the dz tile (64 × channels) and the patch tile stay in L1. */
export const TILE = 64;

const PARAMS = ['x', 'g', 'y', 'MASKED', 'N', 'H', 'W', 'CIN', 'COUT', 'KH', 'KW', 'PT', 'PL', 'BIAS', 'ACC', 'D', 'PTILE', 'SAFE'] as const;

/**
 * Builds `filterGrad(...PARAMS)` (byte addresses; y must be a valid address even when MASKED = 0).
 * ACC must be zeroed by the caller: (K + BIAS) × C4 floats, C4 = COUT rounded up to 4.
 */
function filterGradFn(relaxed: boolean): Fn {
  const f = new Fn(PARAMS.map(() => I32));
  const P = Object.fromEntries(PARAMS.map((n, i) => [n, i])) as Record<(typeof PARAMS)[number], number>;
  const L = (n: number) => Array.from({ length: n }, () => f.local(I32));
  const [HW, NP, K, KB, C4, p0, tcount, t, p, n, r, h, w, i, j, c, hh, ww, inb, base, dst, src, kk, cb, pAddr, dAddr, accAddr, cEnd4] = L(28);
  const acc = Array.from({ length: 8 }, () => f.local(V128));
  const vs = f.local(V128);
  const vzero = f.local(V128);
  const vnomask = f.local(V128);

  // Derived sizes.
  f.get(P.H).get(P.W).mul().set(HW);
  f.get(HW).get(P.N).mul().set(NP);
  f.get(P.KH).get(P.KW).mul().get(P.CIN).mul().set(K);
  f.get(K).get(P.BIAS).add().set(KB);
  f.get(P.COUT).i32(3).add().i32(-4).and().set(C4);
  f.get(P.COUT).i32(-4).and().set(cEnd4); // channels covered by whole vectors
  f.f32(0).f32x4splat().set(vzero);
  f.get(P.MASKED).i32(1).sub().i32x4splat().set(vnomask); // all ones when there is no mask

  f.forRange(p0, () => f.i32(0), NP, TILE, () => {
    // tcount = min(TILE, NP - p0)
    f.get(NP).get(p0).sub().set(tcount);
    f.get(tcount).i32(TILE).get(tcount).i32(TILE).ltS().select().set(tcount);

    // 1. dz tile: D[t, 0..C4) = g[p0 + t, ·] masked by y > 0; padding lanes zero.
    f.forRange(t, () => f.i32(0), tcount, 1, () => {
      f.get(p0).get(t).add().get(P.COUT).mul().i32(2).shl().set(src);
      f.get(P.D).get(t).get(C4).mul().i32(2).shl().add().set(dst);
      f.forRange(c, () => f.i32(0), cEnd4, 4, () => {
        f.get(dst).get(c).i32(2).shl().add(); // store address
        f.get(P.g).get(src).add().get(c).i32(2).shl().add().v128load();
        // & (y > 0 | !MASKED)
        f.get(P.y).get(src).add().get(c).i32(2).shl().add().v128load().get(vzero).f32x4gt().get(vnomask).v128or();
        f.v128and();
        f.v128store();
      });
      // tail channels (COUT % 4): zero the last vector, then scalar lanes
      f.get(cEnd4).get(P.COUT).ltS().if(() => {
        f.get(dst).get(cEnd4).i32(2).shl().add().get(vzero).v128store();
        f.forRange(c, () => f.get(cEnd4), P.COUT, 1, () => {
          f.get(dst).get(c).i32(2).shl().add(); // store address
          f.get(P.g).get(src).add().get(c).i32(2).shl().add().f32load();
          f.f32(0);
          f.get(P.y).get(src).add().get(c).i32(2).shl().add().f32load().f32(0).f32gt().get(P.MASKED).eqz().or();
          f.select();
          f.f32store();
        });
      });
    });

    // 2. patch tile: PTILE[t, (i·KW + j)·CIN + c] = x[n, h+i−PT, w+j−PL, c] (0 outside), then 1 for the bias.
    f.forRange(t, () => f.i32(0), tcount, 1, () => {
      f.get(p0).get(t).add().set(p);
      f.get(p).get(HW).divU().set(n);
      f.get(p).get(n).get(HW).mul().sub().set(r);
      f.get(r).get(P.W).divU().set(h);
      f.get(r).get(h).get(P.W).mul().sub().set(w);
      f.get(P.PTILE).get(t).get(KB).mul().i32(2).shl().add().set(dst);
      f.forRange(i, () => f.i32(0), P.KH, 1, () => {
        f.get(h).get(i).add().get(P.PT).sub().set(hh);
        f.forRange(j, () => f.i32(0), P.KW, 1, () => {
          f.get(w).get(j).add().get(P.PL).sub().set(ww);
          f.get(hh).get(P.H).ltU().get(ww).get(P.W).ltU().and().set(inb);
          f.get(n).get(P.H).mul().get(hh).add().get(P.W).mul().get(ww).add().get(P.CIN).mul().i32(2).shl().get(P.x).add().set(base);
          f.forRange(c, () => f.i32(0), P.CIN, 1, () => {
            f.get(dst); // store address
            f.get(base).get(c).i32(2).shl().add().get(P.SAFE).get(inb).select().f32load();
            f.f32(0).get(inb).select();
            f.f32store();
            f.get(dst).i32(4).add().set(dst);
          });
        });
      });
      f.get(P.BIAS).if(() => {
        f.get(dst).f32(1).f32store();
      });
    });

    // 3. ACC[kk, cb..] += Σ_t PTILE[t, kk] · D[t, cb..], 8/4/2/1 vectors at a time.
    f.forRange(kk, () => f.i32(0), KB, 1, () => {
      f.i32(0).set(cb);
      f.block('wdone', () => {
        f.loop('wl', () => {
          for (const width of [8, 4, 2, 1]) {
            f.get(C4).get(cb).sub().i32(4 * width).geS().if(() => {
              f.get(P.ACC).get(kk).get(C4).mul().get(cb).add().i32(2).shl().add().set(accAddr);
              for (let v = 0; v < width; v++) f.get(accAddr).v128load(16 * v).set(acc[v]);
              f.get(P.PTILE).get(kk).i32(2).shl().add().set(pAddr);
              f.get(P.D).get(cb).i32(2).shl().add().set(dAddr);
              f.forRange(t, () => f.i32(0), tcount, 1, () => {
                f.get(pAddr).v128load32splat().set(vs);
                for (let v = 0; v < width; v++) {
                  if (relaxed) {
                    f.get(vs).get(dAddr).v128load(16 * v).get(acc[v]).f32x4relaxedMadd().set(acc[v]);
                  } else {
                    f.get(acc[v]).get(vs).get(dAddr).v128load(16 * v).f32x4mul().f32x4add().set(acc[v]);
                  }
                }
                f.get(pAddr).get(KB).i32(2).shl().add().set(pAddr);
                f.get(dAddr).get(C4).i32(2).shl().add().set(dAddr);
              });
              for (let v = 0; v < width; v++) f.get(accAddr).get(acc[v]).v128store(16 * v);
              f.get(cb).i32(4 * width).add().set(cb);
              f.br('wl');
            });
          }
          f.br('wdone');
        });
      });
    });
  });
  return f;
}

export interface FilterGradModule {
  relaxed: boolean;
  filterGrad: (...args: number[]) => void;
  /** The compiled module, for helper threads to instantiate on the same memory (parallel.ts). */
  module: WebAssembly.Module;
}

/** Instantiates the kernel on `memory` (the tfjs wasm backend's), or returns null when SIMD is unsupported. */
export function instantiateFilterGrad(memory: WebAssembly.Memory, shared: boolean): FilterGradModule | null {
  for (const relaxed of relaxedVariants()) {
    const bytes = moduleBytes({ shared }, [{ name: 'filterGrad', fn: filterGradFn(relaxed) }]);
    if (!WebAssembly.validate(bytes)) continue;
    const module = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    return { relaxed, filterGrad: inst.exports.filterGrad as (...args: number[]) => void, module };
  }
  return null;
}

/** The module's bytes (for tests: validation without instantiating). */
export function filterGradBytes(relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [{ name: 'filterGrad', fn: filterGradFn(relaxed) }]);
}
