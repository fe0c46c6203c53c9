import { memo, useDeferredValue, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleCurve } from '../state/downsample';
import type { ModelRole } from '../worker/protocol';
import { useStore } from './context';

/** Loss (left axis) and train/test accuracy (right axis) against thousands of images seen. */
export const CurvesChart = memo(function CurvesChart({ role, title, testId }: { role: ModelRole; title: string; testId: string }) {
  // Subscribes itself, so only the chart re-renders on every batch.
  const data = useStore((s) => (role === 'baseline' ? s.baseline.curve : s.prunedCurve));
  // Rendered at low priority and thinned, so a long run never blocks the page for long.
  const shown = useDeferredValue(data);
  const points = useMemo(() => downsampleCurve(shown), [shown]);
  return (
    <figure className="chart" data-testid={testId} data-points={data.length}>
      <figcaption>{title}</figcaption>
      {/* The chart stays mounted even when empty: mounting recharts mid-training costs a long task. */}
      <div className="chart-body">
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} tickFormatter={(v: number) => `${v}k`} tick={{ fontSize: 11 }} label={{ value: 'images seen', position: 'insideBottom', offset: -8, fontSize: 11 }} />
            <YAxis yAxisId="loss" width={40} tick={{ fontSize: 11 }} />
            <YAxis yAxisId="acc" orientation="right" domain={[0, 1]} width={40} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={{ fontSize: 11 }} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} labelFormatter={(l) => `${l}k images`} />
            <Legend verticalAlign="top" height={24} />
            <Line yAxisId="loss" dataKey="loss" name="train loss" stroke="#dc2626" dot={false} isAnimationActive={false} strokeWidth={1.5} />
            <Line yAxisId="acc" dataKey="trainAcc" name="train acc (batch)" stroke="#93c5fd" dot={false} isAnimationActive={false} strokeWidth={1} />
            <Line yAxisId="acc" dataKey="testAcc" name="test acc" stroke="#1d4ed8" connectNulls dot isAnimationActive={false} strokeWidth={2} />
          </LineChart>
        </ResponsiveContainer>
        {data.length === 0 && <div className="empty overlay">No training yet: curves appear here batch by batch.</div>}
      </div>
    </figure>
  );
});
