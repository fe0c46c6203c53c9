import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Cifar10Set, channelStats } from '../core/data/cifar10';
import { Net } from '../core/model/net';
import { convNet3 } from '../core/model/zoo';
import { prune } from '../core/pruning';
import type { PruneSettings } from '../core/pruning/settings';
import { randomWeights } from '../core/pruning/testUtil';
import { featureMaps, speedLab, testImages } from './inspect';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinySet(n: number): Cifar10Set {
  const pixels = new Uint8Array(n * 3072);
  let s = 1;
  for (let i = 0; i < pixels.length; i++) pixels[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return { count: n, pixels, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), source: 'test' };
}

const w = randomWeights(convNet3, 3);
const settings = (mode: PruneSettings['mode']): PruneSettings => ({ method: 'l1', mode, amounts: { conv2: 0.5 }, seed: 1 });

describe('featureMaps', () => {
  it('remove: the pruned conv2 has only its kept units; the baseline all 32; probabilities sum to 1; no leaks', async () => {
    const set = tinySet(4);
    const baseline = new Net(convNet3, w);
    const result = prune(convNet3, w, settings('remove'));
    const pruned = new Net(convNet3, result.weights);
    const before = tf.memory().numTensors;
    const r = await featureMaps({ spec: convNet3, stats: channelStats(set), test: set, baseline, pruned: { model: pruned, result, mode: 'remove' } }, { testIndex: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.label).toBe(2);
    const [b, p] = r.models;
    expect(b.layers.map((l) => l.layer)).toEqual(['conv1', 'conv2', 'conv3']);
    expect(b.layers[1].units).toHaveLength(32);
    expect(p.layers[1].units).toEqual(result.kept.conv2);
    expect(p.layers[1].maps.length).toBe(16 * 16 * 16); // 16×16 map (before the pool), 16 channels
    for (const m of r.models) expect(m.probs.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
    baseline.dispose();
    pruned.dispose();
  });

  it('mask: a masked channel’s map is one constant (ReLU of its BatchNorm shift), a kept one is not', async () => {
    const set = tinySet(2);
    const baseline = new Net(convNet3, w);
    const result = prune(convNet3, w, settings('mask'));
    const pruned = new Net(convNet3, result.weights);
    const r = await featureMaps({ spec: convNet3, stats: channelStats(set), test: set, baseline, pruned: { model: pruned, result, mode: 'mask' } }, { pixels: set.pixels.slice(0, 3072) });
    expect(r.label).toBeNull();
    const l = r.models[1].layers[1];
    const channel = (j: number) => Array.from({ length: l.size * l.size }, (_, p) => l.maps[p * l.units.length + j]);
    const gone = result.pruned.conv2[0];
    expect(new Set(channel(gone)).size).toBe(1);
    expect(new Set(channel(result.kept.conv2[0])).size).toBeGreaterThan(1);
    baseline.dispose();
    pruned.dispose();
  });

  it('rejects an image of the wrong size and a missing test image, with a clear message', async () => {
    const set = tinySet(1);
    const baseline = new Net(convNet3, w);
    const ctx = { spec: convNet3, stats: channelStats(set), test: set, baseline, pruned: null };
    await expect(featureMaps(ctx, { pixels: new Uint8Array(10) })).rejects.toThrow(/32×32 RGB/);
    await expect(featureMaps(ctx, { testIndex: 5 })).rejects.toThrow(/there are 1/);
    baseline.dispose();
  });

  it('testImages: the first n images and labels', () => {
    const set = tinySet(3);
    const t = testImages(set, 2);
    expect(t.pixels).toEqual(set.pixels.slice(0, 6144));
    expect(t.labels).toEqual([0, 1]);
  });
});

describe('speedLab', () => {
  it('three models, a timing per batch size each, the dense one as large as the removed one; no leaks', async () => {
    const before = tf.memory().numTensors;
    const r = await speedLab({ spec: convNet3, baseline: w, backend: 'cpu', shouldStop: () => false }, { settings: settings('remove'), batches: [1, 4], runs: 2, warmup: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.rows.map((x) => x.model)).toEqual(['masked', 'removed', 'dense']);
    const [masked, removed, dense] = r.rows;
    expect(masked.channels).toEqual([16, 32, 64]);
    expect(removed.channels).toEqual([16, 16, 64]);
    expect(masked.macs).toBeGreaterThan(removed.macs);
    expect(masked.nonzeroMacs).toBeLessThan(masked.macs);
    expect(Math.abs(dense.params - removed.params) / removed.params).toBeLessThan(0.1);
    for (const row of r.rows) for (const t of row.ms) expect(t).toBeGreaterThan(0); // measured, whatever they are
    expect(r.cancelled).toBe(false);
  });

  it('cancel stops it and keeps what was timed', async () => {
    let calls = 0;
    const r = await speedLab({ spec: convNet3, baseline: w, backend: 'cpu', shouldStop: () => ++calls > 9 }, { settings: settings('remove'), batches: [1, 2], runs: 2, warmup: 1 });
    expect(r.cancelled).toBe(true);
    // Batch 1: (1 warm-up + 2 runs) × 3 models = 9 turns, all timed; batch 2 stopped at its first turn.
    for (const row of r.rows) {
      expect(row.ms[0]).toBeGreaterThan(0);
      expect(row.ms[1]).toBeNull();
    }
    expect(calls).toBe(10);
  });
});
