import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PruneAmountError, count, fraction, pruneCount, roundHalfEven } from './amount';

describe('pruneCount (torch _compute_nparams_toprune)', () => {
  it('rounds the float64 product half to even, like Python', () => {
    expect(pruneCount(fraction(0.25), 10)).toBe(2);
    expect(pruneCount(fraction(0.5), 5)).toBe(2);
    expect(pruneCount(fraction(0.35), 10)).toBe(4); // 0.35·10 = 3.5000000000000004 in float64
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(0.5)).toBe(0);
  });

  it('treats a count as absolute', () => {
    expect(pruneCount(count(3), 10)).toBe(3);
    expect(pruneCount(count(0), 0)).toBe(0);
  });

  it.each([
    ['fraction > 1', fraction(1.5), 10],
    ['negative fraction', fraction(-0.1), 10],
    ['NaN', fraction(Number.NaN), 10],
    ['count > n', count(11), 10],
    ['negative count', count(-1), 10],
    ['non-integer count', count(2.5), 10],
    ['infinite count', count(Infinity), 10],
  ])('rejects %s with PruneAmountError', (_, amount, n) => {
    expect(() => pruneCount(amount, n)).toThrow(PruneAmountError);
  });

  it('never exceeds n and is monotone in the fraction (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(100_000), (a, b, n) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const cl = pruneCount(fraction(lo), n);
        const ch = pruneCount(fraction(hi), n);
        return cl >= 0 && ch <= n && cl <= ch && Number.isInteger(cl);
      }),
    );
    fc.assert(fc.property(fc.nat(1000), fc.nat(1000), (c, n) => (c <= n ? pruneCount(count(c), n) === c : throwsAmountError(() => pruneCount(count(c), n)))));
  });
});

function throwsAmountError(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return e instanceof PruneAmountError;
  }
}
