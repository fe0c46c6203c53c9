/** The engine's Taylor criterion: scores on a seeded batch of the loaded training images, cached per baseline and batch, no leaks. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalisedBatch, channelStats, parseCifar10, takeFirst } from '../core/data/cifar10';
import { Net } from '../core/model/net';
import { convNet3 } from '../core/model/zoo';
import { keptUnits } from '../core/pruning/importance';
import { taylorBatchIndices } from '../core/pruning/taylor';
import { taylorGroupScores } from '../core/pruning/taylorNet';
import { Engine } from './engine';
import { prune } from '../core/pruning/pruner';
import { spearman } from '../core/experiments/oracle';
import { NUM_CLASSES } from '../core/model/spec';
import type { OracleReply, PreviewReply } from './protocol';

const dir = new URL('../../public/data/cifar10/', import.meta.url);
const data = takeFirst(parseCifar10(new Uint8Array(readFileSync(new URL('test_1000.bin', dir))), 'test_1000.bin'), 40);

describe('Engine: method taylor (cpu backend, no worker)', () => {
  const engine = new Engine(() => {});
  let seq = 0;
  const send = (req: Parameters<Engine['handle']>[0]) => engine.handle(req, ++seq);
  const preview = (taylor: { batch: number; seed: number }, conv2 = 0.5) => {
    const id = ++seq;
    engine.notePreview(id);
    return engine.handle({ type: 'preview', settings: { method: 'taylor', mode: 'remove', amounts: { conv2 }, seed: 1, taylor } }, id) as Promise<PreviewReply>;
  };

  beforeAll(async () => {
    await send({ type: 'init', backend: 'cpu' });
    await send({ type: 'setData', role: 'train', set: data });
    await send({ type: 'setData', role: 'test', set: takeFirst(data, 10) });
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 3 });
  });

  it('prunes by the Taylor scores of the seeded batch, says which images, and caches them', async () => {
    const r = await preview({ batch: 8, seed: 5 });
    const indices = taylorBatchIndices(40, 8, 5);
    expect(r.taylor).toMatchObject({ batch: 8, seed: 5, indices, of: 40, cached: false });
    // The same scores computed here from the baseline's weights and the same 8 images.
    const weights = (await send({ type: 'readBaseline' })) as Parameters<typeof Net.prototype.assignWeights>[0];
    const net = new Net(convNet3, weights);
    const { images, labels } = normalisedBatch(data, channelStats(data), indices, 0, 8);
    const x = tf.tensor4d(images, [8, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    const { scores, loss } = taylorGroupScores(net, x, y);
    expect(r.taylor!.loss).toBeCloseTo(loss, 5);
    expect(r.kept.conv2).toEqual(keptUnits(scores.conv2, 16));
    tf.dispose([x, y]);
    net.dispose();
    const again = await preview({ batch: 8, seed: 5 }, 0.25);
    expect(again.taylor).toMatchObject({ cached: true, millis: 0, indices });
    const other = await preview({ batch: 8, seed: 6 });
    expect(other.taylor!.cached).toBe(false);
    expect(other.taylor!.indices).not.toEqual(indices);
  });

  it('scores again after the baseline changes, and leaks no tensor', async () => {
    await preview({ batch: 4, seed: 1 });
    const before = tf.memory().numTensors;
    for (const seed of [2, 3, 2]) await preview({ batch: 4, seed });
    expect(tf.memory().numTensors).toBe(before);
    await send({ type: 'resetBaseline', model: 'convnet3', seed: 4 });
    expect((await preview({ batch: 4, seed: 2 })).taylor!.cached).toBe(false);
  });

  it('the oracle: each unit removed alone on the seeded batch, as a removed-unit network measures it; ρ per criterion; no leaks', async () => {
    const before = tf.memory().numTensors;
    const r = (await send({ type: 'oracle', group: 'conv1', batch: 8, seed: 2 })) as OracleReply;
    expect(tf.memory().numTensors).toBe(before);
    expect(r.units).toBe(16);
    expect(r.criteria.map((c) => c.criterion)).toEqual(['l1', 'l2', 'bn', 'taylor', 'random']);
    const weights = (await send({ type: 'readBaseline' })) as Parameters<typeof Net.prototype.assignWeights>[0];
    const indices = taylorBatchIndices(40, 8, 2);
    const { images, labels } = normalisedBatch(data, channelStats(data), indices, 0, 8);
    const x = tf.tensor4d(images, [8, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    const loss = (w: typeof weights) => {
      const net = new Net(convNet3, w);
      const l = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, NUM_CLASSES), net.predict(x)).dataSync()[0]);
      net.dispose();
      return l;
    };
    expect(r.baseLoss).toBeCloseTo(loss(weights), 4);
    for (const u of [0, 7, 15]) {
      const removed = prune(convNet3, weights, { method: 'manual', mode: 'remove', amounts: {}, manual: { conv1: [u] }, seed: 0 }).weights;
      expect(r.delta[u]).toBeCloseTo(loss(removed) - r.baseLoss, 4);
    }
    const net = new Net(convNet3, weights);
    const taylor = taylorGroupScores(net, x, y).scores.conv1;
    expect(r.criteria.find((c) => c.criterion === 'taylor')!.rho).toBeCloseTo(spearman(taylor, r.delta), 10);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('a Cancel stops the oracle', async () => {
    engine.noteJobQueued();
    await send({ type: 'cancel' });
    await expect(send({ type: 'oracle', group: 'conv3', batch: 4, seed: 1 })).rejects.toThrow(/cancelled/);
  });
});
