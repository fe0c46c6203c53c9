/**
 * WebAssembly SIMD kernels for a 1×1 convolution of stride 2 (no padding, no bias): ResNet-20's
 * projection shortcut, NHWC float32, x [N, H, W, cin] (H, W even) → y [N, H/2, W/2, cout].
 *
 *   forward(x, w, y, n0, n1)          y[n, i, j, :] = x[n, 2i, 2j, :] · W          (W: [cin, cout])
 *   inputGrad(dy, wT, dx, n0, n1)     dx[n, 2i, 2j, :] = dy[n, i, j, :] · Wᵀ, zeros at the other pixels (wT: [cout, cin])
 *   filterGrad(x, dy, acc, n0, n1)    acc[ci, co] = Σ over images [n0, n1) of x[n, 2i, 2j, ci] · dy[n, i, j, co]
 *
 * Why kernels of our own: tfjs computed this as a strided Slice, an XNNPACK conv, and for the
 * gradient a Pad, a Transpose and a matMul whose long reduction (every pixel of the batch) XNNPACK
 * re-packs each call — ~7 ms of a ResNet-20 step for 2 × 8.4 M multiply-adds a pass. Here each pass
 * reads its operands once, at the stride, on the helper thread beside the caller (images split by
 * index.ts), and the filter gradient keeps a 4 × 8 block of it in registers while the pixels stream.
 *
 * One module per (H, W, cin, cout): every stride is a constant. Channel counts need not be multiples
 * of 4 (pruned widths): the last vector of a row ends at its last channel and overlaps the one before
 * it (the shared lanes get the same operations, hence the same values), so nothing is read or written
 * beyond a row — which needs cin, cout ≥ 4 (pointwiseSupports).
 */
import { Fn, I32, V128, moduleBytes, relaxedVariants } from './asm';

export interface PointwiseShape {
  /** Input height and width (even); the output is H/2 × W/2. */
  h: number;
  w: number;
  cin: number;
  cout: number;
}

export const pointwiseSupports = (s: PointwiseShape) => s.h >= 2 && s.w >= 2 && s.h % 2 === 0 && s.w % 2 === 0 && s.cin >= 4 && s.cout >= 4;

/** Float offsets of the 4-lane vectors covering a row of c channels (the last one ends at c). */
export function vectorStarts(c: number): number[] {
  const n = Math.ceil(c / 4);
  return Array.from({ length: n }, (_, v) => (v < n - 1 ? 4 * v : c - 4));
}

/** Output vectors per register block, pixels per block: PIXELS · VB accumulators + VB weights + a splat ≤ x64's 15 xmm. */
const VB = 2;
const PIXELS = 4;

const groups = <T>(xs: T[], size: number): T[][] => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/** acc += a · b (one fused multiply-add with relaxed SIMD). */
export function madd(f: Fn, relaxed: boolean, acc: number, a: number, b: number) {
  if (relaxed) f.get(a).get(b).get(acc).f32x4relaxedMadd().set(acc);
  else f.get(acc).get(a).get(b).f32x4mul().f32x4add().set(acc);
}

interface Geometry {
  /** K: the reduction (input channels of this pass); C: its output channels. */
  K: number;
  C: number;
  rows: number;
  cols: number;
  /** Bytes: input pixel / row / image steps; output likewise. */
  inPix: number;
  inRow: number;
  inImage: number;
  outPix: number;
  outRow: number;
  outImage: number;
  /** inputGrad: zero the odd pixel after each written one (at +C floats) and the odd row after each written row. */
  zeroOdd: boolean;
}

/**
 * out[p, :] = in[p, :] · M for the pixels of images [n0, n1) (M: [K, C] at `m`), PIXELS pixels × VB
 * vectors of outputs at a time, the reduction innermost.
 */
