/**
 * WebAssembly SIMD kernels for a 3×3 convolution of stride 2 with PyTorch's padding 1 (no bias):
 * ResNet-20's downsampling convs, NHWC float32, x [N, H, W, cin] (H, W even) → y [N, H/2, W/2, cout].
 * Output pixel (i, j) reads input pixels (2i + a − 1, 2j + b − 1) through tap (a, b) of W [3, 3, cin, cout].
 *
 *   forward(x, w, y, n0, n1, scratch)        y = conv(x, W)
 *   inputGrad(dy, m, dx, n0, n1, scratch)    dx, from the phase matrices m (phaseMatrices, below)
 *   filterGrad(x, dy, acc, n0, n1)           acc [3, 3, cin, cout] = ∂W over images [n0, n1) (overwritten)
 *
 * Why kernels of our own: tfjs ran the forward on XNNPACK (~25 GMAC/s on two threads here) and the
 * gradients as stride-1 Winograd convs on dy spread to the even pixels (4× the pixels, 3 of 4 zeros):
 * ~17 ms of a ResNet-20 step for 3 × 2 × 75 M multiply-adds. Here every pass works at the output's
 * resolution, direct (Winograd does not fit stride 2), with the register block of pointwise.ts.
 *
 * - forward: each image is first copied into a scratch image with a zero top row and left column, so
 *   no tap tests a border; a filter row a is then one reduction over 3 · cin contiguous floats (input
 *   pixels 2j − 1 … 2j + 1, W's taps (a, 0 … 2)).
 * - inputGrad: dx's four pixel parities are four gathers from dy: dx(2i, 2j) = dy(i, j)·W₁₁ᵀ;
 *   dx(2i, 2j + 1) = dy(i, j)·W₁₂ᵀ + dy(i, j + 1)·W₁₀ᵀ; dx(2i + 1, 2j) = dy(i, j)·W₂₁ᵀ + dy(i + 1, j)·W₀₁ᵀ;
 *   dx(2i + 1, 2j + 1) = dy(i, j)·W₂₂ᵀ + dy(i, j + 1)·W₂₀ᵀ + dy(i + 1, j)·W₀₂ᵀ + dy(i + 1, j + 1)·W₀₀ᵀ.
 *   dy is copied into a scratch image with a zero bottom row and right column; the transposed taps are
 *   laid out (phaseMatrices) so that taps reading neighbouring dy pixels of one row are one reduction.
 * - filterGrad: per block of output rows (in L1), per tap and group of 4 input channels, a 4 × 8 block
 *   of ∂W in registers while the block's pixels stream (the taps that would read row or column −1 skip
 *   output row or column 0).
 *
 * One module per (H, W, cin, cout): every stride is a constant. Channel counts need not be multiples
 * of 4 (pruned widths): output vectors overlap at a row's end as in pointwise.ts (cin, cout ≥ 4).
 */
import { Fn, I32, V128, moduleBytes } from './asm';
import { type ConvPassesModule, instantiatePasses, madd, vectorStarts } from './pointwise';

export interface Strided3x3Shape {
  /** Input height and width (even); the output is H/2 × W/2. */
  h: number;
  w: number;
  cin: number;
  cout: number;
}

export const strided3x3Supports = (s: Strided3x3Shape) => s.h >= 2 && s.w >= 2 && s.h % 2 === 0 && s.w % 2 === 0 && s.cin >= 4 && s.cout >= 4;

/** Output vectors per register block, pixels per block: PIXELS · VB accumulators + VB weights + a splat ≤ x64's 15 xmm. */
const VB = 2;
const PIXELS = 4;

/**
 * Groups of `size`, the first one short: the overlapping last two vectors of a row (vectorStarts)
 * land in one group, so a load–add–store of ∂W never reads lanes another group already updated.
 */
export function groupsFromEnd<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let end = xs.length; end > 0; end -= size) out.unshift(xs.slice(Math.max(0, end - size), end));
  return out;
}

/**
 * The groups as a run of regular ones (two vectors 4 lanes apart, starts 8 floats apart: one loop body
 * with the start in a local) and the rest (a short first group, an overlapping last one: unrolled).
 * Unrolling every group made the 64-channel modules ~50 KB and their filter gradient half as fast.
 */
