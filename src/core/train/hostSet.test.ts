/**
 * The full CIFAR-10's training set stays bytes on the host and is normalised batch by batch (HostSet):
 * training and evaluation on it must give exactly what the same records give on the backend (toDevice),
 * with augmentation too, and hold no tensors between steps.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { channelStats, normalisedBatch, parseCifar10, takeFirst } from '../data/cifar10';
import { Net } from '../model/net';
import { simpleCnn } from '../model/zoo';
import { type ImageSet, createOptimizer, disposeDeviceSet, disposeOptimizer, evaluate, toDevice, toHost, train } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const read = (name: string) => parseCifar10(new Uint8Array(readFileSync(new URL(`../../../public/data/cifar10/${name}`, import.meta.url))), name);
const trainSet = takeFirst(read('train_5000.bin'), 48);
const testSet = takeFirst(read('test_1000.bin'), 40);
const stats = channelStats(read('train_5000.bin'));

describe('HostSet: bytes on the host, normalised per batch', () => {
  it('holds no tensors: the images are the bytes, normalised as toDevice normalises them', async () => {
    const before = tf.memory().numTensors;
    const host = toHost(trainSet, stats);
    expect(tf.memory().numTensors).toBe(before);
    expect(host.host.pixels).toBe(trainSet.pixels); // not copied
    const device = toDevice(trainSet, stats);
    const order = Int32Array.from([5, 0, 47, 12]);
    const { images } = normalisedBatch(trainSet, stats, order, 0, 4);
    const gathered = await tf.gather(device.xs, tf.tensor1d(order, 'int32')).data();
    expect(Array.from(images)).toEqual(Array.from(gathered));
    disposeDeviceSet(device);
    disposeDeviceSet(host); // nothing to free
  });

  it('training (augmented, SGD + Nesterov) and evaluation give the same weights and figures bit for bit; tensors flat per step', async () => {
    const run = async (data: ImageSet, test: ImageSet) => {
      const model = Net.create(simpleCnn, 7, [2]);
      const cfg = {
        epochs: 2,
        batchSize: 16,
        learningRate: 0.05,
        optimizer: 'sgd' as const,
        momentum: 0.9,
        seed: 3,
        recipe: { augment: true, nesterov: true, weightDecay: 5e-4, schedule: 'cosine' as const, warmupEpochs: 0, labelSmoothing: 0 },
      };
      const opt = createOptimizer(cfg);
      const counts: number[] = [];
      await train(model, opt, data, cfg, { onBatch: () => counts.push(tf.memory().numTensors) });
      const ev = await evaluate(model, test, undefined, 16);
      const weights = await model.readWeights();
      disposeOptimizer(opt);
      model.dispose();
      return { ev, weights, counts };
    };
    const deviceTrain = toDevice(trainSet, stats);
    const deviceTest = toDevice(testSet, stats);
    const onDevice = await run(deviceTrain, deviceTest);
    disposeDeviceSet(deviceTrain);
    disposeDeviceSet(deviceTest);
    const before = tf.memory().numTensors;
    const onHost = await run(toHost(trainSet, stats), toHost(testSet, stats));
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(onHost.counts.slice(1)).size).toBe(1);
    expect(onHost.ev).toEqual(onDevice.ev);
    for (const [name, t] of Object.entries(onDevice.weights.tensors)) expect(Array.from(onHost.weights.tensors[name]), name).toEqual(Array.from(t));
  });
});
