/**
 * The one entry point the app calls: a network description, baseline weights and settings → effective
 * weights, masks, kept filters and costs. Every filter choice ranks the BASELINE's weights, group by
 * group (a chain model's group is one conv layer), so the choice in one group never depends on another's
 * (and the PyTorch export can repeat it).
 *
 * mask   = torch.nn.utils.prune.ln_structured / random_structured on each conv weight (of a coupled
 *          group: the same units masked in every conv writing into it) (dim 0 in torch =
 *          output filters, the last axis in tfjs). Only the weight is masked — exactly as torch: a masked
 *          filter's bias, or its BatchNorm β, still reaches the next layer. Teaching point.
 * remove = the same filter choice, then each filter's whole dependency group is physically gone (remove.ts).
 * global = the article's prune.global_unstructured over every conv weight: single weights, ranked together.
 * The linear layer (its outputs are the classes: never structurally pruned) gets an unstructured mask
 * in every mode.
 */
import { type ChannelGroup, type ConvNode, shapes, structure } from '../model/graph';
import { type ModelSpec, type NetWeights, checkWeights, hasBatchNorm, tensors } from '../model/spec';
import { deriveSeed } from '../random';
import { fraction } from './amount';
import { type Costs, measureCosts, prunedFilterCount } from './costs';
import { rankGlobally } from './globalRanking';
import { keptUnits, lnNorms, randomScores } from './importance';
import { applyMask, countKept, globalUnstructuredMasks, l1UnstructuredMask, randomUnstructuredMask, unitMask } from './masks';
import { type KeptChannels, range, removeChannels } from './remove';
import { GLOBAL_STRUCT_MIN_KEEP, type PruneSettings, unsupported } from './settings';

export type { Method, Mode, PruneSettings } from './settings';

export interface PruneResult {
  /** Effective weights: masked, or the smaller network in remove mode. Fresh arrays, never the baseline's. */
  weights: NetWeights;
  /** Masks by tensor name in the result's layout, 1 = kept; only tensors with something masked. Re-applied after every fine-tuning step. */
  masks: Record<string, Uint8Array>;
  /**
   * Baseline unit indices per channel group id (a chain model's: per conv layer) that survive / were
   * pruned (global: a unit counts as pruned only when all its producers' weights are).
   */
  kept: Record<string, number[]>;
  pruned: Record<string, number[]>;
  costs: Costs;
  /** method 'globalStruct': what the global ranking asked for and got (fewer when the floor binds). */
  global?: { requested: number; pruned: number };
}

/**
 * Importance that needs data, computed by the engine and handed in: per channel group id, one score
 * per unit (higher = more important). Method 'taylor' ranks by `taylor` (core/model/gated.ts).
 */
export interface PruneScores {
  taylor?: Record<string, ArrayLike<number>>;
}

const FILTER_AXIS = 3; // conv kernel [kh, kw, in, out]: torch's dim 0

/**
 * `s.amounts` and `s.manual` are keyed by channel group id (groupsOf(spec)); a chain model's groups are
 * its conv layers (conv1, conv2, …), and the linear layer's name keys its unstructured amount.
 */
export function prune(spec: ModelSpec, baseline: NetWeights, s: PruneSettings, scores: PruneScores = {}): PruneResult {
  checkWeights(spec, baseline);
  const why = unsupported(s.method, s.mode, hasBatchNorm(spec));
  if (why) throw new Error(why);
  const st = structure(spec);
  const sh = shapes(st, baseline.channels);
  const convs = st.nodes.filter((n): n is ConvNode => n.op === 'conv');
  const masks: Record<string, Uint8Array> = {};
  let kept: KeptChannels;
  let unmasked = baseline; // the architecture we end with, before masks (torch's weight_orig)
  let global: PruneResult['global'];

  if (s.mode === 'global') {
    const names = convs.map((c) => `${c.name}.weight`);
    const first = st.groups[0]?.id ?? '';
    const amount = fraction(s.amounts[first] ?? 0);
    const ms =
      s.method === 'random'
        ? globalUnstructuredMasks(names.map((n) => baseline.tensors[n]), amount, { kind: 'random', seed: deriveSeed(s.seed, `prune.${first}`) })
        : globalUnstructuredMasks(names.map((n) => baseline.tensors[n]), amount, { kind: 'l1' }); // L2 of one weight ranks as |w|
    names.forEach((n, i) => (masks[n] = ms[i]));
    kept = Object.fromEntries(
      st.groups.map((g, gi) => {
        const any = new Uint8Array(baseline.channels[gi]);
        for (const p of g.producers) filtersWithAnyWeight(masks[`${p}.weight`], any);
        return [g.id, range(any.length).filter((j) => any[j])];
      }),
    );
  } else {
    if (s.method === 'globalStruct') {
      // One target over every group's units, ranked after each group's mean normalisation, with a floor.
      const ranked = st.groups.map((g, gi) => ({ id: g.id, scores: unitScores(spec, g, baseline, 'l1', baseline.channels[gi]) }));
      const target = fraction(s.amounts[st.groups[0]?.id ?? ''] ?? 0).value;
      const r = rankGlobally(ranked, target, { minKeep: GLOBAL_STRUCT_MIN_KEEP });
      global = { requested: r.requested, pruned: r.pruned };
      kept = Object.fromEntries(ranked.map((g) => [g.id, keptUnits(g.scores, r.counts[g.id])]));
    } else kept = Object.fromEntries(st.groups.map((g, gi) => [g.id, chooseFilters(spec, g, baseline, s, baseline.channels[gi], scores)]));
    if (s.mode === 'mask')
      st.groups.forEach((g, gi) => {
        const keep = new Uint8Array(baseline.channels[gi]);
        for (const j of kept[g.id]) keep[j] = 1;
        for (const p of g.producers) {
          const c = sh.get(p)!;
          const k = (st.byName.get(p)!.node as ConvNode).kernel;
          masks[`${p}.weight`] = unitMask(keep, [k, k, c.inChannels, c.channels], FILTER_AXIS);
        }
      });
    else unmasked = removeChannels(spec, baseline, kept);
  }

  const lin = st.output.name;
  const fc = `${lin}.weight`;
  const fcAmount = fraction(s.amounts[lin] ?? 0);
  masks[fc] =
    s.method === 'random'
      ? randomUnstructuredMask(unmasked.tensors[fc].length, fcAmount, deriveSeed(s.seed, `prune.${lin}`))
      : l1UnstructuredMask(unmasked.tensors[fc], fcAmount);

  for (const [n, m] of Object.entries(masks)) if (countKept(m) === m.length) delete masks[n];
  const weights: NetWeights = {
    model: unmasked.model,
    channels: [...unmasked.channels],
    tensors: Object.fromEntries(
      tensors(spec, unmasked.channels).map((t) => {
        const a = unmasked.tensors[t.name];
        // remove mode's arrays are removeChannels' fresh ones already: no second copy of the 655k-entry fc1.
        return [t.name, masks[t.name] ? applyMask(a, masks[t.name]) : unmasked === baseline ? a.slice() : a];
      }),
    ),
  };
  const keptLists = Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, [...v]]));
  const pruned = Object.fromEntries(st.groups.map((g, gi) => [g.id, range(baseline.channels[gi]).filter((j) => !kept[g.id].includes(j))]));
  return { weights, masks, kept: keptLists, pruned, costs: measureCosts(spec, weights, unmasked), ...(global ? { global } : {}) };
}

