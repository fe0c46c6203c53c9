import { describe, expect, it } from 'vitest';
import type { Criterion } from './common';
import { comparisonTable, formatP, formatPoints, pairedComparison, summarize } from './stats';
import type { SweepPoint } from './sweep';

const point = (criterion: Criterion, sparsity: number, seed: number, accAfter: number, accBefore = accAfter / 2): SweepPoint => ({
  criterion, sparsity, seed, mode: 'mask', accBefore, accAfter, params: 1000, nonzeroParams: Math.round(1000 * (1 - sparsity)), macs: 5000 * (1 - sparsity),
  denseMacs: 5000, channels: [64], epochs: 1, subset: 0, seconds: 1,
});

/** a and b at one sparsity, seed i → values[i]. */
const pair = (a: number[], b: number[], sparsity = 0.5, ca: Criterion = 'l1', cb: Criterion = 'random') => [
  ...a.map((v, i) => point(ca, sparsity, i + 1, v)),
  ...b.map((v, i) => point(cb, sparsity, i + 1, v)),
];

describe('summarize', () => {
  it('mean, sample sd, min and max per (criterion, sparsity), before and after fine-tuning', () => {
    const pts = [...pair([0.6, 0.62, 0.64], [0.5, 0.5, 0.5]), point('l1', 0.9, 1, 0.3)];
    const s = summarize(pts);
    expect(s.map((x) => `${x.criterion}@${x.sparsity}`)).toEqual(['l1@0.5', 'random@0.5', 'l1@0.9']);
    expect(s[0]).toMatchObject({ n: 3, seeds: [1, 2, 3], min: 0.6, max: 0.64, params: 1000, nonzeroParams: 500, macs: 2500 });
    expect(s[0].mean).toBeCloseTo(0.62, 12);
    expect(s[0].sd).toBeCloseTo(0.02, 12);
    expect(s[0].meanBefore).toBeCloseTo(0.31, 12);
    expect(s[0].sdBefore).toBeCloseTo(0.01, 12);
    expect(s[1].sd).toBe(0); // zero variance is a number, not an error
    expect(s[2]).toMatchObject({ n: 1, sd: null, sdBefore: null, mean: 0.3 });
  });
});

describe('pairedComparison (checked against scipy.stats.ttest_rel)', () => {
  it('a clear gap: larger than the seeds’ spread', () => {
    const c = pairedComparison(pair([0.62, 0.6, 0.65], [0.6, 0.575, 0.63]), 'l1', 'random', 0.5);
    expect(c.n).toBe(3);
    expect(c.df).toBe(2);
    expect(c.t).toBeCloseTo(13.0, 9);
    expect(c.p).toBeCloseTo(0.00586515322756568, 12);
    expect(c.meanDiff).toBeCloseTo(0.021666666666666667, 12);
    expect(c).toMatchObject({ ahead: 'l1', beyondSpread: true, seeds: [1, 2, 3] });
    expect(c.verdict).toBe("L1 ahead of Random by 2.2 points; larger than the seeds' spread (p = 0.006).");
  });

  it('a gap the seeds’ spread can explain', () => {
    const c = pairedComparison(pair([0.61, 0.58, 0.64, 0.6], [0.57, 0.575, 0.6, 0.61]), 'l1', 'random', 0.5);
    expect(c.t).toBeCloseTo(1.4828004142176077, 12);
    expect(c.p).toBeCloseTo(0.23475317700805146, 12);
    expect(c.beyondSpread).toBe(false);
    expect(c.verdict).toBe("L1 ahead of Random by 1.9 points; within the seeds' spread (p = 0.23).");
  });

  it('names whoever is ahead, whichever order the criteria are given in', () => {
    const c = pairedComparison(pair([0.62, 0.6, 0.65, 0.61, 0.7], [0.5, 0.61, 0.55, 0.6, 0.52], 0.5, 'random', 'l2'), 'l2', 'random', 0.5);
    expect(c.t).toBeCloseTo(-2.262741699796952, 12);
    expect(c.p).toBeCloseTo(0.0864180504571546, 12);
    expect(c.ahead).toBe('random');
    expect(c.verdict).toBe("Random ahead of L2 by 8.0 points; within the seeds' spread (p = 0.086).");
  });

  it('keeps precision for a tiny p', () => {
    const c = pairedComparison(pair([50, 51, 49, 50.5, 50.2, 49.9, 50.1, 50.3], [0, 0, 0, 0, 0, 0, 0, 0]), 'l1', 'random', 0.5);
    expect(c.p! / 4.487643953080578e-15).toBeCloseTo(1, 6);
    expect(c.verdict).toMatch(/p < 0\.001/);
  });

  it('pairs by seed, using only the seeds both criteria have', () => {
    const pts = [point('l1', 0.5, 1, 0.6), point('l1', 0.5, 2, 0.7), point('l1', 0.5, 4, 0.9), point('bn', 0.5, 2, 0.65), point('bn', 0.5, 1, 0.58), point('bn', 0.5, 3, 0.1)];
    const c = pairedComparison(pts, 'l1', 'bn', 0.5);
    expect(c.seeds).toEqual([1, 2]);
    expect(c.meanDiff).toBeCloseTo(0.035, 12);
  });

  it('one shared seed: no test possible, and it says so', () => {
    const c = pairedComparison(pair([0.6], [0.5]), 'l1', 'random', 0.5);
    expect(c).toMatchObject({ n: 1, t: null, df: null, p: null, sdDiff: null, ahead: 'l1', beyondSpread: false });
    expect(c.verdict).toBe('L1 ahead of Random by 10.0 points on the one shared seed; no test possible with fewer than 2 seeds.');
    expect(pairedComparison(pair([0.5], [0.5]), 'l1', 'random', 0.5).verdict).toMatch(/^L1 and Random equal on the one shared seed; no test possible/);
  });

  it('no shared seeds, or another sparsity: nothing to compare', () => {
    const c = pairedComparison(pair([0.6, 0.7], [0.5, 0.5]), 'l1', 'random', 0.9);
    expect(c).toMatchObject({ n: 0, meanDiff: null, p: null, ahead: 'tie', beyondSpread: false });
    expect(c.verdict).toBe('L1 and Random share no seeds: nothing to compare.');
  });

  it('zero variance: the same gap on every seed is beyond the (absent) spread; identical results are a tie', () => {
    const same = pairedComparison(pair([0.6, 0.7, 0.8], [0.55, 0.65, 0.75]), 'l1', 'random', 0.5);
    // 0.6 − 0.55 and 0.7 − 0.65 differ in the last bit in float64; exact data shows the zero-spread path:
    const exact = pairedComparison(pair([0.75, 0.5, 0.25], [0.5, 0.25, 0]), 'l1', 'random', 0.5);
    expect(exact).toMatchObject({ sdDiff: 0, t: Infinity, p: 0, df: 2, ahead: 'l1', beyondSpread: true });
    expect(exact.verdict).toBe("L1 ahead of Random by 25.0 points on every one of the 3 seeds alike; larger than the seeds' spread (there is none).");
    expect(same.beyondSpread).toBe(true);
    const tie = pairedComparison(pair([0.6, 0.7], [0.6, 0.7]), 'l1', 'random', 0.5);
    expect(tie).toMatchObject({ meanDiff: 0, sdDiff: 0, t: 0, p: 1, ahead: 'tie', beyondSpread: false, verdict: 'L1 and Random identical on all 2 seeds.' });
  });

  it('compares the accuracies before fine-tuning on request, at a chosen alpha', () => {
    const pts = [point('l1', 0.5, 1, 0.6, 0.3), point('l1', 0.5, 2, 0.6, 0.35), point('random', 0.5, 1, 0.6, 0.1), point('random', 0.5, 2, 0.6, 0.2)];
    const c = pairedComparison(pts, 'l1', 'random', 0.5, { field: 'accBefore' });
    expect(c.meanDiff).toBeCloseTo(0.175, 12);
    expect(c.field).toBe('accBefore');
    expect(pairedComparison(pts, 'l1', 'random', 0.5, { field: 'accBefore', alpha: 1 }).beyondSpread).toBe(true);
  });
});

