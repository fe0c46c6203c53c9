import { describe, expect, it } from 'vitest';
import { sumScores, taylorScores } from './taylor';

describe('taylorScores', () => {
  it('sums a·g over images and pixels per channel, then takes |·|', () => {
    // 2 images × 1×2 pixels × 2 channels, NHWC: a[n][p][c]
    const a = [1, 2, 3, 4, /* image 2 */ 5, 6, 7, 8];
    const g = [1, -1, 1, 1, /* image 2 */ -1, 0.5, 0, -1];
    // channel 0: 1·1 + 3·1 + 5·(−1) + 7·0 = −1 → 1; channel 1: 2·(−1) + 4·1 + 6·0.5 + 8·(−1) = −3 → 3
    expect([...taylorScores(a, g, 2)]).toEqual([1, 3]);
  });
  it('matches the loss change of zeroing a channel for a linear loss (first order is exact there)', () => {
    // L = Σ w·a with fixed w: ∂L/∂a = w, and zeroing channel c changes L by exactly −Σ_c w·a
    const a = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i + 1));
    const w = Float32Array.from({ length: 24 }, (_, i) => Math.cos(3 * i));
    const scores = taylorScores(a, w, 3);
    for (let c = 0; c < 3; c++) {
      let change = 0;
      for (let i = c; i < 24; i += 3) change -= w[i] * a[i];
      expect(scores[c]).toBeCloseTo(Math.abs(change), 6);
    }
  });
  it('refuses mismatched shapes', () => {
    expect(() => taylorScores([1, 2], [1], 1)).toThrow(RangeError);
    expect(() => taylorScores([1, 2, 3], [1, 2, 3], 2)).toThrow(/whole number/);
  });
});

describe('sumScores', () => {
  it('adds the members of a group', () => {
    expect([...sumScores([[1, 2], [3, 4], [0.5, 0]])]).toEqual([4.5, 6]);
    expect(() => sumScores([])).toThrow();
    expect(() => sumScores([[1], [1, 2]])).toThrow();
  });
});
