/** The lottery ticket through the engine (cpu backend, ConvNet-3, 4 real CIFAR-10 images, one step per epoch): points, events, rewinding, cancel, no leaked tensors. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainConfig } from '../core/train/trainer';
import { engineHarness, shippedTestImages } from './engineHarness.testUtil';
import { lotteryProblem } from './lottery';
import type { ExperimentEvent, LotteryRequest, LotteryResult } from './protocol';

const images = shippedTestImages(4);
const config: TrainConfig = { epochs: 1, batchSize: 4, learningRate: 1e-2, optimizer: 'adam', momentum: 0.9, seed: 5 };
const request: LotteryRequest = { rounds: 2, p: 0.5, epochs: 1, rewindEpoch: 0, seed: 7, subset: 4, config };

describe('Engine: lottery ticket (cpu backend)', () => {
  const h = engineHarness();
  const { events, send } = h;
  const lottery = (r: LotteryRequest) => h.job<LotteryResult>({ type: 'lottery', ...r });
  const lotteryEvents = () => events.filter((e): e is ExperimentEvent & { kind: 'lottery' } => e.type === 'experiment' && e.kind === 'lottery');

  beforeAll(async () => {
    await send({ type: 'init', backend: 'cpu' });
    await send({ type: 'setData', role: 'train', set: images });
    await send({ type: 'setData', role: 'test', set: images });
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 3 });
  });

  it('2 rounds: the dense point and 3 arms per round at the same sparsity, a point event each; the same request gives the same figures; tensors flat', async () => {
    events.length = 0;
    const r = await lottery(request);
    expect(r.cancelled).toBe(false);
    expect(r.images).toBe(4);
    expect(r.points.map((p) => `${p.round}:${p.arm}`)).toEqual(['0:rewind', '0:reinit', '0:randomMask', '1:rewind', '1:reinit', '1:randomMask', '2:rewind', '2:reinit', '2:randomMask']);
    // p = 50 % of each layer's remaining weights: 50 % then 75 % of the prunable weights
    expect(r.points.filter((p) => p.round === 1).every((p) => Math.abs(p.sparsity - 0.5) < 0.01)).toBe(true);
    expect(r.points.filter((p) => p.round === 2).every((p) => Math.abs(p.sparsity - 0.75) < 0.01)).toBe(true);
    for (const p of r.points) expect(p.accuracy).toBeGreaterThanOrEqual(0);
    expect(lotteryEvents().filter((e) => e.point).map((e) => e.point)).toEqual(r.points);
    expect(lotteryEvents()[0].start).toMatchObject({ model: 'convnet3', rounds: 2, points: [] });
    expect(lotteryEvents().at(-1)!.progress).toMatchObject({ done: 7, total: 7, fraction: 1 });
    const before = tf.memory().numTensors;
    const again = await lottery(request);
    expect(tf.memory().numTensors).toBe(before);
    expect(again.points).toEqual(r.points); // seeded: initial weights, shuffles, masks
  });

  it('rewinding to epoch 1: the dense run hands over its weights after that epoch (runLottery refuses to go on without them)', async () => {
    const late = await lottery({ ...request, rounds: 1, epochs: 2, rewindEpoch: 1 });
    expect(late.cancelled).toBe(false);
    expect(late.points.map((p) => `${p.round}:${p.arm}`)).toEqual(['0:rewind', '0:reinit', '0:randomMask', '1:rewind', '1:reinit', '1:randomMask']);
  });

  it('Cancel mid-run keeps the points done, drops the run cut short, leaks nothing', async () => {
    const before = tf.memory().numTensors;
    let points = 0;
    h.onEvent = (e) => {
      if (e.type === 'experiment' && e.kind === 'lottery' && e.point && ++points === 4) void send({ type: 'cancel' });
    };
    try {
      const r = await lottery(request);
      expect(r.cancelled).toBe(true);
      expect(r.points.map((p) => `${p.round}:${p.arm}`)).toEqual(['0:rewind', '0:reinit', '0:randomMask', '1:rewind']);
      expect(r.points.every((p) => Number.isFinite(p.accuracy))).toBe(true);
    } finally {
      h.onEvent = () => {};
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says what is wrong with impossible settings', async () => {
    expect(lotteryProblem({ ...request, p: 1 })).toMatch(/below 100/);
    expect(lotteryProblem({ ...request, rewindEpoch: 2 })).toMatch(/from 0 to 0/);
    expect(lotteryProblem({ ...request, rounds: 0 })).toMatch(/Rounds/);
    expect(lotteryProblem(request)).toBeNull();
    await expect(lottery({ ...request, epochs: 0 })).rejects.toThrow(/Epochs per round/);
  });
});
