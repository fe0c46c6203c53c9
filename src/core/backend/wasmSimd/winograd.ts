/**
 * A WebAssembly SIMD kernel for a 3×3, stride-1, 'same' (pad 1) NHWC float32 convolution by
 * Winograd (Lavin & Gray 2015), F(2×2, 3×3) or F(4×4, 3×3): each m×m output tile costs (m + 2)²
 * multiplies per (input, output) channel pair instead of 9m² — 4 per output for m = 2, 2.25 for m = 4
 * (bigger transforms, and a larger rounding error, still ~1e-6 of the output's magnitude here).
 *
 *   U[ξ][ci][co] = (G g Gᵀ)[ξ]        filter transform, once per call (export `filter`, see winogradFilter)
 *   V[ξ][t][ci]  = (Bᵀ d B)[ξ]        input transform of tile t's 4×4 patch d, 4 channels at a time
 *   M[ξ][t][co]  = Σ_ci V·U           16 small GEMMs, 4 tiles × VB·4 channels of accumulators
 *   y            = Aᵀ M A (+ bias) (ReLU)
 *
 * One module per layer shape (H, W, Cin, Cout, bias, ReLU): every stride is a build-time constant,
 * so the loads and stores use constant offsets. Each image of the range is first copied into a
 * zero-bordered scratch image with channels padded to 4 (so the transforms never test borders and
 * padded channels are zero lanes); tiles are processed a block of tile rows at a time so V and M
 * stay in L2 and each GEMM's operands in L1.
 *
 *   filter(g, tapStep, ciStep, coStep, u)   U from the 3×3 filter g (forward or input-gradient layout)
 *   conv(x, u, y, n0, n1, scratch)           images [n0, n1) of x → y, winogradLayout(shape).scratchBytes of scratch
 *
 * The kernel writes only y's images [n0, n1) and its own scratch, and has no global state: two
 * calls on disjoint image ranges with separate scratch areas may run concurrently on shared memory.
 */
