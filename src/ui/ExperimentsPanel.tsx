/**
 * Experiments (issue 12): a layer sensitivity scan (Li et al. 2017) and a multi-seed method comparison
 * (ShrinkBench, Blalock et al. 2020). The work runs in the engine's worker; this renders forms,
 * progress and results, and calls `experiments` actions.
 */
import { useMemo, useState } from 'react';
import { CRITERION_LABELS, type Criterion } from '../core/experiments/common';
import { formatEta } from '../core/experiments/eta';
import { type SensitivityPoint, type SensitivityProgress, sensitivityLayers } from '../core/experiments/sensitivity';
import type { SweepControl, SweepProgress, SweepScope } from '../core/experiments/sweep';
import { groupsOf } from '../core/pruning/groups';
import { specFor } from '../core/model/zoo';
import { type Mode, unsupported } from '../core/pruning/settings';
import { hasBatchNorm } from '../core/model/spec';
import { DEFAULT_SWEEP_FORM, type ExperimentRecord } from '../state/experiments';
import { SensitivityChart, type SweepAxis, SweepChart, VerdictTable, useStats } from './ExperimentCharts';
import { SweepControls } from './SweepControls';
import { useExperiments, useStore } from './context';
import { int } from '../state/vocabulary';
import { OraclePanel } from './OraclePanel';
import { LotteryPanel } from './LotteryPanel';

const ALL: Criterion[] = ['random', 'l1', 'l2', 'bn', 'taylor', 'globalStruct'];
/** Checked at first: the data-free per-layer criteria (Taylor scores a training batch; both new ones are opt-in). */
const FIRST_CHOSEN: Criterion[] = ['random', 'l1', 'l2', 'bn'];
/** Why a criterion cannot run in this experiment, or null. */
const whyNot = (c: Criterion, experiment: string, mode: Mode, bn: boolean): string | null =>
  unsupported(c, mode, bn) ?? (experiment === 'sensitivity' && c === 'globalStruct' ? 'Global structured ranks every layer together: a per-layer scan has no meaning for it (the method comparison runs it).' : null);
const MODE_LABELS: Record<Mode, string> = { mask: 'mask', remove: 'remove filters', global: 'global unstructured' };
const percent = (f: number) => `${Math.round(f * 1000) / 10} %`;

/** Checkboxes for the criteria; those the model or mode cannot run are disabled with the reason. */
function CriteriaPicker(props: { id: string; chosen: Set<Criterion>; onChange: (c: Set<Criterion>) => void; model: Parameters<typeof specFor>[0]; mode: Mode; disabled: boolean }) {
  const bn = hasBatchNorm(specFor(props.model));
  return (
    <fieldset className="radios" disabled={props.disabled}>
      <legend>Criteria</legend>
      {ALL.map((c) => {
        const why = whyNot(c, props.id, props.mode, bn);
        return (
          <label key={c} title={why ?? ''} className={why ? 'muted' : ''}>
            <input
              type="checkbox"
              checked={!why && props.chosen.has(c)}
              disabled={!!why}
              data-testid={`${props.id}-criterion-${c}`}
              onChange={(e) => {
                const next = new Set(props.chosen);
                if (e.target.checked) next.add(c);
                else next.delete(c);
                props.onChange(next);
              }}
            />
            {CRITERION_LABELS[c]}
          </label>
        );
      })}
    </fieldset>
  );
}

/** Progress bar with the point under way, the estimate and a Cancel. */
function ExperimentProgress(props: { testId: string; value: number; text: string; eta: number | null; cancelId: string }) {
  const experiments = useExperiments();
  const cancelling = useStore((s) => s.job?.cancelling ?? false);
  return (
    <div className="job" data-testid={props.testId}>
      <progress max={1} value={props.value} aria-label="experiment progress" />
      <span className="small">
        {props.text} · {formatEta(props.eta)} left
      </span>
      <button onClick={experiments.cancel} disabled={cancelling} data-testid={props.cancelId}>
        {cancelling ? 'Stopping…' : 'Cancel'}
      </button>
    </div>
  );
}

