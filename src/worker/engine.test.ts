import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatSets, parseCifar10, takeFirst } from '../core/data/cifar10';
import { resnet20Counts } from '../core/model/resnet20Counts.testUtil';
import { Engine, HOST_SET_ABOVE, SupersededError } from './engine';
import type { EngineEvent, PreviewReply } from './protocol';

const dir = new URL('../../public/data/cifar10/', import.meta.url);
const test = takeFirst(parseCifar10(new Uint8Array(readFileSync(new URL('test_1000.bin', dir))), 'test_1000.bin'), 20);

describe('Engine (cpu backend, no worker)', () => {
  const events: EngineEvent[] = [];
  const engine = new Engine((e) => events.push(e));
  let seq = 0;
  const send = (req: Parameters<Engine['handle']>[0]) => engine.handle(req, ++seq);
  const preview = (conv1: number, mode: 'mask' | 'remove' = 'remove') => {
    const id = ++seq;
    engine.notePreview(id);
    return engine.handle({ type: 'preview', settings: { method: 'l1', mode, amounts: { conv1 }, seed: 1 } }, id) as Promise<PreviewReply>;
  };

  beforeAll(async () => {
    const info = (await send({ type: 'init', backend: 'cpu' })) as { backend: string };
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await send({ type: 'setData', role: 'train', set: test });
    await send({ type: 'setData', role: 'test', set: test });
    await send({ type: 'resetBaseline', model: 'simplecnn', seed: 3 });
  });

  it('answers a preview with the pruned model’s costs and accuracy', async () => {
    const r = await preview(0.5);
    expect(r.kept.conv1).toHaveLength(32);
    expect(r.costs.params).toBe(328_586);
    expect(r.evaluation.count).toBe(20);
  });

  it('drops a preview that a newer one superseded, before doing the work', async () => {
    const older = ++seq;
    engine.notePreview(older);
    const newer = ++seq;
    engine.notePreview(newer);
    await expect(
      engine.handle({ type: 'preview', settings: { method: 'l1', mode: 'remove', amounts: { conv1: 0.25 }, seed: 1 } }, older),
    ).rejects.toBeInstanceOf(SupersededError);
    const r = (await engine.handle({ type: 'preview', settings: { method: 'l1', mode: 'remove', amounts: { conv1: 0.75 }, seed: 1 } }, newer)) as PreviewReply;
    expect(r.kept.conv1).toHaveLength(16);
  });

  it('at 0 % gives back the baseline exactly, and repeated previews do not leak tensors', async () => {
    const base = (await send({ type: 'evaluate', role: 'baseline' })) as { accuracy: number; loss: number };
    const zero = await preview(0, 'mask');
    expect(zero.evaluation.accuracy).toBe(base.accuracy);
    expect(zero.evaluation.loss).toBe(base.loss);
    const before = tf.memory().numTensors;
    for (const c of [0.1, 0.9, 0.3, 1, 0]) await preview(c);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('switches to ConvNet-3 and prunes it through its dependency groups', async () => {
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 3 });
    const id = ++seq;
    engine.notePreview(id);
    const r = (await engine.handle({ type: 'preview', settings: { method: 'l1', mode: 'remove', amounts: { conv2: 0.5 }, seed: 1 } }, id)) as PreviewReply;
    expect(r.kept.conv2).toHaveLength(16);
    expect(r.costs.channels).toEqual([16, 16, 64]);
    expect(r.filters.map((f) => f.layer)).toEqual(['conv1', 'conv2', 'conv3']);
    expect(r.filters[0].rgb?.kernel).toHaveLength(432);
    const w = (await send({ type: 'readBaseline' })) as { model: string };
    expect(w.model).toBe('convnet3');
    await send({ type: 'resetBaseline', model: 'simplecnn', seed: 3 });
  });

  it('builds ResNet-20, prunes a residual stream through its group (mask and remove), fine-tunes it, and leaks no tensors', async () => {
    expect(resnet20Counts()).toEqual({ params: 272_474, macs: 40_813_184 }); // the figures
    // 4 images: ResNet-20 costs 15× SimpleCNN's MACs, and the cpu backend is plain JavaScript.
    await send({ type: 'setData', role: 'test', set: takeFirst(test, 4) });
    await send({ type: 'resetBaseline', model: 'resnet20', seed: 3 });
    const ask = async (mode: 'mask' | 'remove', amounts: Record<string, number>) => {
      const id = ++seq;
      engine.notePreview(id);
      return (await engine.handle({ type: 'preview', settings: { method: 'l1', mode, amounts, seed: 1 } }, id)) as PreviewReply;
    };
    const removed = await ask('remove', { stream2: 0.5 });
    expect(removed.kept.stream2).toHaveLength(16);
    expect(removed.costs.channels).toEqual([16, 16, 64, 16, 16, 16, 32, 32, 32, 64, 64, 64]);
    // Counted from the architecture, independently of the engine (core/model/resnet20Counts.testUtil.ts).
    expect(removed.costs.params).toBe(resnet20Counts({ stream2: 16 }).params);
    expect(removed.costs.macs).toBe(resnet20Counts({ stream2: 16 }).macs);
    expect(removed.filters.map((f) => f.layer)).toEqual(['stream1', 'stream2', 'stream3', 'inner1.1', 'inner1.2', 'inner1.3', 'inner2.1', 'inner2.2', 'inner2.3', 'inner3.1', 'inner3.2', 'inner3.3']);
    expect(removed.filters[0].rgb?.kernel).toHaveLength(432); // the stem conv's RGB filters
    expect(removed.filters[1].group).toEqual({ label: 'residual stream of stage 2', unitName: 'stream channels', kind: 'stream' });
    const masked = await ask('mask', { stream1: 0.5 });
    expect(masked.costs.params).toBe(272_474);
    const r = (await send({ type: 'train', role: 'pruned', config: { epochs: 1, batchSize: 4, learningRate: 1e-3, optimizer: 'sgd', momentum: 0.9, seed: 1 }, trainSubset: 4 })) as { steps: number; measured: { nonzeroParams: number } };
    expect(r.steps).toBe(1);
    // Stream 1's 8 masked channels stay zero in the stem and the three conv2s (8·27 + 3·8·144 weights).
    expect(r.measured.nonzeroParams).toBeLessThanOrEqual(272_474 - 8 * 27 - 3 * 8 * 144);
    // Flat across prunes and fine-tuning (the training images stay on the device once uploaded).
    await ask('remove', { stream2: 0.5 });
    const before = tf.memory().numTensors;
    await ask('mask', { stream1: 0.5 });
    await send({ type: 'train', role: 'pruned', config: { epochs: 1, batchSize: 4, learningRate: 1e-3, optimizer: 'sgd', momentum: 0.9, seed: 1 }, trainSubset: 4 });
    await ask('remove', { stream2: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    await send({ type: 'setData', role: 'test', set: test });
    await send({ type: 'resetBaseline', model: 'simplecnn', seed: 3 });
  }, 300_000);

  it('a Cancel that arrives while the training is still queued stops it before its first step', async () => {
    engine.noteJobQueued(); // the worker calls this as the train request is queued
    await send({ type: 'cancel' });
    const r = (await send({ type: 'train', role: 'baseline', config: { epochs: 1, batchSize: 10, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, seed: 1 }, trainSubset: 20 })) as { cancelled: boolean; steps: number };
    expect(r).toMatchObject({ cancelled: true, steps: 0 });
  });

  it('previews evaluate on the preview set when one is given (the full data set: 1,000 images), evaluations on the test set', async () => {
    await send({ type: 'setPreviewData', set: takeFirst(test, 8) });
    expect((await preview(0.5)).evaluation.count).toBe(8);
    expect(((await send({ type: 'evaluate', role: 'baseline' })) as { count: number }).count).toBe(20);
    const before = tf.memory().numTensors;
    await send({ type: 'setPreviewData', set: null });
    expect(tf.memory().numTensors).toBe(before - 2); // the preview images and labels freed
    expect((await preview(0.5)).evaluation.count).toBe(20);
  });

  it('a training set larger than HOST_SET_ABOVE stays bytes on the host: no float32 copy on the backend', async () => {
    const big = concatSets(Array.from({ length: Math.ceil((HOST_SET_ABOVE + 1) / test.count) }, () => test));
    expect(big.count).toBeGreaterThan(HOST_SET_ABOVE);
    await send({ type: 'setData', role: 'train', set: big });
    const before = tf.memory().numBytes;
    engine.noteJobQueued();
    await send({ type: 'cancel' }); // stops before the first step, after the training data is prepared
    const r = (await send({ type: 'train', role: 'baseline', config: { epochs: 1, batchSize: 10, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, seed: 1 }, trainSubset: 0 })) as { cancelled: boolean };
    expect(r.cancelled).toBe(true);
    expect(tf.memory().numBytes - before).toBeLessThan(big.count * 3072); // float32 on the backend would be 4× that
    await send({ type: 'setData', role: 'train', set: test });
  });

  it('marks a training as a running job for the measured auto (busy while it runs, idle after, the measurement signal aborted)', async () => {
    const signal = engine.activity.signal;
    const run = send({ type: 'train', role: 'baseline', config: { epochs: 1, batchSize: 10, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, seed: 1 }, trainSubset: 20 });
    expect(engine.activity.busy).toBe(true);
    expect(signal.aborted).toBe(true);
    await run;
    expect(engine.activity.busy).toBe(false);
    await send({ type: 'evaluate', role: 'baseline' });
    expect(engine.activity.busy).toBe(false);
  });
});


