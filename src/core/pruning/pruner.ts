/**
 * The one entry point the app calls: a network description, baseline weights and settings → effective
 * weights, masks, kept filters and costs. Every filter choice ranks the BASELINE's weights, layer by
 * layer, so the choice in one layer never depends on another's (and the PyTorch export can repeat it).
 *
 * mask   = torch.nn.utils.prune.ln_structured / random_structured on each conv weight (dim 0 in torch =
 *          output filters, the last axis in tfjs). Only the weight is masked — exactly as torch: a masked
 *          filter's bias, or its BatchNorm β, still reaches the next layer. Teaching point.
 * remove = the same filter choice, then each filter's whole dependency group is physically gone (remove.ts).
 * global = the article's prune.global_unstructured over every conv weight: single weights, ranked together.
 * The linear layer (its outputs are the classes: never structurally pruned) gets an unstructured mask
 * in every mode.
 */
import { type ConvInfo, type NetSpec, type NetWeights, checkWeights, geometry, hasBatchNorm, tensors } from '../model/spec';
import { deriveSeed } from '../random';
import { fraction } from './amount';
import { type Costs, measureCosts, prunedFilterCount } from './costs';
import { keptUnits, lnNorms, randomScores } from './importance';
import { applyMask, countKept, globalUnstructuredMasks, l1UnstructuredMask, randomUnstructuredMask, unitMask } from './masks';
import { type KeptChannels, range, removeChannels } from './remove';
import { type PruneSettings, unsupported } from './settings';

export type { Method, Mode, PruneSettings } from './settings';

export interface PruneResult {
  /** Effective weights: masked, or the smaller network in remove mode. Fresh arrays, never the baseline's. */
  weights: NetWeights;
  /** Masks by tensor name in the result's layout, 1 = kept; only tensors with something masked. Re-applied after every fine-tuning step. */
  masks: Record<string, Uint8Array>;
  /** Baseline filter indices per conv layer that survive / were pruned (global: a filter counts as pruned only when all its weights are). */
  kept: Record<string, number[]>;
  pruned: Record<string, number[]>;
  costs: Costs;
}

const FILTER_AXIS = 3; // conv kernel [kh, kw, in, out]: torch's dim 0

export function prune(spec: NetSpec, baseline: NetWeights, s: PruneSettings): PruneResult {
  checkWeights(spec, baseline);
  const why = unsupported(s.method, s.mode, hasBatchNorm(spec));
  if (why) throw new Error(why);
  const g = geometry(spec, baseline.channels);
  const masks: Record<string, Uint8Array> = {};
  let kept: KeptChannels;
  let unmasked = baseline; // the architecture we end with, before masks (torch's weight_orig)

  if (s.mode === 'global') {
    const names = g.convs.map((c) => `${c.name}.weight`);
    const first = g.convs[0]?.name ?? '';
    const amount = fraction(s.amounts[first] ?? 0);
    const ms =
      s.method === 'random'
        ? globalUnstructuredMasks(names.map((n) => baseline.tensors[n]), amount, { kind: 'random', seed: deriveSeed(s.seed, `prune.${first}`) })
        : globalUnstructuredMasks(names.map((n) => baseline.tensors[n]), amount, { kind: 'l1' }); // L2 of one weight ranks as |w|
    names.forEach((n, i) => (masks[n] = ms[i]));
    kept = Object.fromEntries(g.convs.map((c, i) => [c.name, filtersWithAnyWeight(ms[i], c.outChannels)]));
  } else {
    kept = Object.fromEntries(g.convs.map((c) => [c.name, chooseFilters(c, baseline, s)]));
    if (s.mode === 'mask')
      for (const c of g.convs) {
        const keep = new Uint8Array(c.outChannels);
        for (const j of kept[c.name]) keep[j] = 1;
        masks[`${c.name}.weight`] = unitMask(keep, [c.kernel, c.kernel, c.inChannels, c.outChannels], FILTER_AXIS);
      }
    else unmasked = removeChannels(spec, baseline, kept);
  }

  const fc = `${g.linear.name}.weight`;
  const fcAmount = fraction(s.amounts[g.linear.name] ?? 0);
  masks[fc] =
    s.method === 'random'
      ? randomUnstructuredMask(unmasked.tensors[fc].length, fcAmount, deriveSeed(s.seed, `prune.${g.linear.name}`))
      : l1UnstructuredMask(unmasked.tensors[fc], fcAmount);

  for (const [n, m] of Object.entries(masks)) if (countKept(m) === m.length) delete masks[n];
  const weights: NetWeights = {
    model: unmasked.model,
    channels: [...unmasked.channels],
    tensors: Object.fromEntries(
      tensors(spec, unmasked.channels).map((t) => {
        const a = unmasked.tensors[t.name];
        return [t.name, masks[t.name] ? applyMask(a, masks[t.name]) : a.slice()];
      }),
    ),
  };
  const keptLists = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, [...v]]));
  const pruned = Object.fromEntries(g.convs.map((c) => [c.name, range(c.outChannels).filter((j) => !kept[c.name].includes(j))]));
  return { weights, masks, kept: keptLists, pruned, costs: measureCosts(spec, weights, unmasked) };
}

/**
 * The filters of one conv layer that survive, ranked on the baseline: L1 / L2 norm of each filter (torch's
 * ln_structured), seeded random scores (random_structured), |γ| of its BatchNorm channel (Network
 * Slimming), or the user's own picks. Smallest scores are pruned; ties keep the lower index.
 */
export function chooseFilters(c: ConvInfo, baseline: NetWeights, s: PruneSettings): number[] {
  const n = c.outChannels;
  const nPrune = prunedFilterCount(s, c.name, n);
  switch (s.method) {
    case 'manual': {
      const out = new Set(s.manual?.[c.name] ?? []);
      return range(n).filter((j) => !out.has(j));
    }
    case 'random':
      return keptUnits(randomScores(n, deriveSeed(s.seed, `prune.${c.name}`)), nPrune);
    case 'bn': {
      if (!c.batchNorm) throw new Error(`${c.name} has no BatchNorm to rank by γ`);
      const gamma = baseline.tensors[`${c.batchNorm}.weight`];
      return keptUnits(Float64Array.from(gamma, Math.abs), nPrune);
    }
    default: {
      const shape = [c.kernel, c.kernel, c.inChannels, n];
      return keptUnits(lnNorms(baseline.tensors[`${c.name}.weight`], shape, FILTER_AXIS, s.method === 'l1' ? 1 : 2), nPrune);
    }
  }
}

/** Filters (last axis of a [.., k] layout) with at least one unmasked weight. */
function filtersWithAnyWeight(mask: Uint8Array, k: number): number[] {
  const any = new Uint8Array(k);
  for (let i = 0; i < mask.length; i++) any[i % k] |= mask[i];
  return range(k).filter((c) => any[c]);
}
