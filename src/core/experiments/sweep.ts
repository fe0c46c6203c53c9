/**
 * Method comparison in the style of ShrinkBench (Blalock et al. 2020, "What is the State of Neural
 * Network Pruning?"): every (criterion, sparsity, seed) prunes the same baseline, is measured before
 * fine-tuning, fine-tuned with that seed and measured again. Several seeds per setting, because one
 * seed cannot tell a better criterion from a lucky run — the playground's own numbers swap order after
 * a single fine-tuning epoch.
 *
 * The seed is both the pruning seed (it only matters for Random) and the fine-tuning seed (shuffling),
 * so a deterministic criterion's seeds differ only in fine-tuning — and seed k of every criterion
 * shares its fine-tuning order, which is what makes the paired comparison in stats.ts fair.
 */
import { structure } from '../model/graph';
import type { ModelSpec, NetWeights } from '../model/spec';
import { measureCosts } from '../pruning/costs';
import { type PruneResult, type PruneScores, prune } from '../pruning/pruner';
import type { Mode, PruneSettings } from '../pruning/settings';
import {
  Cancelled, type Criterion, type Evaluate, EvaluationCache, type Pause, type PointCosts, type SkippedCriterion,
  checkFractions, checkSeeds, defaultCriteria, defaultNow, defaultPause, networkKey, pointCosts, seedRange, splitCriteria, throwIfAborted,
} from './common';
import { estimateSecondsLeft } from './eta';

/** Five operating points at least (Blalock et al. 2020 ask for several); 95 % is where criteria part ways. */
export const DEFAULT_SPARSITIES: readonly number[] = [0.25, 0.5, 0.75, 0.9, 0.95];
export const DEFAULT_SWEEP_SEEDS: readonly number[] = seedRange(3);

export interface FineTuneOptions {
  /** Seeds the shuffling (and anything else random in training); the same seed as the pruning. */
  seed: number;
  epochs: number;
  /** Train on the first `subset` training images; 0 = all of them. */
  subset: number;
  /** Stop within a batch once aborted (resolving or throwing: the point is discarded either way). */
  signal?: AbortSignal;
  /** Fraction 0..1 of this fine-tuning done, e.g. after every batch; feeds the progress bar and the estimate. */
  onProgress: (fraction: number) => void;
}

/**
 * Fine-tunes a pruned network and returns its test accuracy (0..1). `pruned.weights` is where it
 * starts; `pruned.masks` must be re-applied after every step so pruned weights stay zero.
 */
export type FineTune = (pruned: PruneResult, options: FineTuneOptions) => Promise<{ accuracy: number }>;

/** One setting of the comparison. */
/**
 * Which channel groups a point prunes (issue 21's ResNet-20 trade-off): every group, or only the blocks'
 * inner channels — leaving the residual streams, whose removal couples every block of a stage.
 * Chain models have neither streams nor inner groups: 'all' only.
 */
export type SweepScope = 'all' | 'inner';

export interface SweepRun {
  criterion: Criterion;
  /** Fraction of every conv layer's filters (mask, remove), or of all conv weights ranked together (global). */
  sparsity: number;
  seed: number;
}

export interface SweepPoint extends SweepRun, PointCosts {
  mode: Mode;
  /** Test accuracy 0..1 straight after pruning. */
  accBefore: number;
  /** Test accuracy after fine-tuning (equal to accBefore when the budget is 0 epochs). */
  accAfter: number;
  /** The fine-tuning budget it had (subset 0 = the whole training set). */
  epochs: number;
  subset: number;
  /** The groups it pruned; absent in points from before scopes (= 'all'). */
  scope?: SweepScope;
  /** Wall time of the point, fine-tuning included. */
  seconds: number;
}

