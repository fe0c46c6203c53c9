/**
 * Layer sensitivity scan (Li et al. 2017, "Pruning Filters for Efficient ConvNets", Fig. 2): prune one
 * layer on its own, the others untouched, at fractions 0–95 %, and measure test accuracy without
 * fine-tuning — once per criterion, Random over several seeds with its min–max band. It shows which
 * layers tolerate pruning, which is how Li et al. chose per-layer amounts.
 *
 * Inference only, and cached: fraction 0 is the baseline, measured once; settings that produce the same
 * network (torch's rounding of amount × filters, L1 = L2 = γ on the linear layer) are measured once.
 * In remove mode every evaluated network is physically smaller, so the scan gets faster as it prunes.
 */
import { type ConvNode, shapes, structure } from '../model/graph';
import { type Channels, type ModelSpec, type NetWeights, fullChannels } from '../model/spec';
import { fraction as amountFraction, pruneCount } from '../pruning/amount';
import { type PruneScores, prune } from '../pruning/pruner';
import type { Mode, PruneSettings } from '../pruning/settings';
import {
  Cancelled, type Criterion, type Evaluate, EvaluationCache, type Pause, type PointCosts, type SkippedCriterion,
  checkFractions, checkSeeds, defaultCriteria, defaultNow, defaultPause, grid, networkKey, pointCosts, seedRange, splitCriteria, throwIfAborted,
} from './common';
import { estimateSecondsLeft } from './eta';

/** 0, 0.05, …, 0.95: Li et al.'s grid. 100 % is left out: a layer with nothing left says nothing. */
export const SENSITIVITY_FRACTIONS: readonly number[] = grid(0, 0.95, 0.05);
export const DEFAULT_RANDOM_SEEDS: readonly number[] = seedRange(3);

/** A layer the scan prunes on its own. */
export interface SensitivityLayer {
  /** The key of PruneSettings.amounts that prunes it. */
  layer: string;
  /**
   * conv: a fraction of this conv layer's filters. linear: of the linear layer's single weights (its
   * outputs are the classes; it is only ever pruned unstructured). global: of ALL conv weights ranked
   * together — in global mode the first conv layer's amount means that (torch's global_unstructured),
   * so the conv layers are one scan, not one each.
   */
  scope: 'conv' | 'linear' | 'global';
  /** What one unit is, and how many there are: a fraction f prunes round-half-even(f · units) of them, as torch does. */
  unit: 'filters' | 'weights';
  units: number;
  /** For chart titles: "conv2", "fc1", "conv1–conv3 (global)". */
  label: string;
}

/** One point of a layer's curve for one criterion. */
export interface SensitivityPoint extends PointCosts {
  layer: string;
  /** Fraction asked for, 0..1. */
  fraction: number;
  criterion: Criterion;
  mode: Mode;
  /** Units actually pruned (after torch's rounding) out of the layer's `units`. */
  pruned: number;
  /** Test accuracy 0..1 without fine-tuning; for Random the mean over the seeds. */
  accuracy: number;
  /**
   * Random only: the band over the seeds and each seed's figures. The point's costs are the seeds'
   * means: the filter counts never depend on the seed, but in global mode where the pruned weights
   * fall does, and with it the nonzero MACs.
   */
  min?: number;
  max?: number;
  seeds?: SeedFigures[];
}

export interface SeedFigures {
  seed: number;
  accuracy: number;
  params: number;
  nonzeroParams: number;
  macs: number;
}

export interface SensitivityOptions {
  spec: ModelSpec;
  /** Weights of the unpruned network every point starts from. */
  baseline: NetWeights;
  mode: Mode;
  /** Default: every criterion the model supports in the mode (BatchNorm γ only with BatchNorm, never in global mode). */
  criteria?: readonly Criterion[];
  /** Seeds Random is averaged over. Default 1, 2, 3. */
  randomSeeds?: readonly number[];
  /** Default SENSITIVITY_FRACTIONS (0..0.95 step 0.05). Sorted, duplicates dropped; 0 is the baseline. */
  fractions?: readonly number[];
  /** Restrict to these layers (PruneSettings.amounts keys). Default: all of sensitivityLayers(spec, mode). */
  layers?: readonly string[];
  evaluate: Evaluate;
  /** The baseline's accuracy, when already measured; saves one evaluation. */
  baselineAccuracy?: number;
  /** Each finished point, in order: the page draws curves as they grow. */
  onPoint?: (p: SensitivityPoint, done: number, total: number) => void;
  onProgress?: (p: SensitivityProgress) => void;
  /** Once the baseline is measured, before the first point: the result as it stands (plan, baseline accuracy, no points), so a page can save a partial result. */
  onStart?: (partial: SensitivityResult) => void;
  /** Precomputed scores for criteria that need data (Taylor). */
  scores?: PruneScores;
  /** Abort to stop: the points finished so far are returned with `cancelled: true`. */
  signal?: AbortSignal;
  /** Yields to the host between evaluations so a Cancel message can arrive. Default setTimeout(0). */
  pause?: Pause;
  /** Milliseconds clock, for timings and the estimate. Default performance.now. */
  now?: () => number;
}

