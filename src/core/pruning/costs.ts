/**
 * Parameter, MAC and size figures for SimpleCNN with k conv1 filters:
 *   params = 3·3·3·k + k (conv1) + 1024·k·10 + 10 (fc1) = 10,268·k + 10
 *   MACs per image = 27·k·1024 (conv1: every weight at all 32×32 output positions) + 1024·k·10 (fc1) = 37,888·k
 * Nonzero MACs follow ShrinkBench: a layer costs (nonzero kernel weights) × (output positions); biases
 * are additions, not MACs. Size assumes float32 stored densely: a masked model keeps its zeros, so it is
 * as large as the unpruned one; only removal shrinks the file.
 */
import { FULL_FILTERS, IMAGE_CHANNELS, IMAGE_SIZE, KERNEL_SIZE, NUM_CLASSES, type SimpleCnnWeights } from '../model/architecture';
import { fraction, pruneCount } from './amount';
import type { PruneSettings } from './settings';

const PIXELS = IMAGE_SIZE * IMAGE_SIZE; // conv1 output positions ('same' padding, stride 1)
const TAPS = KERNEL_SIZE * KERNEL_SIZE * IMAGE_CHANNELS; // conv1 weights per filter
const BYTES_PER_PARAM = 4;

export interface LayerCosts {
  params: number; // kernel + bias
  nonzeroParams: number;
  weights: number; // kernel entries only
  nonzeroWeights: number;
  macs: number; // dense, per image
  nonzeroMacs: number; // ShrinkBench: nonzero kernel entries × output positions
}

export interface Costs {
  filters: number; // conv1 filters physically present
  params: number;
  nonzeroParams: number;
  /** What the article's `parameters_to_vector(model.parameters()).nonzero()` reports: torch's parameters are weight_orig, so masking never lowers it. */
  articlePrints: number;
  macs: number;
  nonzeroMacs: number;
  sizeBytes: number;
  layers: { conv1: LayerCosts; fc1: LayerCosts };
}

export const paramsFor = (k: number): number => 10_268 * k + 10;
export const macsFor = (k: number): number => 37_888 * k;

export function countNonzero(a: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) c++;
  return c;
}

/** Figures counted on actual weights. `unmasked` = the same architecture before masks (torch's weight_orig). */
export function measureCosts(effective: SimpleCnnWeights, unmasked: SimpleCnnWeights = effective): Costs {
  return assemble(
    effective.filters,
    { weights: countNonzero(effective.conv1Kernel), bias: countNonzero(effective.conv1Bias) },
    { weights: countNonzero(effective.fc1Kernel), bias: countNonzero(effective.fc1Bias) },
    countNonzero(unmasked.conv1Kernel) + countNonzero(unmasked.conv1Bias) + countNonzero(unmasked.fc1Kernel) + countNonzero(unmasked.fc1Bias),
  );
}

/**
 * The same figures from the settings alone (pure arithmetic, for every slider move). Equals measureCosts on
 * the real prune() result whenever the baseline has no weights that are exactly zero (true of any trained or
 * freshly initialised float model in practice).
 */
export function previewCosts(s: PruneSettings, filters = FULL_FILTERS): Costs {
  const k = filters;
  let arch = k; // filters present after pruning
  let conv1Weights = TAPS * k; // nonzero conv1 kernel entries
  let conv1Bias = k; // the bias is never masked, only removed
  if (s.mode === 'global') conv1Weights -= pruneCount(fraction(s.conv1), TAPS * k);
  else {
    const kept = k - pruneCount(fraction(s.conv1), k);
    conv1Weights = TAPS * kept;
    if (s.mode === 'remove') arch = conv1Bias = kept;
  }
  const fc1Size = PIXELS * arch * NUM_CLASSES;
  const fc1Weights = fc1Size - pruneCount(fraction(s.fc1), fc1Size);
  return assemble(arch, { weights: conv1Weights, bias: conv1Bias }, { weights: fc1Weights, bias: NUM_CLASSES }, paramsFor(arch));
}

function assemble(k: number, conv1: { weights: number; bias: number }, fc1: { weights: number; bias: number }, articlePrints: number): Costs {
  const c1 = layer(TAPS * k, k, conv1, PIXELS);
  const f1 = layer(PIXELS * k * NUM_CLASSES, NUM_CLASSES, fc1, 1);
  const params = c1.params + f1.params;
  return {
    filters: k,
    params,
    nonzeroParams: c1.nonzeroParams + f1.nonzeroParams,
    articlePrints,
    macs: c1.macs + f1.macs,
    nonzeroMacs: c1.nonzeroMacs + f1.nonzeroMacs,
    sizeBytes: params * BYTES_PER_PARAM,
    layers: { conv1: c1, fc1: f1 },
  };
}

function layer(weights: number, bias: number, nonzero: { weights: number; bias: number }, positions: number): LayerCosts {
  return {
    params: weights + bias,
    nonzeroParams: nonzero.weights + nonzero.bias,
    weights,
    nonzeroWeights: nonzero.weights,
    macs: weights * positions,
    nonzeroMacs: nonzero.weights * positions,
  };
}
