import { describe, expect, it } from 'vitest';
import { Cancelled } from './common';
import { measureOracle, spearman } from './oracle';

const noPause = () => Promise.resolve();

describe('spearman', () => {
  it('is 1 for the same order, −1 for the reverse, and uses midranks for ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // known case (hand-computed): x ranks 1,2,3,4,5; y = 2,1,4,3,5 → d² = 1+1+1+1+0 = 4, ρ = 1 − 6·4/(5·24) = 0.8
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    // ties: x = [1, 1, 2] → midranks 0.5, 0.5, 2 against y ranks 0, 1, 2: Pearson of the ranks = √3/2
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });
  it('is NaN with nothing to rank, and refuses mismatched lengths', () => {
    expect(spearman([1], [2])).toBeNaN();
    expect(spearman([3, 3, 3], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(RangeError);
  });
});

describe('measureOracle', () => {
  it('removes each unit alone and records the loss increase', async () => {
    const losses = [2.5, 2.0, 3.5];
    let t = 0;
    const r = await measureOracle({ units: 3, baseLoss: 2.25, lossWithout: async (u) => losses[u], pause: noPause, now: () => (t += 100) });
    expect([...r.delta]).toEqual([0.25, -0.25, 1.25]);
    expect(r.ms).toBe(100);
  });
  it('stops on cancel', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const run = measureOracle({
      units: 5,
      baseLoss: 0,
      lossWithout: async (u) => {
        seen.push(u);
        if (u === 1) ac.abort();
        return u;
      },
      signal: ac.signal,
      pause: noPause,
    });
    await expect(run).rejects.toBeInstanceOf(Cancelled);
    expect(seen).toEqual([0, 1]);
  });
});