export interface SensitivityProgress {
  done: number;
  total: number;
  /** The point about to be measured, or null when the scan is over. */
  current: { layer: string; fraction: number; criterion: Criterion } | null;
  /** Networks actually evaluated so far (the rest came from the cache). */
  evaluations: number;
  elapsedSeconds: number;
  etaSeconds: number | null;
}

export interface SensitivityPlan {
  layers: SensitivityLayer[];
  criteria: Criterion[];
  skipped: SkippedCriterion[];
  randomSeeds: number[];
  fractions: number[];
  /** Points the scan produces: layers × fractions × criteria. */
  total: number;
}

export interface SensitivityResult extends SensitivityPlan {
  model: ModelSpec['id'];
  mode: Mode;
  /** NaN only if cancelled before the baseline was measured. */
  baselineAccuracy: number;
  /** In the order measured; all of them unless cancelled. */
  points: SensitivityPoint[];
  cancelled: boolean;
  /** Calls to evaluate, the baseline's included. */
  evaluations: number;
  seconds: number;
  /** Test images each accuracy was measured on (the engine's test set); absent in results from before it. */
  testImages?: number;
}

/**
 * What a scan can prune one at a time, in network order: each channel group (a chain model's: each
 * conv layer; ResNet-20's: each residual stream and each block's inner channels), or in global mode all
 * conv weights as one, then the linear layer.
 */
export function sensitivityLayers(spec: ModelSpec, mode: Mode, channels?: Channels): SensitivityLayer[] {
  const st = structure(spec);
  const ch = channels ?? fullChannels(spec);
  const sh = shapes(st, ch);
  const out: SensitivityLayer[] = [];
  if (mode === 'global') {
    const convs = st.nodes.filter((n): n is ConvNode => n.op === 'conv');
    if (st.groups.length > 0) {
      const ids = st.groups.map((g) => g.id);
      out.push({
        layer: ids[0],
        scope: 'global',
        unit: 'weights',
        units: convs.reduce((a, c) => a + c.kernel * c.kernel * sh.get(c.name)!.inChannels * sh.get(c.name)!.channels, 0),
        label: st.hasAdd ? `all ${convs.length} conv layers (global)` : `${ids.length > 1 ? `${ids[0]}–${ids[ids.length - 1]}` : ids[0]} (global)`,
      });
    }
  } else st.groups.forEach((g, i) => out.push({ layer: g.id, scope: 'conv', unit: 'filters', units: ch[i], label: g.kind === 'layer' ? g.id : g.label }));
  const f = sh.get(st.output.name)!;
  out.push({ layer: st.output.name, scope: 'linear', unit: 'weights', units: f.inChannels * f.channels, label: st.output.name });
  return out;
}

/** The settings of one scan point: `layer` at `fraction`, every other layer unpruned. The page's single-setting view gives the same network. */
export function sensitivitySettings(layer: string, criterion: Criterion, mode: Mode, fraction: number, seed = 0): PruneSettings {
  return { method: criterion, mode, amounts: { [layer]: fraction }, seed };
}

/** What a scan with these options will do, without running it: layers, criteria (and those skipped), points. */
export function planSensitivity(o: Pick<SensitivityOptions, 'spec' | 'baseline' | 'mode' | 'criteria' | 'randomSeeds' | 'fractions' | 'layers'>): SensitivityPlan {
  const all = sensitivityLayers(o.spec, o.mode, o.baseline.channels);
  let layers = all;
  if (o.layers) {
    const unknown = o.layers.filter((l) => !all.some((x) => x.layer === l));
    if (unknown.length) throw new RangeError(`no such layer to scan in ${o.mode} mode: ${unknown.join(', ')} (scannable: ${all.map((x) => x.layer).join(', ')})`);
    layers = all.filter((x) => o.layers!.includes(x.layer));
  }
  const split = splitCriteria(o.spec, o.mode, o.criteria ?? defaultCriteria(o.spec, o.mode));
  // One layer at a time has no meaning for a criterion that decides how much each layer loses.
  const criteria = split.criteria.filter((c) => c !== 'globalStruct');
  const skipped = [
    ...split.skipped,
    ...(criteria.length < split.criteria.length ? [{ criterion: 'globalStruct' as const, reason: 'Global structured ranks every layer together: pruning one layer alone is not what it does, so the per-layer scan skips it (the method comparison runs it).' }] : []),
  ];
  const randomSeeds = checkSeeds('randomSeeds', o.randomSeeds ?? DEFAULT_RANDOM_SEEDS);
  const fractions = checkFractions('fractions', o.fractions ?? SENSITIVITY_FRACTIONS);
  return { layers, criteria, skipped, randomSeeds, fractions, total: layers.length * fractions.length * criteria.length };
}

