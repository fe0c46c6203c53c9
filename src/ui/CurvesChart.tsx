import { memo, useDeferredValue, useMemo } from 'react';
import { useDebounce } from 'use-debounce';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleCurve } from '../state/downsample';
import type { ModelRole } from '../worker/protocol';
import type { CurvePoint } from '../state/types';
import { useStore } from './context';

/** How often, at most, a curve that grows batch by batch is redrawn. */
export const CHART_REFRESH_MS = 400;

/** Loss (left axis) and train/test accuracy (right axis) against thousands of images seen. */
export const CurvesChart = memo(function CurvesChart({ role, title, testId }: { role: ModelRole; title: string; testId: string }) {
  // Subscribes itself, so only the chart re-renders on every batch.
  const data = useStore((s) => (role === 'baseline' ? s.baseline.curve : s.prunedCurve));
  // At most a few renders a second (ConvNet-3 sends ~17 points a second, and one recharts render of
  // this chart is tens of ms of main-thread work, most of it synchronous in the commit: the bench's
  // heartbeat saw 152 ms gaps), rendered at low priority and thinned, so a run never blocks the page.
  const [throttled] = useDebounce(data, CHART_REFRESH_MS, { maxWait: CHART_REFRESH_MS, leading: true });
  const shown = useDeferredValue(throttled);
  const points = useMemo(() => downsampleCurve(shown), [shown]);
  return (
    <figure className="chart" data-testid={testId} data-points={data.length}>
      <figcaption>{title}</figcaption>
      {/* The chart stays mounted even when empty: mounting recharts mid-training costs a long task. */}
      <div className="chart-body">
        <CurveLines points={points} />
        {data.length === 0 && <div className="empty overlay">No training yet: curves appear here batch by batch.</div>}
      </div>
    </figure>
  );
});

/** The drawing itself, apart so that it re-renders only when the thinned points change (not on every batch). */
const CurveLines = memo(function CurveLines({ points }: { points: CurvePoint[] }) {
  // interval={0}: every tick of the default count is drawn, so recharts need not measure each label's
  // width (a forced layout of the whole page per tick: the largest item left in the trace of a training run).
  return (
    <ResponsiveContainer width="100%" height={220}>
      <LineChart data={points} margin={{ top: 8, right: 8, bottom: 16, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
        <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} interval={0} tickFormatter={(v: number) => `${v}k`} tick={{ fontSize: 11 }} label={{ value: 'images seen', position: 'insideBottom', offset: -8, fontSize: 11 }} />
        <YAxis yAxisId="loss" width={40} interval={0} tick={{ fontSize: 11 }} />
        <YAxis yAxisId="acc" orientation="right" domain={[0, 1]} interval={0} width={40} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={{ fontSize: 11 }} />
        <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} labelFormatter={(l) => `${l}k images`} />
        <Legend verticalAlign="top" height={24} />
        <Line yAxisId="loss" dataKey="loss" name="train loss" stroke="#dc2626" dot={false} isAnimationActive={false} strokeWidth={1.5} />
        <Line yAxisId="acc" dataKey="trainAcc" name="train acc (batch)" stroke="#93c5fd" dot={false} isAnimationActive={false} strokeWidth={1} />
        <Line yAxisId="acc" dataKey="testAcc" name="test acc" stroke="#1d4ed8" connectNulls dot isAnimationActive={false} strokeWidth={2} />
      </LineChart>
    </ResponsiveContainer>
  );
});
