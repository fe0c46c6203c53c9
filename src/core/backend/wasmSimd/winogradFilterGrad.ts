/**
 * A WebAssembly SIMD kernel for the filter gradient of a 3×3, stride-1, 'same' NHWC convolution
 * (ReLU mask applied to the incoming gradient on the fly), by Winograd F(3×3, 2×2) (Lavin & Gray
 * 2015, "filter gradient"): the gradient dz is split into 2×2 tiles; tile g and its 4×4 input
 * patch d (zero padded) contribute Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A to the 3×3 filter gradient. The sum
 * over tiles stays in the transform domain, so the work is 16 GEMMs
 *
 *   ACC[ξ][ci][co] += Σ_tiles V[ξ][tile][ci] · Gd[ξ][tile][co]        (ξ = 4×4 transform point)
 *
 * (16 multiply-adds per tile per (ci, co) instead of the direct method's 36) and one output
 * transform at the end. Points 0, 1, −1, ∞:
 *
 *   Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,−1,0,1]]   G = [[1,0],[½,½],[½,−½],[0,1]]
 *   Aᵀ = [[1,1,1,0],[0,1,−1,0],[0,1,1,1]]
 *
 * G's ½ factors are moved into the output transform (G' = 2·G's middle rows, Aᵀ' = Aᵀ·diag(1,½,½,1)),
 * so the per-tile gradient transform is additions only.
 *
 * F(3×3, 4×4) (`tile` 4, H and W multiples of 4) does the same with 4×4 gradient tiles and 6×6 patches:
 * 36 multiply-adds per 16 pixels instead of 64 (2.25 per pixel per (ci, co) instead of 4). Its matrices
 * are F(4×4, 3×3)'s (winograd.ts) with A and G exchanged — for y_i = Σ_k d_{i+k} g_k, the identity
 * Σ_k g_k z_k = Σ_i h_i y_i applied to F(4, 3)'s z = Aᵀ[(G h) ⊙ (Bᵀ d)] gives y = Gᵀ[(A g) ⊙ (Bᵀ d)]:
 *
 *   Bᵀ = F(4,3)'s [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
 *   A (gradient, 6×4) = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1]
 *   Gᵀ (output, 3×6) = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]
 *
 * `winogradRange` covers the images [N0, N1) and adds into a caller-zeroed accumulator, using only
 * its arguments and a caller-given scratch area: two calls on disjoint image ranges may run at the
 * same time on a shared memory (each with its own ACC and SCRATCH); the caller sums the
 * accumulators and runs `winogradOutput` once. Tiles are processed TB at a time: transform a block
 * into scratch, then run the 16 GEMMs on it with 2 input channels × up to 4 output vectors in
 * registers.
 *
 * Channel tails (CIN or COUT not a multiple of 4) are loaded as whole vectors: the extra lanes
 * hold the next pixel's values (up to 12 bytes past the tensor for its last pixel) and only reach
 * padding lanes of V, Gd and ACC, which are never read back into the result.
 */
import { Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';
import { bt6 } from './winograd';

/** The gradient tile m: F(3×3, 2×2) or F(3×3, 4×4); the transform domain is (m + 2)² points. */
export type FilterGradTile = 2 | 4;
const pointsOf = (tile: FilterGradTile) => (tile + 2) * (tile + 2);

// ZERO: bytes of ACC (a multiple of 16, ACC 16-byte aligned) the range zeroes before adding into it, 0 for none —
// so a split call's accumulators are cleared by the threads that fill them, not on the calling thread first.
const RANGE_PARAMS = ['x', 'g', 'y', 'MASKED', 'H', 'W', 'CIN', 'COUT', 'N0', 'N1', 'ACC', 'SCRATCH', 'TB', 'BIAS', 'ZERO'] as const;
type RangeParam = (typeof RANGE_PARAMS)[number];

/** Floats in the accumulator: (m + 2)² × CIN × C4, then one bias row of C4 when BIAS. */
export function winogradAccFloats(cin: number, cout: number, bias: boolean, tile: FilterGradTile = 2): number {
  const c4 = (cout + 3) & ~3;
  return (pointsOf(tile) * cin + (bias ? 1 : 0)) * c4;
}

/**
 * Floats between consecutive ξ planes of V and Gd beyond the plane itself: the transforms store to
 * all 16 planes per tile, and power-of-two plane sizes would map those stores to one L1 set.
 */
const PLANE_PAD = 16;

/** Bytes of scratch for one call: V and Gd for TB tiles, plus a zero area standing in for the padding (a patch row). */
export function winogradScratchBytes(cin: number, cout: number, tb: number, tile: FilterGradTile = 2): number {
  const cin4 = (cin + 3) & ~3;
  const c4 = (cout + 3) & ~3;
  return (pointsOf(tile) * (tb * (cin4 + c4) + 2 * PLANE_PAD) + (tile + 2) * cin4) * 4;
}

interface Ctx {
  f: Fn;
  /** The gradient tile m (build-time constant) and the patch side m + 2. */
  m: FilterGradTile;
  alpha: number;
  /** F(3×3, 4×4)'s constant vectors 2, 4, 5, 8 (unused for m = 2). */
  k: { c2: number; c4: number; c5: number; c8: number };
  P: Record<RangeParam, number>;
  cin4: number;
  c4: number;
  vBuf: number;
  gBuf: number;
  vStride: number;
  gStride: number;
  safe: number;
  t: number;
  n: number;
  h0: number;
  w0: number;
  tcount: number;
  points: number;
  cinEven: number;
  vzero: number;
  vnomask: number;
}

const i32s = (f: Fn, n: number) => Array.from({ length: n }, () => f.local(I32));
const v128s = (f: Fn, n: number) => Array.from({ length: n }, () => f.local(V128));

/** V[ξ][t][ci..ci+3] = (Bᵀ d B)[ξ] for the (m + 2)² input patch of tile t, 4 channels at a time. */
function emitInputTransform(c: Ctx): void {
  const { f, P, m, alpha } = c;
  const [base, pix, rowB, off, dst] = i32s(f, 5);
  const rowAddr = i32s(f, alpha);
  const addr = i32s(f, alpha * alpha);
  const d = v128s(f, alpha);
  const e = v128s(f, alpha * alpha);
  // Patch corner (h0 − 1, w0 − 1); the first and last rows and columns may fall outside: read zeros at SAFE.
  f.get(P.CIN).i32(2).shl().set(pix);
  f.get(P.W).get(pix).mul().set(rowB);
  f.get(c.n).get(P.H).mul().get(c.h0).add().i32(1).sub().get(P.W).mul().get(c.w0).add().i32(1).sub().get(pix).mul().get(P.x).add().set(base);
  for (let r = 0; r < alpha; r++) {
    f.get(base).get(rowB).i32(r).mul().add();
    if (r === 0) f.get(c.safe).get(c.h0).select();
    if (r === alpha - 1) f.get(c.safe).get(c.h0).i32(m).add().get(P.H).ltU().select();
    f.set(rowAddr[r]);
    for (let col = 0; col < alpha; col++) {
      f.get(rowAddr[r]).get(pix).i32(col).mul().add();
      if (col === 0) f.get(c.safe).get(c.w0).select();
      if (col === alpha - 1) f.get(c.safe).get(c.w0).i32(m).add().get(P.W).ltU().select();
      f.set(addr[r * alpha + col]);
    }
  }
  if (m === 4) {
    f.forRange(off, () => f.i32(0), c.cin4, 4, () => {
      // e = d·B row by row (e[r][j] = (Bᵀ d[r][·])[j]), then V = Bᵀ·e column by column, stored ξ = 6i + j in order
      for (let r = 0; r < 6; r++) {
        for (let col = 0; col < 6; col++) f.get(addr[r * 6 + col]).get(off).i32(2).shl().add().v128load().set(d[col]);
        bt6(f, (i) => f.get(d[i]), c.k).forEach((value, j) => {
          value();
          f.set(e[r * 6 + j]);
        });
      }
      f.get(c.t).get(c.cin4).mul().get(off).add().i32(2).shl().get(c.vBuf).add().set(dst);
      const columns = Array.from({ length: 6 }, (_, j) => bt6(f, (r) => f.get(e[r * 6 + j]), c.k));
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          f.get(dst);
          columns[j][i]();
          f.v128store();
          f.get(dst).get(c.vStride).add().set(dst);
        }
      }
    });
    return;
  }
  f.forRange(off, () => f.i32(0), c.cin4, 4, () => {
    // e = d·B, row by row: [d0 − d2, d1 + d2, d2 − d1, d3 − d1]
    for (let r = 0; r < 4; r++) {
      for (let col = 0; col < 4; col++) f.get(addr[r * 4 + col]).get(off).i32(2).shl().add().v128load().set(d[col]);
      f.get(d[0]).get(d[2]).f32x4sub().set(e[r * 4]);
      f.get(d[1]).get(d[2]).f32x4add().set(e[r * 4 + 1]);
      f.get(d[2]).get(d[1]).f32x4sub().set(e[r * 4 + 2]);
      f.get(d[3]).get(d[1]).f32x4sub().set(e[r * 4 + 3]);
    }
    // V = Bᵀ·e, stored ξ = 4i + j in order, one ξ plane (vStride bytes) apart.
    f.get(c.t).get(c.cin4).mul().get(off).add().i32(2).shl().get(c.vBuf).add().set(dst);
    const rowsOf = [[0, 2, 'sub'], [1, 2, 'add'], [2, 1, 'sub'], [3, 1, 'sub']] as const;
    for (const [a, b, op] of rowsOf) {
      for (let j = 0; j < 4; j++) {
        f.get(dst).get(e[a * 4 + j]).get(e[b * 4 + j]);
        if (op === 'add') f.f32x4add();
        else f.f32x4sub();
        f.v128store();
        f.get(dst).get(c.vStride).add().set(dst);
      }
    }
  });
}

