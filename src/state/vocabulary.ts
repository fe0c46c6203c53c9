/**
 * The page's words, colours and number formats, written once: the state layer's messages and every
 * component use these (a method's name or colour, "2.56 epochs", "657,162", "47.9%").
 */
import { CRITERION_LABELS, type Criterion } from '../core/experiments/common';
import { specFor } from '../core/model/zoo';
import type { Method } from '../core/pruning/settings';
import type { BaselineRecord } from './types';

/** A pruning method's short name (charts, history, messages). */
export const METHOD_LABELS: Record<Method, string> = { ...CRITERION_LABELS, manual: 'By hand' };

/** One colour per method, the same in the history scatter and the experiment charts. */
export const METHOD_COLORS: Record<Method, string> = { random: '#dc2626', l1: '#2563eb', l2: '#16a34a', bn: '#9333ea', manual: '#f59e0b', taylor: '#0891b2', globalStruct: '#be185d' };
export const CRITERION_COLORS: Record<Criterion, string> = METHOD_COLORS;

/** Epochs as a number: "1", "10", "2.56", "0.4". */
export function fmtEpochs(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0$/, '');
}

/** "1 epoch", "10 epochs", "2.56 epochs". */
export function epochsText(n: number): string {
  return `${fmtEpochs(n)} epoch${n === 1 ? '' : 's'}`;
}

/** en-US grouping, so tests and screenshots agree: 657,162. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A fraction as a percentage: 0.479 → "47.9%". */
export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Where a baseline came from, in a sentence ("pretrained SimpleCNN: 10 epochs, seed 42 (…)"). */
export function describeOrigin(b: Pick<BaselineRecord, 'origin'>): string {
  const o = b.origin;
  const label = specFor(o.model).label;
  if (o.kind === 'pretrained') return `pretrained ${label}: ${fmtEpochs(o.epochs)} epochs, seed ${o.seed}${o.detail ? ` (${o.detail})` : ''}`;
  if (o.kind === 'file') return `${label} from ${o.detail ?? 'a file'}, ${epochsText(o.epochs)}`;
  return o.epochs > 0 ? `${label} trained here for ${epochsText(o.epochs)}, seed ${o.seed}` : `untrained ${label}, seed ${o.seed}`;
}
