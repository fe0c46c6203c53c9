/** One fine-tuned configuration in the run history, and its CSV export. */
import type { Settings } from './urlState';

export interface HistoryRow {
  run: number;
  method: Settings['method'];
  mode: Settings['mode'];
  conv1: number;
  fc1: number;
  seed: number;
  keptFilters: number;
  totalParams: number;
  nonzeroParams: number;
  /** MACs per image of the architecture that runs (dense kernels). */
  macs: number;
  /** MACs per image counting only nonzero weights (ShrinkBench). */
  nonzeroMacs: number;
  sizeBytes: number;
  baselineAcc: number;
  prunedAcc: number;
  finetunedAcc: number;
  ftEpochs: number;
}


const COLUMNS: (keyof HistoryRow)[] = [
  'run', 'method', 'mode', 'conv1', 'fc1', 'seed', 'keptFilters', 'totalParams', 'nonzeroParams',
  'macs', 'nonzeroMacs', 'sizeBytes', 'baselineAcc', 'prunedAcc', 'finetunedAcc', 'ftEpochs',
];

/** RFC 4180 CSV of the run history (no value needs quoting: all are numbers or plain words). */
export function historyToCsv(rows: HistoryRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) lines.push(COLUMNS.map((c) => String(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
