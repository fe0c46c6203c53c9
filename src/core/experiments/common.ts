/**
 * What the sensitivity scan and the method comparison share: the criteria they compare, the injected
 * evaluation, an evaluation cache keyed by what a pruned network actually is, cancellation and
 * yielding. Framework-free: no TensorFlow.js here, the caller supplies the compute.
 */
import { type Channels, type ModelSpec, type NetWeights, hasBatchNorm } from '../model/spec';
import type { Costs } from '../pruning/costs';
import type { PruneResult } from '../pruning/pruner';
import { type Method, type Mode, unsupported } from '../pruning/settings';

/** A ranking the experiments compare. 'manual' is a person's choice, not a criterion to sweep. */
export type Criterion = Exclude<Method, 'manual'>;

export const CRITERIA: readonly Criterion[] = ['random', 'l1', 'l2', 'bn'];

/**
 * Every criterion an experiment accepts: the defaults, plus Taylor (needs a batch of training data, the
 * engine scores it once per experiment) and global structured (one target for all groups), which run
 * when asked for.
 */
export const ALL_CRITERIA: readonly Criterion[] = [...CRITERIA, 'taylor', 'globalStruct'];

/** How the page and the verdicts name each criterion. */
export const CRITERION_LABELS: Record<Criterion, string> = { random: 'Random', l1: 'L1', l2: 'L2', bn: 'BatchNorm γ', taylor: 'Taylor', globalStruct: 'Global L1' };

/**
 * Accuracy (0..1) of a network on the test set. `channels` equals `weights.channels`; it is passed
 * apart so a worker can keep one network per architecture and only assign weights (in mask mode every
 * point has the full channels). Should stop early (throw) once `signal` is aborted.
 */
export type Evaluate = (weights: NetWeights, channels: Channels, signal?: AbortSignal) => Promise<number>;

/** Lets the host handle messages (a Cancel) between points; awaiting promises alone never does. */
export type Pause = () => Promise<void>;

export const defaultPause: Pause = () => new Promise((resolve) => setTimeout(resolve, 0));

export const defaultNow = (): number => performance.now();

/** A criterion the experiment was asked for but cannot run, and why (BatchNorm γ without BatchNorm, …). */
export interface SkippedCriterion {
  criterion: Criterion;
  reason: string;
}

export { hasBatchNorm };

/** The criteria that run on this model in this mode (in the order asked for, duplicates dropped) and those that cannot. */
export function splitCriteria(spec: ModelSpec, mode: Mode, asked: readonly Criterion[]): { criteria: Criterion[]; skipped: SkippedCriterion[] } {
  const criteria: Criterion[] = [];
  const skipped: SkippedCriterion[] = [];
  for (const c of new Set(asked)) {
    if (!ALL_CRITERIA.includes(c)) throw new RangeError(`unknown criterion ${String(c)}`);
    const why = unsupported(c, mode, hasBatchNorm(spec));
    if (why) skipped.push({ criterion: c, reason: why });
    else criteria.push(c);
  }
  return { criteria, skipped };
}

/** Every criterion the model supports in the mode: Random, L1, L2, and BatchNorm γ where there is BatchNorm. */
export const defaultCriteria = (spec: ModelSpec, mode: Mode): Criterion[] => splitCriteria(spec, mode, CRITERIA).criteria;

/** The figures each point records. */
export interface PointCosts {
  /** Parameters physically present (only removal lowers it). */
  params: number;
  nonzeroParams: number;
  /**
   * Multiply-accumulates per image with a nonzero weight (ShrinkBench's nonzero FLOPs): what pruning
   * saves in any mode. In remove mode it equals the smaller network's dense MACs.
   */
  macs: number;
  /** Dense MACs of the network as stored (lower only after removal). */
  denseMacs: number;
  /** Filters physically present per conv layer. */
  channels: Channels;
}

export const pointCosts = (c: Costs): PointCosts => ({
  params: c.params,
  nonzeroParams: c.nonzeroParams,
  macs: c.nonzeroMacs,
  denseMacs: c.macs,
  channels: [...c.channels],
});

/**
 * Identifies the network a prune produced, so two settings that yield the same network are evaluated
 * once: torch rounds amount × units to a count, so neighbouring fractions often prune the same filters
 * (16 filters: 10 % and 15 % both prune 2), every random seed at fraction 0 is the baseline, and for
 * the linear layer L1, L2 and γ all rank single weights by |w|. Given the baseline and the mode, the
 * kept filters and the masks determine the effective weights, so they are the key (masks hashed).
 */
export function networkKey(mode: Mode, r: PruneResult): string {
  const parts: string[] = [mode];
  for (const layer of Object.keys(r.kept).sort()) parts.push(`${layer}:${r.kept[layer].join(',')}`);
  for (const name of Object.keys(r.masks).sort()) parts.push(`${name}#${r.masks[name].length}#${hash64(r.masks[name])}`);
  return parts.join('|');
}

/**
 * 64-bit fingerprint (two independent 32-bit FNV-1a lanes) of a mask. A few hundred masks per
 * experiment make a collision about 1e-15 likely; a full copy of every mask would cost megabytes.
 */
export function hash64(a: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ a.length;
  for (let i = 0; i < a.length; i++) {
    h1 = Math.imul(h1 ^ a[i], 0x01000193);
    h2 = Math.imul(h2 ^ (a[i] + i), 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Evaluations by network key. Counts real calls so a caller (and the tests) can see what caching saved. */
export class EvaluationCache {
  private readonly known = new Map<string, number>();
  calls = 0;

  constructor(private readonly evaluate: Evaluate) {}

  /** Records an accuracy measured elsewhere (the baseline's, when the caller already knows it). */
  seed(key: string, accuracy: number): void {
    this.known.set(key, accuracy);
  }

  async accuracy(mode: Mode, r: PruneResult, signal?: AbortSignal): Promise<number> {
    const key = networkKey(mode, r);
    const hit = this.known.get(key);
    if (hit !== undefined) return hit;
    this.calls++;
    const acc = await this.evaluate(r.weights, [...r.weights.channels], signal);
    if (!Number.isFinite(acc)) throw new Error(`evaluate returned ${acc}, expected an accuracy in 0..1`);
    // An evaluation cut short by Cancel may return a partial figure: never remember it.
    if (!signal?.aborted) this.known.set(key, acc);
    return acc;
  }
}

/** Thrown (internally) when the signal is aborted between steps; the runners turn it into `cancelled: true`. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Cancelled();
}

/** Inclusive grid lo, lo+step, …, hi, rounded to 1e-9 so 0.15 is 0.15 and not 0.15000000000000002. */
export function grid(lo: number, hi: number, step: number): number[] {
  const n = Math.round((hi - lo) / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.round((lo + i * step) * 1e9) / 1e9);
}

export function checkFractions(name: string, xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError(`${name}: none given`);
  for (const x of xs) if (!(typeof x === 'number' && x >= 0 && x <= 1)) throw new RangeError(`${name}: ${x} is not a fraction in [0, 1]`);
  return [...new Set(xs)].sort((a, b) => a - b);
}

export function checkSeeds(name: string, xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError(`${name}: at least one seed is needed`);
  for (const s of xs) if (!Number.isInteger(s)) throw new RangeError(`${name}: seed ${s} is not an integer`);
  return [...new Set(xs)];
}

/** Seeds 1..n: the default way to ask for "n seeds". */
export const seedRange = (n: number, first = 1): number[] => Array.from({ length: n }, (_, i) => first + i);