/**
 * The units of one channel group that survive, ranked on the baseline: the L1 / L2 norm of each unit's
 * filters (for a chain model one conv: torch's ln_structured), seeded random scores (random_structured),
 * |γ| of its BatchNorm channels (Network Slimming), or the user's own picks. Smallest scores are pruned;
 * ties keep the lower index.
 *
 * A coupled group (a residual stream) is scored from all its members, as Torch-Pruning's group
 * importance: the SUM over the convs writing into it of each filter's norm (and the sum of |γ| over its
 * BatchNorms). Sum, not e.g. the max, because every member's filters feed the same channel and its
 * BatchNorm puts them on comparable scales, so each contributes in proportion to what it adds to the
 * stream; Torch-Pruning's default group reduction is the mean, which ranks exactly as the sum (same
 * member count for every unit). The consumers' input channels are not scored, so a chain model's
 * ranking stays torch's ln_structured on the conv's own filters (the PyTorch export repeats it).
 */
export function chooseFilters(spec: ModelSpec, g: ChannelGroup, baseline: NetWeights, s: PruneSettings, units = g.units, scores: PruneScores = {}): number[] {
  const nPrune = prunedFilterCount(s, g.id, units);
  switch (s.method) {
    case 'manual': {
      const out = new Set(s.manual?.[g.id] ?? []);
      return range(units).filter((j) => !out.has(j));
    }
    case 'random':
      return keptUnits(randomScores(units, deriveSeed(s.seed, `prune.${g.id}`)), nPrune);
    case 'taylor': {
      const t = scores.taylor?.[g.id];
      if (!t) throw new Error(`Taylor scores need a batch of training data: none were computed for ${g.label}`);
      if (t.length !== units) throw new RangeError(`${g.label}: ${t.length} Taylor scores for ${units} units`);
      return keptUnits(t, nPrune);
    }
    default:
      return keptUnits(unitScores(spec, g, baseline, s.method === 'l2' ? 'l2' : s.method === 'bn' ? 'bn' : 'l1', units), nPrune);
  }
}

/**
 * A group's data-free unit scores: the sum over its producers of each filter's L1 / L2 norm, or the
 * sum of |γ| over its BatchNorms.
 */
export function unitScores(spec: ModelSpec, g: ChannelGroup, baseline: NetWeights, kind: 'l1' | 'l2' | 'bn', units = g.units): Float64Array {
  const score = new Float64Array(units);
  if (kind === 'bn') {
    if (!g.batchNorms.length) throw new Error(`${g.label} has no BatchNorm to rank by γ`);
    for (const b of g.batchNorms) baseline.tensors[`${b}.weight`].forEach((x, j) => (score[j] += Math.abs(x)));
    return score;
  }
  const st = structure(spec);
  const sh = shapes(st, baseline.channels);
  for (const p of g.producers) {
    const k = (st.byName.get(p)!.node as ConvNode).kernel;
    const norms = lnNorms(baseline.tensors[`${p}.weight`], [k, k, sh.get(p)!.inChannels, units], FILTER_AXIS, kind === 'l1' ? 1 : 2);
    for (let j = 0; j < units; j++) score[j] += norms[j];
  }
  return score;
}

/** ORs into `any` the filters (last axis of a [.., k] layout) with at least one unmasked weight. */
function filtersWithAnyWeight(mask: Uint8Array, any: Uint8Array): void {
  const k = any.length;
  for (let i = 0; i < mask.length; i++) any[i % k] |= mask[i];
}
