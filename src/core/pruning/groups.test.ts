import { describe, expect, it } from 'vitest';
import { convNet3, simpleCnn } from '../model/zoo';
import { dependencyGroup, describeGroup } from './groups';
import { prune } from './pruner';
import { randomWeights } from './testUtil';

describe('dependency groups', () => {
  it('conv2 of ConvNet-3: bn2 channels and conv3 input channels', () => {
    expect(dependencyGroup(convNet3, 'conv2', 8)).toEqual([
      { layer: 'conv2', what: 'filters', units: 8, of: 32, values: 8 * 9 * 16 },
      { layer: 'bn2', what: 'batchNorm', units: 8, of: 32, values: 32 },
      { layer: 'conv3', what: 'inputChannels', units: 8, of: 32, values: 8 * 9 * 64 },
    ]);
    expect(describeGroup(convNet3, 'conv2', 8)).toBe(
      "removing 8 of conv2's 32 filters (1,152 weights) also removes: 8 bn2 channels (γ, β, running mean and variance), 8 of conv3's 32 input channels (4,608 weights)",
    );
  });

  it('the last conv takes 16 fc1 rows per filter (ConvNet-3) or 1,024 (SimpleCNN, with its bias)', () => {
    expect(dependencyGroup(convNet3, 'conv3', 2).at(-1)).toEqual({ layer: 'fc1', what: 'flattenRows', units: 32, of: 1024, values: 320 });
    expect(dependencyGroup(simpleCnn, 'conv1', 1).map((m) => m.what)).toEqual(['filters', 'bias', 'flattenRows']);
  });

  it('what the group says is removed is what removal removes (values = parameters + BatchNorm statistics)', () => {
    const w = randomWeights(convNet3, 1);
    const stored = (t: Record<string, Float32Array>) => Object.values(t).reduce((a, x) => a + x.length, 0);
    for (const layer of ['conv1', 'conv2', 'conv3']) {
      const r = prune(convNet3, w, { method: 'l1', mode: 'remove', amounts: { [layer]: 0.25 }, seed: 1 });
      const removed = r.pruned[layer].length;
      const group = dependencyGroup(convNet3, layer, removed).reduce((a, m) => a + m.values, 0);
      expect(stored(w.tensors) - stored(r.weights.tensors)).toBe(group);
    }
  });
});