export interface SweepOptions {
  spec: ModelSpec;
  baseline: NetWeights;
  mode: Mode;
  /** Default: every criterion the model supports in the mode. */
  criteria?: readonly Criterion[];
  /** Default 25, 50, 75, 90 %. */
  sparsities?: readonly number[];
  /** Default 1, 2, 3. */
  seeds?: readonly number[];
  /** Fine-tuning epochs per point (0: measure straight after pruning only). */
  epochs: number;
  /** Which groups are pruned; default 'all'. */
  scope?: SweepScope;
  /** Training images per fine-tuning (the first n); 0 or absent = all. */
  subset?: number;
  evaluate: Evaluate;
  fineTune: FineTune;
  /** Precomputed scores for criteria that need data (Taylor). */
  scores?: PruneScores;
  baselineAccuracy?: number;
  /**
   * Points already measured (a sweep cancelled earlier, restored from storage): those matching a run
   * of this plan, in the same mode and fine-tuning budget, are kept and not run again; their timings seed the estimate.
   */
  previous?: readonly SweepPoint[];
  /** Fine-tune the unpruned baseline once per seed as the control (the page always does). */
  controls?: boolean;
  /** Controls of that earlier sweep: kept when their budget matches. */
  previousControls?: readonly SweepControl[];
  onPoint?: (p: SweepPoint, done: number, total: number) => void;
  /** Called at each point's start, on every fine-tuning progress report, and at the end; throttle drawing if needed. */
  onProgress?: (p: SweepProgress) => void;
  /**
   * Once the baseline is measured, before the first new point: the result as it stands (plan, baseline,
   * the kept previous points), so a page can save a partial result that survives a closed tab.
   */
  onStart?: (partial: SweepResult) => void;
  signal?: AbortSignal;
  pause?: Pause;
  now?: () => number;
}

export interface SweepProgress {
  done: number;
  total: number;
  current: SweepRun | null;
  phase: 'evaluating' | 'fineTuning' | null;
  /** Fraction of the current point done (its fine-tuning's progress). */
  pointFraction: number;
  /** Overall fraction for a progress bar: (done + pointFraction) / total. */
  fraction: number;
  elapsedSeconds: number;
  etaSeconds: number | null;
}

export interface SweepPlan {
  criteria: Criterion[];
  skipped: SkippedCriterion[];
  sparsities: number[];
  seeds: number[];
  epochs: number;
  subset: number;
  scope: SweepScope;
  /** In run order: seed by seed, and within a seed sparsity by sparsity, every criterion — so a cancelled sweep has whole seeds. */
  runs: SweepRun[];
}

/**
 * The honest control of a seed (issue 22): the unpruned baseline fine-tuned with that seed and the same
 * budget, by the same fineTune as the points — what fine-tuning alone gives, without pruning.
 */
export interface SweepControl {
  seed: number;
  accuracy: number;
  epochs: number;
  subset: number;
}

/**
 * ShrinkBench's two efficiency figures (Blalock et al. 2020, §4): compression ratio = the original
 * network's parameters / the pruned one's nonzero parameters, theoretical speedup = the original
 * network's MACs / the pruned one's nonzero MACs.
 */
export function shrinkBenchRatios(base: PointCosts, p: PointCosts): { compression: number; speedup: number } {
  return { compression: base.params / p.nonzeroParams, speedup: base.denseMacs / p.macs };
}

/** The unpruned reference line of the chart. */
export interface SweepBaseline extends PointCosts {
  accuracy: number;
}

export interface SweepResult extends SweepPlan {
  model: ModelSpec['id'];
  mode: Mode;
  /** accuracy NaN only if cancelled before the baseline was measured. */
  baseline: SweepBaseline;
  /** In run order, kept previous points included; all runs unless cancelled. */
  points: SweepPoint[];
  /** One per seed fine-tuned so far (epochs > 0); absent in results from before controls. */
  controls?: SweepControl[];
  cancelled: boolean;
  seconds: number;
  /** Test images each accuracy was measured on (the engine's test set); absent in results from before it. */
  testImages?: number;
}