function sensitivityText(p: SensitivityProgress | null): string {
  if (!p) return 'starting…';
  const at = p.current ? `${p.current.layer} at ${percent(p.current.fraction)}, ${CRITERION_LABELS[p.current.criterion]}` : 'finishing';
  return `point ${Math.min(p.done + 1, p.total)} of ${p.total}: ${at}`;
}

function sweepText(p: SweepProgress | null): string {
  if (!p) return 'starting…';
  const c = p.current;
  const at = c ? `${CRITERION_LABELS[c.criterion]} at ${percent(c.sparsity)}, seed ${c.seed}${p.phase === 'fineTuning' ? ', fine-tuning' : ', evaluating'}` : 'finishing';
  return `point ${Math.min(p.done + 1, p.total)} of ${p.total}: ${at}`;
}

/** "Measured on pretrained SimpleCNN …, remove filters, cancelled after 12 of 40 points." */
function About({ record, mode, done, total }: { record: ExperimentRecord<{ testImages?: number }>; mode: Mode; done: number; total: number }) {
  const cancelled = done < total;
  const images = record.result.testImages;
  return (
    <p className="muted small" data-testid="experiment-about">
      Measured on the {record.baseline}, {MODE_LABELS[mode]} mode, {new Date(record.finishedAt).toLocaleString()}
      {images ? `; accuracies on ${int(images)} test images` : ''}
      {cancelled ? ` · cancelled after ${done} of ${total} points` : ''}.
    </p>
  );
}

const NO_POINTS: readonly SensitivityPoint[] = [];

function Sensitivity() {
  const experiments = useExperiments();
  const { model, mode } = useStore((s) => s.settings);
  const busy = useStore((s) => s.job !== null);
  const running = useStore((s) => (s.experiments.running?.kind === 'sensitivity' ? s.experiments.running : null));
  const saved = useStore((s) => s.experiments.sensitivity);
  // A number, and only while a scan runs: a baseline trained meanwhile must not re-render the saved charts.
  const runningBaselineAccuracy = useStore((s) => (s.experiments.running?.kind === 'sensitivity' ? (s.baselineEval?.accuracy ?? null) : null));
  const [chosen, setChosen] = useState<Set<Criterion>>(() => new Set(FIRST_CHOSEN));
  const bn = hasBatchNorm(specFor(model));
  const criteria = ALL.filter((c) => chosen.has(c) && !whyNot(c, 'sensitivity', mode, bn));
  const points = running ? running.points : (saved?.result.points ?? NO_POINTS);
  const layers = running ? sensitivityLayers(specFor(running.model), running.mode) : (saved?.result.layers ?? []);
  const baselineAccuracy = running ? runningBaselineAccuracy : (saved?.result.baselineAccuracy ?? null);
  // One array per layer, made again only when the points change: the charts are memoised on it.
  const byLayer = useMemo(() => {
    const m = new Map<string, typeof points>();
    for (const p of points) m.set(p.layer, [...(m.get(p.layer) ?? []), p]);
    return m;
  }, [points]);
  return (
    <div data-testid="sensitivity">
      <h3>Sensitivity scan</h3>
      <p className="help">
        Each layer pruned on its own, the others untouched, 0–95 % in steps of 5 %, no fine-tuning (Li et al. 2017, Fig. 2): layers whose curve stays flat
        tolerate pruning. Random is averaged over 3 seeds; the shaded band is its min–max. Mode: <strong>{MODE_LABELS[mode]}</strong> (the page's mode, set in
        section 3).
      </p>
      <CriteriaPicker id="sensitivity" chosen={chosen} onChange={setChosen} model={model} mode={mode} disabled={busy} />
      <div className="actions">
        <button className="primary" disabled={busy || criteria.length === 0} onClick={() => void experiments.runSensitivity({ criteria })} data-testid="sensitivity-run">
          Run scan
        </button>
        {saved && !running && (
          <>
            <button onClick={() => experiments.exportSensitivity('csv')} data-testid="sensitivity-export-csv">
              Export CSV
            </button>
            <button onClick={() => experiments.exportSensitivity('json')} data-testid="sensitivity-export-json">
              Export JSON
            </button>
            <span className="muted small" data-testid="sensitivity-seconds">
              {saved.result.points.length} points, {saved.result.evaluations} networks evaluated in {saved.result.seconds.toFixed(1)} s
            </span>
          </>
        )}
      </div>
      {running && (
        <ExperimentProgress
          testId="sensitivity-progress"
          value={running.progress ? running.points.length / Math.max(1, running.progress.total) : 0}
          text={sensitivityText(running.progress)}
          eta={running.progress?.etaSeconds ?? null}
          cancelId="sensitivity-cancel"
        />
      )}
      {saved && !running && <About record={saved} mode={saved.result.mode} done={saved.result.points.length} total={saved.result.total} />}
      <div className="two-col">
        {layers.filter((l) => byLayer.has(l.layer)).map((l) => (
          <SensitivityChart key={l.layer} layer={l.layer} label={l.label} points={byLayer.get(l.layer)!} baselineAccuracy={baselineAccuracy} />
        ))}
      </div>
    </div>
  );
}