/** Pushes g at the address addrOf() pushes (relative to g and y), zeroed where y ≤ 0 when MASKED (the ReLU's mask). */
function maskedLoad(c: Ctx, addrOf: () => void): void {
  const { f, P } = c;
  f.get(P.g);
  addrOf();
  f.add().v128load();
  f.get(P.y);
  addrOf();
  f.add().v128load().get(c.vzero).f32x4gt().get(c.vnomask).v128or();
  f.v128and();
}

/** Gd[ξ][t][co..co+3] = (G' g G'ᵀ)[ξ] for the masked 2×2 gradient tile t; the bias row gets Σ g. */
function emitGradTransform(c: Ctx): void {
  const { f, P } = c;
  const [pix, q00, q10, off, o, dst, bAddr] = i32s(f, 7);
  const u = v128s(f, 8); // u[4a + k] = (g G'ᵀ)[a][k]
  const a0 = f.local(V128);
  const a1 = f.local(V128);
  f.get(P.COUT).i32(2).shl().set(pix);
  f.get(c.n).get(P.H).mul().get(c.h0).add().get(P.W).mul().get(c.w0).add().get(pix).mul().set(q00);
  f.get(q00).get(P.W).get(pix).mul().add().set(q10);
  const masked = (addrOf: () => void) => maskedLoad(c, addrOf);
  f.forRange(off, () => f.i32(0), c.c4, 4, () => {
    f.get(off).i32(2).shl().set(o);
    for (const [row, q] of [[0, q00], [1, q10]] as const) {
      masked(() => f.get(q).get(o).add());
      f.set(a0);
      masked(() => f.get(q).get(o).add().get(pix).add());
      f.set(a1);
      // G' rows: [1,0], [1,1], [1,−1], [0,1]
      f.get(a0).set(u[4 * row]);
      f.get(a0).get(a1).f32x4add().set(u[4 * row + 1]);
      f.get(a0).get(a1).f32x4sub().set(u[4 * row + 2]);
      f.get(a1).set(u[4 * row + 3]);
    }
    f.get(c.t).get(c.c4).mul().i32(2).shl().get(o).add().get(c.gBuf).add().set(dst);
    for (const op of ['first', 'add', 'sub', 'second'] as const) {
      for (let k = 0; k < 4; k++) {
        f.get(dst);
        if (op === 'first') f.get(u[k]);
        if (op === 'add') f.get(u[k]).get(u[4 + k]).f32x4add();
        if (op === 'sub') f.get(u[k]).get(u[4 + k]).f32x4sub();
        if (op === 'second') f.get(u[4 + k]);
        f.v128store();
        f.get(dst).get(c.gStride).add().set(dst);
      }
    }
    // db += Gd[ξ = 5] = g00 + g01 + g10 + g11
    f.get(P.BIAS).if(() => {
      f.get(P.ACC).i32(16).get(P.CIN).mul().get(c.c4).mul().i32(2).shl().add().get(o).add().set(bAddr);
      f.get(bAddr).get(bAddr).v128load().get(u[1]).get(u[5]).f32x4add().f32x4add().v128store();
    });
  });
}