import { F32, Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';

export interface Conv3x3Shape {
  h: number;
  w: number;
  cin: number;
  cout: number;
  bias: boolean;
  relu: boolean;
  /** A 2×2/2 max-pool of the output, in the output transform (an output tile is a pool window): y is [N, H/2, W/2, cout]. */
  pool?: boolean;
  /** The output tile m: F(2×2, 3×3) (default) or F(4×4, 3×3) (H, W multiples of 4, no pool). */
  tile?: 2 | 4;
  /**
   * Also Σy and Σy² per output channel over the call's images, in float64, at `stats` (F(4×4) without
   * bias, ReLU or pool: a conv feeding a BatchNorm, which then needs no pass of its own over y).
   */
  stats?: boolean;
}

/** Largest tile block: V and M (16 · T · channels floats each) stay well inside L2. */
const MAX_TILES = 64;
/**
 * The GEMM's register block: TB tiles × VB vectors of output channels (8 accumulators, + VB + 1 of
 * x64's 15 allocatable xmm registers). It runs at about the FMA peak (larger blocks and unrolling the
 * channel loop measured no faster).
 */
const TB = 4;
const VB = 2;

const c4 = (c: number) => (c + 3) & ~3;

/** Sizes (bytes) derived from the shape; every address offset in the module comes from here. */
export function winogradLayout(s: Conv3x3Shape) {
  const ci4 = c4(s.cin);
  const co4 = c4(s.cout);
  const m = s.tile ?? 2;
  const alpha = m + 2; // the input patch (and transformed tile) is alpha × alpha
  const xi = alpha * alpha;
  const tilesW = s.w / m;
  const tileRows = s.h / m;
  // tile rows per block: the largest divisor of tileRows that keeps the block within MAX_TILES
  let rows = 1;
  for (let r = 1; r <= tileRows; r++) if (tileRows % r === 0 && r * tilesW <= MAX_TILES) rows = r;
  const tiles = rows * tilesW;
  const tiles4 = c4(tiles); // the GEMM works on groups of TB = 4 tiles; the extra ones stay zero
  const pRow = (s.w + 2) * ci4 * 4;
  const pBytes = (s.h + 2) * pRow;
  // + one cache line: the ξ of a tile, stored and loaded together, must not share an L1 set (4 KB aliasing)
  const vStride = tiles4 * ci4 * 4 + 64;
  const mStride = tiles4 * co4 * 4 + 64;
  const uStride = s.cin * co4 * 4;
  return {
    m, alpha, xi, ci4, co4, tilesW, tileRows, rows, tiles, tiles4, pRow, pBytes, vStride, mStride, uStride,
    vBytes: xi * vStride,
    mBytes: xi * mStride,
    /** P, V, M, then (m = 4) the transforms' alpha × alpha vectors of intermediate rows. */
    scratchBytes: pBytes + xi * vStride + xi * mStride + (m === 4 ? xi * 16 : 0),
    /** Length of `u`: U, then the bias padded to co4. */
    filterFloats: xi * s.cin * co4 + co4,
  };
}

type Layout = ReturnType<typeof winogradLayout>;

/** Supported: H and W multiples of the tile (2 or 4), at least one channel each way; F(4×4) without the pool. */
export function winogradSupports(s: Pick<Conv3x3Shape, 'h' | 'w' | 'cin' | 'cout' | 'tile' | 'pool'>): boolean {
  const m = s.tile ?? 2;
  if (m === 4 && s.pool) return false;
  return s.h >= m && s.w >= m && s.h % m === 0 && s.w % m === 0 && s.cin >= 1 && s.cout >= 1;
}

/** Emits `do { body } while ((p += step) < end)` over a byte address (at least one iteration). */
function doWhile(f: Fn, p: number, step: number, end: number, body: () => void) {
  const id = `dw${p}_${f.code.length}`;
  f.loop(id, () => {
    body();
    f.get(p).i32(step).add().tee(p).get(end).ltU().brIf(id);
  });
}

/** Stores zero vectors over [p, p + bytes). */
function zeroFill(f: Fn, p: number, end: number, bytes: number, zero: number) {
  f.get(p).i32(bytes).add().set(end);
  doWhile(f, p, 16, end, () => f.get(p).get(zero).v128store());
}

/** Copies image n of x into the interior of the zero-bordered, channel-padded scratch image P. */
function copyImage(f: Fn, s: Conv3x3Shape, L: Layout, a: { x: number; n: number; P: number }, t: { src: number; dst: number; end: number; rowEnd: number }) {
  const rowBytes = s.w * s.cin * 4;
  f.get(a.x).get(a.n).i32(s.h * rowBytes).mul().add().set(t.src);
  f.get(a.P).i32(L.pRow + L.ci4 * 4).add().set(t.dst);
  f.get(t.src).i32(s.h * rowBytes).add().set(t.end);
  const id = `rows${f.code.length}`;
  f.loop(id, () => {
    f.get(t.src).i32(rowBytes).add().set(t.rowEnd);
    if (s.cin % 4 === 0) {
      // the row is contiguous in both: W·Cin/4 vectors
      doWhile(f, t.src, 16, t.rowEnd, () => f.get(t.dst).get(t.src).v128load().v128store().get(t.dst).i32(16).add().set(t.dst));
    } else {
      doWhile(f, t.src, s.cin * 4, t.rowEnd, () => {
        for (let c = 0; c < s.cin; c++) f.get(t.dst).get(t.src).f32load(c * 4).f32store(c * 4);
        f.get(t.dst).i32(L.ci4 * 4).add().set(t.dst);
      });
    }
    f.get(t.dst).i32(2 * L.ci4 * 4).add().set(t.dst); // skip the right border and the next row's left border
    f.get(t.src).get(t.end).ltU().brIf(id);
  });
}

/** V[ξ][t][c..c+3] = (Bᵀ d B)[ξ] for every tile t of the block whose first tile row is ty0. */
function inputTransform(f: Fn, s: Conv3x3Shape, L: Layout, a: { P: number; V: number; ty0: number }, t: { pp: number; pv: number; pc: number; vc: number; end: number; rowEnd: number; cEnd: number }, d: number[], r: number[]) {
  f.get(a.P).get(a.ty0).i32(2 * L.pRow).mul().add().set(t.pp);
  f.get(a.V).set(t.pv);
  f.get(t.pp).i32(L.rows * 2 * L.pRow).add().set(t.end);
  doWhile(f, t.pp, 2 * L.pRow, t.end, () => {
    f.get(t.pp).i32(L.tilesW * 2 * L.ci4 * 4).add().set(t.rowEnd);
    doWhile(f, t.pp, 2 * L.ci4 * 4, t.rowEnd, () => {
      f.get(t.pp).set(t.pc);
      f.get(t.pv).set(t.vc);
      f.get(t.pc).i32(L.ci4 * 4).add().set(t.cEnd);
      doWhile(f, t.pc, 16, t.cEnd, () => {
        // rows: r[i][·] = d[i][·] B
        for (let i = 0; i < 4; i++) {
          for (let j = 0; j < 4; j++) f.get(t.pc).v128load((i * (s.w + 2) + j) * L.ci4 * 4).set(d[j]);
          f.get(d[0]).get(d[2]).f32x4sub().set(r[i * 4]);
          f.get(d[1]).get(d[2]).f32x4add().set(r[i * 4 + 1]);
          f.get(d[2]).get(d[1]).f32x4sub().set(r[i * 4 + 2]);
          f.get(d[1]).get(d[3]).f32x4sub().set(r[i * 4 + 3]);
        }
        // columns: V = Bᵀ r
        for (let j = 0; j < 4; j++) {
          const st = (k: number, x: number, y: number, add: boolean) => {
            f.get(t.vc).get(r[x * 4 + j]).get(r[y * 4 + j]);
            if (add) f.f32x4add();
            else f.f32x4sub();
            f.v128store((k * 4 + j) * L.vStride);
          };
          st(0, 0, 2, false);
          st(1, 1, 2, true);
          st(2, 2, 1, false);
          st(3, 1, 3, false);
        }
        f.get(t.vc).i32(16).add().set(t.vc);
      });
      f.get(t.pv).i32(L.ci4 * 4).add().set(t.pv);
    });
    f.get(t.pp).i32(L.tilesW * 2 * L.ci4 * 4).sub().set(t.pp); // back to the row start: the outer loop steps 2 rows
  });
}

/** Constant vectors of the F(4×4, 3×3) transforms: 2, 4, 5, 8 in every lane. */
export interface Consts4 {
  c2: number;
  c4: number;
  c5: number;
  c8: number;
}

/**
 * Bᵀ of F(4×4, 3×3) (points 0, ±1, ±2, ∞) applied to the six vectors pushed by x(i): emitters pushing
 * row k of Bᵀ x, Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1].
 * The filter gradient's F(3×3, 4×4) uses the same Bᵀ (winogradFilterGrad.ts).
 */
export function bt6(f: Fn, x: (i: number) => void, K: Pick<Consts4, 'c2' | 'c4' | 'c5'>): Array<() => void> {
  return [
    () => { x(4); x(0); f.get(K.c4).f32x4mul().f32x4add(); x(2); f.get(K.c5).f32x4mul().f32x4sub(); },
    () => { x(3); x(4); f.f32x4add(); x(1); x(2); f.f32x4add().get(K.c4).f32x4mul().f32x4sub(); },
    () => { x(4); x(3); f.f32x4sub(); x(1); x(2); f.f32x4sub().get(K.c4).f32x4mul().f32x4add(); },
    () => { x(4); x(2); f.f32x4sub(); x(3); x(1); f.f32x4sub().get(K.c2).f32x4mul().f32x4add(); },
    () => { x(4); x(2); f.f32x4sub(); x(3); x(1); f.f32x4sub().get(K.c2).f32x4mul().f32x4sub(); },
    () => { x(5); x(1); f.get(K.c4).f32x4mul().f32x4add(); x(3); f.get(K.c5).f32x4mul().f32x4sub(); },
  ];
}

/**
 * The F(4×4) input transform of the block: V[ξ][t][c..c+3] = (Bᵀ d B)[ξ], d the 6×6 patch of tile t.
 * As two passes of loops through the vectors at T (rows, then columns) rather than unrolled: the
 * unrolled 36-vector transform needs more registers than x64 has and makes the module larger.
 */
function inputTransform4(f: Fn, L: Layout, a: { P: number; V: number; ty0: number; T: number }, t: { pp: number; pv: number; pc: number; vc: number; end: number; rowEnd: number; cEnd: number; rp: number; tp: number; tEnd: number }, d: number[], K: Consts4) {
  const tileBytes = 4 * L.ci4 * 4;
  f.get(a.P).get(a.ty0).i32(4 * L.pRow).mul().add().set(t.pp);
  f.get(a.V).set(t.pv);
  f.get(t.pp).i32(L.rows * 4 * L.pRow).add().set(t.end);
  doWhile(f, t.pp, 4 * L.pRow, t.end, () => {
    f.get(t.pp).i32(L.tilesW * tileBytes).add().set(t.rowEnd);
    doWhile(f, t.pp, tileBytes, t.rowEnd, () => {
      f.get(t.pp).set(t.pc);
      f.get(t.pv).set(t.vc);
      f.get(t.pc).i32(L.ci4 * 4).add().set(t.cEnd);
      doWhile(f, t.pc, 16, t.cEnd, () => {
        // rows: T[i][k] = (Bᵀ d[i][·])[k], one patch row per iteration
        f.get(t.pc).set(t.rp);
        f.get(a.T).set(t.tp);
        f.get(a.T).i32(6 * 96).add().set(t.tEnd);
        doWhile(f, t.tp, 96, t.tEnd, () => {
          for (let j = 0; j < 6; j++) f.get(t.rp).v128load(j * L.ci4 * 4).set(d[j]);
          bt6(f, (i) => f.get(d[i]), K).forEach((value, k) => {
            f.get(t.tp);
            value();
            f.v128store(k * 16);
          });
          f.get(t.rp).i32(L.pRow).add().set(t.rp);
        });
        // columns: V[k·6 + j] = (Bᵀ T[·][j])[k], one column per iteration
        f.get(a.T).set(t.tp);
        f.get(t.vc).set(t.rp);
        f.get(a.T).i32(96).add().set(t.tEnd);
        doWhile(f, t.tp, 16, t.tEnd, () => {
          for (let i = 0; i < 6; i++) f.get(t.tp).v128load(i * 96).set(d[i]);
          bt6(f, (i) => f.get(d[i]), K).forEach((value, k) => {
            f.get(t.rp);
            value();
            f.v128store(k * 6 * L.vStride);
          });
          f.get(t.rp).i32(L.vStride).add().set(t.rp);
        });
        f.get(t.vc).i32(16).add().set(t.vc);
      });
      f.get(t.pv).i32(L.ci4 * 4).add().set(t.pv);
    });
    f.get(t.pp).i32(L.tilesW * tileBytes).sub().set(t.pp); // back to the row start: the outer loop steps a tile row
  });
}

/**
 * M[ξ][t][co] = Σ_ci V[ξ][t][ci] · U[ξ][ci][co] for the block: per ξ, per group of 4 tiles, per
 * block of VB (or fewer, at the end) vectors of output channels, TB × VB accumulators.
 */
function gemm(f: Fn, s: Conv3x3Shape, L: Layout, relaxed: boolean, a: { u: number; V: number; M: number }, t: { vx: number; ux: number; mx: number; vg: number; mg: number; vgEnd: number; cb: number; cbEnd: number; pv: number; pu: number; pvEnd: number; xiEnd: number }, acc: number[], uv: number[], sp: number) {
  const nvec = L.co4 / 4;
  const full = Math.floor(nvec / VB);
  const rem = nvec % VB;

  /** One input channel: TB splats of V × width vectors of U. */
  const step = (width: number) => {
    for (let v = 0; v < width; v++) f.get(t.pu).v128load(v * 16).set(uv[v]);
    for (let k = 0; k < TB; k++) {
      f.get(t.pv).v128load32splat(k * L.ci4 * 4).set(sp);
      for (let v = 0; v < width; v++) {
        const ac = acc[k * VB + v];
        if (relaxed) f.get(sp).get(uv[v]).get(ac).f32x4relaxedMadd().set(ac);
        else f.get(ac).get(sp).get(uv[v]).f32x4mul().f32x4add().set(ac);
      }
    }
  };
  /** The whole Σ_ci for one register block: ux and t.mg + cb bytes are its U and M columns. */
  const block = (width: number, cbBytes: () => void) => {
    for (let k = 0; k < TB; k++) for (let v = 0; v < width; v++) f.f32(0).f32x4splat().set(acc[k * VB + v]);
    f.get(t.vg).set(t.pv);
    f.get(t.ux); cbBytes(); f.add().set(t.pu);
    f.get(t.pv).i32(s.cin * 4).add().set(t.pvEnd);
    doWhile(f, t.pv, 4, t.pvEnd, () => {
      step(width);
      f.get(t.pu).i32(L.co4 * 4).add().set(t.pu);
    });
    f.get(t.mg); cbBytes(); f.add().set(t.pu); // reuse pu as the store address
    for (let k = 0; k < TB; k++) for (let v = 0; v < width; v++) f.get(t.pu).get(acc[k * VB + v]).v128store(k * L.co4 * 4 + v * 16);
  };

  f.get(a.V).set(t.vx);
  f.get(a.u).set(t.ux);
  f.get(a.M).set(t.mx);
  f.get(t.vx).i32(L.xi * L.vStride).add().set(t.xiEnd);
  doWhile(f, t.vx, L.vStride, t.xiEnd, () => {
    f.get(t.vx).set(t.vg);
    f.get(t.mx).set(t.mg);
    f.get(t.vx).i32(L.tiles4 * L.ci4 * 4).add().set(t.vgEnd);
    doWhile(f, t.vg, TB * L.ci4 * 4, t.vgEnd, () => {
      if (full > 0) {
        f.i32(0).set(t.cb);
        f.i32(full * VB * 16).set(t.cbEnd);
        doWhile(f, t.cb, VB * 16, t.cbEnd, () => block(VB, () => f.get(t.cb)));
      }
      if (rem > 0) block(rem, () => f.i32(full * VB * 16));
      f.get(t.mg).i32(TB * L.co4 * 4).add().set(t.mg);
    });
    f.get(t.ux).i32(L.uStride).add().set(t.ux);
    f.get(t.mx).i32(L.mStride).add().set(t.mx);
  });
}

/**
 * The output transforms' loops over the block's tiles of image n: per tile, `tile(4)` per full vector of
 * output channels and `tile(lanes)` for the tail (t.pc the tile's output, t.mc its M column, t.bc its bias).
 */
function outputTiles(f: Fn, L: Layout, a: { y: number; n: number; ty0: number; M: number; biasP: number }, t: { py: number; pm: number; end: number; rowEnd: number; pc: number; mc: number; bc: number; cEnd: number }, g: { imageBytes: number; rowStep: number; tileStep: number; cout: number }, tile: (lanes: number) => void) {
  const fullBytes = (g.cout >> 2) * 16;
  const lanes = g.cout % 4;
  f.get(a.M).set(t.pm);
  f.get(a.y).get(a.n).i32(g.imageBytes).mul().add().get(a.ty0).i32(g.rowStep).mul().add().set(t.py);
  f.get(t.py).i32(L.rows * g.rowStep).add().set(t.end);
  doWhile(f, t.py, g.rowStep, t.end, () => {
    f.get(t.py).i32(g.tileStep * L.tilesW).add().set(t.rowEnd);
    doWhile(f, t.py, g.tileStep, t.rowEnd, () => {
      f.get(t.py).set(t.pc);
      f.get(t.pm).set(t.mc);
      f.get(a.biasP).set(t.bc);
      if (fullBytes > 0) {
        f.get(t.pc).i32(fullBytes).add().set(t.cEnd);
        doWhile(f, t.pc, 16, t.cEnd, () => {
          tile(4);
          f.get(t.mc).i32(16).add().set(t.mc);
          f.get(t.bc).i32(16).add().set(t.bc);
        });
      }
      if (lanes > 0) tile(lanes);
      f.get(t.pm).i32(L.co4 * 4).add().set(t.pm);
    });
    f.get(t.py).i32(g.tileStep * L.tilesW).sub().set(t.py); // back to the row start: the outer loop steps a tile row
  });
}

/** y = Aᵀ M A (+ bias, ReLU) (max over the tile when pooling) for the block's tiles of image n. */
function outputTransform(f: Fn, s: Conv3x3Shape, L: Layout, a: { y: number; n: number; ty0: number; M: number; biasP: number }, t: { py: number; pm: number; end: number; rowEnd: number; pc: number; mc: number; bc: number; cEnd: number }, m: number[], o: number[], zero: number) {
  const yRow = s.w * s.cout * 4;
  // bytes from one tile's output to the next, from one tile row's to the next, per image
  const tileStep = (s.pool ? 1 : 2) * s.cout * 4;
  const rowStep = s.pool ? (s.w / 2) * s.cout * 4 : 2 * yRow;
  const imageBytes = s.pool ? (s.h / 2) * rowStep : s.h * yRow;

  /** Stores vector local v at t.pc + off: all 4 lanes, or only `lanesKept` (the channel tail). */
  let lanesKept = 4;
  const store = (v: number, off: number) => {
    if (lanesKept === 4) f.get(t.pc).get(v).v128store(off);
    else for (let k = 0; k < lanesKept; k++) f.get(t.pc).get(v).f32x4extractLane(k).f32store(off + 4 * k);
  };
  /** One vector of 4 channels of the tile. */
  const tile = () => {
    for (let xi = 0; xi < 16; xi++) f.get(t.mc).v128load(xi * L.mStride).set(m[xi]);
    // rows: s[a][l] = Σ_k Aᵀ[a][k] M[k][l], into o[0..7]
    for (let l = 0; l < 4; l++) {
      f.get(m[l]).get(m[4 + l]).f32x4add().get(m[8 + l]).f32x4add().set(o[l]);
      f.get(m[4 + l]).get(m[8 + l]).f32x4sub().get(m[12 + l]).f32x4sub().set(o[4 + l]);
    }
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const [p, q, r] = j === 0 ? [0, 1, 2] : [1, 2, 3];
        f.get(o[i * 4 + p]).get(o[i * 4 + q]);
        if (j === 0) f.f32x4add().get(o[i * 4 + r]).f32x4add();
        else f.f32x4sub().get(o[i * 4 + r]).f32x4sub();
        if (s.bias) f.get(t.bc).v128load().f32x4add();
        if (s.relu) f.get(zero).f32x4pmax();
        f.set(m[0]); // M is consumed: reuse its first locals
        if (s.pool) {
          if (i + j === 0) f.get(m[0]).set(m[1]);
          else f.get(m[1]).get(m[0]).f32x4max().set(m[1]);
          continue;
        }
        store(m[0], (i * s.w + j) * s.cout * 4);
      }
    }
    if (s.pool) store(m[1], 0);
  };

  outputTiles(f, L, a, t, { imageBytes, rowStep, tileStep, cout: s.cout }, (k) => {
    lanesKept = k;
    tile();
  });
}