export function splitGroups(groups: number[][]): { regular: { from: number; count: number } | null; other: number[][] } {
  const isRegular = (g: number[]) => g.length === 2 && g[1] === g[0] + 4;
  const regular = groups.filter(isRegular);
  return { regular: regular.length ? { from: regular[0][0], count: regular.length } : null, other: groups.filter((g) => !isRegular(g)) };
}

/** Emits body(vectors, base) for every group: `base` is a local holding the byte offset of the group's start (0 for the unrolled ones). */
function forGroups(f: Fn, groups: number[][], base: number, end: number, body: (vs: number[]) => void) {
  const { regular, other } = splitGroups(groups);
  if (regular) {
    f.i32(4 * (regular.from + 8 * regular.count)).set(end);
    f.forRange(base, () => f.i32(4 * regular.from), end, 32, () => body([0, 4]));
  }
  f.i32(0).set(base);
  for (const vs of other) body(vs);
}

/** Byte sizes of the scratch images. */
export function strided3x3Layout(s: Strided3x3Shape) {
  const ho = s.h / 2;
  const wo = s.w / 2;
  const pRow = (s.w + 1) * s.cin * 4; // forward: x with a zero top row and left column
  const qRow = (wo + 1) * s.cout * 4; // inputGrad: dy with a zero bottom row and right column
  const scratchBytes = (Math.max((s.h + 1) * pRow, (ho + 1) * qRow) + 15) & ~15;
  return { ho, wo, pRow, qRow, scratchBytes };
}

/**
 * The input gradient's matrices, in the order its reductions read them: per parity (r, s) of dx's
 * pixel, per dy row offset, the transposed taps [cout, cin] of the dy pixels (j, j + 1) it reads.
 * Entries: [parity r, s, dy row offset, the taps (a, b) in dy column order].
 */
export const PHASE_RUNS: Array<[r: number, s: number, di: number, taps: Array<[number, number]>]> = [
  [0, 0, 0, [[1, 1]]],
  [0, 1, 0, [[1, 2], [1, 0]]],
  [1, 0, 0, [[2, 1]]],
  [1, 0, 1, [[0, 1]]],
  [1, 1, 0, [[2, 2], [2, 0]]],
  [1, 1, 1, [[0, 2], [0, 0]]],
];

/** W [3, 3, cin, cout] → the phase matrices (9 · cout · cin floats, PHASE_RUNS' order, each tap transposed). */
export function phaseMatrices(w: Float32Array, cin: number, cout: number, out = new Float32Array(9 * cin * cout)): Float32Array {
  let o = 0;
  for (const [, , , taps] of PHASE_RUNS)
    for (const [a, b] of taps) {
      const base = (a * 3 + b) * cin * cout;
      for (let co = 0; co < cout; co++) for (let ci = 0; ci < cin; ci++) out[o++] = w[base + ci * cout + co];
    }
  return out;
}

/** Copies rows of `rowBytes` (≥ 16) from src (stride srcRow) until src reaches end, to dst (stride dstRow); vectors, the last ending at the row's end. */
function copyRows(f: Fn, t: { src: number; dst: number; p: number; end: number }, rowBytes: number, srcRow: number, dstRow: number) {
  const outer = `copy${f.code.length}`;
  f.loop(outer, () => {
    const id = `cp${f.code.length}`;
    f.i32(0).set(t.p);
    f.loop(id, () => {
      f.get(t.dst).get(t.p).add().get(t.src).get(t.p).add().v128load().v128store();
      f.get(t.p).i32(16).add().tee(t.p).i32(rowBytes - 16).ltU().brIf(id);
    });
    f.get(t.dst).get(t.src).v128load(rowBytes - 16).v128store(rowBytes - 16);
    f.get(t.dst).i32(dstRow).add().set(t.dst);
    f.get(t.src).i32(srcRow).add().tee(t.src).get(t.end).ltU().brIf(outer);
  });
}

/** One contiguous reduction: K floats from the block's pixel address + inOff against K rows of the matrix at + mOff. */
interface Run {
  inOff: number;
  mOff: number;
  K: number;
}

/** A gather GEMM over the rows of one image: out[i, j, :] (+ outOff) = Σ_runs in[i, j + run] · M. */
interface Gather {
  rows: number;
  cols: number;
  /** Output channels (the vector dimension) and the matrix's row stride in floats. */
  C: number;
  inRow: number;
  inPix: number;
  outRow: number;
  outPix: number;
  outOff: number;
  runs: Run[];
}