/**
 * Gd[ξ][t][co..co+3] = (A g Aᵀ)[ξ] for the masked 4×4 gradient tile t (F(3×3, 4×4), A in the header),
 * stored ξ = 6a + k; the bias row gets Σ g (= Gd[ξ = 7]: A's second row is all ones).
 */
function emitGradTransform4(c: Ctx): void {
  const { f, P } = c;
  const [pix, q00, rowB, off, o, pk, p, g6, bAddr] = i32s(f, 9);
  const gv = v128s(f, 4); // one row of the masked tile
  const u = v128s(f, 24); // u[6r + k] = (A g[r][·])[k]
  const tmp = v128s(f, 4);
  const gsum = f.local(V128);
  f.get(P.COUT).i32(2).shl().set(pix);
  f.get(P.W).get(pix).mul().set(rowB);
  f.get(c.n).get(P.H).mul().get(c.h0).add().get(P.W).mul().get(c.w0).add().get(pix).mul().set(q00);
  f.get(c.gStride).i32(6).mul().set(g6);
  const masked = (addrOf: () => void) => maskedLoad(c, addrOf);
  /** Rows of A x for the four vectors pushed by x(i): [x0, x0+x1+x2+x3, x0−x1+x2−x3, x0+2x1+4x2+8x3, x0−2x1+4x2−8x3, x3]. */
  const a6 = (x: (i: number) => void): Array<() => void> => {
    const [s02, s13, t02, t13] = tmp;
    x(0); x(2); f.f32x4add().set(s02);
    x(1); x(3); f.f32x4add().set(s13);
    x(0); x(2); f.get(c.k.c4).f32x4mul().f32x4add().set(t02);
    x(1); x(3); f.get(c.k.c4).f32x4mul().f32x4add().set(t13);
    return [
      () => x(0),
      () => f.get(s02).get(s13).f32x4add(),
      () => f.get(s02).get(s13).f32x4sub(),
      () => f.get(t02).get(t13).get(c.k.c2).f32x4mul().f32x4add(),
      () => f.get(t02).get(t13).get(c.k.c2).f32x4mul().f32x4sub(),
      () => x(3),
    ];
  };
  f.forRange(off, () => f.i32(0), c.c4, 4, () => {
    f.get(off).i32(2).shl().set(o);
    for (let r = 0; r < 4; r++) {
      for (let col = 0; col < 4; col++) {
        masked(() => f.get(q00).get(rowB).i32(r).mul().add().get(pix).i32(col).mul().add().get(o).add());
        f.set(gv[col]);
      }
      a6((i) => f.get(gv[i])).forEach((value, k) => {
        value();
        f.set(u[6 * r + k]);
      });
    }
    // column k of u → Gd[6a + k] for a = 0..5, one ξ plane (gStride bytes) apart
    f.get(c.t).get(c.c4).mul().i32(2).shl().get(o).add().get(c.gBuf).add().set(pk);
    for (let k = 0; k < 6; k++) {
      f.get(pk).set(p);
      a6((r) => f.get(u[6 * r + k])).forEach((value, a) => {
        f.get(p);
        value();
        if (a === 1 && k === 1) f.tee(gsum);
        f.v128store();
        f.get(p).get(g6).add().set(p);
      });
      f.get(pk).get(c.gStride).add().set(pk);
    }
    f.get(P.BIAS).if(() => {
      f.get(P.ACC).i32(36).get(P.CIN).mul().get(c.c4).mul().i32(2).shl().add().get(o).add().set(bAddr);
      f.get(bAddr).get(bAddr).v128load().get(gsum).f32x4add().v128store();
    });
  });
}