/**
 * Aᵀ of F(4×4, 3×3) applied to the six vectors m: emitters pushing row a of Aᵀ m,
 * Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]. Sets the four sums in `sum` first.
 */
function at6(f: Fn, m: number[], sum: number[], K: Consts4): Array<() => void> {
  const [pa, ma, pb, mb] = sum; // m1 + m2, m1 − m2, m3 + m4, m3 − m4
  f.get(m[1]).get(m[2]).f32x4add().set(pa);
  f.get(m[1]).get(m[2]).f32x4sub().set(ma);
  f.get(m[3]).get(m[4]).f32x4add().set(pb);
  f.get(m[3]).get(m[4]).f32x4sub().set(mb);
  return [
    () => f.get(m[0]).get(pa).f32x4add().get(pb).f32x4add(),
    () => f.get(ma).get(mb).get(K.c2).f32x4mul().f32x4add(),
    () => f.get(pa).get(pb).get(K.c4).f32x4mul().f32x4add(),
    () => f.get(ma).get(mb).get(K.c8).f32x4mul().f32x4add().get(m[5]).f32x4add(),
  ];
}

/** The F(4×4) output transform: y = Aᵀ M A (+ bias, ReLU) for the block's tiles of image n, in two passes through T like the input's. */
function outputTransform4(f: Fn, s: Conv3x3Shape, L: Layout, relaxed: boolean, a: { y: number; n: number; ty0: number; M: number; biasP: number; T: number; stats: number }, t: { py: number; pm: number; end: number; rowEnd: number; pc: number; mc: number; bc: number; cEnd: number; lp: number; tp: number; tEnd: number; sp: number }, m: number[], zero: number, K: Consts4, st: { ts: number; tq: number; d: number }) {
  const yRow = s.w * s.cout * 4;
  const tileStep = 4 * s.cout * 4;
  const rowStep = 4 * yRow;
  const sum = m.slice(6, 10);
  const out = m[10];

  let lanesKept = 4;
  const store = (off: number) => {
    if (lanesKept === 4) f.get(t.pc).get(out).v128store(off);
    else for (let k = 0; k < lanesKept; k++) f.get(t.pc).get(out).f32x4extractLane(k).f32store(off + 4 * k);
  };
  /** One vector of 4 channels of the tile. */
  const tile = () => {
    // rows: T[a][l] = (Aᵀ M[·][l])[a], one column l of M per iteration
    f.get(t.mc).set(t.lp);
    f.get(a.T).set(t.tp);
    f.get(a.T).i32(96).add().set(t.tEnd);
    doWhile(f, t.tp, 16, t.tEnd, () => {
      for (let k = 0; k < 6; k++) f.get(t.lp).v128load(k * 6 * L.mStride).set(m[k]);
      at6(f, m, sum, K).forEach((value, r) => {
        f.get(t.tp);
        value();
        f.v128store(r * 96);
      });
      f.get(t.lp).i32(L.mStride).add().set(t.lp);
    });
    // columns: y[r][c] = (T[r][·] A)[c], unrolled over the 4 output rows (each its own y offset)
    if (s.stats) {
      f.get(zero).set(st.ts);
      f.get(zero).set(st.tq);
    }
    for (let r = 0; r < 4; r++) {
      for (let l = 0; l < 6; l++) f.get(a.T).v128load(r * 96 + l * 16).set(m[l]);
      at6(f, m, sum, K).forEach((value, c) => {
        value();
        if (s.bias) f.get(t.bc).v128load().f32x4add();
        if (s.relu) f.get(zero).f32x4pmax();
        f.set(out);
        store((r * s.w + c) * s.cout * 4);
        if (s.stats) {
          f.get(st.ts).get(out).f32x4add().set(st.ts);
          if (relaxed) f.get(out).get(out).get(st.tq).f32x4relaxedMadd().set(st.tq);
          else f.get(st.tq).get(out).get(out).f32x4mul().f32x4add().set(st.tq);
        }
      });
    }
    if (s.stats) {
      // the tile's 16 sums (float32) into the call's float64 totals: Σy at stats + 32·v, Σy² 8·co4 bytes further
      f.get(t.bc).get(a.biasP).sub().i32(1).shl().get(a.stats).add().set(t.sp);
      for (const [v, off] of [[st.ts, 0], [st.tq, 8 * L.co4]] as const) {
        f.get(t.sp).get(t.sp).v128load(off).get(v).f64x2promoteLowF32x4().f64x2add().v128store(off);
        f.get(v).get(v).i8x16shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).set(st.d);
        f.get(t.sp).get(t.sp).v128load(off + 16).get(st.d).f64x2promoteLowF32x4().f64x2add().v128store(off + 16);
      }
    }
  };

  outputTiles(f, L, a, t, { imageBytes: s.h * yRow, rowStep, tileStep, cout: s.cout }, (k) => {
    lanesKept = k;
    tile();
  });
}

