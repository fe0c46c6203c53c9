/**
 * The one entry point the app calls: baseline weights + settings → effective weights, masks and costs.
 *
 * mask   = torch.nn.utils.prune.ln_structured / random_structured on conv1 (dim 0 in torch = output
 *          filters, the last axis in tfjs). Only the kernel is masked, NOT the bias — exactly as torch:
 *          a "pruned" filter still emits relu(bias) everywhere, and fc1 still reads it. Teaching point.
 * remove = the same filter choice, then the filters (kernel, bias and their fc1 rows) are physically gone.
 * global = the article's prune.global_unstructured([(conv1, 'weight')], …, amount): single conv1 weights.
 * In every mode fc1 (its outputs are the 10 classes: never structurally pruned) gets an unstructured mask.
 */
import { deriveSeed } from '../random';
import { shapes, type SimpleCnnWeights } from '../model/architecture';
import { fraction } from './amount';
import { measureCosts, type Costs } from './costs';
import { applyMask, countKept, l1UnstructuredMask, lnStructuredMask, randomStructuredMask, randomUnstructuredMask } from './masks';
import { removeConv1Filters } from './remove';
import type { PruneSettings } from './settings';

export type { Method, Mode, PruneSettings } from './settings';

export interface PruneMasks {
  /** tfjs layout of the result's weights, 1 = kept; null = nothing masked in that layer. */
  conv1Kernel: Uint8Array | null;
  fc1Kernel: Uint8Array | null;
}

export interface PruneResult {
  /** Effective weights: masked, or the smaller model in remove mode. Fresh arrays, never the baseline's. */
  weights: SimpleCnnWeights;
  /** Keep pruned weights at zero while fine-tuning (see applyMasks). */
  masks: PruneMasks;
  /** Baseline filter indices that survive / were pruned (global: a filter counts as pruned only when all its weights are). */
  keptFilters: number[];
  prunedFilters: number[];
  costs: Costs;
}

const FILTER_AXIS = 3; // conv1 kernel [kh, kw, in, out]: torch's dim 0

export function prune(baseline: SimpleCnnWeights, s: PruneSettings): PruneResult {
  const k = baseline.filters;
  const convShape = shapes(k).conv1Kernel;
  const conv1Seed = deriveSeed(s.seed, 'prune.conv1');
  let conv1Mask: Uint8Array | null = null;
  let keptFilters: number[];
  let unmasked: SimpleCnnWeights; // the architecture we end with, before masks (torch's weight_orig)

  if (s.mode === 'global') {
    conv1Mask =
      s.method === 'random'
        ? randomUnstructuredMask(baseline.conv1Kernel.length, fraction(s.conv1), conv1Seed)
        : l1UnstructuredMask(baseline.conv1Kernel, fraction(s.conv1)); // l2 of a single weight ranks as |w|
    keptFilters = filtersWithAnyWeight(conv1Mask, k);
    unmasked = baseline;
  } else {
    const chosen =
      s.method === 'random'
        ? randomStructuredMask(convShape, FILTER_AXIS, fraction(s.conv1), conv1Seed)
        : lnStructuredMask(baseline.conv1Kernel, convShape, FILTER_AXIS, s.method === 'l1' ? 1 : 2, fraction(s.conv1));
    keptFilters = chosen.kept;
    if (s.mode === 'mask') {
      conv1Mask = chosen.mask;
      unmasked = baseline;
    } else unmasked = removeConv1Filters(baseline, keptFilters);
  }

  const fc1Mask =
    s.method === 'random'
      ? randomUnstructuredMask(unmasked.fc1Kernel.length, fraction(s.fc1), deriveSeed(s.seed, 'prune.fc1'))
      : l1UnstructuredMask(unmasked.fc1Kernel, fraction(s.fc1));

  const masks: PruneMasks = { conv1Kernel: nullIfFull(conv1Mask), fc1Kernel: nullIfFull(fc1Mask) };
  const weights: SimpleCnnWeights = {
    filters: unmasked.filters,
    conv1Kernel: masks.conv1Kernel ? applyMask(unmasked.conv1Kernel, masks.conv1Kernel) : unmasked.conv1Kernel.slice(),
    conv1Bias: unmasked.conv1Bias.slice(), // torch masks weight only
    fc1Kernel: masks.fc1Kernel ? applyMask(unmasked.fc1Kernel, masks.fc1Kernel) : unmasked.fc1Kernel.slice(),
    fc1Bias: unmasked.fc1Bias.slice(),
  };
  const keep = new Set(keptFilters);
  const prunedFilters = Array.from({ length: k }, (_, c) => c).filter((c) => !keep.has(c));
  return { weights, masks, keptFilters, prunedFilters, costs: measureCosts(weights, unmasked) };
}

function nullIfFull(mask: Uint8Array | null): Uint8Array | null {
  return mask && countKept(mask) < mask.length ? mask : null;
}

/** Filters (last axis of a [.., k] layout) with at least one unmasked weight. */
function filtersWithAnyWeight(mask: Uint8Array, k: number): number[] {
  const any = new Uint8Array(k);
  for (let i = 0; i < mask.length; i++) any[i % k] |= mask[i];
  const out: number[] = [];
  any.forEach((a, c) => a && out.push(c));
  return out;
}
