import { memo, useDeferredValue, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { parameterCount } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import { previewCosts } from '../core/pruning/costs';
import { pruneSettingsOf } from '../state/controller';
import type { Settings } from '../state/urlState';
import { compact, int, pct } from '../state/vocabulary';
import { useStore } from './context';

const COLORS = ['#64748b', '#f59e0b', '#16a34a'];

interface BarFigureProps {
  title: string;
  testId: string;
  data: { name: string; value: number }[];
  yMax: number;
  /** Formats a value for the axis, the tooltip and the label above the bar. */
  format: (v: number) => string;
  axisFormat: (v: number) => string;
}

/** Memoised: re-renders only when its data changes, not on every parent render. */
const BarFigure = memo(function BarFigure({ title, testId, data, yMax, format, axisFormat }: BarFigureProps) {
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 18, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="name" tick={{ fontSize: 11 }} />
          <YAxis domain={[0, yMax]} tickFormatter={axisFormat} width={52} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => format(Number(v))} />
          <Bar dataKey="value" isAnimationActive={false}>
            {data.map((_, i) => (
              <Cell key={i} fill={COLORS[i]} />
            ))}
            <LabelList dataKey="value" position="top" formatter={(v) => format(Number(v))} fontSize={11} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
});

const formatAccuracy = (v: number) => (v ? pct(v) : '–');
const axisPercent = (v: number) => `${Math.round(v * 100)}%`;

/** Baseline vs masked vs removed nonzero parameters, and accuracy before/after pruning and fine-tuning. */
export function CompareCharts({ settings: urgent }: { settings: Settings }) {
  // Charts are the costly part of a slider move: React renders them after the counts have painted.
  const settings = useDeferredValue(urgent);
  const preview = useDeferredValue(useStore((s) => s.preview));
  const baselineEval = useStore((s) => s.baselineEval);
  const finetuned = useDeferredValue(useStore((s) => s.finetunedEval));
  const spec = specFor(settings.model);
  const params = useMemo(() => {
    const ps = pruneSettingsOf(settings);
    const global = settings.mode === 'global';
    return [
      { name: 'baseline', value: parameterCount(spec) },
      { name: global ? 'global unstructured' : 'masked', value: previewCosts(spec, { ...ps, mode: global ? 'global' : 'mask' }).nonzeroParams },
      ...(global ? [] : [{ name: 'filters removed', value: previewCosts(spec, { ...ps, mode: 'remove' }).nonzeroParams }]),
    ];
  }, [settings, spec]);
  const acc = useMemo(
    () => [
      { name: 'baseline', value: baselineEval?.accuracy ?? 0 },
      { name: 'after pruning', value: preview.status === 'ready' && preview.reply ? preview.reply.evaluation.accuracy : 0 },
      { name: 'after fine-tuning', value: finetuned?.accuracy ?? 0 },
    ],
    [baselineEval, preview, finetuned],
  );
  return (
    <div className="two-col">
      <BarFigure title="Nonzero parameters" testId="nonzero-chart" data={params} yMax={parameterCount(spec)} format={int} axisFormat={compact} />
      <BarFigure
        title="Test accuracy"
        testId="accuracy-chart"
        data={acc}
        yMax={1}
        format={formatAccuracy}
        axisFormat={axisPercent}
      />
    </div>
  );
}