interface GatherLocals {
  i: number;
  pi: number;
  po: number;
  pOut: number;
  cOff: number;
  cEnd: number;
  pIn: number;
  pM: number;
  kEnd: number;
  rowEnd: number;
  rows: number;
  acc: number[];
  wv: number[];
  sp: number;
  zero: number;
}

/** Emits the gather for one image: `inBase`, `outBase`, `m` are locals holding byte addresses. */
function gather(f: Fn, relaxed: boolean, g: Gather, l: GatherLocals, inBase: number, outBase: number, m: number) {
  const outVecs = groupsFromEnd(vectorStarts(g.C), VB);
  const block = (count: number) =>
    forGroups(f, outVecs, l.cOff, l.cEnd, (vs) => {
      for (let k = 0; k < count * vs.length; k++) f.get(l.zero).set(l.acc[k]);
      for (const run of g.runs) {
        f.get(l.pi).i32(run.inOff).add().tee(l.pIn).i32(run.K * 4).add().set(l.kEnd);
        f.get(m).get(l.cOff).add().i32(run.mOff).add().set(l.pM);
        f.loop('k', () => {
          vs.forEach((c, v) => f.get(l.pM).v128load(c * 4).set(l.wv[v]));
          for (let p = 0; p < count; p++) {
            f.get(l.pIn).v128load32splat(p * g.inPix).set(l.sp);
            vs.forEach((_, v) => madd(f, relaxed, l.acc[p * vs.length + v], l.sp, l.wv[v]));
          }
          f.get(l.pM).i32(g.C * 4).add().set(l.pM);
          f.get(l.pIn).i32(4).add().tee(l.pIn).get(l.kEnd).ltU().brIf('k');
        });
      }
      f.get(l.po).get(l.cOff).add().set(l.pOut);
      for (let p = 0; p < count; p++) vs.forEach((c, v) => f.get(l.pOut).get(l.acc[p * vs.length + v]).v128store(p * g.outPix + c * 4));
    });
  const full = Math.floor(g.cols / PIXELS);
  const tail = g.cols % PIXELS;
  f.i32(g.rows).set(l.rows);
  f.forRange(l.i, () => f.i32(0), l.rows, 1, () => {
    f.get(inBase).get(l.i).i32(g.inRow).mul().add().set(l.pi);
    f.get(outBase).get(l.i).i32(g.outRow).mul().add().i32(g.outOff).add().set(l.po);
    if (full > 0) {
      f.get(l.pi).i32(full * PIXELS * g.inPix).add().set(l.rowEnd);
      f.loop('px', () => {
        block(PIXELS);
        f.get(l.po).i32(PIXELS * g.outPix).add().set(l.po);
        f.get(l.pi).i32(PIXELS * g.inPix).add().tee(l.pi).get(l.rowEnd).ltU().brIf('px');
      });
    }
    if (tail > 0) block(tail);
  });
}

function gatherLocals(f: Fn): GatherLocals {
  const [i, pi, po, pOut, cOff, cEnd, pIn, pM, kEnd, rowEnd, rows] = Array.from({ length: 11 }, () => f.local(I32));
  const acc = Array.from({ length: PIXELS * VB }, () => f.local(V128));
  const wv = Array.from({ length: VB }, () => f.local(V128));
  const sp = f.local(V128);
  const zero = f.local(V128);
  f.f32(0).f32x4splat().set(zero);
  return { i, pi, po, pOut, cOff, cEnd, pIn, pM, kEnd, rowEnd, rows, acc, wv, sp, zero };
}

/** Zeroes [p, p + bytes) (bytes ≥ 16; the last vector ends at p + bytes). */
function zeroBytes(f: Fn, p: number, bytes: number, at: number, zero: number) {
  f.i32(0).set(at);
  const id = `z${f.code.length}`;
  f.loop(id, () => {
    f.get(p).get(at).add().get(zero).v128store();
    f.get(at).i32(16).add().tee(at).i32(bytes - 16).ltU().brIf(id);
  });
  f.get(p).get(zero).v128store(bytes - 16);
}

