/** Scheduled pruning: steps compose (masks multiply, removal acts on the survivors) and reach the one-shot target. */
import { describe, expect, it } from 'vitest';
import { structure } from '../model/graph';
import type { ModelSpec, NetWeights } from '../model/spec';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { mulberry32 } from '../random';
import { prune, type PruneSettings } from './pruner';
import { type Schedule } from './schedule';
import { pruneScheduledStep, scheduledProblem, startSchedule } from './scheduled';
import { randomWeights, weightDiff } from './testUtil';

/** Stands in for fine-tuning between steps: every surviving weight scaled at random (the ranking changes), zeros stay zero. */
function perturb(w: NetWeights, seed: number): NetWeights {
  const r = mulberry32(seed);
  return { ...w, tensors: Object.fromEntries(Object.entries(w.tensors).map(([n, a]) => [n, a.map((x) => (x === 0 ? 0 : x * (0.2 + 1.6 * r())))])) };
}

function zeros(a: Float32Array): number[] {
  const out: number[] = [];
  a.forEach((x, i) => x === 0 && out.push(i));
  return out;
}

function run(spec: ModelSpec, baseline: NetWeights, s: PruneSettings, schedule: Schedule) {
  let state = startSchedule(spec, baseline);
  const steps = [];
  for (let t = 0; t < schedule.steps; t++) {
    const step = pruneScheduledStep(spec, state, s, schedule);
    steps.push(step);
    state = { ...step.next, weights: perturb(step.next.weights, 100 + t) };
  }
  return steps;
}

