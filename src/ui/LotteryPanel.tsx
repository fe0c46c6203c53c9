/**
 * The lottery ticket (Frankle & Carbin 2019, issue 22): iterative magnitude pruning with rewinding,
 * against the same mask re-initialised and a random mask of the same per-layer sparsity — one chart,
 * accuracy against the weights remaining. The work runs in the worker ('lottery' request) through the
 * experiments' actions (job guard, progress, cancel, saved result).
 */
import { useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { LOTTERY_ARMS, type LotteryArm, type LotteryPoint, lotteryTrainings } from '../core/experiments/lottery';
import { specFor } from '../core/model/zoo';
import { DEFAULT_LOTTERY_FORM } from '../state/experiments';
import { int } from '../state/vocabulary';
import type { LotteryProgress } from '../worker/protocol';
import { useExperiments, useStore } from './context';

const ARM_LABELS: Record<LotteryArm, string> = {
  rewind: 'Ticket: mask + rewound weights',
  reinit: 'Same mask, re-initialised',
  randomMask: 'Random mask, rewound weights',
};
const ARM_COLORS: Record<LotteryArm, string> = { rewind: '#2563eb', reinit: '#f97316', randomMask: '#6b7280' };

const remaining = (p: LotteryPoint) => Math.round((1 - p.sparsity) * 1000) / 10;

/** One row per round (weights remaining), a column per arm: the chart's data. */
function lotteryRows(points: readonly LotteryPoint[]): Record<string, number>[] {
  const rows = new Map<number, Record<string, number>>();
  for (const p of points) {
    const row = rows.get(p.round) ?? { round: p.round, remaining: remaining(p) };
    row[p.arm] = Math.round(p.accuracy * 1000) / 10;
    rows.set(p.round, row);
  }
  return [...rows.values()].sort((a, b) => a.round - b.round);
}

function Field(props: { label: string; testId: string; value: string; onChange: (v: string) => void; disabled: boolean; title: string }) {
  return (
    <label className="field" title={props.title}>
      <span>{props.label}</span>
      <input value={props.value} inputMode="numeric" disabled={props.disabled} data-testid={props.testId} onChange={(e) => props.onChange(e.target.value)} />
    </label>
  );
}

function progressText(p: LotteryProgress | null): string {
  if (!p) return 'starting…';
  if (p.done >= p.total) return 'finishing';
  return `training ${p.done + 1} of ${p.total}: ${p.round === 0 ? 'the dense network' : `round ${p.round}, ${ARM_LABELS[p.arm].toLowerCase()}`}`;
}

export function LotteryPanel() {
  const experiments = useExperiments();
  const model = useStore((s) => s.settings.model);
  const busy = useStore((s) => s.job !== null);
  const cancelling = useStore((s) => s.job?.cancelling ?? false);
  const running = useStore((s) => (s.experiments.running?.kind === 'lottery' ? s.experiments.running : null));
  const saved = useStore((s) => s.experiments.lottery ?? null);
  const [form, setForm] = useState(() => Object.fromEntries(Object.entries(DEFAULT_LOTTERY_FORM).map(([k, v]) => [k, String(v)])) as Record<keyof typeof DEFAULT_LOTTERY_FORM, string>);
  const field = (k: keyof typeof DEFAULT_LOTTERY_FORM) => ({ value: form[k], onChange: (v: string) => setForm((f) => ({ ...f, [k]: v })), disabled: busy, testId: `lottery-${k}` });
  const num = (v: string) => (v.trim() === '' ? 0 : Number(v));
  const rounds = num(form.rounds);
  const run = () =>
    void experiments.runLottery({ rounds, ratePercent: num(form.ratePercent), epochs: num(form.epochs), rewindEpoch: num(form.rewindEpoch), seed: num(form.seed), subset: num(form.subset) });
  const points = running ? running.points : (saved?.result.points ?? []);
  const result = running?.start ?? saved?.result ?? null;
  const rows = lotteryRows(points);
  return (
    <div className="experiment" data-testid="lottery">
      <h3>The lottery ticket</h3>
      <p className="help small">
        Trains a freshly initialised {specFor(model).label} (seeded), prunes the given share of each layer’s remaining weights by magnitude, then <strong>rewinds</strong>{' '}
        the survivors to their initial values (or to those after the rewind epoch) and trains again with the same budget — round after round. Two controls
        train with the same seed, data order and epochs: the <em>same mask with freshly drawn weights</em>, and a <em>random mask</em> of the same per-layer
        sparsity on the rewound weights. If the ticket stays above both as the weights thin out, its initial weights mattered, not only its structure.
      </p>
      <p className="help small" data-testid="lottery-anchor">
        Frankle &amp; Carbin (ICLR 2019) on CIFAR-10 with Conv-2, Conv-4 and Conv-6 (Adam, tens of thousands of iterations, 10–15 % of the conv weights and
        20 % of the dense ones pruned per round, averages of five trials): winning tickets beat the dense network’s test accuracy by up to 3.4, 3.5 and 3.3
        points at 4.6 %, 11.1 % and 26.4 % of the weights remaining, and stay above it down to about 2 %; re-initialised, the same masks train slower and
        lose accuracy as they thin. Here the networks, epochs and data are far smaller: expect the same order of the lines, not their figures.
      </p>
      <div className="fields">
        <Field label="Rounds" title="Pruning rounds after the dense training" {...field('rounds')} />
        <Field label="Pruned per round (%)" title="Share of each layer's remaining weights pruned each round" {...field('ratePercent')} />
        <Field label="Epochs per round" title="Training epochs of every run: the dense one and each arm of each round" {...field('epochs')} />
        <Field label="Rewind to epoch" title="0: the initial weights (the original paper); k: the dense run's weights after k epochs (Frankle et al. 2019, late rewinding)" {...field('rewindEpoch')} />
        <Field label="Seed" title="Initial weights, data order and the random mask" {...field('seed')} />
        <Field label="Training subset" title="Train every run on the first N training images (0: all)" {...field('subset')} />
      </div>
      <div className="actions">
        <button className="primary" disabled={busy} onClick={run} data-testid="lottery-run">
          Run the lottery ticket
        </button>
        {Number.isInteger(rounds) && rounds >= 1 && !running && <span className="muted small">{int(lotteryTrainings(rounds))} trainings</span>}
        {saved && !running && (
          <span className="muted small" data-testid="lottery-about">
            {saved.result.points.length} points in {saved.result.seconds.toFixed(1)} s on {int(saved.result.images)} training images{saved.result.cancelled ? ' · cancelled' : ''}
          </span>
        )}
      </div>
      {running && (
        <div className="job" data-testid="lottery-progress">
          <progress max={1} value={running.progress?.fraction ?? 0} aria-label="lottery ticket progress" />
          <span className="small">{progressText(running.progress)}</span>
          <button onClick={experiments.cancel} disabled={cancelling} data-testid="lottery-cancel">
            {cancelling ? 'Stopping…' : 'Cancel'}
          </button>
        </div>
      )}
      {rows.length > 0 && result && (
        <figure className="chart" data-testid="lottery-chart">
          <figcaption>
            Test accuracy after training against the share of conv and dense weights remaining (log scale) · {result.rounds} rounds of {Math.round(result.p * 100)} %,{' '}
            {result.epochs} epoch{result.epochs === 1 ? '' : 's'} each, rewound to {result.rewindEpoch ? `epoch ${result.rewindEpoch}` : 'the initial weights'}, seed {result.seed}
          </figcaption>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
              <XAxis dataKey="remaining" reversed type="number" scale="log" domain={['auto', 100]} allowDataOverflow tick={{ fontSize: 11 }} unit=" %" />
              <YAxis width={44} tick={{ fontSize: 11 }} unit=" %" domain={['auto', 'auto']} />
              <Tooltip formatter={(v) => `${v} %`} labelFormatter={(v) => `${v} % of the weights remaining`} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {LOTTERY_ARMS.map((arm) => (
                <Line
                  key={arm}
                  dataKey={arm}
                  name={ARM_LABELS[arm]}
                  stroke={ARM_COLORS[arm]}
                  strokeDasharray={arm === 'rewind' ? undefined : '5 3'}
                  // A dot per measured point, named by its arm (the e2e counts them).
                  dot={(d: { cx?: number; cy?: number; index: number }) =>
                    Number.isFinite(d.cx) && Number.isFinite(d.cy) ? <circle key={`${arm}-${d.index}`} cx={d.cx} cy={d.cy} r={3} fill={ARM_COLORS[arm]} className={`lottery-dot-${arm}`} /> : <g key={`${arm}-${d.index}`} />
                  }
                  isAnimationActive={false}
                  className={`lottery-line-${arm}`}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </figure>
      )}
    </div>
  );
}