function forwardFn(s: Strided3x3Shape, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32]);
  const [x, w, y, n0, n1, scratch] = [0, 1, 2, 3, 4, 5];
  const L = strided3x3Layout(s);
  const [n, src, dst, p, end, out] = Array.from({ length: 6 }, () => f.local(I32));
  const l = gatherLocals(f);
  const xImage = s.h * s.w * s.cin * 4;
  const yImage = L.ho * L.wo * s.cout * 4;
  zeroBytes(f, scratch, L.scratchBytes, p, l.zero);
  f.forRange(n, () => f.get(n0), n1, 1, () => {
    f.get(x).get(n).i32(xImage).mul().add().set(src);
    f.get(scratch).i32(L.pRow + s.cin * 4).add().set(dst);
    f.get(src).i32(xImage).add().set(end);
    copyRows(f, { src, dst, p, end }, s.w * s.cin * 4, s.w * s.cin * 4, L.pRow);
    f.get(y).get(n).i32(yImage).mul().add().set(out);
    // input pixel (2i + a − 1, 2j + b − 1) is scratch pixel (2i + a, 2j + b); filter row a: taps (a, 0…2) contiguous
    const runs = [0, 1, 2].map((a) => ({ inOff: a * L.pRow, mOff: a * 3 * s.cin * s.cout * 4, K: 3 * s.cin }));
    const g: Gather = { rows: L.ho, cols: L.wo, C: s.cout, inRow: 2 * L.pRow, inPix: 2 * s.cin * 4, outRow: L.wo * s.cout * 4, outPix: s.cout * 4, outOff: 0, runs };
    gather(f, relaxed, g, l, scratch, out, w);
  });
  return f;
}

function inputGradFn(s: Strided3x3Shape, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32, I32]);
  const [dy, m, dx, n0, n1, scratch] = [0, 1, 2, 3, 4, 5];
  const L = strided3x3Layout(s);
  const [n, src, dst, p, end, out] = Array.from({ length: 6 }, () => f.local(I32));
  const l = gatherLocals(f);
  const dyRow = L.wo * s.cout * 4;
  const dyImage = L.ho * dyRow;
  const dxRow = s.w * s.cin * 4;
  zeroBytes(f, scratch, L.scratchBytes, p, l.zero);
  f.forRange(n, () => f.get(n0), n1, 1, () => {
    f.get(dy).get(n).i32(dyImage).mul().add().set(src);
    f.get(scratch).set(dst);
    f.get(src).i32(dyImage).add().set(end);
    copyRows(f, { src, dst, p, end }, dyRow, dyRow, L.qRow);
    f.get(dx).get(n).i32(s.h * dxRow).mul().add().set(out);
    let mOff = 0;
    for (const [pr, ps] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const runs: Run[] = [];
      for (const [rr, rs, di, taps] of PHASE_RUNS) {
        if (rr !== pr || rs !== ps) continue;
        runs.push({ inOff: di * L.qRow, mOff, K: taps.length * s.cout });
        mOff += taps.length * s.cout * s.cin * 4;
      }
      const g: Gather = { rows: L.ho, cols: L.wo, C: s.cin, inRow: L.qRow, inPix: s.cout * 4, outRow: 2 * dxRow, outPix: 2 * s.cin * 4, outOff: pr * dxRow + ps * s.cin * 4, runs };
      gather(f, relaxed, g, l, scratch, out, m);
    }
  });
  return f;
}

/** Output rows per block of the filter gradient: the fewest that give ≥ 32 pixels (ho divisible by it). */
function rowBlock(ho: number, wo: number): number {
  for (let r = 1; r <= ho; r++) if (ho % r === 0 && r * wo >= 32) return r;
  return ho;
}