/**
 * The prune settings of one point. Mask and remove prune `sparsity` of every channel group's units (a
 * chain model's: every conv layer's filters);
 * global ranks all conv weights together (the first conv layer's amount, by PruneSettings' rule). The
 * linear layer is left alone: its outputs are the classes, and the comparison is about the filters.
 */
export function sweepSettings(spec: ModelSpec, run: SweepRun, mode: Mode, scope: SweepScope = 'all'): PruneSettings {
  // a chain model's groups are its conv layers; 'inner' leaves a residual network's streams whole
  const convs = structure(spec).groups.filter((g) => scope === 'all' || g.kind === 'inner').map((g) => g.id);
  const amounts = mode === 'global' ? (convs.length ? { [convs[0]]: run.sparsity } : {}) : Object.fromEntries(convs.map((c) => [c, run.sparsity]));
  return { method: run.criterion, mode, amounts, seed: run.seed };
}

export const runKey = (r: SweepRun): string => `${r.criterion}|${r.sparsity}|${r.seed}`;

/** The scope asked for, or why it cannot be: 'inner' needs a residual network and a per-group mode. */
export function checkScope(spec: ModelSpec, mode: Mode, scope: SweepScope = 'all'): SweepScope {
  if (scope !== 'all' && scope !== 'inner') throw new RangeError(`scope: ${String(scope)} is not 'all' or 'inner'`);
  if (scope === 'inner' && !structure(spec).groups.some((g) => g.kind === 'inner'))
    throw new RangeError(`scope inner: ${spec.id} has no inner channel groups (only residual networks do); use all`);
  if (scope === 'inner' && mode === 'global') throw new RangeError('scope inner: global ranking takes all conv weights together; use mask or remove');
  return scope;
}