function matFn(g: Geometry, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]);
  const [inp, m, out, n0, n1] = [0, 1, 2, 3, 4];
  const [n, i, pi, po, pIn, pM, kEnd, rowEnd, pz, zEnd] = Array.from({ length: 10 }, () => f.local(I32));
  const acc = Array.from({ length: PIXELS * VB }, () => f.local(V128));
  const wv = Array.from({ length: VB }, () => f.local(V128));
  const sp = f.local(V128);
  const zero = f.local(V128);
  f.f32(0).f32x4splat().set(zero);
  const outVecs = groups(vectorStarts(g.C), VB);

  /** `count` pixels from the input at pi, output at po. */
  const pixelBlock = (count: number) => {
    for (const vs of outVecs) {
      for (let k = 0; k < count * vs.length; k++) f.get(zero).set(acc[k]);
      f.get(pi).set(pIn);
      f.get(m).set(pM);
      f.get(pIn).i32(g.K * 4).add().set(kEnd);
      f.loop('k', () => {
        vs.forEach((c, v) => f.get(pM).v128load(c * 4).set(wv[v]));
        for (let p = 0; p < count; p++) {
          f.get(pIn).v128load32splat(p * g.inPix).set(sp);
          vs.forEach((_, v) => madd(f, relaxed, acc[p * vs.length + v], sp, wv[v]));
        }
        f.get(pM).i32(g.C * 4).add().set(pM);
        f.get(pIn).i32(4).add().tee(pIn).get(kEnd).ltU().brIf('k');
      });
      for (let p = 0; p < count; p++) vs.forEach((c, v) => f.get(po).get(acc[p * vs.length + v]).v128store(p * g.outPix + c * 4));
    }
    if (g.zeroOdd) for (let p = 0; p < count; p++) for (const c of vectorStarts(g.C)) f.get(po).get(zero).v128store(p * g.outPix + (g.C + c) * 4);
  };

  const full = Math.floor(g.cols / PIXELS);
  const tail = g.cols % PIXELS;
  f.forRange(n, () => f.get(n0), n1, 1, () => {
    f.forRange(i, () => f.i32(0), (() => { const r = f.local(I32); f.i32(g.rows).set(r); return r; })(), 1, () => {
      f.get(inp).get(n).i32(g.inImage).mul().add().get(i).i32(g.inRow).mul().add().set(pi);
      f.get(out).get(n).i32(g.outImage).mul().add().get(i).i32(g.outRow).mul().add().set(po);
      if (full > 0) {
        f.get(pi).i32(full * PIXELS * g.inPix).add().set(rowEnd);
        f.loop('px', () => {
          pixelBlock(PIXELS);
          f.get(po).i32(PIXELS * g.outPix).add().set(po);
          f.get(pi).i32(PIXELS * g.inPix).add().tee(pi).get(rowEnd).ltU().brIf('px');
        });
      }
      if (tail > 0) pixelBlock(tail);
      if (g.zeroOdd) {
        // the odd row below: W · C floats of zeros, the last vector ending at the row's end
        const rowBytes = (g.outRow / 2);
        f.get(out).get(n).i32(g.outImage).mul().add().get(i).i32(g.outRow).mul().add().i32(rowBytes).add().set(pz);
        f.get(pz).i32(rowBytes - 16).add().set(zEnd);
        f.block('zb', () => {
          f.get(pz).get(zEnd).geU().brIf('zb');
          f.loop('z', () => {
            f.get(pz).get(zero).v128store();
            f.get(pz).i32(16).add().tee(pz).get(zEnd).ltU().brIf('z');
          });
        });
        f.get(zEnd).get(zero).v128store();
      }
    });
  });
  return f;
}