/**
 * ACC[ξ][ci..ci+rows)[cb..cb+4·width) += Σ_t V[ξ][t][ci..] ⊗ Gd[ξ][t][cb..], the accumulators in
 * registers for the whole block of tiles.
 */
function emitMicroKernel(c: Ctx, relaxed: boolean, rows: number, width: number, at: { vP: number; gP: number; accP: number; ci: number; cb: number }): void {
  const { f } = c;
  const [acc0, acc1, pv, pg, t] = i32s(f, 5);
  const acc = v128s(f, rows * width);
  const s = v128s(f, rows);
  const gv = f.local(V128);
  const accRow = (r: number) => (r === 0 ? acc0 : acc1);
  f.get(at.accP).get(at.ci).get(c.c4).mul().get(at.cb).add().i32(2).shl().add().set(acc0);
  if (rows === 2) f.get(acc0).get(c.c4).i32(2).shl().add().set(acc1);
  for (let r = 0; r < rows; r++) for (let v = 0; v < width; v++) f.get(accRow(r)).v128load(16 * v).set(acc[r * width + v]);
  f.get(at.vP).get(at.ci).i32(2).shl().add().set(pv);
  f.get(at.gP).get(at.cb).i32(2).shl().add().set(pg);
  f.forRange(t, () => f.i32(0), c.tcount, 1, () => {
    for (let r = 0; r < rows; r++) f.get(pv).v128load32splat(4 * r).set(s[r]);
    for (let v = 0; v < width; v++) {
      f.get(pg).v128load(16 * v).set(gv);
      for (let r = 0; r < rows; r++) {
        const a = acc[r * width + v];
        if (relaxed) f.get(s[r]).get(gv).get(a).f32x4relaxedMadd().set(a);
        else f.get(a).get(s[r]).get(gv).f32x4mul().f32x4add().set(a);
      }
    }
    f.get(pv).get(c.cin4).i32(2).shl().add().set(pv);
    f.get(pg).get(c.c4).i32(2).shl().add().set(pg);
  });
  for (let r = 0; r < rows; r++) for (let v = 0; v < width; v++) f.get(accRow(r)).get(acc[r * width + v]).v128store(16 * v);
}

/** ACC[ξ][ci..ci+rows) += …, output vectors 4, 2, then 1 at a time (the same loop shape as filterGrad.ts). */
function emitColumns(c: Ctx, relaxed: boolean, rows: number, at: { vP: number; gP: number; accP: number; ci: number; cb: number }): void {
  const { f } = c;
  f.i32(0).set(at.cb);
  f.block(`cols${rows}`, () => {
    f.loop(`colsl${rows}`, () => {
      for (const width of [4, 2, 1]) {
        f.get(c.c4).get(at.cb).sub().i32(4 * width).geS().if(() => {
          emitMicroKernel(c, relaxed, rows, width, at);
          f.get(at.cb).i32(4 * width).add().set(at.cb);
          f.br(`colsl${rows}`);
        });
      }
      f.br(`cols${rows}`);
    });
  });
}

