/**
 * The experiments through the engine (cpu backend, no worker, 20 real CIFAR-10 images): requests,
 * events, cancel, and no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SensitivityResult } from '../core/experiments/sensitivity';
import type { SweepResult } from '../core/experiments/sweep';
import { engineHarness, shippedTestImages } from './engineHarness.testUtil';
import type { PreviewReply, SensitivityRequest, SweepRequest } from './protocol';

const images = shippedTestImages(20);
const config = { epochs: 1, batchSize: 8, learningRate: 0.01, optimizer: 'sgd' as const, momentum: 0.9, seed: 1 };

describe('experiments in the engine (cpu backend)', () => {
  const h = engineHarness();
  const { events, send, experimentEvents } = h;
  const sensitivity = (req: SensitivityRequest) => h.job<SensitivityResult>({ type: 'sensitivity', ...req });
  const sweep = (req: SweepRequest) => h.job<SweepResult>({ type: 'sweep', ...req });
  const numTensors = () => tf.memory().numTensors;

  beforeAll(async () => {
    await send({ type: 'init', backend: 'cpu' });
    await send({ type: 'setData', role: 'train', set: images });
    await send({ type: 'setData', role: 'test', set: images });
    await send({ type: 'resetBaseline', model: 'simplecnn', seed: 3 });
    await send({ type: 'evaluate', role: 'baseline' }); // puts the test set on the device
  });

  it('sensitivity scan (remove mode): every point, its events, the L1 50 % point equals the page’s preview, no leaked tensors', async () => {
    events.length = 0;
    const before = numTensors();
    const r = await sensitivity({ mode: 'remove', criteria: ['l1', 'random', 'bn'], randomSeeds: [1, 2], fractions: [0, 0.5, 0.95] });
    expect(numTensors()).toBe(before);
    expect(r.cancelled).toBe(false);
    expect(r.skipped.map((s) => s.criterion)).toEqual(['bn']); // SimpleCNN has no BatchNorm
    expect(r.layers.map((l) => l.layer)).toEqual(['conv1', 'fc1']);
    expect(r.points).toHaveLength(2 * 3 * 2);
    const pointEvents = experimentEvents().filter((e) => e.point);
    expect(pointEvents).toHaveLength(r.points.length);
    expect(pointEvents.every((e) => e.kind === 'sensitivity')).toBe(true);
    // One start event, before the first point: the plan and the baseline's accuracy, what the page saves while it runs.
    const starts = experimentEvents().filter((e) => e.start);
    expect(starts).toHaveLength(1);
    expect(experimentEvents().indexOf(starts[0])).toBeLessThan(experimentEvents().indexOf(pointEvents[0]));
    expect(starts[0].start).toMatchObject({ layers: r.layers, total: 12, baselineAccuracy: r.baselineAccuracy, points: [] });
    const last = experimentEvents().at(-1)!;
    expect(last.progress).toMatchObject({ done: 12, total: 12, current: null });

    const p = r.points.find((x) => x.layer === 'conv1' && x.fraction === 0.5 && x.criterion === 'l1')!;
    expect(p.channels).toEqual([32]);
    expect(p.params).toBe(328_586); // the smaller network was built and evaluated
    const id = h.nextId();
    h.engine.notePreview(id);
    const page = (await h.engine.handle({ type: 'preview', settings: { method: 'l1', mode: 'remove', amounts: { conv1: 0.5, fc1: 0 }, seed: 42 } }, id)) as PreviewReply;
    expect(p.accuracy).toBe(page.evaluation.accuracy);
    expect(r.points.find((x) => x.fraction === 0)!.accuracy).toBe(r.baselineAccuracy);
  });

  it('method comparison: before/after accuracies per (criterion, sparsity, seed), throttled progress, no leaked tensors', async () => {
    const req: SweepRequest = { mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.5], seeds: [1, 2], epochs: 1, subset: 8, config };
    await sweep({ ...req, seeds: [9], criteria: ['l1'] }); // puts the training subset on the device
    events.length = 0;
    const before = numTensors();
    const r = await sweep(req);
    expect(numTensors()).toBe(before);
    expect(r.cancelled).toBe(false);
    expect(r.points.map((p) => [p.criterion, p.seed])).toEqual([['l1', 1], ['random', 1], ['l1', 2], ['random', 2]]);
    for (const p of r.points) {
      expect(p.accBefore).toBeGreaterThanOrEqual(0);
      expect(p.accAfter).toBeLessThanOrEqual(1);
      expect(p.nonzeroParams).toBeLessThan(r.baseline.params);
      expect(p).toMatchObject({ epochs: 1, subset: 8, mode: 'mask' });
    }
    // L1 prunes the same network for both seeds: measured once before fine-tuning.
    expect(r.points[0].accBefore).toBe(r.points[2].accBefore);
    expect(experimentEvents().filter((e) => e.point)).toHaveLength(4);
    expect(experimentEvents().filter((e) => e.start).map((e) => e.start)).toMatchObject([{ runs: r.runs, baseline: r.baseline, points: [] }]);
    expect(experimentEvents().some((e) => e.kind === 'sweep' && e.progress?.phase === 'fineTuning')).toBe(true);
    // Same seed, same point: the fine-tuning is reproducible.
    const again = await sweep({ ...req, seeds: [2] });
    expect(again.points.map((p) => p.accAfter)).toEqual(r.points.slice(2).map((p) => p.accAfter));
  });

  it('cancel stops a sweep within its fine-tuning, keeps the finished points, and a resume completes it', async () => {
    const req: SweepRequest = { mode: 'remove', criteria: ['l1', 'l2'], sparsities: [0.25, 0.75], seeds: [1], epochs: 1, subset: 8, config };
    const before = numTensors();
    let points = 0;
    h.onEvent = (e) => {
      if (e.type !== 'experiment') return;
      if (e.point) points++;
      // Cancel once the second point is fine-tuning.
      if (points === 1 && e.kind === 'sweep' && e.progress?.phase === 'fineTuning') void send({ type: 'cancel' });
    };
    const r = await sweep(req).finally(() => (h.onEvent = () => {}));
    expect(numTensors()).toBe(before);
    expect(r.cancelled).toBe(true);
    expect(r.points).toHaveLength(1);
    const resumed = await sweep({ ...req, previous: r.points });
    expect(resumed.cancelled).toBe(false);
    expect(resumed.points).toHaveLength(4);
    expect(resumed.points[0]).toEqual(r.points[0]);
    expect(numTensors()).toBe(before);
  });

  it('cancel stops a scan between evaluations; a later request runs normally', async () => {
    const before = numTensors();
    let n = 0;
    h.onEvent = (e) => {
      if (e.type === 'experiment' && e.point && ++n === 3) void send({ type: 'cancel' });
    };
    const r = await sensitivity({ mode: 'mask', criteria: ['l2'], randomSeeds: [1], fractions: [0, 0.25, 0.5, 0.75] }).finally(() => (h.onEvent = () => {}));
    expect(r.cancelled).toBe(true);
    expect(r.points.length).toBeGreaterThanOrEqual(3);
    expect(r.points.length).toBeLessThan(8);
    expect(numTensors()).toBe(before);
    const full = await sensitivity({ mode: 'mask', criteria: ['l2'], randomSeeds: [1], fractions: [0, 0.5], layers: ['conv1'] });
    expect(full.cancelled).toBe(false);
    expect(full.points).toHaveLength(2);
  });

  it('ConvNet-3: BatchNorm γ is scanned, remove mode shrinks the following layers too', async () => {
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 3 });
    const before = numTensors();
    const r = await sensitivity({ mode: 'remove', criteria: ['bn', 'l1'], randomSeeds: [1], fractions: [0, 0.5], layers: ['conv2'] });
    expect(numTensors()).toBe(before);
    expect(r.skipped).toEqual([]);
    const p = r.points.find((x) => x.fraction === 0.5 && x.criterion === 'bn')!;
    expect(p.channels).toEqual([16, 16, 64]);
    await send({ type: 'resetBaseline', model: 'simplecnn', seed: 3 });
  });
});
