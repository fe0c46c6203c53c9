import { Bar, BarChart, CartesianGrid, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { parameterCount } from '../core/model/architecture';
import { previewCosts } from '../core/pruning/costs';
import { pruneSettingsOf, useStore } from '../state/store';
import type { Settings } from '../state/urlState';
import { compact, int, pct } from './format';

const COLORS = ['#64748b', '#f59e0b', '#16a34a'];

/** Baseline vs masked vs removed nonzero parameters, and accuracy before/after pruning and fine-tuning. */
export function CompareCharts({ settings }: { settings: Settings }) {
  const preview = useStore((s) => s.preview);
  const baselineEval = useStore((s) => s.baselineEval);
  const finetuned = useStore((s) => s.finetunedEval);
  const ps = pruneSettingsOf(settings);
  const params = [
    { name: 'baseline', value: parameterCount(64) },
    { name: settings.mode === 'global' ? 'global unstructured' : 'masked', value: previewCosts({ ...ps, mode: settings.mode === 'global' ? 'global' : 'mask' }).nonzeroParams },
    ...(settings.mode === 'global' ? [] : [{ name: 'filters removed', value: previewCosts({ ...ps, mode: 'remove' }).nonzeroParams }]),
  ];
  const acc = [
    { name: 'baseline', value: baselineEval?.accuracy ?? 0 },
    { name: 'after pruning', value: preview.status === 'ready' && preview.reply ? preview.reply.evaluation.accuracy : 0 },
    { name: 'after fine-tuning', value: finetuned?.accuracy ?? 0 },
  ];
  return (
    <div className="two-col">
      <figure className="chart" data-testid="nonzero-chart">
        <figcaption>Nonzero parameters</figcaption>
        <ResponsiveContainer width="100%" height={200}>
          <BarChart data={params} margin={{ top: 18, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
            <XAxis dataKey="name" tick={{ fontSize: 11 }} />
            <YAxis tickFormatter={compact} width={44} tick={{ fontSize: 11 }} domain={[0, parameterCount(64)]} />
            <Tooltip formatter={(v) => int(Number(v))} />
            <Bar dataKey="value" isAnimationActive={false}>
              {params.map((_, i) => (
                <Cell key={i} fill={COLORS[i]} />
              ))}
              <LabelList dataKey="value" position="top" formatter={(v) => int(Number(v))} fontSize={11} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <figure className="chart" data-testid="accuracy-chart">
        <figcaption>Test accuracy</figcaption>
        <ResponsiveContainer width="100%" height={200}>
          <BarChart data={acc} margin={{ top: 18, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
            <XAxis dataKey="name" tick={{ fontSize: 11 }} />
            <YAxis domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} width={40} tick={{ fontSize: 11 }} />
            <Tooltip formatter={(v) => pct(Number(v))} />
            <Bar dataKey="value" isAnimationActive={false}>
              {acc.map((_, i) => (
                <Cell key={i} fill={COLORS[i]} />
              ))}
              <LabelList dataKey="value" position="top" formatter={(v) => (Number(v) ? pct(Number(v)) : '–')} fontSize={11} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}
