/**
 * Criterion against the oracle (issue 22): for one channel group, the worker removes each unit alone
 * and measures the loss change on a seeded training batch; the bars are each criterion's Spearman ρ
 * against that ranking (1 = the criterion orders the units exactly as the oracle does).
 */
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { groupsOf } from '../core/pruning/groups';
import { specFor } from '../core/model/zoo';
import type { OracleCriterion, OracleReply } from '../worker/protocol';
import { message } from '../state/shared';
import { METHOD_COLORS, METHOD_LABELS, int } from '../state/vocabulary';
import { useActions, useExperiments, useStore } from './context';

const LABEL: Record<OracleCriterion, string> = { l1: METHOD_LABELS.l1, l2: METHOD_LABELS.l2, bn: METHOD_LABELS.bn, taylor: METHOD_LABELS.taylor, random: METHOD_LABELS.random };

export function OraclePanel() {
  const actions = useActions();
  const experiments = useExperiments();
  const settings = useStore((s) => s.settings);
  const busy = useStore((s) => s.job !== null);
  const groups = groupsOf(specFor(settings.model));
  const [chosen, setChosen] = useState<string | null>(null);
  const group = groups.find((g) => g.id === chosen) ?? groups[0];
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<OracleReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      // The job guard (experiments.ts): never beside training or an experiment; null when refused (a notice says why).
      const r = await experiments.oracle({ group: group.id, batch: settings.taylorBatch, seed: settings.taylorSeed, randomSeed: settings.seed });
      if (r) setResult(r);
    } catch (e) {
      setError(message(e));
    } finally {
      setRunning(false);
    }
  };
  const data = result?.criteria.map((c) => ({ name: LABEL[c.criterion], criterion: c.criterion, rho: Number.isFinite(c.rho) ? Math.round(c.rho * 1000) / 1000 : 0 })) ?? [];
  return (
    <div className="experiment" data-testid="oracle">
      <h3>Criterion against the oracle</h3>
      <p className="help small">
        Removes each unit of one layer alone and measures the loss change on {int(settings.taylorBatch)} training images (batch seed {settings.taylorSeed}, as Taylor’s):
        that ranking is the truth each criterion tries to guess. Bars: Spearman’s ρ of each criterion’s ranking against it.
      </p>
      <div className="actions">
        <label className="field inline">
          <span>Layer</span>
          <select value={group.id} disabled={running || busy} data-testid="oracle-group" onChange={(e) => setChosen(e.target.value)}>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.label} ({g.units})
              </option>
            ))}
          </select>
        </label>
        <button className="primary" disabled={running || busy} onClick={() => void run()} data-testid="oracle-run">
          Measure the oracle
        </button>
        {running && (
          <button onClick={() => void actions.engine().request('cancel', {})} data-testid="oracle-cancel">
            Cancel
          </button>
        )}
      </div>
      {running && <p className="muted small">Removing {int(group.units)} units one at a time…</p>}
      {error && <p className="error small">{error}</p>}
      {result && (
        <figure className="chart" data-testid="oracle-chart">
          <figcaption data-testid="oracle-time">
            {result.group}: {int(result.units)} units in {(result.millis / 1000).toFixed(1)} s on {int(result.images)} training images (baseline loss {result.baseLoss.toFixed(3)})
          </figcaption>
          <ResponsiveContainer width="100%" height={200}>
            <BarChart data={data} margin={{ top: 18, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" vertical={false} />
              <XAxis dataKey="name" tick={{ fontSize: 11 }} />
              <YAxis domain={[-1, 1]} width={40} tick={{ fontSize: 11 }} />
              <Tooltip />
              <Bar dataKey="rho" isAnimationActive={false}>
                {data.map((d) => (
                  <Cell key={d.criterion} fill={METHOD_COLORS[d.criterion]} data-testid={`oracle-bar-${d.criterion}`} />
                ))}
                <LabelList dataKey="rho" position="top" fontSize={11} />
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </figure>
      )}
    </div>
  );
}