/** "25, 50, 75, 90" → [25, 50, 75, 90]; NaN for anything that is not a number (the action says why). */
const parseList = (text: string): number[] =>
  text
    .split(/[,;\s]+/)
    .filter(Boolean)
    .map((t) => Number(t.replace(/%$/, '')));

function NumberField(props: { label: string; testId: string; value: string; onChange: (v: string) => void; disabled: boolean; placeholder?: string; title?: string }) {
  return (
    <label className="field" title={props.title}>
      <span>{props.label}</span>
      <input value={props.value} placeholder={props.placeholder} inputMode="numeric" disabled={props.disabled} data-testid={props.testId} onChange={(e) => props.onChange(e.target.value)} />
    </label>
  );
}

function Comparison() {
  const experiments = useExperiments();
  const { model, mode } = useStore((s) => s.settings);
  const busy = useStore((s) => s.job !== null);
  const running = useStore((s) => (s.experiments.running?.kind === 'sweep' ? s.experiments.running : null));
  const saved = useStore((s) => s.experiments.sweep);
  const runningBaselineAccuracy = useStore((s) => (s.experiments.running?.kind === 'sweep' ? (s.baselineEval?.accuracy ?? null) : null));
  const [chosen, setChosen] = useState<Set<Criterion>>(() => new Set(FIRST_CHOSEN));
  const [sparsities, setSparsities] = useState(DEFAULT_SWEEP_FORM.sparsities.join(', '));
  const [seeds, setSeeds] = useState(String(DEFAULT_SWEEP_FORM.seeds));
  const [epochs, setEpochs] = useState(String(DEFAULT_SWEEP_FORM.epochs));
  const [subset, setSubset] = useState('');
  const [axis, setAxis] = useState<SweepAxis>('nonzeroParams');
  const [scope, setScope] = useState<SweepScope>('all');
  const bn = hasBatchNorm(specFor(model));
  // Residual networks only: prune the blocks' inner channels alone, or the residual streams too (issue 21).
  const residual = mode !== 'global' && groupsOf(specFor(model)).some((g) => g.kind === 'inner');
  const criteria = ALL.filter((c) => chosen.has(c) && !whyNot(c, 'sweep', mode, bn));
  const points = running ? running.points : (saved?.result.points ?? []);
  const baselineAccuracy = running ? runningBaselineAccuracy : (saved?.result.baseline.accuracy ?? null);
  const resumable = !running && saved?.result.cancelled;
  const controls = running ? running.start?.controls : saved?.result.controls;
  const run = () =>
    void experiments.runSweep({
      criteria,
      sparsities: parseList(sparsities),
      seeds: Number(seeds),
      epochs: Number(epochs),
      subset: subset.trim() === '' ? 0 : Number(subset),
      scope: residual ? scope : 'all',
    });
  return (
    <div data-testid="comparison">
      <h3>Method comparison</h3>
      <p className="help">
        Every criterion × sparsity × seed prunes the baseline, is fine-tuned with that seed, and is measured before and after — several seeds, because one run
        cannot tell a better criterion from a lucky one (ShrinkBench, Blalock et al. 2020). Sparsity is the share of every conv layer's filters (of all conv
        weights in global mode). Mode: <strong>{MODE_LABELS[mode]}</strong>; optimiser, learning rate and batch size are the page's.
      </p>
      <CriteriaPicker id="sweep" chosen={chosen} onChange={setChosen} model={model} mode={mode} disabled={busy} />
      <div className="fields">
        <NumberField label="Sparsities (%)" testId="sweep-sparsities" value={sparsities} onChange={setSparsities} disabled={busy} title="Comma-separated percentages" />
        <NumberField label="Seeds" testId="sweep-seeds" value={seeds} onChange={setSeeds} disabled={busy} />
        <NumberField label="Fine-tune epochs" testId="sweep-epochs" value={epochs} onChange={setEpochs} disabled={busy} />
        <NumberField label="Training subset" testId="sweep-subset" value={subset} onChange={setSubset} disabled={busy} placeholder="all" title="Fine-tune on the first N training images (empty: all)" />
        {residual && (
          <label>
            Groups pruned{' '}
            <select value={scope} onChange={(e) => setScope(e.target.value as SweepScope)} disabled={busy} data-testid="sweep-scope">
              <option value="all">inner channels + residual streams</option>
              <option value="inner">inner channels only</option>
            </select>
          </label>
        )}
      </div>
      <div className="actions">
        <button className="primary" disabled={busy || criteria.length === 0} onClick={run} data-testid="sweep-run">
          {resumable ? 'Continue comparison' : 'Run comparison'}
        </button>
        {saved && !running && (
          <>
            <button onClick={() => experiments.exportSweep('csv')} data-testid="sweep-export-csv">
              Export CSV
            </button>
            <button onClick={() => experiments.exportSweep('json')} data-testid="sweep-export-json">
              Export JSON
            </button>
            <span className="muted small">
              {saved.result.points.length} points in {saved.result.seconds.toFixed(1)} s
            </span>
          </>
        )}
        <label className="small">
          <input type="checkbox" checked={axis === 'macs'} onChange={(e) => setAxis(e.target.checked ? 'macs' : 'nonzeroParams')} data-testid="sweep-axis-macs" />
          {' '}against MACs instead of nonzero parameters
        </label>
      </div>
      {running && (
        <ExperimentProgress testId="sweep-progress" value={running.progress?.fraction ?? 0} text={sweepText(running.progress)} eta={running.progress?.etaSeconds ?? null} cancelId="sweep-cancel" />
      )}
      {saved && !running && <About record={saved} mode={saved.result.mode} done={saved.result.points.length} total={saved.result.runs.length} />}
      {points.length > 0 && <ComparisonResults points={points} baselineAccuracy={baselineAccuracy} control={meanControl(controls)} axis={axis} />}
      {points.length > 0 && <SweepControls points={points} baseline={(running ? running.start?.baseline : saved?.result.baseline) ?? null} controls={controls} />}
    </div>
  );
}

