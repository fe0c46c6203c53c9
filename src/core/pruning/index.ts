/** Public API of the pruning engine. Everything but applyMasks is framework-free typed-array code. */
export { type Amount, PruneAmountError, count, fraction, pruneCount, roundHalfEven } from './amount';
export { keepFlags, keptUnits, lnNorms, magnitudes, randomScores } from './importance';
export {
  type StructuredMask, type UnstructuredMethod, applyMask, countKept, globalUnstructuredMasks, l1UnstructuredMask,
  lnStructuredMask, randomStructuredMask, randomUnstructuredMask,
} from './masks';
export { convTfToTorch, convTorchToTf, tfToTorch, torchDimToTf, torchShapeToTf, torchToTf, transpose2d } from './layout';
export { type KeptChannels, removeChannels, zeroChannels } from './remove';
export { type Costs, type LayerCosts, countNonzero, measureCosts, previewCosts, prunedFilterCount } from './costs';
export { type GroupInfo, type GroupMember, dependencyGroup, describeGroup, groupById, groupsOf } from './groups';
export { METHODS, MODES, type Method, type Mode, type PruneSettings, unsupported } from './settings';
export { type PruneResult, chooseFilters, prune } from './pruner';
export { applyMasks, createMaskApplier } from './applyMasks';
