import { memo, useMemo } from 'react';
import { CRITERION_LABELS } from '../core/experiments/common';
import { type SweepBaseline, type SweepControl, type SweepPoint, shrinkBenchRatios } from '../core/experiments/sweep';
import { pct } from '../state/vocabulary';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The comparison's honest controls and ShrinkBench's efficiency figures (issue 22): per seed the unpruned
 * baseline fine-tuned with the same budget; per criterion and sparsity the compression ratio, the
 * theoretical speedup and the accuracy after fine-tuning against the control's.
 */
export const SweepControls = memo(function SweepControls({ points, baseline, controls }: { points: readonly SweepPoint[]; baseline: SweepBaseline | null; controls: readonly SweepControl[] | undefined }) {
  const control = controls?.length ? mean(controls.map((c) => c.accuracy)) : null;
  const rows = useMemo(() => {
    if (!baseline) return [];
    const groups = new Map<string, SweepPoint[]>();
    for (const p of points) groups.set(`${p.sparsity}|${p.criterion}`, [...(groups.get(`${p.sparsity}|${p.criterion}`) ?? []), p]);
    return [...groups.values()]
      .map((g) => {
        const r = g.map((p) => shrinkBenchRatios(baseline, p));
        return { sparsity: g[0].sparsity, criterion: g[0].criterion, compression: mean(r.map((x) => x.compression)), speedup: mean(r.map((x) => x.speedup)), acc: mean(g.map((p) => p.accAfter)), n: g.length };
      })
      .sort((a, b) => a.sparsity - b.sparsity || a.criterion.localeCompare(b.criterion));
  }, [points, baseline]);
  if (!baseline || rows.length === 0) return null;
  return (
    <div className="table-wrap">
      {controls && controls.length > 0 && (
        <p className="small" data-testid="sweep-controls">
          Control (the unpruned baseline fine-tuned with the same {controls[0].epochs} epoch{controls[0].epochs === 1 ? '' : 's'} and seed):{' '}
          {controls.map((c) => `seed ${c.seed} ${pct(c.accuracy)}`).join(' · ')}
          {controls.length > 1 && ` · mean ${pct(control!)}`}. A pruned network is only better than no pruning if it beats this, not the untouched baseline.
        </p>
      )}
      <table className="history" data-testid="sweep-shrinkbench">
        <thead>
          <tr>
            <th>sparsity</th>
            <th>criterion</th>
            <th title="original parameters / nonzero parameters (ShrinkBench)">compression</th>
            <th title="original MACs / nonzero MACs (ShrinkBench)">theoretical speedup</th>
            <th>after fine-tuning (mean)</th>
            {control !== null && <th>vs control</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.sparsity}|${r.criterion}`}>
              <td>{Math.round(r.sparsity * 1000) / 10} %</td>
              <td>{CRITERION_LABELS[r.criterion]}</td>
              <td>{r.compression.toFixed(2)}×</td>
              <td>{r.speedup.toFixed(2)}×</td>
              <td>{pct(r.acc)}</td>
              {control !== null && <td>{`${r.acc >= control ? '+' : '−'}${(Math.abs(r.acc - control) * 100).toFixed(1)} pts`}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
});
