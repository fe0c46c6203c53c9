import { act, cleanup, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import { idbStorage } from '../state/persistence';
import { createAppStore } from '../state/store';
import type { CurvePoint } from '../state/types';
import { AppProvider } from './context';
import { CHART_REFRESH_MS, CurvesChart } from './CurvesChart';

// The drawing replaced by a counter: what is measured is how often the chart is asked to draw, and with what.
const drawn: number[] = [];
vi.mock('./CurveLines', async () => {
  const { memo } = await import('react'); // memoised like the real drawing: it redraws when its points change
  return {
    CurveLines: memo(({ points }: { points: unknown[] }) => {
      drawn.push(points.length);
      return null;
    }),
  };
});

beforeEach(() => {
  vi.useFakeTimers();
  drawn.length = 0;
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('the training curve while a run streams points', () => {
  it(`is redrawn at most once per ${CHART_REFRESH_MS} ms, and the last draw has every point`, () => {
    const store = createAppStore(idbStorage(null, globalThis, null));
    const app = { store, actions: {} as Controller, experiments: {} as ExperimentActions };
    render(<AppProvider value={{ ...app }}><CurvesChart role="baseline" title="t" testId="c" /></AppProvider>);
    const curve: CurvePoint[] = [];
    // ConvNet-3's pace in the bench: a point every ~60 ms, 2 s of training.
    const every = 60;
    const points = 34;
    for (let i = 0; i < points; i++) {
      curve.push({ step: i, loss: 1 / (i + 1) });
      act(() => store.setState((s) => ({ baseline: { ...s.baseline, curve: [...curve] } })));
      act(() => vi.advanceTimersByTime(every));
    }
    act(() => vi.advanceTimersByTime(CHART_REFRESH_MS * 2));
    const draws = drawn.length - 1; // the first: the empty chart at mount
    expect(draws).toBeLessThanOrEqual(Math.ceil((points * every) / CHART_REFRESH_MS) + 2);
    expect(drawn.at(-1)).toBe(points);
  });
});