/** The seeds' controls as one line on the chart: their mean accuracy, with the budget they had. */
function meanControl(controls: readonly SweepControl[] | undefined): { accuracy: number; epochs: number } | null {
  if (!controls?.length) return null;
  return { accuracy: controls.reduce((a, c) => a + c.accuracy, 0) / controls.length, epochs: controls[0].epochs };
}

function ComparisonResults(props: { points: Parameters<typeof SweepChart>[0]['points']; baselineAccuracy: number | null; control: { accuracy: number; epochs: number } | null; axis: SweepAxis }) {
  const stats = useStats();
  if (!stats) return <div className="empty">Loading the statistics…</div>;
  return (
    <>
      <SweepChart points={props.points} baselineAccuracy={props.baselineAccuracy} control={props.control} axis={props.axis} stats={stats} />
      <VerdictTable points={props.points} stats={stats} />
    </>
  );
}

export function ExperimentsPanel() {
  const model = useStore((s) => s.settings.model);
  return (
    <section className="panel" aria-labelledby="exp-h">
      <h2 id="exp-h">Experiments</h2>
      <p className="help">
        One setting measured once says little: run the same question over every layer, or over several seeds, and see the spread. Both run on the current{' '}
        {specFor(model).label} baseline in the background; the page stays usable, and the results are saved with your work.
      </p>
      <Sensitivity />
      <Comparison />
      <OraclePanel />
      <LotteryPanel />
    </section>
  );
}
