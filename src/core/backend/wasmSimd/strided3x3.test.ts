/**
 * The stride-2 3×3 conv kernels (strided3x3.ts; the plain-SIMD variant in Node 20) against direct
 * float64 sums: forward, input gradient and filter gradient with PyTorch's padding 1, on ResNet-20's
 * two downsampling shapes, channel counts that are not multiples of 4 (overlapping last vectors, a
 * short first group of ∂W), rows whose pixel count is not a multiple of the 4-pixel block, and the
 * smallest map; each call writes only its images, and ranges of images sum to the whole ∂W.
 */
import { describe, expect, test } from 'vitest';
import { groupsFromEnd, instantiateStrided3x3, phaseMatrices, strided3x3Bytes, strided3x3Layout, strided3x3Supports, type Strided3x3Shape } from './strided3x3';

/** float64 references: y = conv(x, W) (stride 2, pad 1), dx = ∂⟨y, dy⟩/∂x, dW = ∂⟨y, dy⟩/∂W. */
function reference(s: Strided3x3Shape, n: number, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const [ho, wo] = [s.h / 2, s.w / 2];
  const y = new Float64Array(n * ho * wo * s.cout);
  const dx = new Float64Array(n * s.h * s.w * s.cin);
  const dW = new Float64Array(9 * s.cin * s.cout);
  for (let im = 0; im < n; im++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) {
            const [r, c] = [2 * i + a - 1, 2 * j + b - 1];
            if (r < 0 || c < 0 || r >= s.h || c >= s.w) continue;
            for (let ci = 0; ci < s.cin; ci++)
              for (let co = 0; co < s.cout; co++) {
                const xi = ((im * s.h + r) * s.w + c) * s.cin + ci;
                const wi = ((a * 3 + b) * s.cin + ci) * s.cout + co;
                const yi = ((im * ho + i) * wo + j) * s.cout + co;
                y[yi] += x[xi] * w[wi];
                dx[xi] += dy[yi] * w[wi];
                dW[wi] += x[xi] * dy[yi];
              }
          }
  return { y, dx, dW };
}

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / scale;
};

// [H, W, cin, cout], batch
const cases: Array<[string, Strided3x3Shape, number]> = [
  ['stage 2 (32×32, 16 → 32)', { h: 32, w: 32, cin: 16, cout: 32 }, 3],
  ['stage 3 (16×16, 32 → 64)', { h: 16, w: 16, cin: 32, cout: 64 }, 2],
  ['odd channels, 5-pixel rows (6×10, 5 → 7)', { h: 6, w: 10, cin: 5, cout: 7 }, 3],
  ['pruned widths (8×8, 27 → 9)', { h: 8, w: 8, cin: 27, cout: 9 }, 2],
  ['the smallest (2×2, 4 → 4)', { h: 2, w: 2, cin: 4, cout: 4 }, 2],
];

