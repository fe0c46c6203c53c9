import { describe, expect, it } from 'vitest';
import { SENSITIVITY_COLUMNS, SWEEP_COLUMNS, csvField, exportFileName, parseCsv, sensitivityCsv, sensitivityJson, sensitivityRows, sweepCsv, sweepJson, toCsv } from './csv';
import { runSensitivity } from './sensitivity';
import { runSweep } from './sweep';
import { baselineOf, fakeEvaluate, noPause, tinySimple } from './testUtil';

describe('CSV fields', () => {
  it('quotes only what needs it, doubling quotes (RFC 4180)', () => {
    expect(csvField('conv1')).toBe('conv1');
    expect(csvField(0.1 + 0.2)).toBe('0.30000000000000004'); // numbers in full: they read back equal
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
  });

  it('reads back what it writes, including awkward text, CRLF and a missing final newline', () => {
    const rows = [{ a: 'x,y', b: 'q"uote', c: 'multi\r\nline' }, { a: '', b: 3.25, c: null }];
    const text = toCsv(['a', 'b', 'c'], rows);
    expect(text.endsWith('\n')).toBe(true);
    expect(parseCsv(text)).toEqual([['a', 'b', 'c'], ['x,y', 'q"uote', 'multi\r\nline'], ['', '3.25', '']]);
    expect(parseCsv('a,b\r\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
  });
});

describe('experiment exports', () => {
  it('method comparison: one row per (criterion, sparsity, seed), the issue’s columns, figures that read back exactly', async () => {
    const baseline = baselineOf(tinySimple);
    const r = await runSweep({
      spec: tinySimple, baseline, mode: 'remove', criteria: ['l1', 'random'], sparsities: [0.5, 0.75], seeds: [1, 2], epochs: 1, pause: noPause,
      evaluate: fakeEvaluate(baseline), fineTune: async (p, o) => ({ accuracy: 0.5 + p.costs.nonzeroParams / 1e6 + o.seed / 1000 }),
    });
    const rows = parseCsv(sweepCsv(r.points));
    expect(rows[0]).toEqual(['sparsity', 'criterion', 'seed', 'mode', 'params', 'nonzeroParams', 'macs', 'accBefore', 'accAfter', 'scope']);
    expect(rows[0]).toEqual([...SWEEP_COLUMNS]);
    expect(rows).toHaveLength(1 + 8);
    const byKey = new Map(rows.slice(1).map((x) => [`${x[1]}|${x[0]}|${x[2]}`, x]));
    expect(byKey.size).toBe(8);
    for (const p of r.points) {
      const x = byKey.get(`${p.criterion}|${p.sparsity}|${p.seed}`)!;
      expect(x[3]).toBe('remove');
      expect(x.slice(4, 9).map(Number)).toEqual([p.params, p.nonzeroParams, p.macs, p.accBefore, p.accAfter]);
      expect(x[9]).toBe('all');
    }
    const json = JSON.parse(sweepJson(r));
    expect(json).toMatchObject({ experiment: 'method-comparison', model: 'simplecnn', mode: 'remove', seeds: [1, 2], fineTuning: { epochs: 1, subset: 0 }, cancelled: false });
    expect(json.rows).toHaveLength(8);
    expect(Object.keys(json.rows[0])).toEqual([...SWEEP_COLUMNS]);
    expect(json.baseline.accuracy).toBe(r.baseline.accuracy);
  });

  it('sensitivity: a row per seed and a mean row for Random, one row (seed empty) for the others', async () => {
    const baseline = baselineOf(tinySimple);
    const r = await runSensitivity({ spec: tinySimple, baseline, mode: 'mask', criteria: ['random', 'l1'], randomSeeds: [1, 2, 3], evaluate: fakeEvaluate(baseline), pause: noPause });
    const rows = parseCsv(sensitivityCsv(r.points));
    expect(rows[0]).toEqual(['layer', 'fraction', 'criterion', 'seed', 'mode', 'params', 'nonzeroParams', 'macs', 'accuracy']);
    expect(rows[0]).toEqual([...SENSITIVITY_COLUMNS]);
    // 2 layers × 20 fractions × (3 seeds + mean for Random, 1 for L1)
    expect(rows).toHaveLength(1 + 2 * 20 * (4 + 1));
    const at = (layer: string, f: string, c: string) => rows.filter((x) => x[0] === layer && x[1] === f && x[2] === c);
    expect(at('conv1', '0.5', 'random').map((x) => x[3])).toEqual(['1', '2', '3', 'mean']);
    const l1 = at('conv1', '0.5', 'l1');
    expect(l1).toHaveLength(1);
    expect(l1[0][3]).toBe('');
    const point = r.points.find((p) => p.layer === 'conv1' && p.fraction === 0.5 && p.criterion === 'l1')!;
    expect(Number(l1[0][8])).toBe(point.accuracy);
    const rnd = at('fc1', '0.3', 'random');
    const mean = rnd.slice(0, 3).reduce((a, x) => a + Number(x[8]), 0) / 3;
    expect(Number(rnd[3][8])).toBeCloseTo(mean, 12);
    expect(sensitivityRows(r.points)).toHaveLength(rows.length - 1);
    const json = JSON.parse(sensitivityJson(r));
    expect(json).toMatchObject({ experiment: 'sensitivity', model: 'simplecnn', mode: 'mask', randomSeeds: [1, 2, 3], baselineAccuracy: r.baselineAccuracy });
    expect(json.rows).toHaveLength(rows.length - 1);
    expect(json.layers.map((l: { layer: string }) => l.layer)).toEqual(['conv1', 'fc1']);
  });

  it('names the download after what is in it', () => {
    expect(exportFileName('sweep', 'convnet3', 'remove', 'csv')).toBe('sweep-convnet3-remove.csv');
  });
});

describe('sweep JSON: controls (issue 22)', () => {
  it('carries the per-seed controls', async () => {
    const baseline = baselineOf(tinySimple);
    const r = await runSweep({
      spec: tinySimple, baseline, mode: 'mask', criteria: ['l1'], sparsities: [0.5], seeds: [1, 2], epochs: 1, pause: noPause, controls: true,
      evaluate: fakeEvaluate(baseline), fineTune: async (_, o) => ({ accuracy: 0.5 + o.seed / 1000 }),
    });
    expect(JSON.parse(sweepJson(r)).controls).toEqual([
      { seed: 1, accuracy: 0.501, epochs: 1, subset: 0 },
      { seed: 2, accuracy: 0.502, epochs: 1, subset: 0 },
    ]);
  });
});