/** acc[ci, co] = Σ_pixels x[2i, 2j, ci] · dy[i, j, co] over images [n0, n1): 4 ci × VB vectors of co in registers per pass. */
function filterGradFn(s: PointwiseShape, relaxed: boolean): Fn {
  const f = new Fn([I32, I32, I32, I32, I32]);
  const [x, dy, out, n0, n1] = [0, 1, 2, 3, 4];
  const [n, i, px, pd, colEnd, rows] = Array.from({ length: 6 }, () => f.local(I32));
  const acc = Array.from({ length: 4 * VB }, () => f.local(V128));
  const dv = Array.from({ length: VB }, () => f.local(V128));
  const sp = f.local(V128);
  const ho = s.h / 2;
  const wo = s.w / 2;
  const xPix = 2 * s.cin * 4;
  const xRow = 2 * s.w * s.cin * 4;
  const xImage = s.h * s.w * s.cin * 4;
  const dPix = s.cout * 4;
  const dImage = ho * wo * s.cout * 4;
  f.i32(ho).set(rows);
  for (const ci of vectorStarts(s.cin)) {
    for (const vs of groups(vectorStarts(s.cout), VB)) {
      for (let k = 0; k < 4 * vs.length; k++) f.f32(0).f32x4splat().set(acc[k]);
      f.forRange(n, () => f.get(n0), n1, 1, () => {
        f.get(dy).get(n).i32(dImage).mul().add().set(pd);
        f.forRange(i, () => f.i32(0), rows, 1, () => {
          f.get(x).get(n).i32(xImage).mul().add().get(i).i32(xRow).mul().add().i32(ci * 4).add().set(px);
          f.get(px).i32(wo * xPix).add().set(colEnd);
          f.loop('j', () => {
            vs.forEach((c, v) => f.get(pd).v128load(c * 4).set(dv[v]));
            for (let k = 0; k < 4; k++) {
              f.get(px).v128load32splat(k * 4).set(sp);
              vs.forEach((_, v) => madd(f, relaxed, acc[k * vs.length + v], sp, dv[v]));
            }
            f.get(pd).i32(dPix).add().set(pd);
            f.get(px).i32(xPix).add().tee(px).get(colEnd).ltU().brIf('j');
          });
        });
      });
      for (let k = 0; k < 4; k++) vs.forEach((c, v) => f.get(out).get(acc[k * vs.length + v]).v128store(((ci + k) * s.cout + c) * 4));
    }
  }
  return f;
}

export function pointwiseBytes(s: PointwiseShape, relaxed: boolean, shared: boolean): Uint8Array<ArrayBuffer> {
  const ho = s.h / 2;
  const wo = s.w / 2;
  const forward: Geometry = {
    K: s.cin, C: s.cout, rows: ho, cols: wo,
    inPix: 2 * s.cin * 4, inRow: 2 * s.w * s.cin * 4, inImage: s.h * s.w * s.cin * 4,
    outPix: s.cout * 4, outRow: wo * s.cout * 4, outImage: ho * wo * s.cout * 4, zeroOdd: false,
  };
  const inputGrad: Geometry = {
    K: s.cout, C: s.cin, rows: ho, cols: wo,
    inPix: s.cout * 4, inRow: wo * s.cout * 4, inImage: ho * wo * s.cout * 4,
    outPix: 2 * s.cin * 4, outRow: 2 * s.w * s.cin * 4, outImage: s.h * s.w * s.cin * 4, zeroOdd: true,
  };
  return moduleBytes({ shared }, [
    { name: 'forward', fn: matFn(forward, relaxed) },
    { name: 'inputGrad', fn: matFn(inputGrad, relaxed) },
    { name: 'filterGrad', fn: filterGradFn(s, relaxed) },
  ]);
}

type Kernel = (...args: number[]) => void;

/** A stride-2 conv's three passes (forward, inputGrad, filterGrad), as pointwise.ts and strided3x3.ts build them. */
export interface ConvPassesModule {
  relaxed: boolean;
  forward: Kernel;
  inputGrad: Kernel;
  filterGrad: Kernel;
  module: WebAssembly.Module;
}

/** Compiles the first variant the engine validates (relaxed SIMD first) on `memory`; null if none. */
export function instantiatePasses(bytesFor: (relaxed: boolean) => Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): ConvPassesModule | null {
  for (const relaxed of relaxedVariants()) {
    const bytes = bytesFor(relaxed);
    if (!WebAssembly.validate(bytes)) continue;
    const module = new WebAssembly.Module(bytes);
    const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
    return { relaxed, forward: e.forward as Kernel, inputGrad: e.inputGrad as Kernel, filterGrad: e.filterGrad as Kernel, module };
  }
  return null;
}

/** The kernels for `s` on `memory` (relaxed SIMD where validated), or null without SIMD. */
export function instantiatePointwise(s: PointwiseShape, memory: WebAssembly.Memory, shared: boolean): ConvPassesModule | null {
  return pointwiseSupports(s) ? instantiatePasses((relaxed) => pointwiseBytes(s, relaxed, shared), memory) : null;
}
