/**
 * Global structured ranking: every channel group's units ranked together, so the network decides where
 * to cut (Torch-Pruning's `global_pruning=True`; Molchanov et al. 2017 §2.3).
 *
 * Raw importance is not comparable across groups (a 3→16 stem conv's filters have 27 weights, a 64→64
 * conv's 576), so each group's scores are first divided by their MEAN over the group — Torch-Pruning's
 * default group normaliser: a unit then scores "how important relative to its layer's average", and a
 * uniform network prunes every layer equally. A floor keeps at least `minKeep` of each group (at least one
 * unit), so no layer is ever emptied.
 */
import { fraction, pruneCount } from './amount';

export interface GroupScores {
  id: string;
  /** One importance score per unit of the group (higher = more important). */
  scores: ArrayLike<number>;
}

export interface GlobalRankingOptions {
  /** Fraction of each group that must survive (default 0.1); at least one unit always does. */
  minKeep?: number;
}

export interface GlobalRanking {
  /** Units pruned per group id. */
  counts: Record<string, number>;
  /** Units asked for (torch-rounded fraction of all units) and actually pruned (fewer when the floor binds). */
  requested: number;
  pruned: number;
}

/** Per-group scores divided by their mean (a group of zeros stays zeros); NaN (a diverged model) ranks as +∞, never pruned first. */
export function meanNormalised(scores: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(scores, (x) => (Number.isNaN(x) ? Infinity : x));
  let sum = 0;
  let n = 0;
  for (const x of out)
    if (Number.isFinite(x)) {
      sum += x;
      n++;
    }
  const mean = n > 0 ? sum / n : 0;
  if (mean > 0) for (let i = 0; i < out.length; i++) out[i] /= mean;
  return out;
}

/** Fewest units a group of `units` keeps under the floor. */
export function floorKeep(units: number, minKeep = 0.1): number {
  return Math.min(units, Math.max(1, Math.ceil(minKeep * units - 1e-9)));
}

/**
 * How many units of each group to prune so that `target` (0..1) of all units go, smallest normalised
 * score first. Ties go to the later group, then the higher unit index (as keepFlags does within a layer).
 */
export function rankGlobally(groups: readonly GroupScores[], target: number, o: GlobalRankingOptions = {}): GlobalRanking {
  const minKeep = o.minKeep ?? 0.1;
  if (!(minKeep >= 0 && minKeep <= 1)) throw new RangeError(`minKeep must lie in [0, 1], got ${minKeep}`);
  const ids = new Set<string>();
  const entries: { g: number; u: number; s: number }[] = [];
  groups.forEach((grp, g) => {
    if (ids.has(grp.id)) throw new Error(`group "${grp.id}" listed twice`);
    ids.add(grp.id);
    meanNormalised(grp.scores).forEach((s, u) => entries.push({ g, u, s }));
  });
  const requested = pruneCount(fraction(target), entries.length);
  entries.sort((a, b) => a.s - b.s || b.g - a.g || b.u - a.u);
  const caps = groups.map((grp) => grp.scores.length - floorKeep(grp.scores.length, minKeep));
  const taken = groups.map(() => 0);
  let pruned = 0;
  for (const e of entries) {
    if (pruned === requested) break;
    if (taken[e.g] >= caps[e.g]) continue;
    taken[e.g]++;
    pruned++;
  }
  return { counts: Object.fromEntries(groups.map((grp, g) => [grp.id, taken[g]])), requested, pruned };
}
