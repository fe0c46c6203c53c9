/**
 * The experiments' charts and verdict table (issue 12). Rendering only: the figures come from the
 * store; means, standard deviations and the paired tests come from core/experiments/stats.ts, which
 * carries the statistics packages and is therefore loaded on demand (dynamic import), not with the page.
 */
import { memo, useEffect, useMemo, useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CRITERION_LABELS, type Criterion } from '../core/experiments/common';
import type { SensitivityPoint } from '../core/experiments/sensitivity';
import type { SweepPoint } from '../core/experiments/sweep';
import { CRITERION_COLORS, compact, int, pct } from '../state/vocabulary';

type Stats = typeof import('../core/experiments/stats');

const CRITERIA_ORDER: Criterion[] = ['random', 'l1', 'l2', 'bn', 'taylor', 'globalStruct'];

const axisPercent = (v: number) => `${Math.round(v * 100)}%`;

/** Accuracies as "41.3%", a band as "38.0–44.1%". */
function figure(v: unknown): string {
  if (Array.isArray(v)) return `${pct(Number(v[0]))}–${pct(Number(v[1]))}`;
  return typeof v === 'number' ? pct(v) : String(v);
}

/** stats.ts on demand (it pulls in ~600 KB of statistics code); null until loaded. */
export function useStats(): Stats | null {
  const [stats, setStats] = useState<Stats | null>(null);
  useEffect(() => {
    let live = true;
    void import('../core/experiments/stats').then((m) => {
      if (live) setStats(m);
    });
    return () => {
      live = false;
    };
  }, []);
  return stats;
}

const presentCriteria = (points: readonly { criterion: Criterion }[]): Criterion[] => CRITERIA_ORDER.filter((c) => points.some((p) => p.criterion === c));

// ------------------------------------------------------------------ sensitivity

interface SensitivityChartProps {
  layer: string;
  label: string;
  points: readonly SensitivityPoint[];
  baselineAccuracy: number | null;
}

