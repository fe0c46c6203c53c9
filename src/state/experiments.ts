/**
 * The experiments of issue 12 as page actions: a layer sensitivity scan and a method comparison
 * (ShrinkBench style), run by the engine in the worker ('sensitivity' and 'sweep' requests), with
 * their progress, cancel, the saved results and the exports. Same shape as controller.ts: plain
 * functions over the store with the engine link (through the controller) and the download injected,
 * so experiments.test.ts drives them with a fake engine.
 *
 * While one runs, the page's `job` says so (role 'experiment'): every other job, the sliders and the
 * previews wait, as they do for training. Cancel is the engine's ordinary 'cancel'; the engine answers
 * the experiment with the points finished so far, and those are kept.
 */
import type { Criterion } from '../core/experiments/common';
import { exportFileName, sensitivityCsv, sensitivityJson, sweepCsv, sweepJson } from '../core/experiments/csv';
import { DEFAULT_RANDOM_SEEDS } from '../core/experiments/sensitivity';
import { DEFAULT_SPARSITIES, type SweepScope, checkScope } from '../core/experiments/sweep';
import type { ExperimentEvent, SweepRequest } from '../worker/protocol';
import type { Controller } from './controller';
import { specFor } from '../core/model/zoo';
import { message, trainConfigOf } from './shared';
import { describeOrigin } from './vocabulary';
import type { AppStore } from './store';
import type { ExperimentRecord, ExperimentsState, Job, RunningExperiment } from './types';

export type { ExperimentRecord, ExperimentsState, RunningExperiment };

/** What the comparison form asks for (percentages and counts as the page shows them). */
export interface SweepForm {
  criteria: readonly Criterion[];
  /** Percent of each conv layer's filters (of all conv weights in global mode): 25, 50, … */
  sparsities: readonly number[];
  /** Seeds 1..n. */
  seeds: number;
  epochs: number;
  /** Training images per fine-tuning; 0 = all. */
  subset: number;
  /** Which groups are pruned (residual networks); default all. */
  scope?: SweepScope;
}

export interface SensitivityForm {
  criteria: readonly Criterion[];
  /** Seeds Random is averaged over; default 1, 2, 3. */
  randomSeeds?: number[];
  /** Fractions 0..1; default 0–95 % in 5 % steps. */
  fractions?: number[];
}

export const DEFAULT_SWEEP_FORM: Omit<SweepForm, 'criteria'> = { sparsities: DEFAULT_SPARSITIES.map((s) => Math.round(s * 100)), seeds: 3, epochs: 1, subset: 0 };