function filterGradFn(s: Strided3x3Shape, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]);
  const [x, dy, acc, n0, n1] = [0, 1, 2, 3, 4];
  const L = strided3x3Layout(s);
  const R = rowBlock(L.ho, L.wo);
  const [n, ib, ci, co, coEnd, pa, i, px, pd, colEnd, at, iEnd, blocks, ciEnd] = Array.from({ length: 14 }, () => f.local(I32));
  const accV = Array.from({ length: 4 * VB }, () => f.local(V128));
  const dv = Array.from({ length: VB }, () => f.local(V128));
  const sp = f.local(V128);
  const zero = f.local(V128);
  f.f32(0).f32x4splat().set(zero);
  const xPix = s.cin * 4;
  const xRow = s.w * xPix;
  const xImage = s.h * xRow;
  const dPix = s.cout * 4;
  const dRow = L.wo * dPix;
  const dImage = L.ho * dRow;
  const coGroups = groupsFromEnd(vectorStarts(s.cout), VB);
  // ∂W: zeroed, then added to block by block
  zeroBytes(f, acc, 9 * s.cin * s.cout * 4, at, zero);
  const full = s.cin >> 2;
  const tailCi = s.cin & 3;

  /** The block of `k` input channels from ci (a local, in floats · 4 bytes) for tap (a, b). */
  const tapBlock = (a: number, b: number, k: number) => {
    const j0 = b === 0 ? 1 : 0; // column 2j + b − 1 = −1 at j = 0
    const tapBase = (a * 3 + b) * s.cin * s.cout * 4;
    forGroups(f, coGroups, co, coEnd, (vs) => {
      // ∂W rows ci … ci + k − 1 of the tap, the group's vectors
      f.get(acc).get(ci).i32(s.cout * 4).mul().add().get(co).add().set(pa);
      for (let q = 0; q < k; q++) vs.forEach((c, v) => f.get(pa).v128load(tapBase + (q * s.cout + c) * 4).set(accV[q * VB + v]));
      // rows i of the block, skipping i = 0 for a = 0 (row −1)
      f.get(ib).set(i);
      if (a === 0) f.get(i).get(i).eqz().add().set(i);
      f.forRange(i, () => f.get(i), iEnd, 1, () => {
        // x pixel (2i + a − 1, 2·j0 + b − 1) of image n, channel ci; dy pixel (i, j0), the group's channels
        f.get(x).get(n).i32(xImage).mul().add().get(i).i32(2 * xRow).mul().add().get(ci).i32(4).mul().add().i32((a - 1) * xRow + (2 * j0 + b - 1) * xPix).add().set(px);
        f.get(dy).get(n).i32(dImage).mul().add().get(i).i32(dRow).mul().add().get(co).add().i32(j0 * dPix).add().set(pd);
        f.get(pd).i32((L.wo - j0) * dPix).add().set(colEnd);
        if (L.wo - j0 > 0)
          f.loop('j', () => {
            vs.forEach((c, v) => f.get(pd).v128load(c * 4).set(dv[v]));
            for (let q = 0; q < k; q++) {
              f.get(px).v128load32splat(q * 4).set(sp);
              vs.forEach((_, v) => madd(f, relaxed, accV[q * VB + v], sp, dv[v]));
            }
            f.get(px).i32(2 * xPix).add().set(px);
            f.get(pd).i32(dPix).add().tee(pd).get(colEnd).ltU().brIf('j');
          });
      });
      for (let q = 0; q < k; q++) vs.forEach((c, v) => f.get(pa).get(accV[q * VB + v]).v128store(tapBase + (q * s.cout + c) * 4));
    });
  };

  f.i32(L.ho).set(blocks);
  f.forRange(n, () => f.get(n0), n1, 1, () => {
    f.forRange(ib, () => f.i32(0), blocks, R, () => {
      f.get(ib).i32(R).add().set(iEnd);
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) {
          if (full > 0) {
            f.i32(full * 4).set(ciEnd);
            f.forRange(ci, () => f.i32(0), ciEnd, 4, () => tapBlock(a, b, 4));
          }
          if (tailCi > 0) {
            f.i32(full * 4).set(ci);
            tapBlock(a, b, tailCi);
          }
        }
    });
  });
  return f;
}

export function strided3x3Bytes(s: Strided3x3Shape, relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes({ shared }, [
    { name: 'forward', fn: forwardFn(s, relaxed) },
    { name: 'inputGrad', fn: inputGradFn(s, relaxed) },
    { name: 'filterGrad', fn: filterGradFn(s, relaxed) },
  ]);
}

/** The kernels for `s` on `memory` (relaxed SIMD where validated), or null without SIMD or for unsupported shapes. */
export function instantiateStrided3x3(s: Strided3x3Shape, memory: WebAssembly.Memory, shared: boolean): ConvPassesModule | null {
  return strided3x3Supports(s) ? instantiatePasses((relaxed) => strided3x3Bytes(s, relaxed, shared), memory) : null;
}