describe('comparisonTable', () => {
  it('per sparsity: criteria ranked by mean, the leader against each other, the verdict against the runner-up', () => {
    const pts = [
      ...pair([0.62, 0.6, 0.65], [0.6, 0.575, 0.63], 0.5),
      ...[0.5, 0.51, 0.52].map((v, i) => point('l2', 0.5, i + 1, v)),
      ...pair([0.3, 0.35], [0.4, 0.38], 0.9),
      point('bn', 0.75, 1, 0.2),
    ];
    const t = comparisonTable(pts);
    expect(t.map((r) => r.sparsity)).toEqual([0.5, 0.75, 0.9]);
    expect(t[0].leader).toBe('l1');
    expect(t[0].ranking.map((s) => s.criterion)).toEqual(['l1', 'random', 'l2']);
    expect(t[0].comparisons.map((c) => `${c.a}-${c.b}`)).toEqual(['l1-random', 'l1-l2']);
    expect(t[0].verdict).toBe(t[0].comparisons[0].verdict);
    expect(t[1]).toMatchObject({ leader: 'bn', comparisons: [], verdict: 'Only BatchNorm γ was measured.' });
    expect(t[2].leader).toBe('random');
    expect(t[2].verdict).toMatch(/^Random ahead of L1 by 6\.5 points; within the seeds' spread \(p = /);
    expect(comparisonTable([])).toEqual([]);
  });

  it('can rank by the accuracy before fine-tuning', () => {
    const pts = [point('l1', 0.5, 1, 0.7, 0.1), point('l1', 0.5, 2, 0.7, 0.12), point('random', 0.5, 1, 0.6, 0.3), point('random', 0.5, 2, 0.6, 0.34)];
    expect(comparisonTable(pts)[0].leader).toBe('l1');
    expect(comparisonTable(pts, { field: 'accBefore' })[0].leader).toBe('random');
  });
});

describe('formatting', () => {
  it('points and p-values read plainly', () => {
    expect(formatPoints(0.023)).toBe('2.3 points');
    expect(formatPoints(-0.023)).toBe('2.3 points');
    expect(formatPoints(0.0004)).toBe('0.04 points');
    expect(formatPoints(0)).toBe('0.0 points');
    expect(formatP(0.0312)).toBe('p = 0.031');
    expect(formatP(0.03)).toBe('p = 0.03');
    expect(formatP(0.41)).toBe('p = 0.41');
    expect(formatP(0.5)).toBe('p = 0.5');
    expect(formatP(0.004)).toBe('p = 0.004');
    expect(formatP(0.0004)).toBe('p < 0.001');
    expect(formatP(0.999)).toBe('p = 1');
  });
});
