import { memo, useDeferredValue, useMemo } from 'react';
import { useDebounce } from 'use-debounce';
import { downsampleCurve } from '../state/downsample';
import type { ModelRole } from '../worker/protocol';
import { useStore } from './context';
import { CurveLines } from './CurveLines';

/** How often, at most, a curve that grows batch by batch is redrawn. */
export const CHART_REFRESH_MS = 400;

/** Loss (left axis) and train/test accuracy (right axis) against thousands of images seen. */
export const CurvesChart = memo(function CurvesChart({ role, title, testId }: { role: ModelRole; title: string; testId: string }) {
  // Subscribes itself, so only the chart re-renders on every batch.
  const data = useStore((s) => (role === 'baseline' ? s.baseline.curve : s.prunedCurve));
  // At most a few redraws a second (ConvNet-3 sends ~17 points a second), at low priority and thinned:
  // the drawing (CurveLines.tsx) is cheap, and this keeps it so however long a run grows.
  const [throttled] = useDebounce(data, CHART_REFRESH_MS, { maxWait: CHART_REFRESH_MS, leading: true });
  const shown = useDeferredValue(throttled);
  const points = useMemo(() => downsampleCurve(shown), [shown]);
  return (
    <figure className="chart" data-testid={testId} data-points={data.length}>
      <figcaption>{title}</figcaption>
      {/* The chart stays mounted even when empty (drawn axes, no jump in the layout when the first point comes). */}
      <div className="chart-body">
        <CurveLines points={points} />
        {data.length === 0 && <div className="empty overlay">No training yet: curves appear here batch by batch.</div>}
      </div>
    </figure>
  );
});
