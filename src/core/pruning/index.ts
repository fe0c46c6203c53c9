/** Public API of the pruning engine. Everything but applyMasks is framework-free typed-array code. */
export { type Amount, PruneAmountError, count, fraction, pruneCount, roundHalfEven } from './amount';
export { keepFlags, keptUnits, lnNorms, magnitudes, randomScores } from './importance';
export {
  type StructuredMask, type UnstructuredMethod, applyMask, countKept, globalUnstructuredMasks, l1UnstructuredMask,
  lnStructuredMask, randomStructuredMask, randomUnstructuredMask,
} from './masks';
export { convTfToTorch, convTorchToTf, tfToTorch, torchDimToTf, torchShapeToTf, torchToTf, transpose2d } from './layout';
export { removeConv1Filters, zeroConv1Filters } from './remove';
export { type Costs, type LayerCosts, countNonzero, macsFor, measureCosts, paramsFor, previewCosts } from './costs';
export { type Method, type Mode, type PruneMasks, type PruneResult, type PruneSettings, prune } from './pruner';
export { applyMasks, createMaskApplier } from './applyMasks';
