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
import type { ExperimentEvent, LotteryRequest, OracleReply, OracleRequest, SpeedLabReply, SpeedLabRequest, SweepRequest } from '../worker/protocol';
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

/** What the lottery-ticket form asks for (as the page shows it). */
export interface LotteryForm {
  rounds: number;
  /** Percent of each layer's remaining weights pruned per round. */
  ratePercent: number;
  epochs: number;
  /** Rewind to the dense run's weights after this many epochs (0: the initial weights). */
  rewindEpoch: number;
  seed: number;
  /** Training images per run; 0 = all. */
  subset: number;
}

/** 4 rounds of 40 %: 40, 64, 78, 87 % of the weights pruned; 13 trainings of 2 epochs on 2,000 images. */
export const DEFAULT_LOTTERY_FORM: LotteryForm = { rounds: 4, ratePercent: 40, epochs: 2, rewindEpoch: 0, seed: 1, subset: 2000 };

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

const EXPERIMENT_NAMES: Record<RunningExperiment['kind'], string> = { sensitivity: 'sensitivity scan', sweep: 'method comparison', lottery: 'lottery ticket' };

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
      controller.notify(`The ${EXPERIMENT_NAMES[running.kind]} failed: ${message(e)}`);
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

  /** The request a lottery form makes, or a reason it cannot run. */
  function lotteryRequest(form: LotteryForm): LotteryRequest | string {
    const s = get().settings;
    if (!(Number.isInteger(form.rounds) && form.rounds >= 1 && form.rounds <= 20)) return 'Rounds: a whole number from 1 to 20.';
    if (!(Number.isFinite(form.ratePercent) && form.ratePercent > 0 && form.ratePercent < 100)) return 'Pruned per round: a percentage above 0 and below 100.';
    if (!(Number.isInteger(form.epochs) && form.epochs >= 1)) return 'Epochs per round: a whole number, at least 1.';
    if (!(Number.isInteger(form.rewindEpoch) && form.rewindEpoch >= 0 && form.rewindEpoch < form.epochs))
      return `Rewind point: a whole number of epochs from 0 to ${form.epochs - 1} (less than the epochs per round).`;
    if (!Number.isInteger(form.seed)) return 'Seed: a whole number.';
    if (!(Number.isInteger(form.subset) && form.subset >= 0)) return 'Training subset: a whole number of images (0 or empty = all).';
    return {
      rounds: form.rounds,
      p: form.ratePercent / 100,
      epochs: form.epochs,
      rewindEpoch: form.rewindEpoch,
      seed: form.seed,
      subset: form.subset,
      config: trainConfigOf(s, form.epochs),
    };
  }

  /**
   * The lottery ticket (Frankle & Carbin 2019) on the current model, from freshly initialised weights
   * (not the baseline): iterative magnitude pruning with rewinding against its two controls.
   */
  async function runLottery(form: LotteryForm): Promise<void> {
    if (!ready()) return;
    const req = lotteryRequest(form);
    if (typeof req === 'string') {
      controller.notify(req, 'info');
      return;
    }
    const { model, mode } = get().settings;
    const result = await run(
      { kind: 'lottery', model, mode, baseline: describeOrigin(get().baseline), start: null, progress: null, points: [] },
      () => controller.engine().request('lottery', req),
      (r) => ({ lottery: record(r) }),
    );
    if (!result) return;
    if (result.cancelled) controller.notify(`Lottery ticket cancelled: kept the ${result.points.length} points done.`, 'info');
  }

  /**
   * A short job that is no experiment of its own record (the oracle, the speed lab): it takes the job
   * guard like the others, so it never runs beside training or an experiment, and they wait for it.
   * Null when refused (said); the engine's error is thrown for the caller to show.
   */
  async function guarded<R>(what: string, send: () => Promise<R>): Promise<R | null> {
    const job = get().job;
    if (job) {
      controller.notify(`${what} cannot run while ${job.role === 'experiment' ? 'an experiment is running' : 'training runs'}; cancel it or wait for it to finish.`, 'info');
      return null;
    }
    set({ job: experimentJob() });
    try {
      return await send();
    } finally {
      set({ job: null });
      if (get().preview.status === 'pending') controller.schedulePreview();
    }
  }

  const oracle = (req: OracleRequest): Promise<OracleReply | null> => guarded('The oracle', () => controller.engine().request('oracle', req));
  const speedLab = (req: SpeedLabRequest): Promise<SpeedLabReply | null> => guarded('The speed lab', () => controller.engine().request('speedLab', req));

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

  function clear(kind: 'sensitivity' | 'sweep' | 'lottery'): void {
    if (get().experiments.running?.kind === kind) return;
    setExperiments({ [kind]: null });
  }

  return { runSensitivity, runSweep, sweepRequest, runLottery, lotteryRequest, oracle, speedLab, cancel, exportSensitivity, exportSweep, clear };
}
