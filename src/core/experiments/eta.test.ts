import { describe, expect, it } from 'vitest';
import { estimateSecondsLeft, formatEta, secondsPerPoint } from './eta';

describe('estimateSecondsLeft', () => {
  it('knows nothing before a point has finished or made progress', () => {
    expect(estimateSecondsLeft({ durations: [], remaining: 5 })).toBeNull();
    expect(estimateSecondsLeft({ durations: [], remaining: 5, current: { elapsed: 3 } })).toBeNull();
    expect(estimateSecondsLeft({ durations: [], remaining: 5, current: { elapsed: 3, fraction: 0.01 } })).toBeNull();
  });

  it('nothing left is 0 s', () => {
    expect(estimateSecondsLeft({ durations: [], remaining: 0 })).toBe(0);
    expect(estimateSecondsLeft({ durations: [4, 4], remaining: 0 })).toBe(0);
  });

  it('multiplies the remaining points by the mean time per point', () => {
    expect(estimateSecondsLeft({ durations: [10, 20], remaining: 3 })).toBe(45);
  });

  it('leaves out the first point (warm-up) once three have finished', () => {
    expect(secondsPerPoint([30, 10, 10])).toBe(10);
    expect(secondsPerPoint([30, 10])).toBe(20);
    expect(secondsPerPoint([])).toBeNull();
    expect(estimateSecondsLeft({ durations: [30, 10, 12], remaining: 2 })).toBe(22);
  });

  it('extrapolates the current point from its own progress, and uses it alone when nothing has finished', () => {
    // 6 s for 30 % → 14 s left of it; the others at the measured 10 s.
    expect(estimateSecondsLeft({ durations: [10], remaining: 2, current: { elapsed: 6, fraction: 0.3 } })).toBeCloseTo(34, 9);
    // first point: 20 s per point from its own pace.
    expect(estimateSecondsLeft({ durations: [], remaining: 2, current: { elapsed: 5, fraction: 0.25 } })).toBeCloseTo(55, 9);
  });

  it('without progress on the current point, its remainder is the typical time minus what it has spent, never below 0', () => {
    expect(estimateSecondsLeft({ durations: [10], remaining: 1, current: { elapsed: 4 } })).toBe(16);
    expect(estimateSecondsLeft({ durations: [10], remaining: 1, current: { elapsed: 25 } })).toBe(10);
    expect(estimateSecondsLeft({ durations: [10], remaining: 0, current: { elapsed: 25 } })).toBe(0);
  });

  it('is never negative, and a finished current point has nothing left', () => {
    expect(estimateSecondsLeft({ durations: [10], remaining: -3 })).toBe(0);
    expect(estimateSecondsLeft({ durations: [10], remaining: 0, current: { elapsed: 8, fraction: 1 } })).toBe(0);
  });
});

describe('formatEta', () => {
  it('reads like a progress bar', () => {
    expect(formatEta(null)).toBe('—');
    expect(formatEta(Infinity)).toBe('—');
    expect(formatEta(0.4)).toBe('0 s');
    expect(formatEta(42.4)).toBe('42 s');
    expect(formatEta(65)).toBe('1 min 05 s');
    expect(formatEta(3 * 3600 + 7 * 60 + 9)).toBe('3 h 07 min');
  });
});
