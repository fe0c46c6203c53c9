import { describe, expect, it } from 'vitest';
import { structure } from '../model/graph';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { prune, type PruneResult } from '../pruning/pruner';
import type { Mode } from '../pruning/settings';
import { type FineTune, type FineTuneOptions, type SweepPoint, type SweepResult, checkScope, planSweep, runKey, runSweep, shrinkBenchRatios, sweepSettings } from './sweep';
import { baselineOf, fakeClock, fakeEvaluate, fingerprint, noPause, tinyConvNet, tinySimple } from './testUtil';

/** Deterministic stand-in for fine-tuning: recovers a seed-dependent share of what pruning lost. */
function fakeFineTune(opts: { onCall?: (r: PruneResult, o: FineTuneOptions) => void | Promise<void> } = {}): FineTune & { calls: FineTuneOptions[] } {
  const calls: FineTuneOptions[] = [];
  const f: FineTune = async (r, o) => {
    calls.push(o);
    await opts.onCall?.(r, o);
    o.onProgress(0.5);
    o.onProgress(1);
    const kept = r.costs.nonzeroParams / 1e4;
    return { accuracy: Math.min(0.99, 0.3 + 0.1 * kept + 0.01 * o.seed) };
  };
  return Object.assign(f, { calls });
}

describe('sweep plan', () => {
  it('prunes every conv layer by the sparsity (mask, remove); global ranks all conv weights through the first layer’s amount', () => {
    const run = { criterion: 'l1' as const, sparsity: 0.75, seed: 2 };
    expect(sweepSettings(convNet3, run, 'remove')).toEqual({ method: 'l1', mode: 'remove', amounts: { conv1: 0.75, conv2: 0.75, conv3: 0.75 }, seed: 2 });
    expect(sweepSettings(convNet3, run, 'global')).toEqual({ method: 'l1', mode: 'global', amounts: { conv1: 0.75 }, seed: 2 });
    expect(sweepSettings(simpleCnn, run, 'mask').amounts).toEqual({ conv1: 0.75 });
  });

  it('runs seed by seed, so a cancelled sweep holds whole seeds; defaults to five operating points, 25/50/75/90/95 %, and seeds 1–3', () => {
    const p = planSweep({ spec: tinySimple, mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.9, 0.5], seeds: [7, 8], epochs: 1 });
    expect(p.runs.map(runKey)).toEqual([
      'l1|0.5|7', 'random|0.5|7', 'l1|0.9|7', 'random|0.9|7',
      'l1|0.5|8', 'random|0.5|8', 'l1|0.9|8', 'random|0.9|8',
    ]);
    const d = planSweep({ spec: convNet3, mode: 'remove', epochs: 2 });
    expect(d.sparsities).toEqual([0.25, 0.5, 0.75, 0.9, 0.95]);
    expect(d.seeds).toEqual([1, 2, 3]);
    expect(d.criteria).toEqual(['random', 'l1', 'l2', 'bn']);
    expect(d.runs).toHaveLength(4 * 5 * 3);
    expect(d.subset).toBe(0);
    expect(planSweep({ spec: simpleCnn, mode: 'mask', criteria: ['bn', 'l2'], epochs: 1 }).skipped.map((s) => s.criterion)).toEqual(['bn']);
  });

  it('scope (issue 21): ResNet-20 prunes every group, or only the blocks\' inner channels and leaves the residual streams whole', () => {
    const run = { criterion: 'l1' as const, sparsity: 0.5, seed: 1 };
    const groups = structure(resnet20).groups;
    const inner = groups.filter((g) => g.kind === 'inner').map((g) => g.id);
    const streams = groups.filter((g) => g.kind === 'stream').map((g) => g.id);
    expect(inner).toHaveLength(9);
    expect(streams).toHaveLength(3);
    expect(Object.keys(sweepSettings(resnet20, run, 'remove', 'inner').amounts).sort()).toEqual([...inner].sort());
    expect(Object.keys(sweepSettings(resnet20, run, 'remove').amounts).sort()).toEqual([...inner, ...streams].sort());
    expect(planSweep({ spec: resnet20, mode: 'remove', epochs: 0, scope: 'inner' }).scope).toBe('inner');
    expect(planSweep({ spec: resnet20, mode: 'remove', epochs: 0 }).scope).toBe('all');
    // a chain model has no inner groups, and global ranking takes every conv weight: refused with the reason
    expect(() => checkScope(convNet3, 'remove', 'inner')).toThrow(/no inner channel groups/);
    expect(() => checkScope(resnet20, 'global', 'inner')).toThrow(/global ranking/);
    expect(() => checkScope(resnet20, 'mask', 'streams' as never)).toThrow(RangeError);
  });

  it('rejects budgets and grids that make no sense', () => {
    expect(() => planSweep({ spec: tinySimple, mode: 'mask', epochs: -1 })).toThrow(RangeError);
    expect(() => planSweep({ spec: tinySimple, mode: 'mask', epochs: 1.5 })).toThrow(RangeError);
    expect(() => planSweep({ spec: tinySimple, mode: 'mask', epochs: 1, subset: -5 })).toThrow(RangeError);
    expect(() => planSweep({ spec: tinySimple, mode: 'mask', epochs: 1, sparsities: [2] })).toThrow(RangeError);
    expect(() => planSweep({ spec: tinySimple, mode: 'mask', epochs: 1, seeds: [] })).toThrow(RangeError);
  });
});