export function planSweep(o: Pick<SweepOptions, 'spec' | 'mode' | 'criteria' | 'sparsities' | 'seeds' | 'epochs' | 'subset' | 'scope'>): SweepPlan {
  const { criteria, skipped } = splitCriteria(o.spec, o.mode, o.criteria ?? defaultCriteria(o.spec, o.mode));
  const sparsities = checkFractions('sparsities', o.sparsities ?? DEFAULT_SPARSITIES);
  const seeds = checkSeeds('seeds', o.seeds ?? DEFAULT_SWEEP_SEEDS);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw new RangeError(`epochs: ${o.epochs} is not a whole number ≥ 0`);
  const subset = o.subset ?? 0;
  if (!(Number.isInteger(subset) && subset >= 0)) throw new RangeError(`subset: ${subset} is not a whole number ≥ 0`);
  const scope = checkScope(o.spec, o.mode, o.scope);
  const runs: SweepRun[] = [];
  for (const seed of seeds) for (const sparsity of sparsities) for (const criterion of criteria) runs.push({ criterion, sparsity, seed });
  return { criteria, skipped, sparsities, seeds, epochs: o.epochs, subset, scope, runs };
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const plan = planSweep(o);
  const { spec, baseline, mode, signal } = o;
  const pause = o.pause ?? defaultPause;
  const now = o.now ?? defaultNow;
  const t0 = now();
  const cache = new EvaluationCache(o.evaluate);
  const total = plan.runs.length;
  const planned = new Set(plan.runs.map(runKey));
  const done = new Map<string, SweepPoint>();
  const durations: number[] = [];
  // A previous point counts only if it answers the same question: same mode, groups and fine-tuning budget.
  for (const p of o.previous ?? [])
    if (p.mode === mode && (p.scope ?? 'all') === plan.scope && planned.has(runKey(p)) && !done.has(runKey(p)) && p.epochs === plan.epochs && p.subset === plan.subset) {
      done.set(runKey(p), p);
      durations.push(p.seconds);
    }
  const controls = new Map<number, SweepControl>();
  for (const c of o.previousControls ?? []) if (c.epochs === plan.epochs && c.subset === plan.subset && plan.seeds.includes(c.seed)) controls.set(c.seed, c);
  let cancelled = false;
  const unpruned = prune(spec, baseline, sweepSettings(spec, { criterion: 'l1', sparsity: 0, seed: 0 }, mode));
  const base: SweepBaseline = { accuracy: NaN, ...pointCosts(measureCosts(spec, baseline)) };

  const progress = (current: SweepRun | null, phase: SweepProgress['phase'], pointFraction: number, startedAt: number) => {
    const f = Math.min(1, Math.max(0, pointFraction));
    const left = total - done.size - (current ? 1 : 0);
    o.onProgress?.({
      done: done.size,
      total,
      current,
      phase,
      pointFraction: f,
      fraction: total ? (done.size + f) / total : 1,
      elapsedSeconds: (now() - t0) / 1000,
      etaSeconds: estimateSecondsLeft({ durations, remaining: left, current: current ? { elapsed: (now() - startedAt) / 1000, fraction: f } : undefined }),
    });
  };

  const resultNow = (cancelled: boolean): SweepResult => ({
    ...plan,
    model: spec.id,
    mode,
    baseline: { ...base },
    points: plan.runs.filter((r) => done.has(runKey(r))).map((r) => done.get(runKey(r))!),
    ...(o.controls && plan.epochs > 0 ? { controls: plan.seeds.filter((s) => controls.has(s)).map((s) => controls.get(s)!) } : {}),
    cancelled,
    seconds: (now() - t0) / 1000,
  });

  try {
    throwIfAborted(signal);
    if (o.baselineAccuracy !== undefined) cache.seed(networkKey(mode, unpruned), o.baselineAccuracy);
    base.accuracy = await cache.accuracy(mode, unpruned, signal);
    throwIfAborted(signal);
    o.onStart?.(resultNow(false));
    for (const run of plan.runs) {
      if (done.has(runKey(run))) continue;
      const started = now();
      progress(run, 'evaluating', 0, started);
      const r = prune(spec, baseline, sweepSettings(spec, run, mode, plan.scope), o.scores);
      // Deterministic criteria prune the same network for every seed: measured before fine-tuning once.
      const accBefore = await cache.accuracy(mode, r, signal);
      throwIfAborted(signal);
      let accAfter = accBefore;
      if (o.controls && plan.epochs > 0 && !controls.has(run.seed)) {
        // The seed's control first: the unpruned network through the very same fineTune, seed and budget.
        progress(run, 'fineTuning', 0, started);
        const c = await o.fineTune(unpruned, { seed: run.seed, epochs: plan.epochs, subset: plan.subset, signal, onProgress: () => {} });
        throwIfAborted(signal);
        if (!Number.isFinite(c.accuracy)) throw new Error(`fineTune returned accuracy ${c.accuracy}`);
        controls.set(run.seed, { seed: run.seed, accuracy: c.accuracy, epochs: plan.epochs, subset: plan.subset });
      }
      if (plan.epochs > 0) {
        progress(run, 'fineTuning', 0, started);
        const out = await o.fineTune(r, {
          seed: run.seed,
          epochs: plan.epochs,
          subset: plan.subset,
          signal,
          onProgress: (f) => progress(run, 'fineTuning', f, started),
        });
        throwIfAborted(signal); // fine-tuning stopped part-way is not this budget's result
        if (!Number.isFinite(out.accuracy)) throw new Error(`fineTune returned accuracy ${out.accuracy}`);
        accAfter = out.accuracy;
      }
      const seconds = (now() - started) / 1000;
      const point: SweepPoint = { ...run, mode, ...pointCosts(r.costs), accBefore, accAfter, epochs: plan.epochs, subset: plan.subset, scope: plan.scope, seconds };
      done.set(runKey(run), point);
      durations.push(seconds);
      o.onPoint?.(point, done.size, total);
      await pause();
    }
  } catch (e) {
    if (!(e instanceof Cancelled || signal?.aborted)) throw e;
    cancelled = true;
  }
  progress(null, null, 0, now());
  return resultNow(cancelled);
}

