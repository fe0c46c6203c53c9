import { describe, expect, test } from 'vitest';
import { HelperTuner } from './helperTuner';

/** Feeds the tuner steps that take `withMs` / `withoutMs` as it asks; returns the on/off sequence it asked for. */
function run(t: HelperTuner, withMs: number, withoutMs: number, steps: number): boolean[] {
  const asked: boolean[] = [];
  for (let i = 0; i < steps; i++) {
    const on = t.wantHelper();
    asked.push(on);
    t.record(on ? withMs : withoutMs);
  }
  return asked;
}

describe('HelperTuner: the SIMD helper thread kept only where it pays', () => {
  test('warm-up with the helper, then alternating blocks, then the decision for every later step', () => {
    const t = new HelperTuner({ warmup: 2, block: 2, blocks: 4, margin: 0.05 });
    const asked = run(t, 13, 20, 14);
    expect(asked).toEqual([true, true, true, true, false, false, true, true, false, false, true, true, true, true]);
    expect(t.decision).toEqual({ helper: true, withMs: 13, withoutMs: 20, steps: 4 });
  });

  test('switched off when running without it is clearly faster (a second vCPU that does not pay)', () => {
    const t = new HelperTuner();
    run(t, 34, 30, 20);
    expect(t.decision?.helper).toBe(false);
    expect(t.wantHelper()).toBe(false);
  });

  test('kept on a tie within the margin (it costs nothing to keep what the kernels were tuned with)', () => {
    const t = new HelperTuner({ margin: 0.05 });
    run(t, 20, 19.2, 20);
    expect(t.decision?.helper).toBe(true);
  });

  test('medians, not means: one slow step (a neighbour, a GC) does not decide', () => {
    const t = new HelperTuner({ warmup: 0, block: 1, blocks: 6, margin: 0.05 });
    const times = [13, 20, 200, 20, 13, 20]; // with, without, with (slow), without, with, without
    for (const ms of times) t.record(ms);
    expect(t.decision).toMatchObject({ helper: true, withMs: 13, withoutMs: 20 });
  });
});
