/** One fine-tuned configuration in the run history, and its CSV export. */
import type { Costs } from '../core/pruning/costs';
import type { HistoryRow } from './types';
import { epochsText, fmtEpochs, int, pct } from './vocabulary';

export type { HistoryRow };

/** A run's measured costs as its history row records them (one-shot and scheduled fine-tunes alike). */
export function rowCosts(c: Costs): Pick<HistoryRow, 'channels' | 'totalParams' | 'nonzeroParams' | 'macs' | 'nonzeroMacs' | 'sizeBytes'> {
  return { channels: c.channels, totalParams: c.params, nonzeroParams: c.nonzeroParams, macs: c.macs, nonzeroMacs: c.nonzeroMacs, sizeBytes: c.sizeBytes };
}

/** "2 epochs", or "cancelled after 0.4 of 5 epochs": what the fine-tuning really did. */
export function describeFineTuning(r: Pick<HistoryRow, 'ftEpochs' | 'ftPlanned' | 'cancelled'>): string {
  if (r.cancelled) return `cancelled after ${fmtEpochs(r.ftEpochs)} of ${fmtEpochs(r.ftPlanned)} epochs`;
  return epochsText(r.ftEpochs);
}

/** The run's control, as the history row shows it: "control (unpruned, same 3 epochs) 50.1%". */
export function describeControl(r: Pick<HistoryRow, 'control'>): string {
  const c = r.control;
  if (!c) return '—';
  if (c.status === 'pending') return 'control: computing…';
  if (c.status === 'failed') return `control failed: ${c.error}`;
  return `control (unpruned, same ${epochsText(c.epochs)}) ${pct(c.accuracy)}`;
}

/**
 * The test images a row's accuracies are on: "1,000", "10,000 (pruned: 1,000)" when only the slider
 * preview's differs, each column's when the data set changed in between; "—" for rows from before it was recorded.
 */
export function testImagesText(h: HistoryRow): string {
  const t = h.testImages;
  if (!t) return '—';
  if (t.baseline !== t.finetuned) return `baseline ${int(t.baseline)} · pruned ${int(t.pruned)} · fine-tuned ${int(t.finetuned)}`;
  return t.pruned === t.finetuned ? int(t.finetuned) : `${int(t.finetuned)} (pruned: ${int(t.pruned)})`;
}

/** 'oneshot', or 'agp 3' / 'iterative 4': the CSV's schedule cell. */
function scheduleCell(r: HistoryRow): string {
  return r.schedule ? `${r.schedule.kind} ${r.schedule.steps}` : 'oneshot';
}

// schedule, controlAcc, controlEpochs: appended (issue 22), so older columns keep their places.
const COLUMNS = [
  'run', 'model', 'method', 'mode', 'amounts', 'manual', 'seed', 'channels', 'totalParams', 'nonzeroParams',
  'macs', 'nonzeroMacs', 'sizeBytes', 'baselineAcc', 'prunedAcc', 'finetunedAcc', 'ftEpochs', 'cancelled',
  'schedule', 'controlAcc', 'controlEpochs',
] as const;

function cell(r: HistoryRow, c: (typeof COLUMNS)[number]): string {
  switch (c) {
    case 'amounts':
      return Object.entries(r.amounts).map(([k, v]) => `${k}=${v}`).join(' ');
    case 'channels':
      return r.channels.join(' ');
    case 'manual':
      return r.manual.replace(/,/g, ' ');
    case 'schedule':
      return scheduleCell(r);
    case 'controlAcc':
      return r.control?.status === 'done' ? String(r.control.accuracy) : '';
    case 'controlEpochs':
      return r.control?.status === 'done' ? String(r.control.epochs) : '';
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