describe.each(cases)('strided3x3 %s', (_, s, n) => {
  const L = strided3x3Layout(s);
  const xF = n * s.h * s.w * s.cin;
  const yF = n * L.ho * L.wo * s.cout;
  const wF = 9 * s.cin * s.cout;
  // byte addresses, 16-aligned, with gaps that must stay untouched
  let top = 1024;
  const take = (floats: number) => {
    const at = top;
    top += ((floats * 4 + 15) & ~15) + 64;
    return at;
  };
  const [x, w, m, dy, y, dx, acc, scratch] = [take(xF), take(wF), take(wF), take(yF), take(yF), take(xF), take(wF), take(L.scratchBytes / 4)];
  const mem = new WebAssembly.Memory({ initial: Math.ceil((top + 65536) / 65536) });
  const f32 = () => new Float32Array(mem.buffer);
  const view = (at: number, floats: number) => f32().subarray(at / 4, at / 4 + floats);
  const mod = instantiateStrided3x3(s, mem, false)!;
  view(x, xF).forEach((_, i, a) => (a[i] = Math.sin(i + 1)));
  view(w, wF).forEach((_, i, a) => (a[i] = Math.cos(0.7 * i)));
  view(dy, yF).forEach((_, i, a) => (a[i] = Math.sin(3 * i + 2)));
  phaseMatrices(view(w, wF), s.cin, s.cout, view(m, wF));
  const ref = reference(s, n, view(x, xF).slice(), view(w, wF).slice(), view(dy, yF).slice());

  test('valid WebAssembly, instantiated', () => {
    expect(strided3x3Supports(s)).toBe(true);
    expect(WebAssembly.validate(strided3x3Bytes(s, false, true))).toBe(true);
    expect(mod).not.toBeNull();
  });

  test('forward equals the direct sum; writes only its images', () => {
    f32().fill(NaN, y / 4, y / 4 + yF);
    mod.forward(x, w, y, 0, n, scratch);
    expect(maxRel(view(y, yF), ref.y)).toBeLessThan(1e-5);
    const per = yF / n;
    f32().fill(NaN, y / 4, y / 4 + yF);
    mod.forward(x, w, y, 1, 2, scratch);
    expect(view(y, per).every(Number.isNaN)).toBe(true);
    expect(view(y + 4 * per, per).every(Number.isFinite)).toBe(true);
    if (n > 2) expect(view(y + 8 * per, yF - 2 * per).every(Number.isNaN)).toBe(true);
    // the gap after y stays untouched
    expect(f32()[(y + 4 * yF) / 4]).toBe(0);
  });

  test('input gradient equals the direct sum; writes only its images', () => {
    f32().fill(NaN, dx / 4, dx / 4 + xF);
    mod.inputGrad(dy, m, dx, 0, n, scratch);
    expect(maxRel(view(dx, xF), ref.dx)).toBeLessThan(1e-5);
    const per = xF / n;
    f32().fill(NaN, dx / 4, dx / 4 + xF);
    mod.inputGrad(dy, m, dx, n - 1, n, scratch);
    expect(view(dx, (n - 1) * per).every(Number.isNaN)).toBe(true);
    expect(view(dx + 4 * (n - 1) * per, per).every(Number.isFinite)).toBe(true);
    expect(f32()[(dx + 4 * xF) / 4]).toBe(0);
  });

  test('filter gradient equals the direct sum, and ranges of images sum to it', () => {
    f32().fill(NaN, acc / 4, acc / 4 + wF);
    mod.filterGrad(x, dy, acc, 0, n);
    expect(maxRel(view(acc, wF), ref.dW)).toBeLessThan(1e-5);
    const parts = new Float64Array(wF);
    for (let i = 0; i < n; i++) {
      mod.filterGrad(x, dy, acc, i, i + 1);
      view(acc, wF).forEach((v, k) => (parts[k] += v));
    }
    expect(maxRel(parts, ref.dW)).toBeLessThan(1e-5);
    expect(f32()[(acc + 4 * wF) / 4]).toBe(0);
  });
});

describe('strided3x3 helpers', () => {
  test('∂W groups: the first one short, so the overlapping last two vectors share a group', () => {
    expect(groupsFromEnd([0, 4, 8, 12, 16, 20, 22], 2)).toEqual([[0], [4, 8], [12, 16], [20, 22]]);
    expect(groupsFromEnd([0, 4, 8, 12], 2)).toEqual([[0, 4], [8, 12]]);
  });
  test('modules stay small: the regular groups are one loop body (unrolled, the 64-channel module was 50 KB and its filter gradient half as fast)', () => {
    for (const s of [{ h: 32, w: 32, cin: 16, cout: 32 }, { h: 16, w: 16, cin: 32, cout: 64 }]) expect(strided3x3Bytes(s, true, false).length).toBeLessThan(10_000);
    // pruned widths: a channel tail and unrolled short/overlapping groups on top
    expect(strided3x3Bytes({ h: 16, w: 16, cin: 27, cout: 61 }, true, false).length).toBeLessThan(24_000);
  });
  test('declines fewer than 4 channels and odd sides', () => {
    expect(strided3x3Supports({ h: 4, w: 4, cin: 3, cout: 8 })).toBe(false);
    expect(strided3x3Supports({ h: 4, w: 4, cin: 8, cout: 3 })).toBe(false);
    expect(strided3x3Supports({ h: 5, w: 4, cin: 8, cout: 8 })).toBe(false);
  });
});
