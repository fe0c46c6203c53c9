import { describe, expect, it } from 'vitest';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { pruneCount, fraction as amountFraction } from '../pruning/amount';
import { prune } from '../pruning/pruner';
import type { Mode } from '../pruning/settings';
import type { Criterion } from './common';
import { DEFAULT_RANDOM_SEEDS, SENSITIVITY_FRACTIONS, type SensitivityResult, planSensitivity, runSensitivity, sensitivityLayers, sensitivitySettings } from './sensitivity';
import { baselineOf, fakeClock, fakeEvaluate, fingerprint, noPause, tinyConvNet, tinySimple } from './testUtil';

describe('sensitivity plan', () => {
  it('scans 0–95 % in steps of 5 %, exactly (0.15 is 0.15)', () => {
    expect(SENSITIVITY_FRACTIONS).toHaveLength(20);
    expect(SENSITIVITY_FRACTIONS[0]).toBe(0);
    expect(SENSITIVITY_FRACTIONS[3]).toBe(0.15);
    expect(SENSITIVITY_FRACTIONS[19]).toBe(0.95);
    expect(DEFAULT_RANDOM_SEEDS).toEqual([1, 2, 3]);
  });

  it('offers each conv layer and the linear layer; in global mode the conv layers are one scan', () => {
    expect(sensitivityLayers(simpleCnn, 'remove')).toEqual([
      { layer: 'conv1', scope: 'conv', unit: 'filters', units: 64, label: 'conv1' },
      { layer: 'fc1', scope: 'linear', unit: 'weights', units: 655_360, label: 'fc1' },
    ]);
    expect(sensitivityLayers(convNet3, 'mask').map((l) => `${l.layer}:${l.units}`)).toEqual(['conv1:16', 'conv2:32', 'conv3:64', 'fc1:10240']);
    const g = sensitivityLayers(convNet3, 'global');
    expect(g.map((l) => [l.layer, l.scope, l.label])).toEqual([['conv1', 'global', 'conv1–conv3 (global)'], ['fc1', 'linear', 'fc1']]);
    expect(g[0].units).toBe(9 * (3 * 16 + 16 * 32 + 32 * 64));
  });

  it('scans ResNet-20 group by group (streams, then inner), its fc, and all 22 convs as one in global mode', () => {
    expect(sensitivityLayers(resnet20, 'remove').map((l) => `${l.layer}:${l.units}`)).toEqual([
      'stream1:16', 'stream2:32', 'stream3:64',
      'inner1.1:16', 'inner1.2:16', 'inner1.3:16', 'inner2.1:32', 'inner2.2:32', 'inner2.3:32', 'inner3.1:64', 'inner3.2:64', 'inner3.3:64',
      'fc:640',
    ]);
    expect(sensitivityLayers(resnet20, 'mask')[1].label).toBe('residual stream of stage 2');
    const g = sensitivityLayers(resnet20, 'global');
    expect(g.map((l) => [l.layer, l.scope, l.label])).toEqual([['stream1', 'global', 'all 21 conv layers (global)'], ['fc', 'linear', 'fc']]);
    // Every conv weight: 272,474 parameters less 2·(16·7 + 32·7 + 64·7) BatchNorm γ, β and fc's 650.
    expect(g[0].units).toBe(272_474 - 2 * 7 * (16 + 32 + 64) - 650);
  });

  it('uses BatchNorm γ only where the model has BatchNorm, and says why it skips it', () => {
    const simple = planSensitivity({ spec: simpleCnn, baseline: baselineOf(tinySimple), mode: 'mask' });
    expect(simple.criteria).toEqual(['random', 'l1', 'l2']);
    const asked = planSensitivity({ spec: tinySimple, baseline: baselineOf(tinySimple), mode: 'mask', criteria: ['l1', 'bn', 'l1'] });
    expect(asked.criteria).toEqual(['l1']);
    expect(asked.skipped).toEqual([{ criterion: 'bn', reason: expect.stringMatching(/BatchNorm/) }]);
    const conv = planSensitivity({ spec: tinyConvNet, baseline: baselineOf(tinyConvNet), mode: 'remove' });
    expect(conv.criteria).toEqual(['random', 'l1', 'l2', 'bn']);
    expect(conv.total).toBe(4 * 20 * 4);
    const global = planSensitivity({ spec: tinyConvNet, baseline: baselineOf(tinyConvNet), mode: 'global', criteria: ['bn', 'l1'] });
    expect(global.criteria).toEqual(['l1']);
    expect(global.skipped[0].criterion).toBe('bn');
  });

  it('rejects what it cannot scan', () => {
    const baseline = baselineOf(tinySimple);
    expect(() => planSensitivity({ spec: tinySimple, baseline, mode: 'mask', layers: ['conv9'] })).toThrow(/conv9/);
    expect(() => planSensitivity({ spec: tinySimple, baseline, mode: 'mask', fractions: [0.5, 1.2] })).toThrow(RangeError);
    expect(() => planSensitivity({ spec: tinySimple, baseline, mode: 'mask', fractions: [] })).toThrow(RangeError);
    expect(() => planSensitivity({ spec: tinySimple, baseline, mode: 'mask', randomSeeds: [1.5] })).toThrow(RangeError);
    expect(() => planSensitivity({ spec: tinySimple, baseline, mode: 'mask', criteria: ['manual' as Criterion] })).toThrow(/manual/);
  });
});

