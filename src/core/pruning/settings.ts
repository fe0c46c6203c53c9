/** What the app asks the pruner for. Kept apart from pruner.ts so costs.ts can preview without a cycle. */
export type Method = 'random' | 'l1' | 'l2' | 'bn' | 'manual';
export type Mode = 'mask' | 'remove' | 'global';

export const METHODS: readonly Method[] = ['random', 'l1', 'l2', 'bn', 'manual'];
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
}

/** Why a method cannot run on a model in a mode, or null when it can. The page uses it to disable choices. */
export function unsupported(method: Method, mode: Mode, hasBatchNorm: boolean): string | null {
  if (method === 'bn' && !hasBatchNorm) return 'BatchNorm γ needs a model with BatchNorm layers.';
  if (method === 'bn' && mode === 'global') return 'BatchNorm γ ranks whole channels; global mode prunes single weights.';
  if (method === 'manual' && mode === 'global') return 'Hand-picked filters are structured; global mode prunes single weights.';
  return null;
}
