import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { count, fraction, pruneCount } from './amount';
import { keptUnits, lnNorms } from './importance';
import { countKept, globalUnstructuredMasks, l1UnstructuredMask, lnStructuredMask, randomStructuredMask, randomUnstructuredMask } from './masks';
import { mulberry32 } from '../random';

const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 });
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
const randomWeights = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};
const isBinary = (m: Uint8Array) => m.every((v) => v === 0 || v === 1);

describe('importance', () => {
  it('L1/L2 norms over all other axes', () => {
    // shape [2, 3]: rows along dim 0, columns along dim 1
    const w = [1, -2, 2, 0, 3, -4];
    expect(Array.from(lnNorms(w, [2, 3], 0, 1))).toEqual([5, 7]);
    expect(Array.from(lnNorms(w, [2, 3], 1, 2))).toEqual([1, Math.sqrt(13), Math.sqrt(20)]);
    expect(Array.from(lnNorms(w, [2, 3], -1, 1))).toEqual([1, 5, 6]);
  });

  it('prunes the smallest; among equal scores prunes the higher index (keeps the lower)', () => {
    expect(keptUnits([1, 1, 1, 1], 2)).toEqual([0, 1]);
    expect(keptUnits([3, 1, 2, 1, 5], 2)).toEqual([0, 2, 4]);
    expect(keptUnits([0, 0, 7, 0], 1)).toEqual([0, 1, 2]);
    expect(keptUnits([2, 1], 0)).toEqual([0, 1]);
    expect(keptUnits([2, 1], 2)).toEqual([]);
  });
});

describe('masks (properties)', () => {
  it('structured masks are 0/1, keep exactly n − count units, and kept units have the largest norms', () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom<1 | 2>(1, 2), fc.nat(10), (shape, seed, a, p, dr) => {
        const dim = dr % shape.length;
        const w = randomWeights(sizeOf(shape), seed);
        const n = shape[dim];
        const c = pruneCount(fraction(a), n);
        for (const { mask, kept } of [lnStructuredMask(w, shape, dim, p, fraction(a)), randomStructuredMask(shape, dim, fraction(a), seed)]) {
          expect(isBinary(mask)).toBe(true);
          expect(kept.length).toBe(n - c);
          expect(countKept(mask)).toBe((n - c) * (sizeOf(shape) / n));
        }
        const norms = lnNorms(w, shape, dim, p);
        const { kept } = lnStructuredMask(w, shape, dim, p, fraction(a));
        const minKept = Math.min(...kept.map((u) => norms[u]));
        for (let u = 0; u < n; u++) if (!kept.includes(u)) expect(norms[u]).toBeLessThanOrEqual(minKept);
      }),
      { numRuns: 200 },
    );
  });

  it('unstructured and global masks keep exactly n − count entries, pruning the smallest magnitudes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 3 }), fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), (sizes, seed, a) => {
        const ws = sizes.map((n, t) => randomWeights(n, seed + t));
        const total = sizes.reduce((x, y) => x + y, 0);
        const c = pruneCount(fraction(a), total);
        for (const method of [{ kind: 'l1' as const }, { kind: 'random' as const, seed }]) {
          const masks = globalUnstructuredMasks(ws, fraction(a), method);
          expect(masks.map((m) => m.length)).toEqual(sizes);
          expect(masks.every(isBinary)).toBe(true);
          expect(masks.reduce((x, m) => x + countKept(m), 0)).toBe(total - c);
        }
        const masks = globalUnstructuredMasks(ws, fraction(a), { kind: 'l1' });
        let maxPruned = -Infinity;
        let minKept = Infinity;
        ws.forEach((w, t) => w.forEach((v, i) => (masks[t][i] ? (minKept = Math.min(minKept, Math.abs(v))) : (maxPruned = Math.max(maxPruned, Math.abs(v))))));
        expect(maxPruned).toBeLessThanOrEqual(minKept);
        const single = randomWeights(sizes[0], seed);
        expect(countKept(l1UnstructuredMask(single, fraction(a)))).toBe(sizes[0] - pruneCount(fraction(a), sizes[0]));
        expect(countKept(randomUnstructuredMask(sizes[0], fraction(a), seed))).toBe(sizes[0] - pruneCount(fraction(a), sizes[0]));
      }),
      { numRuns: 200 },
    );
  });

  it('random masks are reproducible from the seed', () => {
    expect(randomUnstructuredMask(100, fraction(0.3), 7)).toEqual(randomUnstructuredMask(100, fraction(0.3), 7));
    expect(randomStructuredMask([4, 8], 1, fraction(0.5), 7).kept).toEqual(randomStructuredMask([4, 8], 1, fraction(0.5), 7).kept);
    expect(randomUnstructuredMask(100, fraction(0.3), 7)).not.toEqual(randomUnstructuredMask(100, fraction(0.3), 8));
  });
});

describe('iterative pruning (PruningContainer)', () => {
  it('a second amount applies to the units still unpruned and masks multiply: 0.5 then 0.5 of 8 filters leaves 2', () => {
    const shape = [8, 3, 3, 3];
    const w = randomWeights(216, 3);
    const first = lnStructuredMask(w, shape, 0, 1, fraction(0.5));
    const second = lnStructuredMask(w, shape, 0, 1, fraction(0.5), first.mask);
    expect(second.kept.length).toBe(2);
    expect(second.kept.every((u) => first.kept.includes(u))).toBe(true);
    for (let i = 0; i < 216; i++) expect(second.mask[i]).toBe(second.mask[i] & first.mask[i]);
    // ranked by the original weights: the two survivors are the top-2 norms overall
    const norms = lnNorms(w, shape, 0, 1);
    const top2 = Array.from(norms.keys()).sort((a, b) => norms[b] - norms[a]).slice(0, 2).sort((a, b) => a - b);
    expect(second.kept).toEqual(top2);
  });

  it('unstructured: the amount counts only entries still unpruned (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, seed, a, b) => {
        const w = randomWeights(n, seed);
        const m1 = l1UnstructuredMask(w, fraction(a));
        const left = countKept(m1);
        const m2 = l1UnstructuredMask(w, fraction(b), m1);
        expect(countKept(m2)).toBe(left - pruneCount(fraction(b), left));
        for (let i = 0; i < n; i++) expect(m2[i] <= m1[i]).toBe(true);
        const r2 = randomUnstructuredMask(n, count(pruneCount(fraction(b), left)), seed, m1);
        expect(countKept(r2)).toBe(left - pruneCount(fraction(b), left));
      }),
    );
  });
});

// Timings of the mask functions belong to `npm run bench`; here only their results on fc1-sized input.
describe('fc1-sized input', () => {
  it('L1 unstructured on 655,360 weights keeps exactly half', () => {
    const w = randomWeights(655_360, 1);
    const m = l1UnstructuredMask(w, fraction(0.5));
    expect(countKept(m)).toBe(327_680);
  });
});