const PARAMS = ['x', 'u', 'y', 'n0', 'n1', 'scratch', 'stats'] as const;

function convFn(s: Conv3x3Shape, relaxed: boolean): Fn {
  const L = winogradLayout(s);
  if (s.stats && (L.m !== 4 || s.bias || s.relu || s.pool)) throw new Error('winograd: stats need F(4×4) without bias, ReLU or pool');
  const f = new Fn(PARAMS.map(() => I32));
  const [x, u, y, n0, n1, scratch, stats] = PARAMS.map((_, i) => i);
  const i32 = () => f.local(I32);
  const v128s = (n: number) => Array.from({ length: n }, () => f.local(V128));
  const [P, V, M, biasP, n, ty0, p, end, a1, a2, a3, a4, a5, a6, a7] = Array.from({ length: 15 }, i32);
  const [b1, b2, b3, b4, b5, b6] = Array.from({ length: 6 }, i32);
  const T = i32();
  const statsP = i32();
  const zero = f.local(V128);
  const st = { ts: f.local(V128), tq: f.local(V128), d: f.local(V128) };
  const acc = v128s(TB * VB);
  const uv = v128s(VB);
  const sp = f.local(V128);
  const d = v128s(4);
  const r = v128s(16);
  const K: Consts4 = { c2: 0, c4: 0, c5: 0, c8: 0 };
  if (L.m === 4) {
    for (const [key, value] of [['c2', 2], ['c4', 4], ['c5', 5], ['c8', 8]] as const) {
      K[key] = f.local(V128);
      f.f32(value).f32x4splat().set(K[key]);
    }
  }

  f.f32(0).f32x4splat().set(zero);
  f.get(scratch).set(P);
  f.get(P).i32(L.pBytes).add().set(V);
  f.get(V).i32(L.vBytes).add().set(M);
  f.get(M).i32(L.mBytes).add().set(T);
  f.get(u).i32(L.xi * L.uStride).add().set(biasP);
  // the borders of P, its padded channels and the padding tiles of V are never written: zero them once
  f.get(P).set(p);
  zeroFill(f, p, end, L.tiles4 > L.tiles ? L.pBytes + L.vBytes : L.pBytes, zero);
  if (s.stats) {
    f.get(stats).set(p);
    zeroFill(f, p, end, 16 * L.co4, zero);
  }

  f.forRange(n, () => f.get(n0), n1, 1, () => {
    copyImage(f, s, L, { x, n, P }, { src: a1, dst: a2, end: a3, rowEnd: a4 });
    f.i32(0).set(ty0);
    f.loop('block', () => {
      if (L.m === 4) inputTransform4(f, L, { P, V, ty0, T }, { pp: a1, pv: a2, pc: a3, vc: a4, end: a5, rowEnd: a6, cEnd: a7, rp: b1, tp: b2, tEnd: b3 }, r, K);
      else inputTransform(f, s, L, { P, V, ty0 }, { pp: a1, pv: a2, pc: a3, vc: a4, end: a5, rowEnd: a6, cEnd: a7 }, d, r);
      gemm(f, s, L, relaxed, { u, V, M }, { vx: a1, ux: a2, mx: a3, vg: a4, mg: a5, vgEnd: a6, cb: a7, cbEnd: b1, pv: b2, pu: b3, pvEnd: b4, xiEnd: b5 }, acc, uv, sp);
      if (L.m === 4) outputTransform4(f, s, L, relaxed, { y, n, ty0, M, biasP, T, stats }, { py: a1, pm: a2, end: a3, rowEnd: a4, pc: a5, mc: a6, bc: a7, cEnd: b6, lp: b1, tp: b2, tEnd: b3, sp: statsP }, r, zero, K, st);
      else outputTransform(f, s, L, { y, n, ty0, M, biasP }, { py: a1, pm: a2, end: a3, rowEnd: a4, pc: a5, mc: a6, bc: a7, cEnd: b6 }, r, d.concat(acc.slice(0, 4)), zero);
      f.get(ty0).i32(L.rows).add().tee(ty0).i32(L.tileRows).ltS().brIf('block');
    });
  });
  return f;
}