describe('runSweep with fake compute', () => {
  it.each<[Mode]>([['mask'], ['remove'], ['global']])('%s: records before/after accuracy and costs of each (criterion, sparsity, seed)', async (mode) => {
    const spec = tinyConvNet;
    const baseline = baselineOf(spec);
    const evaluate = fakeEvaluate(baseline);
    const fineTune = fakeFineTune({
      onCall: (r) => {
        // Fine-tuning starts from the pruned network and gets the masks to keep it pruned.
        if (mode === 'remove') expect(r.weights.channels.some((c, i) => c < [4, 6, 8][i])).toBe(true);
        else expect(Object.keys(r.masks).length).toBeGreaterThan(0);
      },
    });
    const criteria = mode === 'global' ? (['random', 'l1'] as const) : (['random', 'l1', 'bn'] as const);
    const r = await runSweep({ spec, baseline, mode, criteria: [...criteria], sparsities: [0.5, 0.75], seeds: [1, 2], epochs: 2, subset: 100, evaluate, fineTune, pause: noPause });
    expect(r.cancelled).toBe(false);
    expect(r.points).toHaveLength(criteria.length * 2 * 2);
    expect(r.points.map(runKey)).toEqual(r.runs.map(runKey));
    for (const p of r.points) {
      const pr = prune(spec, baseline, sweepSettings(spec, p, mode));
      expect(p.accBefore).toBe(await fakeEvaluate(baseline)(pr.weights, pr.weights.channels));
      expect(p.nonzeroParams).toBe(pr.costs.nonzeroParams);
      expect(p.params).toBe(pr.costs.params);
      expect(p.macs).toBe(pr.costs.nonzeroMacs);
      expect(p.denseMacs).toBe(pr.costs.macs);
      expect(p.accAfter).toBeCloseTo(Math.min(0.99, 0.3 + pr.costs.nonzeroParams / 1e5 + 0.01 * p.seed), 12);
      expect(p).toMatchObject({ mode, epochs: 2, subset: 100 });
    }
    expect(fineTune.calls.map((c) => [c.seed, c.epochs, c.subset])).toEqual(r.runs.map((x) => [x.seed, 2, 100]));
    // Each distinct pruned network is evaluated once before fine-tuning: deterministic criteria share it across seeds.
    expect(new Set(evaluate.calls).size).toBe(evaluate.calls.length);
    const distinct = new Set(r.runs.map((x) => fingerprint(prune(spec, baseline, sweepSettings(spec, x, mode)).weights)));
    expect(evaluate.calls).toHaveLength(1 + distinct.size);
    expect(r.baseline.accuracy).toBeCloseTo(0.9, 12); // the fake gives 0.1 + 0.8 for the unpruned network
    expect(r.baseline.nonzeroParams).toBe(r.baseline.params);
  });

  it('the seed is the pruning seed for Random: different seeds prune different filters', async () => {
    const baseline = baselineOf(tinySimple);
    const pruned: string[] = [];
    const fineTune = fakeFineTune({ onCall: (r) => void pruned.push(r.pruned.conv1.join(',')) });
    await runSweep({ spec: tinySimple, baseline, mode: 'mask', criteria: ['random', 'l1'], sparsities: [0.5], seeds: [1, 2, 3], epochs: 1, evaluate: fakeEvaluate(baseline), fineTune, pause: noPause });
    const random = [pruned[0], pruned[2], pruned[4]];
    const l1 = [pruned[1], pruned[3], pruned[5]];
    expect(new Set(random).size).toBeGreaterThan(1);
    expect(new Set(l1).size).toBe(1);
  });

  it('a budget of 0 epochs measures straight after pruning and never fine-tunes', async () => {
    const baseline = baselineOf(tinySimple);
    const fineTune = fakeFineTune();
    const r = await runSweep({ spec: tinySimple, baseline, mode: 'remove', criteria: ['l1'], sparsities: [0.5], seeds: [1, 2], epochs: 0, evaluate: fakeEvaluate(baseline), fineTune, pause: noPause });
    expect(fineTune.calls).toHaveLength(0);
    expect(r.points.every((p) => p.accAfter === p.accBefore)).toBe(true);
  });

  it('cancel during fine-tuning keeps the finished points and discards the one under way', async () => {
    const baseline = baselineOf(tinySimple);
    const controller = new AbortController();
    const fineTune = fakeFineTune({
      onCall: (_, o) => {
        if (fineTune.calls.length === 3) controller.abort(); // the engine's train() then returns early, not throwing
        expect(o.signal).toBe(controller.signal);
      },
    });
    const onPoint: SweepPoint[] = [];
    const r = await runSweep({
      spec: tinySimple, baseline, mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.5, 0.9], seeds: [1, 2], epochs: 1,
      evaluate: fakeEvaluate(baseline), fineTune, signal: controller.signal, pause: noPause, onPoint: (p) => void onPoint.push(p),
    });
    expect(r.cancelled).toBe(true);
    expect(r.points.map(runKey)).toEqual(['l1|0.5|1', 'random|0.5|1']);
    expect(onPoint).toEqual(r.points);
    expect(r.baseline.accuracy).toBeGreaterThan(0);
  });

  it('a fine-tuning that throws on abort counts as cancelled; any other failure propagates', async () => {
    const baseline = baselineOf(tinySimple);
    const controller = new AbortController();
    const opts = { spec: tinySimple, baseline, mode: 'mask' as const, criteria: ['l1' as const], sparsities: [0.5], seeds: [1], epochs: 1, evaluate: fakeEvaluate(baseline), pause: noPause };
    const aborted = await runSweep({ ...opts, signal: controller.signal, fineTune: async () => { controller.abort(); throw new Error('stopped'); } });
    expect(aborted).toMatchObject({ cancelled: true, points: [] });
    await expect(runSweep({ ...opts, fineTune: async () => { throw new Error('out of memory'); } })).rejects.toThrow('out of memory');
    await expect(runSweep({ ...opts, fineTune: async () => ({ accuracy: NaN }) })).rejects.toThrow(/NaN/);
  });

  it('already an aborted signal: nothing runs', async () => {
    const baseline = baselineOf(tinySimple);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSweep({ spec: tinySimple, baseline, mode: 'mask', epochs: 1, evaluate, fineTune: fakeFineTune(), signal: AbortSignal.abort(), pause: noPause });
    expect(r).toMatchObject({ cancelled: true, points: [] });
    expect(Number.isNaN(r.baseline.accuracy)).toBe(true);
    expect(evaluate.calls).toHaveLength(0);
  });

  it('resumes from previous points: only the missing runs are run, and the result is in run order', async () => {
    const baseline = baselineOf(tinySimple);
    const opts = { spec: tinySimple, baseline, mode: 'mask' as const, criteria: ['l1' as const, 'random' as const], sparsities: [0.5, 0.9], seeds: [1, 2], epochs: 1, pause: noPause };
    const full = await runSweep({ ...opts, evaluate: fakeEvaluate(baseline), fineTune: fakeFineTune() });
    const previous = [full.points[5], full.points[0], full.points[2]];
    const fineTune = fakeFineTune();
    const starts: SweepResult[] = [];
    const onStart = (r: SweepResult) => void starts.push({ ...r, fineTunedBefore: fineTune.calls.length } as SweepResult);
    const resumed = await runSweep({ ...opts, evaluate: fakeEvaluate(baseline), fineTune, previous, baselineAccuracy: full.baseline.accuracy, onStart });
    expect(fineTune.calls).toHaveLength(5);
    // onStart: once, before the first new point, the result as it stands (what a page saves while it runs).
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ fineTunedBefore: 0, runs: full.runs, baseline: full.baseline, cancelled: false, points: [full.points[0], full.points[2], full.points[5]] });
    expect(resumed.points.map(runKey)).toEqual(full.points.map(runKey));
    expect(resumed.points.map((p) => p.accAfter)).toEqual(full.points.map((p) => p.accAfter));
    // Points from another mode or budget answer a different question: run again.
    const other = fakeFineTune();
    await runSweep({ ...opts, epochs: 2, evaluate: fakeEvaluate(baseline), fineTune: other, previous: full.points });
    expect(other.calls).toHaveLength(8);
    const otherMode = fakeFineTune();
    await runSweep({ ...opts, mode: 'remove', evaluate: fakeEvaluate(baseline), fineTune: otherMode, previous: full.points });
    expect(otherMode.calls).toHaveLength(8);
    // … and so do points that pruned other groups (scope); points saved before scopes count as 'all'
    expect(full.points.every((p) => p.scope === 'all')).toBe(true);
    const otherScope = fakeFineTune();
    await runSweep({ ...opts, evaluate: fakeEvaluate(baseline), fineTune: otherScope, previous: full.points.map((p) => ({ ...p, scope: 'inner' as const })) });
    expect(otherScope.calls).toHaveLength(8);
    const old = fakeFineTune();
    await runSweep({ ...opts, evaluate: fakeEvaluate(baseline), fineTune: old, previous: full.points.map((p) => ({ ...p, scope: undefined })) });
    expect(old.calls).toHaveLength(0);
  });

  it('progress: current point, done/total, a monotone overall fraction and an estimate from measured times', async () => {
    const baseline = baselineOf(tinySimple);
    const clock = fakeClock();
    const fineTune: FineTune = async (_, o) => {
      clock.advance(5);
      o.onProgress(0.5);
      clock.advance(5);
      o.onProgress(1);
      return { accuracy: 0.5 };
    };
    const reports: { done: number; phase: string | null; fraction: number; eta: number | null; current: string | null }[] = [];
    const r = await runSweep({
      spec: tinySimple, baseline, mode: 'remove', criteria: ['l1'], sparsities: [0.25, 0.5, 0.75], seeds: [1], epochs: 1,
      evaluate: fakeEvaluate(baseline), fineTune, pause: noPause, now: clock.now,
      onProgress: (p) => reports.push({ done: p.done, phase: p.phase, fraction: p.fraction, eta: p.etaSeconds, current: p.current && runKey(p.current) }),
    });
    expect(r.seconds).toBe(30);
    expect(r.points.map((p) => p.seconds)).toEqual([10, 10, 10]);
    const fractions = reports.map((x) => x.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(reports[0]).toMatchObject({ done: 0, phase: 'evaluating', fraction: 0, eta: null, current: 'l1|0.25|1' });
    // Halfway through the first point (5 s spent): 5 s more for it, then 2 points of 10 s.
    expect(reports.find((x) => x.done === 0 && x.fraction === 0.5 / 3)?.eta).toBeCloseTo(25, 9);
    // Start of the last point: one point of ~10 s left.
    expect(reports.find((x) => x.done === 2 && x.phase === 'evaluating')?.eta).toBeCloseTo(10, 9);
    expect(reports.at(-1)).toMatchObject({ done: 3, phase: null, fraction: 1, eta: 0, current: null });
  });
});

