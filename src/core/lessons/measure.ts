/**
 * The figures a lesson's prediction is judged against, computed from what the page measured (the
 * engine's preview of the pruned model, the evaluated accuracies): never a number written into a
 * lesson. A figure the page has not measured yet is null, with what the student has to do for it.
 */
import { structure } from '../model/graph';
import type { ModelId } from '../model/spec';
import { specFor } from '../model/zoo';
import { type Costs, previewCosts } from '../pruning/costs';
import { type Schedule, scheduleSparsities } from '../pruning/schedule';
import type { MeasureId } from './types';

/** What the page knows at the moment of a reveal. */
export interface Observations {
  model: ModelId;
  /** The pruned model's figures as the engine counted them (the preview's costs); null until it answered. */
  costs: Costs | null;
  baselineAccuracy: number | null;
  /** The pruned model's test accuracy before fine-tuning (the preview's evaluation). */
  prunedAccuracy: number | null;
  finetunedAccuracy: number | null;
  /** The schedule the fine-tune would follow and the largest slider's target (0–1); null for one-shot. */
  schedule: { schedule: Schedule; target: number } | null;
}

export type Unit = 'count' | 'share' | 'accuracy' | 'points';

export const MEASURES: Record<MeasureId, { unit: Unit; label: string; needs: string }> = {
  params: { unit: 'count', label: 'parameters of the network', needs: 'the pruned model’s figures' },
  paramsKeptShare: { unit: 'share', label: 'of the parameters kept', needs: 'the pruned model’s figures' },
  nonzeroKeptShare: { unit: 'share', label: 'of the parameters still nonzero', needs: 'the pruned model’s figures' },
  macsKeptShare: { unit: 'share', label: 'of the MACs per image kept', needs: 'the pruned model’s figures' },
  filtersGone: { unit: 'count', label: 'filters (channels) gone from the network', needs: 'the pruned model’s figures' },
  printedDrop: { unit: 'count', label: 'fewer in the article’s printed count than before pruning', needs: 'the pruned model’s figures' },
  convLayersShrunk: { unit: 'count', label: 'conv layers that lose weights', needs: 'the pruned model’s figures' },
  baselineAccuracy: { unit: 'accuracy', label: 'test accuracy of the baseline', needs: 'the baseline’s accuracy' },
  prunedAccuracy: { unit: 'accuracy', label: 'test accuracy after pruning, before fine-tuning', needs: 'the pruned model’s accuracy' },
  finetuneGain: { unit: 'points', label: 'accuracy gained by fine-tuning', needs: 'a fine-tuned accuracy: press Fine-tune' },
  firstStepShare: { unit: 'share', label: 'of the target pruned in the first step', needs: 'a schedule (iterative or AGP)' },
};

/** The unpruned network's figures: architecture arithmetic, the 100 % the shares are taken of. */
function unpruned(model: ModelId): Costs {
  const spec = specFor(model);
  return previewCosts(spec, { method: 'l1', mode: 'mask', amounts: {}, seed: 0 });
}

/** The figure a prediction is about, or null while the page has not measured it. */
export function measure(id: MeasureId, o: Observations): number | null {
  const c = o.costs;
  switch (id) {
    case 'baselineAccuracy':
      return o.baselineAccuracy;
    case 'prunedAccuracy':
      return o.prunedAccuracy;
    case 'finetuneGain':
      return o.finetunedAccuracy === null || o.prunedAccuracy === null ? null : o.finetunedAccuracy - o.prunedAccuracy;
    case 'firstStepShare': {
      if (!o.schedule || o.schedule.target <= 0) return null;
      return scheduleSparsities(o.schedule.schedule, o.schedule.target)[0] / o.schedule.target;
    }
    default:
      break;
  }
  if (!c) return null;
  const full = unpruned(o.model);
  switch (id) {
    case 'params':
      return c.params;
    case 'paramsKeptShare':
      return c.params / full.params;
    case 'nonzeroKeptShare':
      return c.nonzeroParams / full.params;
    case 'macsKeptShare':
      return c.macs / full.macs;
    case 'filtersGone':
      return full.channels.reduce((a, b) => a + b, 0) - c.channels.reduce((a, b) => a + b, 0);
    case 'printedDrop':
      return full.params - c.articlePrints;
    case 'convLayersShrunk': {
      const convs = structure(specFor(o.model)).nodes.filter((n) => n.op === 'conv');
      return convs.filter((n) => c.layers[n.name] && c.layers[n.name].nonzeroWeights < full.layers[n.name].nonzeroWeights).length;
    }
  }
}

/** A measured figure as the reveal prints it ("41.3 %", "657,162", "+4.2 points"). */
export function formatMeasure(id: MeasureId, value: number): string {
  switch (MEASURES[id].unit) {
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    case 'share':
    case 'accuracy':
      return `${(value * 100).toFixed(1)} %`;
    case 'points':
      return `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} points`;
  }
}