/** G of F(m×m, 3×3): the filter transform is U = G g Gᵀ. */
const winogradG = (m: number): ReadonlyArray<readonly number[]> =>
  m === 4
    ? [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]
    : [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];

/** Pushes Σ w[i]·x[i] of locals x, f32 or (vector) f32x4, in index order (zero weights skipped; at least one is nonzero). */
function weightedSum(f: Fn, x: number[], w: readonly number[], vector: boolean) {
  let first = true;
  w.forEach((wi, i) => {
    if (wi === 0) return;
    f.get(x[i]);
    if (wi !== 1) {
      if (vector) f.f32(wi).f32x4splat().f32x4mul();
      else f.f32(wi).f32mul();
    }
    if (!first) {
      if (vector) f.f32x4add();
      else f.f32add();
    }
    first = false;
  });
}

/**
 * filter(g, tapStep, ciStep, coStep, u): U[ξ][ci][co] = (G k Gᵀ)[ξ] for every (ci, co), k the 3×3
 * kernel at g + tap·tapStep + ci·ciStep + co·coStep (bytes). G is F(2, 3)'s
 * [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] or F(4, 3)'s [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1].
 * The steps select g's layout: the forward filter, or the input gradient's (flipped: g at the last tap
 * and a negative tapStep; in and out swapped).
 */
