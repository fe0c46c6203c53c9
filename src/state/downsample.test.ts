import { describe, expect, it } from 'vitest';
import { downsampleCurve } from './downsample';
import type { CurvePoint } from './store';

const curve = (n: number): CurvePoint[] =>
  Array.from({ length: n }, (_, i) => ({ step: i, loss: 1 / (i + 1), ...(i % 79 === 78 ? { testAcc: i / n } : {}) }));

describe('downsampleCurve', () => {
  it('leaves short curves alone', () => {
    const c = curve(100);
    expect(downsampleCurve(c, 240)).toBe(c);
  });

  it('thins long curves but keeps every epoch end and the last point', () => {
    const c = curve(2000);
    const d = downsampleCurve(c, 240);
    const epochEnds = c.filter((p) => p.testAcc !== undefined);
    expect(d.length).toBeLessThanOrEqual(240 + epochEnds.length + 1);
    expect(d.length).toBeGreaterThan(200);
    for (const p of epochEnds) expect(d).toContain(p);
    expect(d[d.length - 1]).toBe(c[c.length - 1]);
    expect(d[0]).toBe(c[0]);
  });
});
