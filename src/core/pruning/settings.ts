/** What the app asks the pruner for. Kept apart from pruner.ts so costs.ts can preview without a cycle. */
export type Method = 'random' | 'l1' | 'l2';
export type Mode = 'mask' | 'remove' | 'global';

export interface PruneSettings {
  method: Method;
  mode: Mode;
  /** Fraction 0..1 of conv1 filters (mask / remove) or of conv1 weights (global). */
  conv1: number;
  /** Fraction 0..1 of fc1 weights (of those left after removal), always unstructured. */
  fc1: number;
  seed: number;
}