function filterFn(s: Conv3x3Shape, L: Layout): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]);
  const [g, tapStep, ciStep, coStep, u] = [0, 1, 2, 3, 4];
  const [ci, co, src, dst, cinL, coutL] = Array.from({ length: 6 }, () => f.local(I32));
  const k = Array.from({ length: 9 }, () => f.local(F32));
  const gk = Array.from({ length: 3 * L.alpha }, () => f.local(F32));
  const combo = (x: number[], w: readonly number[]) => weightedSum(f, x, w, false);
  const G = winogradG(L.m);
  f.i32(s.cin).set(cinL);
  f.i32(s.cout).set(coutL);
  f.forRange(ci, () => f.i32(0), cinL, 1, () => {
    f.forRange(co, () => f.i32(0), coutL, 1, () => {
      f.get(g).get(ci).get(ciStep).mul().add().get(co).get(coStep).mul().add().set(src);
      for (const kt of k) f.get(src).f32load().set(kt).get(src).get(tapStep).add().set(src);
      // gk = G k (alpha × 3), rows a
      for (let j = 0; j < 3; j++) G.forEach((row, a) => { combo([k[j], k[3 + j], k[6 + j]], row); f.set(gk[a * 3 + j]); });
      // U = gk Gᵀ, ξ = a·alpha + b
      f.get(u).get(ci).i32(L.co4).mul().get(co).add().i32(2).shl().add().set(dst);
      for (let a = 0; a < L.alpha; a++) {
        G.forEach((row, b) => {
          f.get(dst);
          combo([gk[a * 3], gk[a * 3 + 1], gk[a * 3 + 2]], row);
          f.f32store((a * L.alpha + b) * L.uStride);
        });
      }
    });
  });
  return f;
}

