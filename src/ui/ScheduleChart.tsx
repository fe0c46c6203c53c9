import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { pct } from '../state/vocabulary';
import { useStore } from './context';

/**
 * A scheduled run, step by step: sparsity (of the largest target) across, accuracy up; each step drops at
 * its prune (before fine-tuning) and climbs with its fine-tuning (after), so the path is a saw-tooth.
 */
export function ScheduleChart() {
  const steps = useStore((s) => s.scheduleSteps);
  const baseline = useStore((s) => s.baselineEval);
  if (steps.length === 0) return null;
  const key = Object.entries(steps[steps.length - 1].sparsities).sort((a, b) => b[1] - a[1])[0]?.[0];
  const x = (sp: Record<string, number>) => Math.round((key ? sp[key] : 0) * 1000) / 10;
  const path: { sparsity: number; accuracy: number; label: string }[] = baseline ? [{ sparsity: 0, accuracy: baseline.accuracy, label: 'baseline' }] : [];
  for (const r of steps) {
    path.push({ sparsity: x(r.sparsities), accuracy: r.before.accuracy, label: `step ${r.step} pruned` });
    path.push({ sparsity: x(r.sparsities), accuracy: r.after.accuracy, label: `step ${r.step} fine-tuned` });
  }
  return (
    <figure className="chart" data-testid="schedule-chart" data-steps={steps.length}>
      <figcaption>
        Scheduled run: accuracy before and after each step&apos;s fine-tuning ({steps.length} of {steps[0].of} steps{key ? `, sparsity of ${key}` : ''})
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={path} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis dataKey="sparsity" type="number" domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} tick={{ fontSize: 11 }} label={{ value: 'sparsity', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis domain={[0, 1]} width={44} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => pct(Number(v))} labelFormatter={(l) => `${l}% sparsity`} />
          <Legend verticalAlign="top" height={24} />
          <Line dataKey="accuracy" name="test accuracy (drop = prune, rise = fine-tune)" stroke="#1d4ed8" dot isAnimationActive={false} strokeWidth={2} />
        </LineChart>
      </ResponsiveContainer>
      <table className="small" data-testid="schedule-steps">
        <tbody>
          {steps.map((r) => (
            <tr key={r.step}>
              <td>step {r.step}</td>
              <td>{x(r.sparsities)} %</td>
              <td>pruned {pct(r.before.accuracy)}</td>
              <td>→ fine-tuned {pct(r.after.accuracy)}</td>
              <td>{r.costs.nonzeroParams.toLocaleString('en-US')} nonzero params</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