describe('controls and ShrinkBench ratios (issue 22)', () => {
  it('fine-tunes the unpruned baseline once per seed through the same fineTune, seed and budget; a resumed sweep keeps them', async () => {
    const spec = tinyConvNet;
    const baseline = baselineOf(spec);
    const seen: { params: number; o: FineTuneOptions }[] = [];
    const fineTune = fakeFineTune({ onCall: (r, o) => void seen.push({ params: r.costs.nonzeroParams, o }) });
    const opts = { spec, baseline, mode: 'mask' as const, criteria: ['l1' as const, 'random' as const], sparsities: [0.5, 0.75], seeds: [1, 2], epochs: 2, subset: 100, evaluate: fakeEvaluate(baseline), pause: noPause, controls: true };
    const r = await runSweep({ ...opts, fineTune });
    const full = r.baseline.nonzeroParams;
    const controls = seen.filter((c) => c.params === full);
    expect(controls.map((c) => [c.o.seed, c.o.epochs, c.o.subset])).toEqual([[1, 2, 100], [2, 2, 100]]);
    // the control is what fineTune gives the unpruned network with that seed
    expect(r.controls).toEqual([1, 2].map((seed) => ({ seed, accuracy: Math.min(0.99, 0.3 + full / 1e5 + 0.01 * seed), epochs: 2, subset: 100 })));
    expect(seen).toHaveLength(2 + r.points.length);
    const again = fakeFineTune();
    const resumed = await runSweep({ ...opts, fineTune: again, previous: r.points.slice(0, 2), previousControls: r.controls });
    expect(resumed.controls).toEqual(r.controls);
    expect(again.calls).toHaveLength(r.points.length - 2); // no control run again
    // without controls (or with 0 epochs) there are none
    expect((await runSweep({ ...opts, controls: false, fineTune: fakeFineTune() })).controls).toBeUndefined();
    expect((await runSweep({ ...opts, epochs: 0, fineTune: fakeFineTune() })).controls).toBeUndefined();
  });

  it('compression ratio = original parameters / nonzero parameters; theoretical speedup = original MACs / nonzero MACs', () => {
    const base = { params: 1000, nonzeroParams: 1000, macs: 50_000, denseMacs: 50_000, channels: [4] };
    expect(shrinkBenchRatios(base, { params: 1000, nonzeroParams: 250, macs: 20_000, denseMacs: 50_000, channels: [4] })).toEqual({ compression: 4, speedup: 2.5 });
    expect(shrinkBenchRatios(base, base)).toEqual({ compression: 1, speedup: 1 });
  });
});
