import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floorKeep, meanNormalised, rankGlobally } from './globalRanking';

describe('meanNormalised', () => {
  it('divides by the group mean; zeros stay zeros; NaN ranks last', () => {
    expect([...meanNormalised([1, 2, 3])]).toEqual([0.5, 1, 1.5]);
    expect([...meanNormalised([0, 0])]).toEqual([0, 0]);
    expect([...meanNormalised([NaN, 2])]).toEqual([Infinity, 1]);
  });
});

describe('rankGlobally', () => {
  it('compares groups after normalisation, not raw scale', () => {
    // group a's scores are 100× b's but the same shape: a uniform network prunes both equally
    const r = rankGlobally(
      [
        { id: 'a', scores: [100, 200, 300, 400] },
        { id: 'b', scores: [1, 2, 3, 4] },
      ],
      0.5,
      { minKeep: 0 },
    );
    expect(r.counts).toEqual({ a: 2, b: 2 });
    expect(r.pruned).toBe(4);
  });
  it('cuts the group whose units are relatively unimportant', () => {
    // in b, three units are far below b's mean; in a all are at the mean
    const r = rankGlobally(
      [
        { id: 'a', scores: [5, 5, 5, 5] },
        { id: 'b', scores: [0.1, 0.1, 0.1, 10] },
      ],
      3 / 8,
      { minKeep: 0 },
    );
    expect(r.counts).toEqual({ a: 0, b: 3 });
  });
  it('the floor keeps at least one unit (and minKeep of each group)', () => {
    const r = rankGlobally(
      [
        { id: 'a', scores: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] },
        { id: 'b', scores: [0, 0, 0, 0] },
      ],
      0.5,
      { minKeep: 0.3 },
    );
    // b (all zero) goes first but keeps ceil(0.3·4) = 2; the rest comes from a, which keeps ≥ 3
    expect(r.counts.b).toBe(2);
    expect(r.counts.a).toBe(5);
    expect(floorKeep(4, 0.3)).toBe(2);
    expect(floorKeep(10, 0)).toBe(1);
    expect(floorKeep(10, 0.1)).toBe(1);
  });
  it('reports a shortfall when the floor binds', () => {
    const r = rankGlobally([{ id: 'a', scores: [1, 2] }], 1, { minKeep: 0 });
    expect(r).toEqual({ counts: { a: 1 }, requested: 2, pruned: 1 });
  });
  it('rejects duplicates and bad floors', () => {
    expect(() => rankGlobally([{ id: 'a', scores: [1] }, { id: 'a', scores: [1] }], 0)).toThrow(/twice/);
    expect(() => rankGlobally([{ id: 'a', scores: [1] }], 0, { minKeep: 2 })).toThrow(RangeError);
  });
  it('property: prunes exactly the requested count unless the floor binds, never breaks the floor', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (groups, target, minKeep) => {
          const gs = groups.map((scores, i) => ({ id: `g${i}`, scores }));
          const r = rankGlobally(gs, target, { minKeep });
          const room = gs.reduce((a, g) => a + g.scores.length - floorKeep(g.scores.length, minKeep), 0);
          expect(r.pruned).toBe(Math.min(r.requested, room));
          for (const g of gs) expect(g.scores.length - r.counts[g.id]).toBeGreaterThanOrEqual(floorKeep(g.scores.length, minKeep));
        },
      ),
    );
  });
});
