/**
 * One step of a scheduled prune (schedule.ts gives the cumulative sparsities): prune the CURRENT
 * network (the previous step's, fine-tuned) to step t's sparsity, so the steps compose.
 *
 * mask / global — each amount is step t's cumulative fraction of the ORIGINAL units (weights), ranked on
 *   the current weights. Units masked earlier are zero, so they rank lowest and stay pruned; the new masks
 *   are multiplied with the old ones anyway, so a weight pruned at step t stays zero whatever the ranking.
 *   BatchNorm γ is not masked (torch masks weights only), so for the γ criterion the dead units' γ is
 *   read as 0 when ranking.
 * remove — a group's step prunes only the units the step adds (cumulative count − units already gone,
 *   torch rounding on the ORIGINAL width) among the survivors of the smaller network, so the final
 *   network has exactly the one-shot target's channel counts.
 * The linear layer (unstructured in every mode): step t's fraction of its weights (of those left after
 *   removal, as one-shot), the weights already zero counted as pruned: exactly zero weights of a trained
 *   network are the masked ones (masks are re-applied after every fine-tuning step).
 */
import { type ConvNode, structure } from '../model/graph';
import type { ModelSpec, NetWeights } from '../model/spec';
import { deriveSeed } from '../random';
import { count, fraction, pruneCount } from './amount';
import { measureCosts } from './costs';
import { applyMask, countKept, l1UnstructuredMask, randomUnstructuredMask } from './masks';
import { type PruneResult, type PruneScores, prune } from './pruner';
import { range, removeChannels } from './remove';
import { type Schedule, scheduleProblem, scheduleSparsities } from './schedule';
import type { PruneSettings } from './settings';

export interface ScheduleState {
  /** The current network's effective weights (masked / smaller). */
  weights: NetWeights;
  /** Per channel group: the ORIGINAL unit indices still alive, in the current network's order. */
  alive: Record<string, number[]>;
  /** Steps done so far. */
  done: number;
}

export interface ScheduledStep {
  /** The step's result: masks in the current layout (all masks so far, multiplied), kept/pruned in original indices. */
  result: PruneResult;
  /** Step t's cumulative sparsity per amount key. */
  sparsities: Record<string, number>;
  next: ScheduleState;
}

/** Why these settings cannot be scheduled over several steps, or null. */
export function scheduledProblem(s: PruneSettings, schedule: Schedule): string | null {
  const why = scheduleProblem(schedule);
  if (why) return why;
  if (schedule.steps > 1 && s.method === 'manual') return 'Hand-picked filters are pruned at once: choose one-shot, or a criterion.';
  return null;
}

export function startSchedule(spec: ModelSpec, baseline: NetWeights): ScheduleState {
  return { weights: baseline, alive: Object.fromEntries(structure(spec).groups.map((g, gi) => [g.id, range(baseline.channels[gi])])), done: 0 };
}

/**
 * Step `state.done + 1` of `schedule` towards the settings' amounts. `scores`: data-dependent unit scores
 * of the CURRENT network (method 'taylor': recomputed on it before each step, as Molchanov et al. prune
 * iteratively), one per current unit of each group.
 */
