/** Pruning through the channel groups computed from the graph: ResNet-20 beside the chain models. */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { structure } from '../model/graph';
import { Net } from '../model/net';
import { type ModelSpec, type NetWeights, fullChannels, parameterCount } from '../model/spec';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { mulberry32 } from '../random';
import { measureCosts, previewCosts } from './costs';
import { dependencyGroup, describeGroup, groupsOf } from './groups';
import { prune, type PruneSettings } from './pruner';
import { removeChannels, zeroChannels } from './remove';
import { randomWeights } from './testUtil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function images(seed: number, n = 2): tf.Tensor4D {
  const r = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 32 * 32 * 3 }, () => r() * 2 - 1), [n, 32, 32, 3]);
}

function logits(spec: ModelSpec, w: NetWeights, x: tf.Tensor4D): Float32Array {
  const m = new Net(spec, w);
  const y = m.predict(x);
  const out = y.dataSync() as Float32Array;
  y.dispose();
  m.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const amount = fc.double({ min: 0, max: 1, noNaN: true });

/** Random settings with an amount on every group (and the linear layer). */
const settingsArb = (spec: ModelSpec, modes: PruneSettings['mode'][]): fc.Arbitrary<PruneSettings> =>
  fc.record({
    method: fc.constantFrom(...(structure(spec).nodes.some((n) => n.op === 'batchNorm') ? (['random', 'l1', 'l2', 'bn'] as const) : (['random', 'l1', 'l2'] as const))),
    mode: fc.constantFrom(...modes),
    amounts: fc.record(Object.fromEntries([...groupsOf(spec).map((g) => g.id), structure(spec).output.name].map((k) => [k, amount]))),
    seed: fc.nat(),
  }).filter((s) => !(s.method === 'bn' && s.mode === 'global'));

describe('ResNet-20 costs from the graph', () => {
  it('272,474 parameters and 40,813,184 MACs per image (stride-2 and 1×1 convs counted at their output size)', () => {
    const c = previewCosts(resnet20, { method: 'l1', mode: 'remove', amounts: {}, seed: 0 });
    expect([c.params, c.macs]).toEqual([272_474, 40_813_184]);
    const m = measureCosts(resnet20, randomWeights(resnet20, 1));
    expect([m.params, m.macs, m.nonzeroParams]).toEqual([272_474, 40_813_184, 272_474]);
    expect(m.layers['layers.3.shortcut.0'].macs).toBe(16 * 32 * 16 * 16); // 1×1, stride 2: 16×16 outputs
    expect(m.layers['layers.3.conv1'].macs).toBe(9 * 16 * 32 * 16 * 16); // 3×3, stride 2
    expect(m.sizeBytes).toBe((272_474 + 2 * (16 + 6 * 16 + (6 * 32 + 32) + (6 * 64 + 64))) * 4); // + running mean and variance of 21 BatchNorms
  });
});

describe('groups of ResNet-20', () => {
  it('a slider per group: 3 residual streams, 9 blocks’ inner channels', () => {
    const g = groupsOf(resnet20);
    expect(g.length).toBe(12);
    expect(g[1]).toEqual({ id: 'stream2', kind: 'stream', label: 'residual stream of stage 2', units: 32 });
    expect(g[8]).toEqual({ id: 'inner2.3', kind: 'inner', label: 'inner channels of stage 2, block 3', units: 32 });
    expect(groupsOf(convNet3)).toEqual([16, 32, 64].map((units, i) => ({ id: `conv${i + 1}`, kind: 'layer', label: `conv${i + 1}`, units })));
  });

  it('describes a stream group: every producer, BatchNorm and consumer, and what removal takes', () => {
    expect(describeGroup(resnet20, 'stream2', 4)).toBe(
      "removing 4 of stage 2's 32 stream channels also removes: 4 filters each of layers.3.conv2, layers.3.shortcut.0, layers.4.conv2, layers.5.conv2 " +
        '(3,520 weights), 4 channels each of BatchNorm layers.3.bn2, layers.3.shortcut.1, layers.4.bn2, layers.5.bn2 (γ, β, running mean and variance), ' +
        '4 input channels each of layers.4.conv1, layers.5.conv1, layers.6.conv1, layers.6.shortcut.0 (4,864 weights), from 12 layers',
    );
    expect(describeGroup(resnet20, 'stream3', 2)).toMatch(/2 of fc's 64 input rows \(20 weights\), from 11 layers$/);
    expect(describeGroup(resnet20, 'inner1.2', 3)).toBe(
      "removing 3 of stage 1 block 2's 16 inner channels also removes: 3 filters of layers.1.conv1 (432 weights), 3 channels of BatchNorm layers.1.bn1 " +
        '(γ, β, running mean and variance), 3 input channels of layers.1.conv2 (432 weights), from 3 layers',
    );
  });

  it('what a group says is removed is what removal removes, for every group', () => {
    const w = randomWeights(resnet20, 1);
    const stored = (t: Record<string, Float32Array>) => Object.values(t).reduce((a, x) => a + x.length, 0);
    for (const g of groupsOf(resnet20)) {
      const r = prune(resnet20, w, { method: 'l1', mode: 'remove', amounts: { [g.id]: 0.25 }, seed: 1 });
      const removed = r.pruned[g.id].length;
      expect(removed).toBe(g.units / 4);
      expect(stored(w.tensors) - stored(r.weights.tensors)).toBe(dependencyGroup(resnet20, g.id, removed).reduce((a, m) => a + m.values, 0));
    }
  });
});

describe('importance over a group', () => {
  const base = randomWeights(resnet20, 3);
  const stream2 = ['layers.3.conv2', 'layers.3.shortcut.0', 'layers.4.conv2', 'layers.5.conv2'];
  const zeroFilter = (w: NetWeights, conv: string, j: number, units: number) => {
    const a = w.tensors[`${conv}.weight`];
    for (let i = j; i < a.length; i += units) a[i] = 0;
  };
  it('L1 / L2 sum the norms of every conv writing into the group: a filter small in one member only is kept', () => {
    const w = { ...base, tensors: Object.fromEntries(Object.entries(base.tensors).map(([k, v]) => [k, v.slice()])) };
    zeroFilter(w, 'layers.3.conv2', 12, 32); // small in one member only (a higher index: on a tie it would go first)
    for (const c of stream2) zeroFilter(w, c, 9, 32); // small in every member
    for (const method of ['l1', 'l2'] as const) {
      const r = prune(resnet20, w, { method, mode: 'remove', amounts: { stream2: 1 / 32 }, seed: 1 });
      expect(r.pruned.stream2).toEqual([9]);
    }
  });
  it('BatchNorm γ sums |γ| over the group’s BatchNorms', () => {
    const w = { ...base, tensors: Object.fromEntries(Object.entries(base.tensors).map(([k, v]) => [k, v.slice()])) };
    w.tensors['layers.3.bn2.weight'][5] = 0;
    for (const b of ['layers.3.bn2', 'layers.3.shortcut.1', 'layers.4.bn2', 'layers.5.bn2']) w.tensors[`${b}.weight`][11] = 0.01;
    expect(prune(resnet20, w, { method: 'bn', mode: 'remove', amounts: { stream2: 1 / 32 }, seed: 1 }).pruned.stream2).toEqual([11]);
  });
  it('mask mode masks the same units in every producer of the group', () => {
    const r = prune(resnet20, base, { method: 'l1', mode: 'mask', amounts: { stream2: 0.25 }, seed: 1 });
    expect(Object.keys(r.masks).sort()).toEqual([...stream2].sort().map((c) => `${c}.weight`));
    for (const c of stream2) {
      const m = r.masks[`${c}.weight`];
      for (const j of r.pruned.stream2) expect(m[j]).toBe(0);
      for (const j of r.kept.stream2) expect(m[j]).toBe(1);
    }
  });
});

describe('removal = zeroing through every member of the group (property, 1e-5)', () => {
  const cases: [ModelSpec, number][] = [[simpleCnn, 6], [convNet3, 6], [resnet20, 5]];
  for (const [spec, runs] of cases)
    it(`${spec.label}: random amounts on every group`, () => {
      const x = images(11);
      const w = randomWeights(spec, 5);
      fc.assert(
        fc.property(settingsArb(spec, ['remove']), (s) => {
          const r = prune(spec, w, { ...s, amounts: { ...s.amounts, [structure(spec).output.name]: 0 } });
          const small = logits(spec, r.weights, x);
          const zeroed = logits(spec, zeroChannels(spec, w, r.kept), x);
          expect(maxDiff(small, zeroed)).toBeLessThan(1e-5);
          expect(r.weights.channels).toEqual(fullChannels(spec).map((_, i) => r.kept[groupsOf(spec)[i].id].length));
        }),
        { numRuns: runs, seed: 20 },
      );
      x.dispose();
    }, 120_000);

  it('ResNet-20 with a whole group removed (a stream, and a block’s inner channels) still gives the zeroed logits', () => {
    const x = images(12);
    const w = randomWeights(resnet20, 6);
    for (const kept of [{ stream2: [] }, { 'inner3.2': [] }, { stream1: [0], 'inner1.1': [] }] as Record<string, number[]>[]) {
      const small = logits(resnet20, removeChannels(resnet20, w, kept), x);
      expect(maxDiff(small, logits(resnet20, zeroChannels(resnet20, w, kept), x))).toBeLessThan(1e-5);
    }
    x.dispose();
  }, 60_000);
});

describe('preview costs = counted costs (property, all three models)', () => {
  for (const spec of [simpleCnn, convNet3, resnet20])
    it(spec.label, () => {
      const w = randomWeights(spec, 8);
      fc.assert(
        fc.property(settingsArb(spec, ['mask', 'remove']), (s) => {
          expect(previewCosts(spec, s)).toEqual(prune(spec, w, s).costs);
        }),
        { numRuns: 25, seed: 21 },
      );
    }, 60_000);

  it('ResNet-20 removal: params shrink by exactly the group’s members', () => {
    const c = previewCosts(resnet20, { method: 'l1', mode: 'remove', amounts: { 'inner1.1': 0.5 }, seed: 0 });
    expect(c.params).toBe(272_474 - 8 * (9 * 16 + 2 + 9 * 16));
    expect(c.params).toBe(parameterCount(resnet20, c.channels));
  });
});