describe('runSensitivity with a fake evaluation', () => {
  it.each<[string, typeof tinySimple, Mode]>([
    ['SimpleCNN-shaped, remove', tinySimple, 'remove'],
    ['SimpleCNN-shaped, mask', tinySimple, 'mask'],
    ['ConvNet-3-shaped, remove', tinyConvNet, 'remove'],
    ['ConvNet-3-shaped, global', tinyConvNet, 'global'],
  ])('%s: every point is the accuracy of its own pruned network, and each distinct network is evaluated exactly once', async (_, spec, mode) => {
    const baseline = baselineOf(spec);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSensitivity({ spec, baseline, mode, evaluate, pause: noPause });
    expect(r.cancelled).toBe(false);
    expect(r.points).toHaveLength(r.total);
    expect(r.total).toBe(r.layers.length * 20 * r.criteria.length);

    // Reference: prune every setting directly and evaluate it without any cache.
    const reference = fakeEvaluate(baseline);
    const distinct = new Set<string>([fingerprint(baseline)]);
    for (const p of r.points) {
      const seeds = p.criterion === 'random' ? r.randomSeeds : [0];
      const accs: number[] = [];
      const macs: number[] = [];
      for (const seed of seeds) {
        const pr = prune(spec, baseline, sensitivitySettings(p.layer, p.criterion, mode, p.fraction, seed));
        distinct.add(fingerprint(pr.weights));
        accs.push(await reference(pr.weights, pr.weights.channels));
        macs.push(pr.costs.nonzeroMacs);
        expect(p.channels).toEqual(pr.costs.channels);
        expect(p.nonzeroParams).toBe(pr.costs.nonzeroParams);
        expect(p.params).toBe(pr.costs.params);
      }
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(p.accuracy).toBeCloseTo(avg(accs), 12);
      expect(p.macs).toBeCloseTo(avg(macs), 6); // global Random: where the pruned weights fall varies by seed
      if (p.seeds) expect(p.seeds.map((s) => s.macs)).toEqual(macs);
      if (p.criterion === 'random') {
        expect(p.seeds!.map((s) => s.accuracy)).toEqual(accs);
        expect(p.seeds!.map((s) => s.seed)).toEqual([1, 2, 3]);
        expect(p.min).toBe(Math.min(...accs));
        expect(p.max).toBe(Math.max(...accs));
      } else expect(p.seeds).toBeUndefined();
    }
    expect(new Set(evaluate.calls).size).toBe(evaluate.calls.length); // nothing evaluated twice
    expect(evaluate.calls.length).toBe(distinct.size); // and nothing distinct skipped
    expect(r.evaluations).toBe(evaluate.calls.length);
  });

  it('fraction 0 is the baseline, measured once for every layer and criterion', async () => {
    const baseline = baselineOf(tinyConvNet);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSensitivity({ spec: tinyConvNet, baseline, mode: 'mask', evaluate, fractions: [0], pause: noPause });
    expect(r.points).toHaveLength(4 * 4);
    expect(evaluate.calls).toHaveLength(1);
    expect(new Set(r.points.map((p) => p.accuracy))).toEqual(new Set([r.baselineAccuracy]));
  });

  it('a baseline accuracy already known is not measured again', async () => {
    const baseline = baselineOf(tinySimple);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSensitivity({ spec: tinySimple, baseline, mode: 'remove', evaluate, fractions: [0, 0.5], criteria: ['l1'], baselineAccuracy: 0.42, pause: noPause });
    expect(r.baselineAccuracy).toBe(0.42);
    expect(r.points.filter((p) => p.fraction === 0).map((p) => p.accuracy)).toEqual([0.42, 0.42]);
    expect(evaluate.calls).toHaveLength(2); // conv1 at 50 %, fc1 at 50 %
  });

  it('neighbouring fractions that round to the same filter count share one evaluation (torch rounding)', async () => {
    const baseline = baselineOf(tinyConvNet);
    const evaluate = fakeEvaluate(baseline);
    // conv1 has 4 filters: 5 % → 0 (baseline), 10 % → round(0.4) = 0, 15 % → round(0.6) = 1, 20 % → 1, 25 % → round-half-even(1) = 1, 35 % → 1.4 → 1.
    const fractions = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.35];
    const r = await runSensitivity({ spec: tinyConvNet, baseline, mode: 'remove', evaluate, fractions, criteria: ['l1'], layers: ['conv1'], pause: noPause });
    expect(r.points.map((p) => p.pruned)).toEqual(fractions.map((f) => pruneCount(amountFraction(f), 4)));
    expect(r.points.map((p) => p.pruned)).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(evaluate.calls).toHaveLength(2);
    expect(new Set(r.points.slice(3).map((p) => p.accuracy)).size).toBe(1);
  });

  it('on the linear layer L1, L2 and γ prune the same weights: one evaluation for the three', async () => {
    const baseline = baselineOf(tinyConvNet);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSensitivity({ spec: tinyConvNet, baseline, mode: 'mask', evaluate, fractions: [0.5], criteria: ['l1', 'l2', 'bn'], layers: ['fc1'], pause: noPause });
    expect(new Set(r.points.map((p) => p.accuracy)).size).toBe(1);
    expect(evaluate.calls).toHaveLength(2); // baseline + the one pruned network
  });

  it('its L1 point at 50 % equals the accuracy of the same single setting pruned directly', async () => {
    const baseline = baselineOf(tinySimple);
    const evaluate = fakeEvaluate(baseline);
    const r = await runSensitivity({ spec: tinySimple, baseline, mode: 'remove', evaluate, pause: noPause });
    const point = r.points.find((p) => p.layer === 'conv1' && p.fraction === 0.5 && p.criterion === 'l1')!;
    const single = prune(tinySimple, baseline, { method: 'l1', mode: 'remove', amounts: { conv1: 0.5, fc1: 0 }, seed: 99 });
    expect(point.accuracy).toBe(await fakeEvaluate(baseline)(single.weights, single.weights.channels));
    expect(point.channels).toEqual([4]);
    expect(point.pruned).toBe(4);
  });

  it('remove mode makes the evaluated networks smaller; mask mode keeps their shape', async () => {
    const baseline = baselineOf(tinySimple);
    const shapes: number[] = [];
    const evaluate = async (w: typeof baseline, channels: number[]) => {
      expect(channels).toEqual(w.channels);
      shapes.push(channels[0]);
      return 0.5;
    };
    await runSensitivity({ spec: tinySimple, baseline, mode: 'remove', evaluate, criteria: ['l1'], layers: ['conv1'], pause: noPause });
    expect(Math.min(...shapes)).toBe(8 - pruneCount(amountFraction(0.95), 8));
    shapes.length = 0;
    await runSensitivity({ spec: tinySimple, baseline, mode: 'mask', evaluate, criteria: ['l1'], layers: ['conv1'], pause: noPause });
    expect(new Set(shapes)).toEqual(new Set([8]));
  });

  it('reports progress with an estimate from a clock, and finishes at done = total with nothing left', async () => {
    const baseline = baselineOf(tinySimple);
    const clock = fakeClock();
    const inner = fakeEvaluate(baseline);
    const evaluate = async (w: typeof baseline, c: number[]) => {
      clock.advance(2);
      return inner(w, c);
    };
    const reports: { done: number; total: number; eta: number | null; current: unknown }[] = [];
    const r = await runSensitivity({
      spec: tinySimple, baseline, mode: 'remove', evaluate, criteria: ['l1'], layers: ['conv1'], fractions: [0, 0.25, 0.5, 0.75],
      pause: noPause, now: clock.now, onProgress: (p) => reports.push({ done: p.done, total: p.total, eta: p.etaSeconds, current: p.current }),
    });
    expect(reports[0]).toEqual({ done: 0, total: 4, eta: null, current: { layer: 'conv1', fraction: 0, criterion: 'l1' } });
    expect(reports.at(-1)).toEqual({ done: 4, total: 4, eta: 0, current: null });
    // Points took 0 (cached baseline), 2, 2 s: before the last point, 1 point left at ~2 s each.
    expect(reports[3].eta).toBeCloseTo(2, 9);
    expect(r.seconds).toBe(8); // baseline + three pruned networks, 2 s each
  });

  it('cancel keeps the points finished and drops the one under way', async () => {
    const baseline = baselineOf(tinySimple);
    const controller = new AbortController();
    const inner = fakeEvaluate(baseline);
    let n = 0;
    const evaluate = async (w: typeof baseline, c: number[], signal?: AbortSignal) => {
      if (++n === 4) {
        controller.abort(); // Cancel arrives mid-evaluation; the evaluation stops with an error
        expect(signal?.aborted).toBe(true);
        throw new Error('stale');
      }
      return inner(w, c);
    };
    const seen: number[] = [];
    const starts: SensitivityResult[] = [];
    const r = await runSensitivity({
      spec: tinySimple, baseline, mode: 'remove', evaluate, criteria: ['random', 'l1'], layers: ['conv1'], fractions: [0, 0.5, 0.75],
      signal: controller.signal, pause: noPause, onPoint: (_, done) => seen.push(done), onStart: (s) => void starts.push(s),
    });
    expect(r.cancelled).toBe(true);
    // onStart, once the baseline is measured: the plan and its accuracy, no points yet (what a page saves while it runs).
    expect(starts).toEqual([{ ...r, points: [], cancelled: false, evaluations: 1, seconds: starts[0].seconds }]);
    // baseline (1), random@0 and l1@0 cached, random@0.5 uses calls 2–4: the 3rd seed is cut short.
    expect(r.points.map((p) => `${p.criterion}@${p.fraction}`)).toEqual(['random@0', 'l1@0']);
    expect(seen).toEqual([1, 2]);
  });

  it('an abort between points stops before the next one', async () => {
    const baseline = baselineOf(tinySimple);
    const controller = new AbortController();
    const r = await runSensitivity({
      spec: tinySimple, baseline, mode: 'mask', evaluate: fakeEvaluate(baseline), criteria: ['l1'], signal: controller.signal, pause: noPause,
      onPoint: (_, done) => done === 5 && controller.abort(),
    });
    expect(r.cancelled).toBe(true);
    expect(r.points).toHaveLength(5);
  });

  it('an evaluation error that is not a cancel propagates', async () => {
    const baseline = baselineOf(tinySimple);
    await expect(runSensitivity({ spec: tinySimple, baseline, mode: 'mask', evaluate: async () => { throw new Error('GPU lost'); }, pause: noPause })).rejects.toThrow('GPU lost');
    await expect(runSensitivity({ spec: tinySimple, baseline, mode: 'mask', evaluate: async () => NaN, pause: noPause })).rejects.toThrow(/NaN/);
  });

  it('yields to the host only after real evaluations', async () => {
    const baseline = baselineOf(tinySimple);
    const evaluate = fakeEvaluate(baseline);
    let pauses = 0;
    await runSensitivity({ spec: tinySimple, baseline, mode: 'remove', evaluate, criteria: ['l1'], layers: ['conv1'], pause: async () => void pauses++ });
    expect(pauses).toBe(evaluate.calls.length - 1); // every evaluation but the baseline's
  });
});
