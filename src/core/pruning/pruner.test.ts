import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialWeights, parameterCount, type SimpleCnnWeights } from '../model/simpleCnn';
import { macsFor, measureCosts, paramsFor, previewCosts } from './costs';
import { lnNorms } from './importance';
import { prune, type PruneSettings } from './pruner';
import { sameBits, weightDiff } from './testUtil';

const settingsArb: fc.Arbitrary<PruneSettings> = fc.record({
  method: fc.constantFrom('random', 'l1', 'l2'),
  mode: fc.constantFrom('mask', 'remove', 'global'),
  conv1: fc.double({ min: 0, max: 1, noNaN: true }),
  fc1: fc.double({ min: 0, max: 1, noNaN: true }),
  seed: fc.nat(),
});

const copy = (w: SimpleCnnWeights): SimpleCnnWeights => ({
  filters: w.filters,
  conv1Kernel: w.conv1Kernel.slice(),
  conv1Bias: w.conv1Bias.slice(),
  fc1Kernel: w.fc1Kernel.slice(),
  fc1Bias: w.fc1Bias.slice(),
});

describe('SimpleCNN formulas', () => {
  it('k filters → 10,268·k + 10 params and 37,888·k MACs per image', () => {
    for (let k = 1; k <= 64; k++) {
      expect(paramsFor(k)).toBe(parameterCount(k));
      const c = measureCosts(initialWeights(k, k));
      expect(c.params).toBe(10_268 * k + 10);
      expect(c.macs).toBe(macsFor(k));
      expect(c.layers.conv1.macs).toBe(27 * k * 1024);
      expect(c.layers.fc1.macs).toBe(10_240 * k);
      expect(c.sizeBytes).toBe(4 * c.params);
    }
    expect(paramsFor(64)).toBe(657_162);
    expect(macsFor(64)).toBe(2_424_832);
  });

  it('50% L1 remove keeps 32 of 64 filters: 328,586 params, 1,212,416 MACs', () => {
    const base = initialWeights(1);
    const s: PruneSettings = { method: 'l1', mode: 'remove', conv1: 0.5, fc1: 0.5, seed: 1 };
    const r = prune(base, s);
    expect(r.keptFilters.length).toBe(32);
    expect(r.weights.filters).toBe(32);
    expect(r.costs.params).toBe(328_586);
    expect(r.costs.macs).toBe(1_212_416);
    expect(r.costs.layers.fc1.nonzeroWeights).toBe(163_840);
    expect(r.masks.conv1Kernel).toBeNull();
  });
});

describe('prune()', () => {
  it('mask mode masks the kernel, not the bias, and keeps the largest-norm filters', () => {
    const base = initialWeights(2);
    const r = prune(base, { method: 'l2', mode: 'mask', conv1: 0.25, fc1: 0.1, seed: 3 });
    expect(r.weights.filters).toBe(64);
    expect(r.keptFilters.length).toBe(48);
    expect(r.prunedFilters.length).toBe(16);
    const norms = lnNorms(base.conv1Kernel, [3, 3, 3, 64], 3, 2);
    const minKept = Math.min(...r.keptFilters.map((c) => norms[c]));
    for (const c of r.prunedFilters) {
      expect(norms[c]).toBeLessThan(minKept);
      expect(r.weights.conv1Bias[c]).toBe(base.conv1Bias[c]); // torch: bias untouched
      for (let t = 0; t < 27; t++) expect(r.weights.conv1Kernel[t * 64 + c]).toBe(0);
    }
    const m = r.masks.conv1Kernel!;
    r.weights.conv1Kernel.forEach((v, i) => expect(v).toBe(m[i] ? base.conv1Kernel[i] : 0));
    expect(r.costs.articlePrints).toBe(657_162); // weight_orig is counted
    expect(r.costs.nonzeroParams).toBe(657_162 - 16 * 27 - 65_536);
  });

  it('global mode prunes single conv1 weights (l1: the smallest magnitudes)', () => {
    const base = initialWeights(3);
    const r = prune(base, { method: 'l1', mode: 'global', conv1: 0.2, fc1: 0, seed: 1 });
    expect(r.costs.layers.conv1.weights - r.costs.layers.conv1.nonzeroWeights).toBe(346);
    expect(r.masks.fc1Kernel).toBeNull();
    let maxPruned = 0;
    let minKept = Infinity;
    base.conv1Kernel.forEach((v, i) => (r.masks.conv1Kernel![i] ? (minKept = Math.min(minKept, Math.abs(v))) : (maxPruned = Math.max(maxPruned, Math.abs(v)))));
    expect(maxPruned).toBeLessThanOrEqual(minKept);
    expect(r.keptFilters.length + r.prunedFilters.length).toBe(64);
  });

  it('random choices follow the seed', () => {
    const base = initialWeights(4, 16);
    const s: PruneSettings = { method: 'random', mode: 'mask', conv1: 0.5, fc1: 0.3, seed: 42 };
    expect(prune(base, s).keptFilters).toEqual(prune(base, s).keptFilters);
    expect(sameBits(prune(base, s).masks.fc1Kernel!, prune(base, s).masks.fc1Kernel!)).toBe(true);
    const others = [43, 44, 45].map((seed) => prune(base, { ...s, seed }).keptFilters.join());
    expect(others.some((k) => k !== prune(base, s).keptFilters.join())).toBe(true);
  });

  it('rejects fractions outside [0, 1]', () => {
    expect(() => prune(initialWeights(1, 4), { method: 'l1', mode: 'mask', conv1: 1.2, fc1: 0, seed: 1 })).toThrow(/\[0, 1\]/);
  });

  it('never mutates the baseline and never aliases it (property)', () => {
    const bases = [initialWeights(5, 8), initialWeights(6, 3)];
    const frozen = bases.map(copy);
    fc.assert(
      fc.property(settingsArb, fc.nat(1), (s, b) => {
        const r = prune(bases[b], s);
        expect(weightDiff(bases[b], frozen[b])).toEqual([]);
        for (const key of ['conv1Kernel', 'conv1Bias', 'fc1Kernel', 'fc1Bias'] as const) expect(r.weights[key] !== bases[b][key], key).toBe(true); // (.not.toBe formats 80k-entry arrays: slow)
      }),
      { numRuns: 60 },
    );
  });

  it('previewCosts (settings only) == costs measured on the pruned weights (property)', () => {
    const bases = [1, 2, 5, 8].map((k) => initialWeights(k + 100, k));
    fc.assert(
      fc.property(settingsArb, fc.nat(3), (s, b) => {
        const r = prune(bases[b], s);
        expect(previewCosts(s, bases[b].filters)).toEqual(r.costs);
        expect(r.weights.filters).toBe(s.mode === 'remove' ? r.keptFilters.length : bases[b].filters);
      }),
      { numRuns: 300 },
    );
    const full = initialWeights(7);
    for (const s of [
      { method: 'l1', mode: 'remove', conv1: 0.5, fc1: 0.5, seed: 1 },
      { method: 'random', mode: 'global', conv1: 0.2, fc1: 0, seed: 1 },
      { method: 'l2', mode: 'mask', conv1: 0.9, fc1: 0.75, seed: 1 },
    ] as PruneSettings[])
      expect(previewCosts(s)).toEqual(prune(full, s).costs);
  });
});
