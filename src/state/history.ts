/** One fine-tuned configuration in the run history, and its CSV export. */
import type { HistoryRow } from './types';
import { epochsText, fmtEpochs } from './vocabulary';

export type { HistoryRow };

/** "2 epochs", or "cancelled after 0.4 of 5 epochs": what the fine-tuning really did. */
export function describeFineTuning(r: Pick<HistoryRow, 'ftEpochs' | 'ftPlanned' | 'cancelled'>): string {
  if (r.cancelled) return `cancelled after ${fmtEpochs(r.ftEpochs)} of ${fmtEpochs(r.ftPlanned)} epochs`;
  return epochsText(r.ftEpochs);
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