/** The (m + 2)² GEMMs of one block of tiles: input channels in pairs, then a single one when CIN is odd. */
function emitGemms(c: Ctx, relaxed: boolean): void {
  const { f, P } = c;
  const [xi, vP, gP, accP, ci, cb] = i32s(f, 6);
  const at = { vP, gP, accP, ci, cb };
  f.get(c.vBuf).set(vP);
  f.get(c.gBuf).set(gP);
  f.get(P.ACC).set(accP);
  f.forRange(xi, () => f.i32(0), c.points, 1, () => {
    f.forRange(ci, () => f.i32(0), c.cinEven, 2, () => emitColumns(c, relaxed, 2, at));
    f.get(P.CIN).i32(1).and().if(() => emitColumns(c, relaxed, 1, at));
    f.get(vP).get(c.vStride).add().set(vP);
    f.get(gP).get(c.gStride).add().set(gP);
    f.get(accP).get(P.CIN).get(c.c4).mul().i32(2).shl().add().set(accP);
  });
}

/** Moves (n, h0, w0) to the next m×m tile, row-major within an image (no divisions per tile). */
function emitNextTile(c: Ctx): void {
  const { f, P } = c;
  f.get(c.w0).i32(c.m).add().tee(c.w0).get(P.W).i32ne().eqz().if(() => {
    f.i32(0).set(c.w0);
    f.get(c.h0).i32(c.m).add().tee(c.h0).get(P.H).i32ne().eqz().if(() => {
      f.i32(0).set(c.h0);
      f.get(c.n).i32(1).add().set(c.n);
    });
  });
}

/**
 * winogradRange(...RANGE_PARAMS), byte addresses; y must be a valid address even when MASKED = 0.
 * ACC (winogradAccFloats) is added into: zeroed by the caller, or here when ZERO is its size in bytes;
 * SCRATCH holds winogradScratchBytes(TB).
 */
function rangeFn(relaxed: boolean, m: FilterGradTile): Fn {
  const f = new Fn(RANGE_PARAMS.map(() => I32));
  const P = Object.fromEntries(RANGE_PARAMS.map((n, i) => [n, i])) as Record<RangeParam, number>;
  const [cin4, c4, vBuf, gBuf, vStride, gStride, safe, t, n, h0, w0, tcount, points, cinEven] = i32s(f, 14);
  const [tpi, tEnd, b0, safeEnd, off] = i32s(f, 5);
  const [vzero, vnomask] = v128s(f, 2);
  const alpha = m + 2;
  const k = { c2: 0, c4: 0, c5: 0, c8: 0 };
  if (m === 4) {
    for (const [key, value] of [['c2', 2], ['c4', 4], ['c5', 5]] as const) {
      k[key] = f.local(V128);
      f.f32(value).f32x4splat().set(k[key]);
    }
  }
  const c: Ctx = { f, P, m, alpha, k, cin4, c4, vBuf, gBuf, vStride, gStride, safe, t, n, h0, w0, tcount, vzero, vnomask, points, cinEven };

  f.get(P.CIN).i32(3).add().i32(-4).and().set(cin4);
  f.get(P.COUT).i32(3).add().i32(-4).and().set(c4);
  f.get(P.CIN).i32(-2).and().set(cinEven);
  f.i32(alpha * alpha).set(points); // the GEMMs (transform points): 16, or 36 for m = 4
  f.get(P.TB).get(cin4).mul().i32(PLANE_PAD).add().i32(2).shl().set(vStride);
  f.get(P.TB).get(c4).mul().i32(PLANE_PAD).add().i32(2).shl().set(gStride);
  f.get(P.SCRATCH).set(vBuf);
  f.get(vBuf).get(vStride).i32(alpha * alpha).mul().add().set(gBuf);
  f.get(gBuf).get(gStride).i32(alpha * alpha).mul().add().set(safe);
  f.f32(0).f32x4splat().set(vzero);
  f.get(P.MASKED).i32(1).sub().i32x4splat().set(vnomask); // all ones when there is no mask
  f.get(cin4).i32(alpha).mul().set(safeEnd); // an out-of-image row reads SAFE + column·CIN + channel
  f.forRange(off, () => f.i32(0), safeEnd, 4, () => {
    f.get(safe).get(off).i32(2).shl().add().get(vzero).v128store();
  });
  f.forRange(off, () => f.i32(0), P.ZERO, 16, () => {
    f.get(P.ACC).get(off).add().get(vzero).v128store();
  });

  const log2m = m === 4 ? 2 : 1;
  f.get(P.W).i32(log2m).shrU().get(P.H).i32(log2m).shrU().mul().set(tpi);
  f.get(P.N0).set(n); // h0 = w0 = 0
  f.get(P.N1).get(tpi).mul().set(tEnd);
  f.get(P.N0).get(tpi).mul().set(b0);
  f.block('blocks', () => {
    f.get(b0).get(tEnd).geS().brIf('blocks');
    f.loop('block', () => {
      // tcount = min(TB, tEnd − b0)
      f.get(tEnd).get(b0).sub().set(tcount);
      f.get(tcount).get(P.TB).get(tcount).get(P.TB).ltS().select().set(tcount);
      f.forRange(t, () => f.i32(0), tcount, 1, () => {
        emitInputTransform(c);
        if (m === 4) emitGradTransform4(c);
        else emitGradTransform(c);
        emitNextTile(c);
      });
      emitGemms(c, relaxed);
      f.get(b0).get(P.TB).add().tee(b0).get(tEnd).ltS().brIf('block');
    });
  });
  return f;
}

