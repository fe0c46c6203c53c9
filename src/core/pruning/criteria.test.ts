/** The data-needing and global criteria in prune(): Taylor ranks by the scores handed in; global structured ranks all groups together. */
import { describe, expect, it } from 'vitest';
import { structure } from '../model/graph';
import { convNet3, resnet20 } from '../model/zoo';
import { floorKeep } from './globalRanking';
import { prune, unitScores } from './pruner';
import { GLOBAL_STRUCT_MIN_KEEP, unsupported } from './settings';
import { randomWeights } from './testUtil';

describe('method taylor', () => {
  const w = randomWeights(convNet3, 1);
  const groups = structure(convNet3).groups;
  // Scores that rank the units in reverse index order, so a norm-based choice would differ.
  const taylor = Object.fromEntries(groups.map((g) => [g.id, Float64Array.from({ length: g.units }, (_, i) => g.units - i)]));

  it('prunes the units with the smallest scores handed in', () => {
    const r = prune(convNet3, w, { method: 'taylor', mode: 'remove', amounts: { conv1: 0.25, conv2: 0.5 }, seed: 0 }, { taylor });
    expect(r.pruned.conv1).toEqual([12, 13, 14, 15]);
    expect(r.pruned.conv2).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(r.pruned.conv3).toEqual([]);
    expect(r.weights.channels).toEqual([12, 16, 64]);
  });

  it('says why without scores, and refuses global (single-weight) mode', () => {
    expect(() => prune(convNet3, w, { method: 'taylor', mode: 'mask', amounts: { conv1: 0.5 }, seed: 0 })).toThrow(/Taylor scores need a batch of training data/);
    expect(unsupported('taylor', 'global', true)).toMatch(/whole channels/);
    expect(unsupported('globalStruct', 'global', true)).toMatch(/whole channels/);
  });
});

describe('method globalStruct', () => {
  it('ranks every group together after dividing by the group’s mean L1 score', () => {
    const w = randomWeights(convNet3, 2);
    const st = structure(convNet3);
    const r = prune(convNet3, w, { method: 'globalStruct', mode: 'remove', amounts: { conv1: 0.3 }, seed: 0 });
    // Brute force: sort all (group, unit) by score / group mean, take the 34 smallest (0.3 × 112 rounded).
    const all = st.groups.flatMap((g) => {
      const s = unitScores(convNet3, g, w, 'l1');
      const mean = s.reduce((a, b) => a + b, 0) / s.length;
      return Array.from(s, (x, u) => ({ id: g.id, u, s: x / mean }));
    });
    all.sort((a, b) => a.s - b.s);
    const expected = Object.fromEntries(st.groups.map((g) => [g.id, all.slice(0, 34).filter((e) => e.id === g.id).map((e) => e.u).sort((a, b) => a - b)]));
    expect(r.pruned).toEqual(expected);
    expect(r.global).toEqual({ requested: 34, pruned: 34 });
    // Not a uniform cut: the groups lose different fractions.
    expect(new Set(st.groups.map((g) => r.pruned[g.id].length / g.units)).size).toBeGreaterThan(1);
  });

  it('keeps the floor in every group at 100 %, on a graph model too', () => {
    const w = randomWeights(resnet20, 3);
    const st = structure(resnet20);
    const r = prune(resnet20, w, { method: 'globalStruct', mode: 'mask', amounts: { [st.groups[0].id]: 1 }, seed: 0 });
    for (const g of st.groups) expect(r.kept[g.id].length).toBe(floorKeep(g.units, GLOBAL_STRUCT_MIN_KEEP));
    expect(r.global!.pruned).toBeLessThan(r.global!.requested);
  });
});
