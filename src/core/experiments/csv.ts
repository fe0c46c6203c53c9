/**
 * CSV and JSON exports of both experiments, one row per measured network, so the numbers can be
 * re-plotted or tested elsewhere (pandas, R, a spreadsheet). CSV follows RFC 4180 quoting (fields with
 * a comma, quote or line break are quoted, quotes doubled) with '\n' line ends and a final newline.
 * Numbers are written in full (String(x) round-trips a float64), so a figure read back equals the page's.
 */
import type { Mode } from '../pruning/settings';
import type { Criterion } from './common';
import type { SensitivityPoint, SensitivityResult } from './sensitivity';
import type { SweepPoint, SweepResult, SweepScope } from './sweep';

/** Method comparison: one row per (criterion, sparsity, seed). `macs` = nonzero MACs per image. */
export const SWEEP_COLUMNS = ['sparsity', 'criterion', 'seed', 'mode', 'params', 'nonzeroParams', 'macs', 'accBefore', 'accAfter', 'scope'] as const;

/**
 * Sensitivity scan: one row per (layer, fraction, criterion, seed). Random has a row per seed and a
 * row with seed 'mean' (what the curve draws); the deterministic criteria have one row, seed empty.
 */
export const SENSITIVITY_COLUMNS = ['layer', 'fraction', 'criterion', 'seed', 'mode', 'params', 'nonzeroParams', 'macs', 'accuracy'] as const;

export type Cell = string | number | null | undefined;

export interface SweepRow {
  sparsity: number;
  criterion: Criterion;
  seed: number;
  mode: Mode;
  params: number;
  nonzeroParams: number;
  macs: number;
  accBefore: number;
  accAfter: number;
  scope: SweepScope;
}

export interface SensitivityRow {
  layer: string;
  fraction: number;
  criterion: Criterion;
  /** A seed (Random), 'mean' (Random's average) or null (deterministic criteria). */
  seed: number | 'mean' | null;
  mode: Mode;
  params: number;
  nonzeroParams: number;
  macs: number;
  accuracy: number;
}

/** One CSV field: null/undefined empty, numbers in full, text quoted when it must be. */
export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv<K extends string>(columns: readonly K[], rows: readonly { [k in K]: Cell }[]): string {
  const lines = [columns.map(csvField).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(','))];
  return lines.join('\n') + '\n';
}

/** RFC 4180 reader (quoted fields, doubled quotes, CRLF or LF), for tests and for re-importing an export. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function sweepRows(points: readonly SweepPoint[]): SweepRow[] {
  return points.map((p) => ({
    sparsity: p.sparsity,
    criterion: p.criterion,
    seed: p.seed,
    mode: p.mode,
    params: p.params,
    nonzeroParams: p.nonzeroParams,
    macs: p.macs,
    accBefore: p.accBefore,
    accAfter: p.accAfter,
    scope: p.scope ?? 'all',
  }));
}

export function sensitivityRows(points: readonly SensitivityPoint[]): SensitivityRow[] {
  return points.flatMap((p) => {
    type Figures = Pick<SensitivityRow, 'params' | 'nonzeroParams' | 'macs' | 'accuracy'>;
    const row = (seed: SensitivityRow['seed'], f: Figures): SensitivityRow => ({
      layer: p.layer,
      fraction: p.fraction,
      criterion: p.criterion,
      seed,
      mode: p.mode,
      params: f.params,
      nonzeroParams: f.nonzeroParams,
      macs: f.macs,
      accuracy: f.accuracy,
    });
    return p.seeds ? [...p.seeds.map((s) => row(s.seed, s)), row('mean', p)] : [row(null, p)];
  });
}

export const sweepCsv = (points: readonly SweepPoint[]): string => toCsv(SWEEP_COLUMNS, sweepRows(points));
export const sensitivityCsv = (points: readonly SensitivityPoint[]): string => toCsv(SENSITIVITY_COLUMNS, sensitivityRows(points));

/** JSON export: what was asked and the reference accuracy, then the same rows as the CSV. */
export function sweepJson(r: SweepResult): string {
  return JSON.stringify(
    {
      experiment: 'method-comparison',
      model: r.model,
      mode: r.mode,
      scope: r.scope ?? 'all',
      criteria: r.criteria,
      sparsities: r.sparsities,
      seeds: r.seeds,
      fineTuning: { epochs: r.epochs, subset: r.subset },
      baseline: { accuracy: r.baseline.accuracy, params: r.baseline.params, nonzeroParams: r.baseline.nonzeroParams, macs: r.baseline.macs },
      cancelled: r.cancelled,
      // issue 22: per seed, the unpruned baseline fine-tuned with the same budget (absent before controls)
      controls: r.controls ?? [],
      columns: SWEEP_COLUMNS,
      rows: sweepRows(r.points),
    },
    null,
    2,
  );
}

export function sensitivityJson(r: SensitivityResult): string {
  return JSON.stringify(
    {
      experiment: 'sensitivity',
      model: r.model,
      mode: r.mode,
      layers: r.layers,
      criteria: r.criteria,
      randomSeeds: r.randomSeeds,
      fractions: r.fractions,
      baselineAccuracy: r.baselineAccuracy,
      cancelled: r.cancelled,
      columns: SENSITIVITY_COLUMNS,
      rows: sensitivityRows(r.points),
    },
    null,
    2,
  );
}

/** "sweep-simplecnn-remove.csv": a download name that says what is inside. */
export const exportFileName = (experiment: 'sweep' | 'sensitivity', model: string, mode: Mode, ext: 'csv' | 'json'): string => `${experiment}-${model}-${mode}.${ext}`;
