/** What the app asks the pruner for. Kept apart from pruner.ts so costs.ts can preview without a cycle. */
export type Method = 'random' | 'l1' | 'l2' | 'bn' | 'manual' | 'taylor' | 'globalStruct';
export type Mode = 'mask' | 'remove' | 'global';

export const METHODS: readonly Method[] = ['random', 'l1', 'l2', 'bn', 'manual', 'taylor', 'globalStruct'];

/**
 * Which training images the Taylor criterion scores on: the first `batch` of the loaded training set
 * shuffled with `seed` (taylorBatchIndices in core/pruning/taylor.ts).
 */
export interface TaylorBatch {
  batch: number;
  seed: number;
}

export const DEFAULT_TAYLOR_BATCH: TaylorBatch = { batch: 64, seed: 0 };

/**
 * Global structured pruning (method 'globalStruct'): the target is the FIRST channel group's amount
 * (the one slider the page shows, as in global mode); every group keeps at least this fraction.
 */
export const GLOBAL_STRUCT_MIN_KEEP = 0.1;

export const MODES: readonly Mode[] = ['mask', 'remove', 'global'];

export interface PruneSettings {
  method: Method;
  mode: Mode;
  /**
   * Fraction 0..1 per prunable layer, by name (a missing layer is not pruned). A conv layer's amount is
   * the fraction of its filters (mask / remove); the linear layer's is the fraction of its weights (of
   * those left after removal), always unstructured. In global mode the first conv layer's amount is the
   * fraction of ALL conv weights, ranked together (torch's global_unstructured).
   */
  amounts: Record<string, number>;
  /** method 'manual': the filters pruned by hand, per conv layer (baseline indices). */
  manual?: Record<string, number[]>;
  seed: number;
  /** method 'taylor': the batch of training images the scores come from (default DEFAULT_TAYLOR_BATCH). */
  taylor?: TaylorBatch;
}

/** Why a method cannot run on a model in a mode, or null when it can. The page uses it to disable choices. */
export function unsupported(method: Method, mode: Mode, hasBatchNorm: boolean): string | null {
  if (method === 'bn' && !hasBatchNorm) return 'BatchNorm γ needs a model with BatchNorm layers.';
  if (method === 'bn' && mode === 'global') return 'BatchNorm γ ranks whole channels; global mode prunes single weights.';
  if (method === 'manual' && mode === 'global') return 'Hand-picked filters are structured; global mode prunes single weights.';
  if ((method === 'taylor' || method === 'globalStruct') && mode === 'global')
    return `${method === 'taylor' ? 'Taylor' : 'Global structured'} ranks whole channels; global mode prunes single weights.`;
  return null;
}