describe('pruneScheduledStep', () => {
  it('one-shot is prune() exactly (the page before schedules)', () => {
    const cases: [ModelSpec, PruneSettings][] = [
      [simpleCnn, { method: 'l1', mode: 'mask', amounts: { conv1: 0.5, conv2: 0.3, fc1: 0.4 }, seed: 1 }],
      [simpleCnn, { method: 'random', mode: 'remove', amounts: { conv1: 0.5, conv2: 0.3, fc1: 0.4 }, seed: 7 }],
      [simpleCnn, { method: 'l2', mode: 'global', amounts: { conv1: 0.6, fc1: 0.2 }, seed: 1 }],
      [convNet3, { method: 'bn', mode: 'remove', amounts: { conv1: 0.25, conv2: 0.5, conv3: 0.75, fc1: 0.1 }, seed: 1 }],
      [convNet3, { method: 'random', mode: 'mask', amounts: { conv1: 0.25, conv3: 0.75, fc1: 0.5 }, seed: 3 }],
    ];
    for (const [spec, s] of cases) {
      const base = randomWeights(spec, 5);
      const one = prune(spec, base, s);
      const step = pruneScheduledStep(spec, startSchedule(spec, base), s, { kind: 'oneshot', steps: 1 });
      expect(weightDiff(step.result.weights, one.weights), `${spec.id} ${s.method} ${s.mode}`).toEqual([]);
      expect(step.result.kept).toEqual(one.kept);
      expect(step.result.costs).toEqual(one.costs);
      expect(Object.keys(step.result.masks).sort()).toEqual(Object.keys(one.masks).sort());
    }
  });

  it('mask mode, AGP 3 steps: masks multiply (a weight pruned at step t stays zero) and the last step has the target counts', () => {
    for (const method of ['l1', 'random', 'bn'] as const) {
      const spec = convNet3;
      const base = randomWeights(spec, 11);
      const s: PruneSettings = { method, mode: 'mask', amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.6, fc1: 0.5 }, seed: 2 };
      const steps = run(spec, base, s, { kind: 'agp', steps: 3 });
      for (let t = 1; t < steps.length; t++)
        for (const name of ['conv1.weight', 'conv2.weight', 'conv3.weight', 'fc1.weight']) {
          const now = new Set(zeros(steps[t].result.weights.tensors[name]));
          for (const i of zeros(steps[t - 1].result.weights.tensors[name])) if (!now.has(i)) throw new Error(`${method} ${name}[${i}] revived at step ${t + 1}`);
        }
      const one = prune(spec, base, s);
      for (const g of structure(spec).groups) {
        expect(steps[2].result.kept[g.id].length, `${method} ${g.id}`).toBe(one.kept[g.id].length);
        // kept units only shrink
        for (let t = 1; t < 3; t++) expect(steps[t].result.kept[g.id].every((j) => steps[t - 1].result.kept[g.id].includes(j))).toBe(true);
      }
      expect(zeros(steps[2].result.weights.tensors['fc1.weight']).length).toBe(zeros(one.weights.tensors['fc1.weight']).length);
      // AGP: large cuts early — conv2 (32 units → 24 pruned) after step 1 of 3: 75 % · (1 − (2/3)³) = 52.8 % → 17 units
      expect(steps.map((st) => 32 - st.result.kept.conv2.length)).toEqual([17, 23, 24]);
      expect(steps[2].sparsities).toEqual(s.amounts);
    }
  });

  it('remove mode, iterative 3 steps: each step prunes among the survivors, the final network has the target channels', () => {
    for (const [spec, amounts] of [
      [convNet3, { conv1: 0.5, conv2: 0.75, conv3: 0.6, fc1: 0.3 }],
      [resnet20, { stream1: 0.5, 'inner2.1': 0.5, stream3: 0.25, fc: 0.2 }],
    ] as [ModelSpec, Record<string, number>][]) {
      const base = randomWeights(spec, 13);
      const s: PruneSettings = { method: 'l1', mode: 'remove', amounts, seed: 2 };
      const steps = run(spec, base, s, { kind: 'iterative', steps: 3 });
      const one = prune(spec, base, s);
      expect(steps[2].result.weights.channels).toEqual(one.weights.channels);
      for (const g of structure(spec).groups)
        for (let t = 1; t < 3; t++) {
          const before = steps[t - 1].result.kept[g.id];
          expect(steps[t].result.kept[g.id].every((j) => before.includes(j)), `${spec.id} ${g.id}`).toBe(true);
          expect(steps[t].result.weights.channels[g.index]).toBe(steps[t].result.kept[g.id].length);
        }
      expect(steps[2].result.costs.params).toBe(one.costs.params);
    }
  });

  it('global structured, remove mode: each step prunes the cumulative count of ALL units among the survivors, ranked together', () => {
    for (const [spec, target] of [
      [convNet3, 0.5],
      [resnet20, 0.4],
    ] as [ModelSpec, number][]) {
      const st = structure(spec);
      const amounts = { ...Object.fromEntries(st.groups.map((g) => [g.id, target])), [st.output.name]: 0.2 };
      const base = randomWeights(spec, 17);
      const s: PruneSettings = { method: 'globalStruct', mode: 'remove', amounts, seed: 3 };
      const schedule: Schedule = { kind: 'agp', steps: 3 };
      const steps = run(spec, base, s, schedule);
      const total = st.groups.reduce((n, g) => n + g.units, 0);
      const one = prune(spec, base, s);
      // After step t, scheduleSparsities(t) of all units are gone (no floor binds at these targets): here 19/27, 26/27, 1 of the target.
      const gone = (t: number) => total - steps[t].result.weights.channels.reduce((n, c) => n + c, 0);
      expect([0, 1, 2].map(gone), spec.id).toEqual([19 / 27, 26 / 27, 1].map((f) => Math.round(f * target * total)));
      expect(gone(2)).toBe(one.global!.pruned);
      for (const g of st.groups) expect(steps[2].result.kept[g.id].every((j) => steps[1].result.kept[g.id].includes(j))).toBe(true);
    }
  });

  it('Taylor: each step ranks by the scores it is given for the current network; mask mode never counts a dead unit as alive', () => {
    const spec = convNet3;
    const base = randomWeights(spec, 19);
    const schedule: Schedule = { kind: 'agp', steps: 3 };
    const amounts = { conv1: 0.5, conv2: 0.75, conv3: 0.25, fc1: 0.3 };
    for (const mode of ['mask', 'remove'] as const) {
      const s: PruneSettings = { method: 'taylor', mode, amounts, seed: 4 };
      let state = startSchedule(spec, base);
      for (let t = 0; t < 3; t++) {
        // Scores that rank the dead units HIGHEST: the step must still prune them first (they are dead) and reach its count.
        const r = mulberry32(50 + t);
        const taylor = Object.fromEntries(structure(spec).groups.map((g, gi) => {
          const alive = new Set(state.alive[g.id]);
          return [g.id, Float64Array.from({ length: state.weights.channels[gi] }, (_, j) => (mode === 'mask' && !alive.has(j) ? 100 : r()))];
        }));
        const step = pruneScheduledStep(spec, state, s, schedule, { taylor });
        for (const g of structure(spec).groups) {
          const want = g.units - Math.round(step.sparsities[g.id] * g.units);
          expect(step.result.kept[g.id].length, `${mode} step ${t + 1} ${g.id}`).toBe(want);
          expect(step.result.kept[g.id].every((j) => state.alive[g.id].includes(j))).toBe(true);
        }
        state = step.next;
      }
    }
    expect(() => pruneScheduledStep(spec, startSchedule(spec, base), { method: 'taylor', mode: 'mask', amounts, seed: 4 }, schedule)).toThrow(/Taylor scores need/);
  });

  it('refuses a multi-step schedule for hand-picked filters', () => {
    expect(scheduledProblem({ method: 'manual', mode: 'mask', amounts: {}, manual: { conv1: [1] }, seed: 1 }, { kind: 'agp', steps: 3 })).toMatch(/one-shot/);
    expect(scheduledProblem({ method: 'l1', mode: 'mask', amounts: {}, seed: 1 }, { kind: 'agp', steps: 3 })).toBeNull();
  });
});