/**
 * Runs the scan: for each layer, each fraction, each criterion (Random once per seed), prune the
 * baseline and evaluate. Points come out layer by layer, and within a layer fraction by fraction, so
 * every criterion's curve grows together.
 */
export async function runSensitivity(o: SensitivityOptions): Promise<SensitivityResult> {
  const plan = planSensitivity(o);
  const { spec, baseline, mode, signal } = o;
  const pause = o.pause ?? defaultPause;
  const now = o.now ?? defaultNow;
  const t0 = now();
  const cache = new EvaluationCache(o.evaluate);
  const results: SensitivityPoint[] = [];
  const durations: number[] = [];
  const total = plan.total;
  let cancelled = false;
  let baselineAccuracy = NaN;

  const progress = (current: SensitivityProgress['current'], startedAt: number | null) =>
    o.onProgress?.({
      done: results.length,
      total,
      current,
      evaluations: cache.calls,
      elapsedSeconds: (now() - t0) / 1000,
      etaSeconds: estimateSecondsLeft({
        durations,
        remaining: total - results.length - (current ? 1 : 0),
        current: startedAt === null ? undefined : { elapsed: (now() - startedAt) / 1000 },
      }),
    });

  const resultNow = (cancelled: boolean): SensitivityResult => ({
    ...plan,
    model: spec.id,
    mode,
    baselineAccuracy,
    points: [...results],
    cancelled,
    evaluations: cache.calls,
    seconds: (now() - t0) / 1000,
  });

  try {
    throwIfAborted(signal);
    // Fraction 0 of any layer, any criterion, is the baseline: one key, measured (or told) once.
    const unpruned = prune(spec, baseline, sensitivitySettings(plan.layers[0]?.layer ?? '', 'l1', mode, 0));
    if (o.baselineAccuracy !== undefined) cache.seed(networkKey(mode, unpruned), o.baselineAccuracy);
    baselineAccuracy = await cache.accuracy(mode, unpruned, signal);
    throwIfAborted(signal);
    o.onStart?.(resultNow(false));

    for (const layer of plan.layers)
      for (const fraction of plan.fractions)
        for (const criterion of plan.criteria) {
          const started = now();
          const current = { layer: layer.layer, fraction, criterion };
          progress(current, started);
          const calls = cache.calls;
          const seeds = criterion === 'random' ? plan.randomSeeds : [0];
          const measured: SeedFigures[] = [];
          let costs: PointCosts | null = null;
          for (const seed of seeds) {
            throwIfAborted(signal);
            const r = prune(spec, baseline, sensitivitySettings(layer.layer, criterion, mode, fraction, seed), o.scores);
            costs ??= pointCosts(r.costs);
            const accuracy = await cache.accuracy(mode, r, signal);
            throwIfAborted(signal); // an evaluation cut short is not a result
            measured.push({ seed, accuracy, params: r.costs.params, nonzeroParams: r.costs.nonzeroParams, macs: r.costs.nonzeroMacs });
          }
          const avg = (k: keyof Omit<SeedFigures, 'seed'>) => measured.reduce((a, m) => a + m[k], 0) / measured.length;
          const point: SensitivityPoint = {
            layer: layer.layer,
            fraction,
            criterion,
            mode,
            pruned: pruneCount(amountFraction(fraction), layer.units),
            ...costs!,
            accuracy: avg('accuracy'),
            params: avg('params'),
            nonzeroParams: avg('nonzeroParams'),
            macs: avg('macs'),
          };
          if (criterion === 'random') {
            const accs = measured.map((m) => m.accuracy);
            Object.assign(point, { min: Math.min(...accs), max: Math.max(...accs), seeds: measured });
          }
          results.push(point);
          durations.push((now() - started) / 1000);
          o.onPoint?.(point, results.length, total);
          // Only real work needs a break for messages; cached points cost microseconds.
          if (cache.calls > calls) await pause();
        }
  } catch (e) {
    if (!(e instanceof Cancelled || signal?.aborted)) throw e;
    cancelled = true;
  }
  progress(null, null);
  return resultNow(cancelled);
}
