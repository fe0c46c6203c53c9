/** One fine-tuned configuration in the run history, and its CSV export. */
import type { ModelId } from '../core/model/spec';
import type { Method, Mode } from '../core/pruning/settings';

export interface HistoryRow {
  run: number;
  model: ModelId;
  method: Method;
  mode: Mode;
  /** Slider percentages of the layers the model has (conv1…, fc1). */
  amounts: Record<string, number>;
  /** Method 'manual': the hand-picked filters, as in the URL. */
  manual: string;
  seed: number;
  /** Filters present per conv layer after pruning (remove mode: the smaller network's). */
  channels: number[];
  /** Baseline filter indices kept, per conv layer. */
  keptFilters: Record<string, number[]>;
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
  /** Epochs the pruned model has been fine-tuned for in total (fine-tuning again continues it). */
  ftEpochs: number;
  /** Epochs that were asked for, in total; differs from ftEpochs only for a cancelled run. */
  ftPlanned: number;
  cancelled: boolean;
}

/** "2 epochs", or "cancelled after 0.4 of 5 epochs": what the fine-tuning really did. */
export function describeFineTuning(r: Pick<HistoryRow, 'ftEpochs' | 'ftPlanned' | 'cancelled'>): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0$/, ''));
  if (r.cancelled) return `cancelled after ${n(r.ftEpochs)} of ${n(r.ftPlanned)} epochs`;
  return `${n(r.ftEpochs)} epoch${r.ftEpochs === 1 ? '' : 's'}`;
}

const COLUMNS = [
  'run', 'model', 'method', 'mode', 'amounts', 'manual', 'seed', 'channels', 'totalParams', 'nonzeroParams',
  'macs', 'nonzeroMacs', 'sizeBytes', 'baselineAcc', 'prunedAcc', 'finetunedAcc', 'ftEpochs', 'cancelled',
] as const;

function cell(r: HistoryRow, c: (typeof COLUMNS)[number]): string {
  switch (c) {
    case 'amounts':
      return Object.entries(r.amounts).map(([k, v]) => `${k}=${v}`).join(' ');
    case 'channels':
      return r.channels.join(' ');
    case 'manual':
      return r.manual.replace(/,/g, ' ');
    default:
      return String(r[c]);
  }
}

/** RFC 4180 CSV of the run history; cells never need quoting (lists are space-separated). */
export function historyToCsv(rows: HistoryRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) lines.push(COLUMNS.map((c) => cell(r, c)).join(','));
  return lines.join('\r\n') + '\r\n';
}