/**
 * filter() for 4 output channels at a time (cout a multiple of 4, so U has no padding lanes): the
 * same operations as filterFn on 4-lane vectors, the taps gathered lane by lane (the steps are
 * arguments: the input gradient's layout has the output channels apart), U stored as whole vectors.
 * Why: the scalar transform ran on the calling thread before every conv, 0.47 ms for 64 → 64 (Node,
 * AVX-512 VM) — about 6 ms of a ResNet-20 step with its 35 convs.
 */
function filterVecFn(s: Conv3x3Shape, L: Layout): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]);
  const [g, tapStep, ciStep, coStep, u] = [0, 1, 2, 3, 4];
  const [ci, co, dst, cinL, coutL] = Array.from({ length: 5 }, () => f.local(I32));
  const src = Array.from({ length: 4 }, () => f.local(I32));
  const k = Array.from({ length: 9 }, () => f.local(V128));
  const gk = Array.from({ length: 3 }, () => f.local(V128));
  const combo = (x: number[], w: readonly number[]) => weightedSum(f, x, w, true);
  const G = winogradG(L.m);
  f.i32(s.cin).set(cinL);
  f.i32(s.cout).set(coutL);
  f.forRange(ci, () => f.i32(0), cinL, 1, () => {
    f.forRange(co, () => f.i32(0), coutL, 4, () => {
      f.get(g).get(ci).get(ciStep).mul().add().get(co).get(coStep).mul().add().set(src[0]);
      for (let l = 1; l < 4; l++) f.get(src[l - 1]).get(coStep).add().set(src[l]);
      for (const kt of k) {
        f.get(src[0]).f32load().f32x4splat();
        for (let l = 1; l < 4; l++) f.get(src[l]).f32load().f32x4replaceLane(l);
        f.set(kt);
        for (let l = 0; l < 4; l++) f.get(src[l]).get(tapStep).add().set(src[l]);
      }
      f.get(u).get(ci).i32(L.co4).mul().get(co).add().i32(2).shl().add().set(dst);
      // row a of G k (3 vectors), then row a of U = (G k) Gᵀ, ξ = a·alpha + b
      G.forEach((rowA, a) => {
        for (let j = 0; j < 3; j++) {
          combo([k[j], k[3 + j], k[6 + j]], rowA);
          f.set(gk[j]);
        }
        G.forEach((rowB, b) => {
          f.get(dst);
          combo(gk, rowB);
          f.v128store((a * L.alpha + b) * L.uStride);
        });
      });
    });
  });
  return f;
}

