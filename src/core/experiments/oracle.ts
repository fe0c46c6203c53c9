/**
 * Criterion against the oracle (Molchanov et al. 2017 §3, 2019 §4.1): the "true" importance of a unit is
 * how much the loss on a fixed batch changes when that unit alone is removed. A criterion is as good as
 * its ranking agrees with the oracle's — Spearman's ρ over the units of one group.
 *
 * Framework-free: the caller injects `lossWithout(unit)` (prune that one unit, evaluate the batch) and
 * the base loss; this module only orders the work, supports cancel, and scores the agreement.
 */
import { sampleRankCorrelation } from 'simple-statistics';
import { Cancelled, type Pause, defaultNow, defaultPause } from './common';

export interface OracleOptions {
  /** Number of units in the group. */
  units: number;
  /** Loss of the unpruned network on the fixed batch. */
  baseLoss: number;
  /** Loss on the same batch with unit `u` alone removed. */
  lossWithout: (unit: number) => Promise<number>;
  signal?: AbortSignal;
  pause?: Pause;
  now?: () => number;
  onProgress?: (done: number, total: number) => void;
}

export interface OracleResult {
  /** Loss increase per unit (may be negative: removing a unit can help). Higher = more important. */
  delta: Float64Array;
  /** Wall time of the whole measurement, ms (the page shows it: "32 units in 1.4 s"). */
  ms: number;
}

export async function measureOracle(o: OracleOptions): Promise<OracleResult> {
  const now = o.now ?? defaultNow;
  const pause = o.pause ?? defaultPause;
  const start = now();
  const delta = new Float64Array(o.units);
  for (let u = 0; u < o.units; u++) {
    if (o.signal?.aborted) throw new Cancelled();
    delta[u] = (await o.lossWithout(u)) - o.baseLoss;
    o.onProgress?.(u + 1, o.units);
    await pause();
  }
  return { delta, ms: now() - start };
}

/**
 * Spearman's ρ between a criterion's scores and the oracle's loss increases (midranks for ties, from
 * simple-statistics). NaN when either side is constant (e.g. a group of one unit): no ranking to compare.
 */
export function spearman(criterion: ArrayLike<number>, oracle: ArrayLike<number>): number {
  if (criterion.length !== oracle.length) throw new RangeError(`${criterion.length} scores against ${oracle.length} oracle values`);
  if (criterion.length < 2) return NaN;
  return sampleRankCorrelation(Array.from(criterion), Array.from(oracle));
}
