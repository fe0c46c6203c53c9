/**
 * torch.nn.utils.prune mask semantics on flat row-major arrays of any layout (pass shape + dim).
 * A mask is a Uint8Array with 1 = kept, 0 = pruned, flat in the weight's own layout.
 *
 * Iterative pruning (torch's PruningContainer): pass the current mask as `prior`. The new amount then
 * applies to the units / entries still unpruned only, and the result is prior × new (masks multiply).
 * Like torch, the ranking reads the current weight (orig × prior); on the units still unpruned that is
 * the original weight, which is what gets ranked.
 */
import { type Amount, pruneCount } from './amount';
import { forEachUnit, keepFlags, lnNorms, magnitudes, normaliseDim, randomScores, sizeOf } from './importance';

export interface StructuredMask {
  mask: Uint8Array;
  /** Units along `dim` that survive, ascending. */
  kept: number[];
}

export type UnstructuredMethod = { kind: 'l1' } | { kind: 'random'; seed: number };

/** torch.nn.utils.prune.ln_structured: prunes whole units along `dim` with the smallest L`p` norm. */
export function lnStructuredMask(
  weight: ArrayLike<number>, shape: readonly number[], dim: number, p: 1 | 2, amount: Amount, prior: Uint8Array | null = null,
): StructuredMask {
  const current = prior ? applyMask(weight, prior) : weight;
  return structured(lnNorms(current, shape, dim, p), shape, dim, amount, prior);
}

/** torch.nn.utils.prune.random_structured: prunes a seeded random choice of units along `dim`. */
export function randomStructuredMask(
  shape: readonly number[], dim: number, amount: Amount, seed: number, prior: Uint8Array | null = null,
): StructuredMask {
  return structured(randomScores(shape[normaliseDim(shape, dim)], seed), shape, dim, amount, prior);
}

/** torch.nn.utils.prune.l1_unstructured: prunes the entries of smallest magnitude. */
export function l1UnstructuredMask(weight: ArrayLike<number>, amount: Amount, prior: Uint8Array | null = null): Uint8Array {
  return globalUnstructuredMasks([weight], amount, { kind: 'l1' }, prior ? [prior] : null)[0];
}

/** torch.nn.utils.prune.random_unstructured: prunes a seeded random choice of entries. */
export function randomUnstructuredMask(size: number, amount: Amount, seed: number, prior: Uint8Array | null = null): Uint8Array {
  return globalUnstructuredMasks([{ length: size }], amount, { kind: 'random', seed }, prior ? [prior] : null)[0];
}

/**
 * torch.nn.utils.prune.global_unstructured: all tensors ranked together, `amount` of their total
 * (still unpruned) entries pruned, one mask back per tensor. Only the lengths of `weights` matter for random.
 */
export function globalUnstructuredMasks(
  weights: readonly ArrayLike<number>[], amount: Amount, method: UnstructuredMethod, priors: readonly (Uint8Array | null)[] | null = null,
): Uint8Array[] {
  const total = weights.reduce((a, w) => a + w.length, 0);
  // Nothing to prune (the slider's default for the linear layer): the masks are the priors, or all ones,
  // without scoring every entry (5 MB of scores for SimpleCNN's fc1 on every preview).
  if (pruneCount(amount, priors ? priors.reduce((a, p, t) => a + (p ? countKept(p) : weights[t].length), 0) : total) === 0)
    return weights.map((w, t) => {
      const prior = priors?.[t];
      if (prior && prior.length !== w.length) throw new RangeError(`prior mask ${t} has ${prior.length} entries, weight has ${w.length}`);
      return prior ? prior.slice() : new Uint8Array(w.length).fill(1);
    });
  const scores = method.kind === 'random' ? randomScores(total, method.seed) : new Float64Array(total);
  const eligible = priors ? new Uint8Array(total) : null;
  let offset = 0;
  weights.forEach((w, t) => {
    if (method.kind === 'l1') scores.set(magnitudes(w), offset);
    if (eligible) {
      const prior = priors?.[t];
      if (prior && prior.length !== w.length) throw new RangeError(`prior mask ${t} has ${prior.length} entries, weight has ${w.length}`);
      if (prior) eligible.set(prior, offset);
      else eligible.fill(1, offset, offset + w.length);
    }
    offset += w.length;
  });
  const eligibleCount = eligible ? countKept(eligible) : total;
  const keep = keepFlags(scores, pruneCount(amount, eligibleCount), eligible);
  const masks: Uint8Array[] = [];
  offset = 0;
  for (const w of weights) {
    masks.push(keep.slice(offset, offset + w.length));
    offset += w.length;
  }
  return masks;
}

/** weight × mask as a new Float32Array (the effective weight torch computes in its forward pre-hook). */
export function applyMask(weight: ArrayLike<number>, mask: Uint8Array): Float32Array {
  if (weight.length !== mask.length) throw new RangeError(`mask has ${mask.length} entries, weight has ${weight.length}`);
  const out = new Float32Array(weight.length);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] ? weight[i] : 0;
  return out;
}

/** Number of ones in a mask. */
export function countKept(mask: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) c += mask[i];
  return c;
}

/** Expands per-unit keep flags along `dim` into a full mask. */
export function unitMask(keepUnit: ArrayLike<number>, shape: readonly number[], dim: number): Uint8Array {
  const mask = new Uint8Array(sizeOf(shape));
  forEachUnit(shape, dim, (i, u) => (mask[i] = keepUnit[u] ? 1 : 0));
  return mask;
}

function structured(
  scores: Float64Array, shape: readonly number[], dim: number, amount: Amount, prior: Uint8Array | null,
): StructuredMask {
  const d = normaliseDim(shape, dim);
  // Units still alive = those with any unpruned entry (torch: mask.sum(other dims) != 0).
  let live: Uint8Array | null = null;
  if (prior) {
    if (prior.length !== sizeOf(shape)) throw new RangeError(`prior mask has ${prior.length} entries, shape [${shape}] needs ${sizeOf(shape)}`);
    const l = new Uint8Array(shape[d]);
    forEachUnit(shape, d, (i, u) => (l[u] |= prior[i]));
    live = l;
  }
  const nLive = live ? countKept(live) : shape[d];
  const keepUnit = keepFlags(scores, pruneCount(amount, nLive), live);
  const mask = unitMask(keepUnit, shape, d);
  if (prior) for (let i = 0; i < mask.length; i++) mask[i] &= prior[i];
  const kept: number[] = [];
  keepUnit.forEach((k, u) => k && kept.push(u));
  return { mask, kept };
}