export interface ExperimentDeps {
  store: AppStore;
  controller: Pick<Controller, 'engine' | 'notify' | 'schedulePreview' | 'cancelJob'>;
  /** Saves a file for the user (a download in the page). */
  download: (name: string, type: string, text: string) => void;
  now?: () => Date;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

/**
 * The page takes an experiment's events at most this often (the first at once, the rest gathered):
 * each update redraws the charts on the main thread, which on a 2-core machine competes with the
 * worker's compute threads.
 */
export const FOLLOW_EVERY_MS = 250;

const experimentJob = (): Job => ({ role: 'experiment', epochs: 0, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false });

export type ExperimentActions = ReturnType<typeof createExperimentActions>;

export function createExperimentActions(deps: ExperimentDeps) {
  const { store, controller } = deps;
  const get = store.getState;
  const set = store.setState;
  const now = deps.now ?? (() => new Date());
  const timers = deps.timers ?? globalThis;
  /** Events not yet in the store, and the timer that will put them there. */
  let gathered: { kind: RunningExperiment['kind']; progress: unknown; points: unknown[]; start: unknown } | null = null;
  let followTimer: ReturnType<typeof setTimeout> | null = null;

  const setExperiments = (patch: Partial<ExperimentsState>) => set((s) => ({ experiments: { ...s.experiments, ...patch } }));

  /** Can an experiment start now? Says why not. */
  function ready(): boolean {
    const s = get();
    if (s.job) {
      controller.notify(s.job.role === 'experiment' ? 'An experiment is already running.' : 'Training is running: wait for it or cancel it first.', 'info');
      return false;
    }
    if (s.data.train.status !== 'ready' || s.data.test.status !== 'ready') {
      controller.notify('The experiments need the training and test data: wait until both are loaded.', 'info');
      return false;
    }
    return true;
  }

  /**
   * Marks the page busy, follows the engine's events into `running`, sends the request and keeps
   * its answer (also a cancelled one: the points done). Null when it failed (a notice says why).
   * `keep` puts the answer in the experiments in the same update that ends `running`, so the saved
   * partial result is replaced by the whole one in one write (persistence.ts).
   */
  async function run<R>(running: RunningExperiment, send: () => Promise<R>, keep: (result: R) => Partial<ExperimentsState>): Promise<R | null> {
    let kept: Partial<ExperimentsState> = {};
    set((s) => ({ job: experimentJob(), experiments: { ...s.experiments, running } }));
    const off = controller.engine().onEvent((e) => {
      if (e.type === 'experiment' && e.kind === running.kind) follow(e);
    });
    try {
      const result = await send();
      kept = keep(result);
      return result;
    } catch (e) {
      controller.notify(`The ${running.kind === 'sweep' ? 'method comparison' : 'sensitivity scan'} failed: ${message(e)}`);
      return null;
    } finally {
      off();
      if (followTimer) timers.clearTimeout(followTimer);
      followTimer = null;
      gathered = null;
      set((s) => ({ job: null, experiments: { ...s.experiments, ...kept, running: null } }));
      // A slider moved while the page was busy: its preview waited for the job to end.
      if (get().preview.status === 'pending') controller.schedulePreview();
    }
  }

  /** Gathers an event; the store gets it at once when none arrived within FOLLOW_EVERY_MS, else with the next flush. */
  function follow(e: ExperimentEvent): void {
    gathered ??= { kind: e.kind, progress: null, points: [], start: null };
    if (e.progress) gathered.progress = e.progress;
    if (e.start) gathered.start = e.start;
    if (e.point) gathered.points.push(e.point);
    if (followTimer) return;
    flushEvents();
    followTimer = timers.setTimeout(() => {
      followTimer = null;
      if (gathered) flushEvents();
    }, FOLLOW_EVERY_MS);
  }

  function flushEvents(): void {
    const g = gathered;
    gathered = null;
    if (!g) return;
    set((s) => {
      const r = s.experiments.running;
      if (!r || r.kind !== g.kind) return {};
      const next = { ...r, start: g.start ?? r.start, progress: g.progress ?? r.progress, points: g.points.length ? [...r.points, ...g.points] : r.points } as RunningExperiment;
      return { experiments: { ...s.experiments, running: next } };
    });
  }

  const record = <R>(result: R): ExperimentRecord<R> => ({ result, baseline: describeOrigin(get().baseline), finishedAt: now().toISOString() });

  /** Layer sensitivity scan of the baseline in the page's current mode, no fine-tuning. */
  async function runSensitivity(form: SensitivityForm): Promise<void> {
    if (!ready()) return;
    const { model, mode } = get().settings;
    if (form.criteria.length === 0) {
      controller.notify('Choose at least one criterion for the sensitivity scan.', 'info');
      return;
    }
    const result = await run(
      { kind: 'sensitivity', model, mode, baseline: describeOrigin(get().baseline), start: null, progress: null, points: [] },
      () =>
        controller.engine().request('sensitivity', {
          mode,
          criteria: [...form.criteria],
          randomSeeds: form.randomSeeds ?? [...DEFAULT_RANDOM_SEEDS],
          ...(form.criteria.includes('taylor') ? { taylor: { batch: get().settings.taylorBatch, seed: get().settings.taylorSeed } } : {}),
          ...(form.fractions ? { fractions: form.fractions } : {}),
        }),
      (r) => ({ sensitivity: record(r) }),
    );
    if (!result) return;
    if (result.cancelled) controller.notify(`Sensitivity scan cancelled: kept the ${result.points.length} of ${result.total} points done.`, 'info');
  }

  /** The request a comparison form makes, or a reason it cannot run. */
  function sweepRequest(form: SweepForm): SweepRequest | string {
    const s = get().settings;
    if (form.criteria.length === 0) return 'Choose at least one criterion to compare.';
    const bad = form.sparsities.find((p) => !(Number.isFinite(p) && p >= 0 && p <= 100));
    if (bad !== undefined || form.sparsities.length === 0) return `Sparsities are percentages from 0 to 100${bad !== undefined ? ` (not ${bad})` : ''}.`;
    if (!(Number.isInteger(form.seeds) && form.seeds >= 1)) return 'Seeds: a whole number, at least 1.';
    if (!(Number.isInteger(form.epochs) && form.epochs >= 0)) return 'Fine-tuning epochs: a whole number, 0 or more.';
    if (!(Number.isInteger(form.subset) && form.subset >= 0)) return 'Training subset: a whole number of images (0 or empty = all).';
    try {
      checkScope(specFor(s.model), s.mode, form.scope);
    } catch (e) {
      return `Groups to prune: ${message(e)}`;
    }
    return {
      mode: s.mode,
      criteria: [...form.criteria],
      sparsities: form.sparsities.map((p) => Math.round(p * 100) / 10000),
      seeds: Array.from({ length: form.seeds }, (_, i) => i + 1),
      epochs: form.epochs,
      subset: form.subset,
      ...(form.scope && form.scope !== 'all' ? { scope: form.scope } : {}),
      config: trainConfigOf(s, form.epochs),
      ...(form.criteria.includes('taylor') ? { taylor: { batch: s.taylorBatch, seed: s.taylorSeed } } : {}),
    };
  }

  /**
   * Method comparison: each (criterion, sparsity, seed) prunes the baseline, is fine-tuned with that
   * seed, and is measured before and after. A comparison cancelled earlier on the same baseline is
   * continued: its finished points are kept and not run again.
   */
  async function runSweep(form: SweepForm): Promise<void> {
    if (!ready()) return;
    const req = sweepRequest(form);
    if (typeof req === 'string') {
      controller.notify(req, 'info');
      return;
    }
    const { model } = get().settings;
    const prev = get().experiments.sweep;
    if (prev && prev.result.cancelled && prev.result.model === model && prev.baseline === describeOrigin(get().baseline)) {
      req.previous = prev.result.points;
      if (prev.result.controls) req.previousControls = prev.result.controls;
    }
    const result = await run(
      { kind: 'sweep', model, mode: req.mode, baseline: describeOrigin(get().baseline), start: null, progress: null, points: [] },
      () => controller.engine().request('sweep', req),
      (r) => ({ sweep: record(r) }),
    );
    if (!result) return;
    if (result.cancelled) controller.notify(`Method comparison cancelled: kept the ${result.points.length} of ${result.runs.length} points done; Run continues it.`, 'info');
  }

  /** Stops the running experiment (the engine's cancel); the points done are kept. */
  function cancel(): void {
    if (get().job?.role === 'experiment') controller.cancelJob();
  }

  function exportSensitivity(format: 'csv' | 'json'): void {
    const r = get().experiments.sensitivity?.result;
    if (!r) return;
    const name = exportFileName('sensitivity', r.model, r.mode, format);
    if (format === 'csv') deps.download(name, 'text/csv', sensitivityCsv(r.points));
    else deps.download(name, 'application/json', sensitivityJson(r));
  }

  function exportSweep(format: 'csv' | 'json'): void {
    const r = get().experiments.sweep?.result;
    if (!r) return;
    const name = exportFileName('sweep', r.model, r.mode, format);
    if (format === 'csv') deps.download(name, 'text/csv', sweepCsv(r.points));
    else deps.download(name, 'application/json', sweepJson(r));
  }

  function clear(kind: 'sensitivity' | 'sweep'): void {
    if (get().experiments.running?.kind === kind) return;
    setExperiments({ [kind]: null });
  }

  return { runSensitivity, runSweep, sweepRequest, cancel, exportSensitivity, exportSweep, clear };
}
