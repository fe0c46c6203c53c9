/**
 * Importance scores and "which units survive". Pure typed-array code, any tensor rank.
 * Rule everywhere: prune the smallest scores; among equal scores prune the higher index
 * (equivalently: keep the largest, ties keep the lower index), so results never depend on sort stability.
 */
import { mulberry32 } from '../random';

/** Product of a shape's dims. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Validates `dim` against `shape` (negative dims count from the end, as in torch) and returns it normalised. */
export function normaliseDim(shape: readonly number[], dim: number): number {
  const d = dim < 0 ? shape.length + dim : dim;
  if (!Number.isInteger(d) || d < 0 || d >= shape.length) throw new RangeError(`dim ${dim} out of range for shape [${shape}]`);
  return d;
}

/**
 * Visits every flat index with its unit index along `dim`. Row-major: index = (outer·dimSize + unit)·inner + j.
 * Shared by the norm computation and mask expansion so the two can never disagree on layout.
 */
export function forEachUnit(shape: readonly number[], dim: number, fn: (flat: number, unit: number) => void): void {
  const d = normaliseDim(shape, dim);
  const dimSize = shape[d];
  const inner = sizeOf(shape.slice(d + 1));
  const outer = sizeOf(shape.slice(0, d));
  let flat = 0;
  for (let o = 0; o < outer; o++)
    for (let u = 0; u < dimSize; u++) for (let j = 0; j < inner; j++) fn(flat++, u);
}

/** L_p norm (p = 1 or 2) of each unit along `dim`, taken over all other axes — what torch's ln_structured ranks by. */
export function lnNorms(weight: ArrayLike<number>, shape: readonly number[], dim: number, p: 1 | 2): Float64Array {
  if (weight.length !== sizeOf(shape)) throw new RangeError(`weight has ${weight.length} entries, shape [${shape}] needs ${sizeOf(shape)}`);
  const d = normaliseDim(shape, dim);
  const acc = new Float64Array(shape[d]);
  forEachUnit(shape, d, (i, u) => {
    const x = weight[i];
    acc[u] += p === 1 ? Math.abs(x) : x * x;
  });
  if (p === 2) for (let u = 0; u < acc.length; u++) acc[u] = Math.sqrt(acc[u]);
  return acc;
}

/** |w| per entry: the L1 (and L2) importance of single weights. */
export function magnitudes(weight: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weight.length);
  for (let i = 0; i < weight.length; i++) out[i] = Math.abs(weight[i]);
  return out;
}

/** Seeded uniform scores in [0, 1): ranking by them is a seeded random choice (like torch's rand + topk). */
export function randomScores(n: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rand();
  return out;
}

/**
 * Keep flags: prunes the `nPrune` smallest scores among the eligible entries (eligible[i] = 1; all when null).
 * Ineligible entries (already pruned) come back 0. O(n) via quickselect: no full sort on the 655k-entry fc1.
 */
export function keepFlags(scores: ArrayLike<number>, nPrune: number, eligible: Uint8Array | null = null): Uint8Array {
  const n = scores.length;
  const keep = new Uint8Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) if (!eligible || eligible[i]) m++;
  if (!Number.isInteger(nPrune) || nPrune < 0 || nPrune > m) throw new RangeError(`cannot prune ${nPrune} of ${m} eligible units`);
  if (nPrune === 0) {
    for (let i = 0; i < n; i++) keep[i] = !eligible || eligible[i] ? 1 : 0;
    return keep;
  }
  // A diverged model can score NaN. torch's topk ranks NaN above every number, so NaN units are kept
  // first; reading NaN as +∞ does the same and keeps the count exact (a raw NaN compares false with
  // everything and would be pruned on top of the nPrune chosen).
  const score = (i: number) => (Number.isNaN(scores[i]) ? Infinity : scores[i]);
  const vals = new Float64Array(m);
  for (let i = 0, j = 0; i < n; i++) if (!eligible || eligible[i]) vals[j++] = score(i);
  const t = kthSmallest(vals, nPrune - 1);
  let below = 0;
  for (let j = 0; j < m; j++) if (vals[j] < t) below++;
  let tiesToPrune = nPrune - below; // ≥ 1: prune these among scores equal to t, highest indices first
  for (let i = n - 1; i >= 0; i--) {
    if (eligible && !eligible[i]) continue;
    const s = score(i);
    if (s > t) keep[i] = 1;
    else if (s === t) {
      if (tiesToPrune > 0) tiesToPrune--;
      else keep[i] = 1;
    }
  }
  return keep;
}

/** Indices (ascending) of the units that survive pruning `nPrune` of them. */
export function keptUnits(scores: ArrayLike<number>, nPrune: number, eligible: Uint8Array | null = null): number[] {
  const keep = keepFlags(scores, nPrune, eligible);
  const out: number[] = [];
  for (let i = 0; i < keep.length; i++) if (keep[i]) out.push(i);
  return out;
}

/** k-th smallest (0-based) value; reorders `a` in place (Hoare quickselect, median-of-three pivot). */
function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const x = a[lo], y = a[(lo + hi) >>> 1], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i++] = a[j];
        a[j--] = tmp;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]; // between j and i everything equals the pivot
  }
  return a[k];
}