export function pruneScheduledStep(spec: ModelSpec, state: ScheduleState, s: PruneSettings, schedule: Schedule, scores: PruneScores = {}): ScheduledStep {
  const why = scheduledProblem(s, schedule);
  if (why) throw new Error(why);
  const t = state.done;
  if (t >= schedule.steps) throw new RangeError(`the schedule has ${schedule.steps} steps, all done`);
  const st = structure(spec);
  const cur = state.weights;
  const sparsities = Object.fromEntries(Object.entries(s.amounts).map(([k, a]) => [k, scheduleSparsities(schedule, a)[t]]));
  const prevSparsities = Object.fromEntries(Object.entries(s.amounts).map(([k, a]) => [k, t === 0 ? 0 : scheduleSparsities(schedule, a)[t - 1]]));
  const lin = st.output.name;
  const fc = `${lin}.weight`;

  let stepSettings: PruneSettings;
  let ranking = cur;
  if (s.mode === 'remove') {
    // Units this step adds to the pruned ones, as a fraction of the survivors (exact as a count: checked below).
    const amounts: Record<string, number> = { [lin]: 0 };
    if (s.method === 'globalStruct') {
      // One target over all units: the step prunes (cumulative count of all ORIGINAL units − units already gone)
      // among all survivors, ranked together (fewer when a layer's floor binds, as one-shot).
      const first = st.groups[0]?.id ?? '';
      const total = st.groups.reduce((n, g) => n + g.units, 0);
      const alive = cur.channels.reduce((n, c) => n + c, 0);
      const add = Math.max(0, pruneCount(fraction(sparsities[first] ?? 0), total) - (total - alive));
      amounts[first] = alive === 0 ? 0 : add / alive;
      if (pruneCount(fraction(amounts[first]), alive) !== add) throw new Error(`step ${t + 1} cannot prune exactly ${add} of ${alive} units`);
    } else st.groups.forEach((g, gi) => {
      const units = g.units;
      const add = pruneCount(fraction(sparsities[g.id] ?? 0), units) - pruneCount(fraction(prevSparsities[g.id] ?? 0), units);
      const alive = cur.channels[gi];
      amounts[g.id] = alive === 0 ? 0 : add / alive;
      if (pruneCount(fraction(amounts[g.id]), alive) !== add) throw new Error(`${g.id}: step ${t + 1} cannot prune exactly ${add} of ${alive} units`);
    });
    stepSettings = { ...s, amounts };
  } else {
    stepSettings = { ...s, amounts: { ...sparsities, [lin]: 0 } };
    if (s.method === 'bn' && s.mode === 'mask') {
      // γ of a masked unit still reaches the ranking: read it as 0 so the dead units are pruned first.
      const tensors = { ...cur.tensors };
      st.groups.forEach((g, gi) => {
        const alive = new Set(state.alive[g.id]);
        for (const b of g.batchNorms) {
          const gamma = tensors[`${b}.weight`].slice();
          for (let j = 0; j < cur.channels[gi]; j++) if (!alive.has(j)) gamma[j] = 0;
          tensors[`${b}.weight`] = gamma;
        }
      });
      ranking = { ...cur, tensors };
    }
  }
  let stepScores = scores;
  if (s.method === 'taylor' && s.mode === 'mask' && scores.taylor) {
    // A masked unit's activation is its BatchNorm beta, so it still has a Taylor score: read it as −1 (scores
    // are |…| ≥ 0), so the dead units are pruned first and the step prunes exactly its cumulative count.
    const taylor: Record<string, Float64Array> = {};
    st.groups.forEach((g) => {
      const given = scores.taylor![g.id];
      if (!given) return;
      const alive = new Set(state.alive[g.id]);
      taylor[g.id] = Float64Array.from(given, (x, j) => (alive.has(j) ? x : -1));
    });
    stepScores = { ...scores, taylor };
  }
  const res = prune(spec, ranking, stepSettings, stepScores);

  // The network before this step's masks (torch's weight_orig): the current one, smaller in remove mode.
  const localKept = res.kept;
  const unmasked = s.mode === 'remove' ? removeChannels(spec, cur, localKept) : cur;
  const masks: Record<string, Uint8Array> = {};
  for (const [name, m] of Object.entries(res.masks)) if (name !== fc) masks[name] = m;
  if (s.mode !== 'remove' && t > 0)
    // Masks multiply: whatever the ranking, a weight zeroed by an earlier step stays zero.
    for (const c of st.nodes.filter((n): n is ConvNode => n.op === 'conv')) {
      const name = `${c.name}.weight`;
      const prior = nonzero(cur.tensors[name]);
      masks[name] = masks[name] ? and(masks[name], prior) : prior;
    }
  const fcWeights = unmasked.tensors[fc];
  const fcPrior = t === 0 ? null : nonzero(fcWeights);
  const fcTarget = pruneCount(fraction(sparsities[lin] ?? 0), fcWeights.length);
  const fcAlready = fcPrior ? fcWeights.length - countKept(fcPrior) : 0;
  const fcAdd = count(Math.max(0, fcTarget - fcAlready));
  masks[fc] =
    s.method === 'random'
      ? randomUnstructuredMask(fcWeights.length, fcAdd, deriveSeed(s.seed, t === 0 ? `prune.${lin}` : `prune.${lin}.step${t + 1}`), fcPrior)
      : l1UnstructuredMask(fcWeights, fcAdd, fcPrior);
  for (const [n, m] of Object.entries(masks)) if (countKept(m) === m.length) delete masks[n];

  const weights: NetWeights = {
    model: unmasked.model,
    channels: [...unmasked.channels],
    tensors: Object.fromEntries(Object.entries(unmasked.tensors).map(([n, a]) => [n, masks[n] ? applyMask(a, masks[n]) : a.slice()])),
  };
  // Back to the original network's unit indices (a mask-mode unit counts as kept while any of its producers' weights is).
  const kept: Record<string, number[]> = {};
  const prunedUnits: Record<string, number[]> = {};
  st.groups.forEach((g, gi) => {
    const alive = state.alive[g.id];
    let local = localKept[g.id];
    if (s.mode !== 'remove') {
      const any = new Uint8Array(cur.channels[gi]);
      for (const p of g.producers) {
        const m = masks[`${p}.weight`];
        if (!m) any.fill(1);
        else for (let i = 0; i < m.length; i++) any[i % any.length] |= m[i];
      }
      local = range(any.length).filter((j) => any[j]);
    }
    kept[g.id] = s.mode === 'remove' ? local.map((j) => alive[j]) : local;
    const keep = new Set(kept[g.id]);
    prunedUnits[g.id] = range(g.units).filter((j) => !keep.has(j));
  });
  return {
    result: { weights, masks, kept, pruned: prunedUnits, costs: measureCosts(spec, weights, unmasked) },
    sparsities,
    next: { weights, alive: kept, done: t + 1 },
  };
}

function nonzero(a: ArrayLike<number>): Uint8Array {
  const m = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) m[i] = a[i] !== 0 ? 1 : 0;
  return m;
}

function and(a: Uint8Array, b: Uint8Array): Uint8Array {
  const m = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) m[i] = a[i] & b[i];
  return m;
}
