import { describe, expect, it } from 'vitest';
import { initialWeights } from '../model/init';
import { convNet3 } from '../model/zoo';
import { countKept } from '../pruning/masks';
import { sameBits } from '../pruning/testUtil';
import { type TrainRun, magnitudeRound, prunableTensors, randomMasksLike, rewind, runLottery, sparsityOf } from './lottery';

describe('lottery ticket', () => {
  it('rewinding restores the saved early weights exactly where the mask keeps them, zero elsewhere', () => {
    const early = initialWeights(convNet3, 7);
    const trained = initialWeights(convNet3, 8);
    const masks = magnitudeRound(convNet3, trained, null, 0.2);
    const r = rewind(early, masks);
    for (const [n, a] of Object.entries(early.tensors)) {
      const m = masks[n];
      const b = r.tensors[n];
      expect(b).not.toBe(a);
      if (!m) expect(sameBits(a, b)).toBe(true);
      else for (let i = 0; i < a.length; i++) expect(b[i]).toBe(m[i] ? a[i] : 0);
    }
  });

  it('each round prunes p of each layer’s remaining weights by the trained magnitudes; the random control has the same per-layer counts', () => {
    const w = initialWeights(convNet3, 1);
    const m1 = magnitudeRound(convNet3, w, null, 0.5);
    const m2 = magnitudeRound(convNet3, w, m1, 0.5);
    for (const n of prunableTensors(convNet3, w)) {
      expect(countKept(m1[n])).toBe(m1[n].length - Math.round(m1[n].length * 0.5));
      expect(countKept(m2[n])).toBeLessThan(countKept(m1[n]));
      for (let i = 0; i < m2[n].length; i++) if (m2[n][i]) expect(m1[n][i]).toBe(1); // masks compose
    }
    const r = randomMasksLike(m2, 3);
    for (const n of Object.keys(m2)) expect(countKept(r[n])).toBe(countKept(m2[n]));
    expect(sparsityOf(r)).toBeCloseTo(sparsityOf(m2), 12);
  });

  it('the three arms share seeds and budgets, and the ticket starts from the rewound weights', async () => {
    const runs: TrainRun[] = [];
    const points = await runLottery({
      spec: convNet3,
      initSeed: 5,
      p: 0.3,
      rounds: 2,
      epochs: 2,
      seed: 9,
      train: async (run) => {
        runs.push(run);
        return { weights: initialWeights(convNet3, 100 + runs.length), accuracy: runs.length / 10 };
      },
    });
    expect(runs.map((r) => r.arm)).toEqual(['rewind', 'rewind', 'reinit', 'randomMask', 'rewind', 'reinit', 'randomMask']);
    expect(new Set(runs.map((r) => `${r.seed}/${r.epochs}`))).toEqual(new Set(['9/2']));
    const init = initialWeights(convNet3, 5);
    for (const r of runs.filter((x) => x.round > 0)) {
      const first = prunableTensors(convNet3, init)[0];
      const kept = r.start.tensors[first].filter((_, i) => r.masks[first][i]);
      const source = init.tensors[first].filter((_, i) => r.masks[first][i]);
      if (r.arm === 'reinit') expect(sameBits(kept, source)).toBe(false);
      else expect(sameBits(kept, source)).toBe(true);
    }
    expect(points.filter((p) => p.round === 2).map((p) => p.sparsity.toFixed(3))).toEqual(['0.510', '0.510', '0.510']);
  });
});