/**
 * winogradOutput(ACC, CIN, COUT, OUT): OUT[k][ci][co] (k = 3i + j, co padded to C4) = (Aᵀ' ACC A')[i][j],
 * with Aᵀ' = Aᵀ·diag(1, ½, ½, 1) (G's halves). Elementwise over the CIN × C4 plane.
 */
function outputFn(): Fn {
  const f = new Fn([I32, I32, I32, I32]);
  const [ACC, CIN, COUT, OUT] = [0, 1, 2, 3];
  const [plane, q, a, o] = i32s(f, 4);
  const m = v128s(f, 16);
  const p = v128s(f, 12); // p[4i + v] = (Aᵀ' M)[i][v]
  const half = f.local(V128);
  f.f32(0.5).f32x4splat().set(half);
  f.get(COUT).i32(3).add().i32(-4).and().get(CIN).mul().i32(2).shl().set(plane);
  // (Aᵀ' r)[0..2] for r = (r0, r1, r2, r3): [r0 + ½(r1 + r2), ½(r1 − r2), ½(r1 + r2) + r3];
  // pre/post wrap each of the three results (push a store address, then store or set).
  const combine = (r: (k: number) => void, pre: () => void, post: (i: number) => void) => {
    const halfOf = (sum: boolean) => {
      r(1);
      r(2);
      if (sum) f.f32x4add();
      else f.f32x4sub();
      f.get(half).f32x4mul();
    };
    pre();
    r(0);
    halfOf(true);
    f.f32x4add();
    post(0);
    pre();
    halfOf(false);
    post(1);
    pre();
    halfOf(true);
    r(3);
    f.f32x4add();
    post(2);
  };
  f.forRange(q, () => f.i32(0), plane, 16, () => {
    f.get(ACC).get(q).add().set(a);
    for (let k = 0; k < 16; k++) {
      f.get(a).v128load().set(m[k]);
      f.get(a).get(plane).add().set(a);
    }
    for (let v = 0; v < 4; v++) combine((k) => f.get(m[4 * k + v]), () => undefined, (i) => f.set(p[4 * i + v]));
    f.get(OUT).get(q).add().set(o);
    for (let i = 0; i < 3; i++) {
      combine(
        (k) => f.get(p[4 * i + k]),
        () => f.get(o),
        () => f.v128store().get(o).get(plane).add().set(o),
      );
    }
  });
  return f;
}

/**
 * winogradOutput for F(3×3, 4×4): OUT[k][ci][co] (k = 3i + j) = (Gᵀ ACC G)[i][j] over the 36 planes,
 * Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1].
 */
