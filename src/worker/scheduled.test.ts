/** The engine's scheduled fine-tuning and its controls (issue 22), on the cpu backend with a tiny data set. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCifar10, takeFirst } from '../core/data/cifar10';
import type { Net } from '../core/model/net';
import type { NetWeights } from '../core/model/spec';
import { convNet3 } from '../core/model/zoo';
import { prune, type PruneSettings } from '../core/pruning';
import type { TrainConfig } from '../core/train/trainer';
import { Engine } from './engine';
import type { ControlReply, EngineEvent, PytorchExportReply, ScheduledReply, TrainReply } from './protocol';

const dir = new URL('../../public/data/cifar10/', import.meta.url);
const images = takeFirst(parseCifar10(new Uint8Array(readFileSync(new URL('test_1000.bin', dir))), 'test_1000.bin'), 4);
// 4 images in batches of 2: two steps per epoch, so the seed's shuffle still decides the batches (one full batch would not), at half the compute of 8 in 4s.
const config: TrainConfig = { epochs: 1, batchSize: 2, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, seed: 5 };

describe('Engine: scheduled fine-tuning and controls (cpu backend)', () => {
  const events: EngineEvent[] = [];
  const engine = new Engine((e) => events.push(e));
  let seq = 0;
  const send = (req: Parameters<Engine['handle']>[0]) => engine.handle(req, ++seq);
  const prunedWeights = () => (engine as unknown as { pruned: { model: Net } }).pruned.model.readWeights();
  let baseline: NetWeights;

  beforeAll(async () => {
    await send({ type: 'init', backend: 'cpu' });
    await send({ type: 'setData', role: 'train', set: images });
    await send({ type: 'setData', role: 'test', set: images });
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 3 });
    baseline = (await send({ type: 'readBaseline' })) as NetWeights;
  });

  it('AGP, mask mode, 3 steps to 75 %: a step report each, ending at the target; masked weights stay zero', async () => {
    const settings: PruneSettings = { method: 'l1', mode: 'mask', amounts: { conv1: 0.75, conv2: 0.75, conv3: 0.75, fc1: 0.5 }, seed: 1 };
    events.length = 0;
    const r = (await send({ type: 'scheduledFinetune', settings, schedule: { kind: 'agp', steps: 3 }, config, trainSubset: 4 })) as ScheduledReply;
    const steps = events.flatMap((e) => (e.type === 'scheduleStep' ? [e.report] : []));
    expect(steps).toEqual(r.schedule);
    expect(r.schedule.map((s) => s.step)).toEqual([1, 2, 3]);
    // AGP: 75 % · (1 − (1 − t/3)³) → 52.8 %, 72.2 %, 75 %
    expect(r.schedule.map((s) => Math.round(s.sparsities.conv2 * 1000) / 10)).toEqual([52.8, 72.2, 75]);
    expect(r.schedule[2].sparsities).toEqual(settings.amounts);
    // every step fine-tuned its epoch, the epochs numbered on (3 in all)
    expect(r.schedule.map((s) => s.epochs)).toEqual([1, 1, 1]);
    expect(r.totalEpochs).toBe(3);
    expect(r.cancelled).toBe(false);
    // the pruned model's curve got each step's batches and epochs
    expect(events.filter((e) => e.type === 'epoch' && e.role === 'pruned')).toHaveLength(3);
    // the final network: the one-shot target's counts, each pruned filter all zero after fine-tuning
    const one = prune(convNet3, baseline, settings);
    for (const g of ['conv1', 'conv2', 'conv3']) expect(r.kept[g]).toHaveLength(one.kept[g].length);
    const w = await prunedWeights();
    const c2 = w.tensors['conv2.weight']; // [3,3,16,32], filter = last axis
    for (let j = 0; j < 32; j++) {
      const zero = c2.every((x, i) => i % 32 !== j || x === 0);
      expect(zero, `conv2 filter ${j}`).toBe(!r.kept.conv2.includes(j));
    }
    expect(r.measured!.nonzeroParams).toBe(r.schedule[2].costs.nonzeroParams);
  });

  it('iterative, remove mode, 3 steps: the network shrinks step by step to the target channels; tensors flat across runs', async () => {
    const settings: PruneSettings = { method: 'l2', mode: 'remove', amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.5, fc1: 0.2 }, seed: 1 };
    const run = () => send({ type: 'scheduledFinetune', settings, schedule: { kind: 'iterative', steps: 3 }, config, trainSubset: 4 }) as Promise<ScheduledReply>;
    const r = await run();
    expect(r.schedule.map((s) => s.costs.channels)).toEqual([
      [16 - 3, 32 - 8, 64 - 11],
      [16 - 5, 32 - 16, 64 - 21],
      [8, 8, 32],
    ]);
    expect(r.measured!.channels).toEqual(prune(convNet3, baseline, settings).weights.channels);
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Taylor, remove mode: each step re-scores the current network; the reports keep each step’s filters and the export replays them', async () => {
    const settings: PruneSettings = { method: 'taylor', mode: 'remove', amounts: { conv1: 0.5, conv2: 0.5, conv3: 0, fc1: 0 }, seed: 1, taylor: { batch: 4, seed: 0 } };
    const schedule = { kind: 'iterative', steps: 2 } as const;
    const before = tf.memory().numTensors;
    const r = (await send({ type: 'scheduledFinetune', settings, schedule, config, trainSubset: 4 })) as ScheduledReply;
    expect(tf.memory().numTensors).toBe(before);
    const kept = r.schedule.map((s) => s.kept!);
    expect(kept.map((k) => [k.conv1.length, k.conv2.length, k.conv3.length])).toEqual([[12, 24, 64], [8, 16, 64]]);
    expect(kept[1].conv2.every((j) => kept[0].conv2.includes(j))).toBe(true);
    expect(r.kept).toEqual(kept[1]);
    const keptSteps = (script: string) => JSON.parse(/^KEPT_STEPS = (\[[\s\S]*?\n\])$/m.exec(script)![1].replace(/,(\s*[\]}])/g, '$1'));
    const finetune = { optimizer: 'adam', learningRate: 1e-3, batchSize: 2, momentum: 0.9 } as const;
    // A history row's export replays the run's own choices; the sliders' export, the step chain without training (Taylor re-scored each step).
    const row = (await send({ type: 'exportPytorch', settings, finetune, schedule, stepKept: kept })) as PytorchExportReply;
    expect(keptSteps(row.script)).toEqual(kept);
    const fresh = (await send({ type: 'exportPytorch', settings, finetune, schedule })) as PytorchExportReply;
    const chain = keptSteps(fresh.script) as Record<string, number[]>[];
    expect(chain.map((k) => k.conv1.length)).toEqual([12, 8]);
    expect(fresh.costs.channels).toEqual(r.measured!.channels);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the control is a fine-tune at sparsity 0 (same seed, epochs, shuffles), computed once, and leaves the pruned model alone', async () => {
    const ctl = (await send({ type: 'control', config: { ...config, epochs: 2 }, trainSubset: 4 })) as ControlReply;
    expect(ctl).toMatchObject({ epochs: 2, cancelled: false, cached: false });
    // a fine-tune at sparsity 0 of the same budget
    const id = ++seq;
    engine.notePreview(id);
    await engine.handle({ type: 'preview', settings: { method: 'l1', mode: 'mask', amounts: {}, seed: 1 } }, id);
    const ft = (await send({ type: 'train', role: 'pruned', config: { ...config, epochs: 2 }, trainSubset: 4 })) as TrainReply;
    expect(ctl.evaluation.loss).toBe(ft.evaluation.loss);
    expect(ctl.evaluation.accuracy).toBe(ft.evaluation.accuracy);
    // another seed is another run
    const other = (await send({ type: 'control', config: { ...config, epochs: 2, seed: 6 }, trainSubset: 4 })) as ControlReply;
    expect(other.evaluation.loss).not.toBe(ctl.evaluation.loss);
    // cached; no training events; the pruned model is untouched
    const pruned = (await send({ type: 'evaluate', role: 'pruned' })) as { loss: number };
    events.length = 0;
    const again = (await send({ type: 'control', config: { ...config, epochs: 2 }, trainSubset: 4 })) as ControlReply;
    expect(again).toEqual({ ...ctl, cached: true });
    expect(events).toEqual([]);
    expect(((await send({ type: 'evaluate', role: 'pruned' })) as { loss: number }).loss).toBe(pruned.loss);
    // a changed baseline is another control
    await send({ type: 'train', role: 'baseline', config, trainSubset: 4 });
    expect(((await send({ type: 'control', config: { ...config, epochs: 2 }, trainSubset: 4 })) as ControlReply).cached).toBe(false);
  });

  it('Cancel before a scheduled run stops it in its first step, reported', async () => {
    engine.noteJobQueued();
    await send({ type: 'cancel' });
    const r = (await send({ type: 'scheduledFinetune', settings: { method: 'l1', mode: 'mask', amounts: { conv1: 0.5 }, seed: 1 }, schedule: { kind: 'agp', steps: 3 }, config, trainSubset: 4 })) as ScheduledReply;
    expect(r.cancelled).toBe(true);
    expect(r.schedule).toHaveLength(1);
    expect(r.schedule[0]).toMatchObject({ step: 1, cancelled: true, epochs: 0 });
  });
});
