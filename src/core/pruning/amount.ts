/**
 * How much to prune, and how torch turns that into a count.
 * Mirrors torch.nn.utils.prune's `_validate_pruning_amount_init`, `_validate_pruning_amount`
 * and `_compute_nparams_toprune`, so the playground prunes exactly as many units as PyTorch would.
 */

/** A fraction of the units in [0, 1], or an absolute number of units (torch's float vs int amount). */
export type Amount = { kind: 'fraction'; value: number } | { kind: 'count'; value: number };

export const fraction = (value: number): Amount => ({ kind: 'fraction', value });
export const count = (value: number): Amount => ({ kind: 'count', value });

/** An amount torch would reject (it raises ValueError / TypeError). */
export class PruneAmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PruneAmountError';
  }
}

/** Python 3's round(): nearest integer, exact halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f; // exact for |x| < 2^52
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Number of units to prune out of `n`. Throws PruneAmountError for anything torch would refuse. */
export function pruneCount(amount: Amount, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new PruneAmountError(`size must be a non-negative integer, got ${n}`);
  const v = amount.value;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new PruneAmountError(`amount must be a number, got ${String(v)}`);
  if (amount.kind === 'fraction') {
    if (v < 0 || v > 1) throw new PruneAmountError(`a fractional amount must lie in [0, 1], got ${v}`);
    // float64 product then Python rounding, as torch's round(amount * tensor_size): 0.5·5 → 2, 0.35·10 → 4.
    return roundHalfEven(v * n);
  }
  if (!Number.isInteger(v)) throw new PruneAmountError(`a count must be an integer, got ${v}`);
  if (v < 0) throw new PruneAmountError(`a count must not be negative, got ${v}`);
  if (v > n) throw new PruneAmountError(`cannot prune ${v} units: only ${n} to prune from`);
  return v;
}