function outputFn4(): Fn {
  const f = new Fn([I32, I32, I32, I32]);
  const [ACC, CIN, COUT, OUT] = [0, 1, 2, 3];
  const [plane, q, a, o] = i32s(f, 4);
  const m = v128s(f, 36);
  const p = v128s(f, 18); // p[6i + v] = (Gᵀ M)[i][v]
  const [s12, d12, s34, d34] = v128s(f, 4);
  const [quarter, sixth, twelfth, c24] = v128s(f, 4);
  for (const [local, value] of [[quarter, 1 / 4], [sixth, 1 / 6], [twelfth, 1 / 12], [c24, 1 / 24]]) f.f32(value).f32x4splat().set(local);
  f.get(COUT).i32(3).add().i32(-4).and().get(CIN).mul().i32(2).shl().set(plane);
  /** Gᵀ x for the six vectors pushed by x(k): emitters of its three rows. */
  const gt = (x: (k: number) => void): Array<() => void> => {
    x(1); x(2); f.f32x4add().set(s12);
    x(1); x(2); f.f32x4sub().set(d12);
    x(3); x(4); f.f32x4add().set(s34);
    x(3); x(4); f.f32x4sub().set(d34);
    return [
      () => { x(0); f.get(quarter).f32x4mul().get(s12).get(sixth).f32x4mul().f32x4sub().get(s34).get(c24).f32x4mul().f32x4add(); },
      () => { f.get(d34).get(twelfth).f32x4mul().get(d12).get(sixth).f32x4mul().f32x4sub(); },
      () => { f.get(s34).get(s12).f32x4sub().get(sixth).f32x4mul(); x(5); f.f32x4add(); },
    ];
  };
  f.forRange(q, () => f.i32(0), plane, 16, () => {
    f.get(ACC).get(q).add().set(a);
    for (let k = 0; k < 36; k++) {
      f.get(a).v128load().set(m[k]);
      f.get(a).get(plane).add().set(a);
    }
    for (let v = 0; v < 6; v++) gt((k) => f.get(m[6 * k + v])).forEach((value, i) => { value(); f.set(p[6 * i + v]); });
    f.get(OUT).get(q).add().set(o);
    for (let i = 0; i < 3; i++) {
      gt((k) => f.get(p[6 * i + k])).forEach((value) => {
        f.get(o);
        value();
        f.v128store().get(o).get(plane).add().set(o);
      });
    }
  });
  return f;
}

export interface WinogradKernels {
  relaxed: boolean;
  /** winogradRange(...RANGE_PARAMS) */
  range: (...args: number[]) => void;
  /** winogradOutput(ACC, CIN, COUT, OUT) */
  output: (...args: number[]) => void;
  /** The range kernel's module (helper threads instantiate it too). */
  rangeModule: WebAssembly.Module;
}

/** The modules' bytes (a few KB: Chrome compiles them synchronously on the main thread, up to 8 MB). */
export function winogradModuleBytes(relaxed: boolean, shared: boolean, tile: FilterGradTile = 2): { range: Uint8Array<ArrayBuffer>; output: Uint8Array<ArrayBuffer> } {
  return {
    range: moduleBytes({ shared }, [{ name: 'winogradRange', fn: rangeFn(relaxed, tile) }]),
    output: moduleBytes({ shared }, [{ name: 'winogradOutput', fn: tile === 4 ? outputFn4() : outputFn() }]),
  };
}

/** Instantiates the kernels for `tile` on `memory` (relaxed SIMD when the engine validates it), or null without SIMD. */
export function instantiateWinograd(memory: WebAssembly.Memory, shared: boolean, tile: FilterGradTile = 2): WinogradKernels | null {
  for (const relaxed of relaxedVariants()) {
    const bytes = winogradModuleBytes(relaxed, shared, tile);
    if (!WebAssembly.validate(bytes.range) || !WebAssembly.validate(bytes.output)) continue;
    const rangeModule = new WebAssembly.Module(bytes.range);
    const run = (m: WebAssembly.Module, name: string) => new WebAssembly.Instance(m, { env: { memory } }).exports[name] as (...args: number[]) => void;
    return { relaxed, range: run(rangeModule, 'winogradRange'), output: run(new WebAssembly.Module(bytes.output), 'winogradOutput'), rangeModule };
  }
  return null;
}