/** One layer: accuracy against the fraction pruned, a line per criterion, Random's min–max band shaded. */
export const SensitivityChart = memo(function SensitivityChart({ layer, label, points, baselineAccuracy }: SensitivityChartProps) {
  const criteria = presentCriteria(points);
  const data = useMemo(() => {
    const rows = new Map<number, Record<string, number | [number, number]>>();
    for (const p of points) {
      const x = Math.round(p.fraction * 1000) / 10;
      const row = rows.get(x) ?? { x };
      row[p.criterion] = p.accuracy;
      if (p.criterion === 'random' && p.min !== undefined && p.max !== undefined) row.randomBand = [p.min, p.max];
      rows.set(x, row);
    }
    return [...rows.values()].sort((a, b) => (a.x as number) - (b.x as number));
  }, [points]);
  return (
    <figure className="chart" data-testid={`sensitivity-chart-${layer}`} data-points={points.length}>
      <figcaption>{label}: accuracy without fine-tuning vs fraction pruned</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis dataKey="x" type="number" domain={[0, 95]} ticks={[0, 25, 50, 75, 95]} unit="%" tick={{ fontSize: 11 }} label={{ value: 'fraction pruned', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis domain={[0, 1]} tickFormatter={axisPercent} width={44} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v, name) => [figure(v), name]} labelFormatter={(x) => `${x} % pruned`} />
          <Legend verticalAlign="top" height={24} />
          {baselineAccuracy !== null && Number.isFinite(baselineAccuracy) && <ReferenceLine y={baselineAccuracy} stroke="#64748b" strokeDasharray="2 2" />}
          {criteria.includes('random') && (
            <Area dataKey="randomBand" name="Random (min–max)" stroke="none" fill={CRITERION_COLORS.random} fillOpacity={0.15} isAnimationActive={false} legendType="none" connectNulls />
          )}
          {criteria.map((c) => (
            <Line key={c} dataKey={c} name={CRITERION_LABELS[c]} stroke={CRITERION_COLORS[c]} dot={{ r: 2 }} strokeWidth={2} isAnimationActive={false} connectNulls />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
});

// ------------------------------------------------------------------ method comparison

export type SweepAxis = 'nonzeroParams' | 'macs';

/** The comparison's y axis: the measured range and the baseline, out to whole 10 %, ticked every 10 % (so bands a few points wide are visible). */
function zoomed(values: number[]): { domain: [number, number]; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  const lo = finite.length ? Math.max(0, Math.floor(Math.min(...finite) * 10)) : 0;
  const hi = finite.length ? Math.min(10, Math.max(lo + 1, Math.ceil(Math.max(...finite) * 10))) : 10;
  return { domain: [lo / 10, hi / 10], ticks: Array.from({ length: hi - lo + 1 }, (_, i) => (lo + i) / 10) };
}

interface SweepChartProps {
  points: readonly SweepPoint[];
  baselineAccuracy: number | null;
  /** The honest control: the unpruned baseline fine-tuned with the same budget, mean over the seeds (issues 21, 22). */
  control?: { accuracy: number; epochs: number } | null;
  axis: SweepAxis;
  stats: Stats;
}

/** Accuracy after fine-tuning against nonzero parameters (or MACs): mean line and ±1 sd band per criterion, before fine-tuning dashed. */
export const SweepChart = memo(function SweepChart({ points, baselineAccuracy, control, axis, stats }: SweepChartProps) {
  const summaries = useMemo(() => stats.summarize(points), [stats, points]);
  const criteria = presentCriteria(points);
  const data = useMemo(() => {
    const rows = new Map<number, Record<string, number | [number, number]>>();
    for (const s of summaries) {
      const x = Math.round(s[axis]);
      const row = rows.get(x) ?? { x, sparsity: s.sparsity };
      const sd = s.sd ?? 0;
      row[s.criterion] = s.mean;
      row[`${s.criterion}Band`] = [s.mean - sd, s.mean + sd];
      row[`${s.criterion}Before`] = s.meanBefore;
      rows.set(x, row);
    }
    return [...rows.values()].sort((a, b) => (a.x as number) - (b.x as number));
  }, [summaries, axis]);
  const y = useMemo(
    () => zoomed([...summaries.flatMap((s) => [s.mean - (s.sd ?? 0), s.mean + (s.sd ?? 0), s.meanBefore]), baselineAccuracy ?? NaN, control?.accuracy ?? NaN]),
    [summaries, baselineAccuracy, control],
  );
  const label = axis === 'macs' ? 'nonzero MACs per image' : 'nonzero parameters';
  return (
    <figure className="chart" data-testid="sweep-chart" data-points={points.length} data-bands={criteria.length} data-axis={axis} data-control={control ? control.accuracy : ''}>
      <figcaption>Accuracy after fine-tuning vs {label} (mean ± 1 sd over seeds; dashed: before fine-tuning)</figcaption>
      <ResponsiveContainer width="100%" height={280}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis dataKey="x" type="number" domain={['auto', 'auto']} tickFormatter={compact} tick={{ fontSize: 11 }} label={{ value: label, position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis domain={y.domain} ticks={y.ticks} tickFormatter={axisPercent} width={44} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v, name) => [figure(v), name]} labelFormatter={(x) => `${int(Number(x))} ${label}`} />
          <Legend verticalAlign="top" height={24} />
          {baselineAccuracy !== null && Number.isFinite(baselineAccuracy) && (
            <ReferenceLine
              y={baselineAccuracy}
              stroke="#0f172a"
              strokeDasharray="2 2"
              label={{ value: `unpruned ${pct(baselineAccuracy)}`, position: 'insideTopLeft', fontSize: 11 }}
            />
          )}
          {control && Number.isFinite(control.accuracy) && (
            <ReferenceLine
              y={control.accuracy}
              stroke="#b45309"
              strokeDasharray="6 3"
              label={{ value: `control: unpruned + ${control.epochs} epoch${control.epochs === 1 ? '' : 's'} ${pct(control.accuracy)}`, position: 'insideBottomLeft', fontSize: 11 }}
            />
          )}
          {criteria.map((c) => (
            <Area key={`${c}-band`} dataKey={`${c}Band`} name={`${CRITERION_LABELS[c]} ±1 sd`} stroke="none" fill={CRITERION_COLORS[c]} fillOpacity={0.15} isAnimationActive={false} legendType="none" connectNulls />
          ))}
          {criteria.map((c) => (
            <Line key={`${c}-before`} dataKey={`${c}Before`} name={`${CRITERION_LABELS[c]} before fine-tuning`} stroke={CRITERION_COLORS[c]} strokeDasharray="5 4" strokeWidth={1} dot={false} isAnimationActive={false} legendType="none" connectNulls />
          ))}
          {criteria.map((c) => (
            <Line key={c} dataKey={c} name={CRITERION_LABELS[c]} stroke={CRITERION_COLORS[c]} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
});

/** At each sparsity: the criteria ranked by mean, and whether the leader's gap is beyond the seeds' spread (paired t-test). */
export const VerdictTable = memo(function VerdictTable({ points, stats }: { points: readonly SweepPoint[]; stats: Stats }) {
  const rows = useMemo(() => stats.comparisonTable(points), [stats, points]);
  return (
    <div className="table-wrap">
      <table className="history" data-testid="sweep-table">
        <thead>
          <tr>
            <th>sparsity</th>
            <th>after fine-tuning, mean ± sd (seeds)</th>
            <th>ahead</th>
            <th>is the gap larger than the seeds' spread?</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.sparsity} data-sparsity={r.sparsity} data-leader={r.leader ?? ''} data-beyond={String(r.comparisons[0]?.beyondSpread ?? false)}>
              <td>{Math.round(r.sparsity * 1000) / 10} %</td>
              <td>
                {r.ranking.map((s) => `${CRITERION_LABELS[s.criterion]} ${pct(s.mean)}${s.sd !== null ? ` ± ${(s.sd * 100).toFixed(1)}` : ''} (${s.n})`).join(' · ')}
              </td>
              <td>{r.leader ? CRITERION_LABELS[r.leader] : '—'}</td>
              <td style={{ textAlign: 'left' }}>{r.verdict}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});
