import { describe, expect, it } from 'vitest';
import { describeSchedule, relativeStepAmounts, scheduleCounts, scheduleProblem, scheduleSparsities } from './schedule';

describe('scheduleSparsities', () => {
  it('AGP follows Zhu & Gupta: s_t = s_f + (s_i − s_f)(1 − t/n)³', () => {
    const s = scheduleSparsities({ kind: 'agp', steps: 3 }, 0.75);
    // by hand: 0.75 − 0.75·(2/3)³ = 0.527…, 0.75 − 0.75·(1/3)³ = 0.722…, 0.75
    expect(s[0]).toBeCloseTo(0.75 - 0.75 * (8 / 27), 12);
    expect(s[1]).toBeCloseTo(0.75 - 0.75 / 27, 12);
    expect(s[2]).toBe(0.75);
  });
  it('AGP from a non-zero initial sparsity', () => {
    const s = scheduleSparsities({ kind: 'agp', steps: 2 }, 0.9, 0.5);
    expect(s[0]).toBeCloseTo(0.9 - 0.4 * 0.125, 12);
    expect(s[1]).toBe(0.9);
  });
  it('iterative steps are equal', () => {
    expect(scheduleSparsities({ kind: 'iterative', steps: 4 }, 0.8)).toEqual([0.2, 0.4, 0.6000000000000001, 0.8]);
  });
  it('one-shot is the target', () => {
    expect(scheduleSparsities({ kind: 'oneshot', steps: 1 }, 0.5)).toEqual([0.5]);
  });
  it('AGP prunes more early than iterative, both end at the target', () => {
    for (const n of [2, 3, 5, 10]) {
      const agp = scheduleSparsities({ kind: 'agp', steps: n }, 0.9);
      const it = scheduleSparsities({ kind: 'iterative', steps: n }, 0.9);
      for (let t = 0; t < n - 1; t++) expect(agp[t]).toBeGreaterThan(it[t]);
      expect(agp[n - 1]).toBe(0.9);
      for (let t = 1; t < n; t++) expect(agp[t]).toBeGreaterThanOrEqual(agp[t - 1]);
    }
  });
  it('rejects bad schedules with a reason', () => {
    expect(scheduleProblem({ kind: 'agp', steps: 0 })).toMatch(/1 to 20 steps/);
    expect(scheduleProblem({ kind: 'oneshot', steps: 3 })).toMatch(/exactly one/);
    expect(scheduleProblem({ kind: 'cubic' as never, steps: 3 })).toMatch(/unknown schedule/);
    expect(() => scheduleSparsities({ kind: 'agp', steps: 3 }, 1.2)).toThrow(RangeError);
  });
});

describe('scheduleCounts', () => {
  it('turns fractions into torch-rounded unit counts that never decrease', () => {
    // 64 units, AGP 75 % in 3: 33.78 → 34, 46.22 → 46, 48
    expect(scheduleCounts({ kind: 'agp', steps: 3 }, 0.75, 64)).toEqual({ cumulative: [34, 46, 48], perStep: [34, 12, 2] });
    // 10 units, 5 equal steps to 25 %: 0.5 → 0, 1 → 1, 1.5 → 2 (half to even), 2 → 2, 2.5 → 2
    expect(scheduleCounts({ kind: 'iterative', steps: 5 }, 0.25, 10).cumulative).toEqual([0, 1, 2, 2, 2]);
  });
  it('the steps add up to the one-shot count', () => {
    for (const units of [5, 16, 32, 64])
      for (const target of [0.1, 0.35, 0.5, 0.75, 0.95]) {
        const oneShot = scheduleCounts({ kind: 'oneshot', steps: 1 }, target, units).cumulative[0];
        for (const kind of ['iterative', 'agp'] as const) {
          const { perStep } = scheduleCounts({ kind, steps: 4 }, target, units);
          expect(perStep.reduce((a, b) => a + b, 0)).toBe(oneShot);
        }
      }
  });
  it('relative amounts are fractions of the units still alive', () => {
    const rel = relativeStepAmounts({ kind: 'agp', steps: 3 }, 0.75, 64);
    expect(rel[0]).toBeCloseTo(34 / 64, 12);
    expect(rel[1]).toBeCloseTo(12 / 30, 12);
    expect(rel[2]).toBeCloseTo(2 / 18, 12);
  });
});

describe('describeSchedule', () => {
  it('names the steps', () => {
    expect(describeSchedule({ kind: 'agp', steps: 3 }, 0.75)).toBe('AGP 3 steps: 52.8 → 72.2 → 75 %');
    expect(describeSchedule({ kind: 'oneshot', steps: 1 }, 0.5)).toBe('one-shot 50 %');
  });
});