/** The module's bytes: exports `conv`, `filter` and `filterVec`. */
export function winogradBytes(s: Conv3x3Shape, relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  const L = winogradLayout(s);
  return moduleBytes({ shared }, [
    { name: 'conv', fn: convFn(s, relaxed) },
    { name: 'filter', fn: filterFn(s, L) },
    { name: 'filterVec', fn: filterVecFn(s, L) },
  ]);
}

export interface WinogradModule {
  relaxed: boolean;
  /** `stats`: 16 · co4 bytes (Σy, then Σy², float64 per channel) when the shape asks for them, else ignored. */
  conv: (x: number, u: number, y: number, n0: number, n1: number, scratch: number, stats: number) => void;
  filter: (g: number, tapStep: number, ciStep: number, coStep: number, u: number) => void;
  /** filter() 4 output channels at a time; for cout a multiple of 4 only. */
  filterVec: (g: number, tapStep: number, ciStep: number, coStep: number, u: number) => void;
  /** The compiled module (helper threads instantiate it too). */
  module: WebAssembly.Module;
}

/** Instantiates the kernel for `s` on `memory` (relaxed SIMD when validated), or null without SIMD. */
export function instantiateWinograd(s: Conv3x3Shape, memory: WebAssembly.Memory, shared: boolean): WinogradModule | null {
  for (const relaxed of relaxedVariants()) {
    const bytes = winogradBytes(s, relaxed, shared);
    if (!WebAssembly.validate(bytes)) continue;
    const module = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    const e = inst.exports;
    return { relaxed, conv: e.conv as WinogradModule['conv'], filter: e.filter as WinogradModule['filter'], filterVec: e.filterVec as WinogradModule['filterVec'], module };
  }
  return null;
}

let filterVecOn = true;
/** For tests and A/B measurements: the scalar filter transform everywhere (off) or the vector one where it applies (on). */
export function setWinogradFilterVec(on: boolean): void {
  filterVecOn = on;
}

/**
 * Writes the kernel's `u` (winogradLayout(s).filterFloats floats at byte address u) for the filter at
 * byte address g, [3, 3, gIn, gOut] HWIO: U, then the bias (byte address, or null) padded with zeros.
 * `inputGrad`: the input gradient's filter (g flipped, in and out swapped: s.cin = gOut, s.cout = gIn).
 */
export function winogradFilter(mod: WinogradModule, memory: WebAssembly.Memory, s: Conv3x3Shape, g: number, inputGrad: boolean, bias: number | null, u: number): void {
  const L = winogradLayout(s);
  const uView = new Float32Array(memory.buffer, u, L.filterFloats);
  if (s.cout % 4 !== 0) uView.fill(0); // the padding lanes of U and the bias
  const taps = s.cin * s.cout * 4;
  const transform = s.cout % 4 === 0 && filterVecOn ? mod.filterVec : mod.filter;
  if (inputGrad) transform(g + 8 * taps, -taps, 4, s.cin * 4, u);
  else transform(g, taps, s.cout * 4, 4, u);
  if (bias != null) uView.set(new Float32Array(memory.buffer, bias, s.cout), L.xi * s.cin * L.co4);
}
