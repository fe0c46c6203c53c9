/**
 * The training recipe beyond optimiser + learning rate: augmentation, Nesterov momentum, weight decay,
 * a per-step learning-rate schedule with warm-up, label smoothing. The defaults are the page's original
 * training (no augmentation, constant learning rate, no decay, no smoothing), so figures measured before
 * the recipe existed are unchanged; scripts/pretrain_full.py uses the standard CIFAR values.
 */
import { type Channels, type ModelSpec, tensors } from '../model/spec';

export const SCHEDULES = ['constant', 'cosine', 'onecycle'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface Recipe {
  /** Zero-pad 4 pixels (pixel value 0), random 32×32 crop, horizontal flip with p = 0.5 (seeded). */
  augment: boolean;
  /** SGD only: Nesterov momentum (PyTorch's SGD(nesterov=True)). */
  nesterov: boolean;
  /** L2 weight decay added to the gradient (PyTorch's `weight_decay`) of conv and linear weights only. */
  weightDecay: number;
  schedule: ScheduleName;
  /** Linear warm-up (per step) over this many epochs; for one-cycle, the rising phase (0 → 30 %). */
  warmupEpochs: number;
  /** Cross-entropy label smoothing ε (PyTorch's CrossEntropyLoss(label_smoothing=ε)). */
  labelSmoothing: number;
}

export const DEFAULT_RECIPE: Readonly<Recipe> = Object.freeze({
  augment: false,
  nesterov: false,
  weightDecay: 0,
  schedule: 'constant',
  warmupEpochs: 0,
  labelSmoothing: 0,
});

/** One-cycle constants, as torch.optim.lr_scheduler.OneCycleLR's defaults (anneal_strategy='cos'). */
export const ONE_CYCLE = { divFactor: 25, finalDivFactor: 1e4, defaultPctStart: 0.3 } as const;

const annealCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/**
 * The learning rate of optimiser step `step` (0-based) of `totalSteps`, with `warmupSteps` of warm-up.
 * constant: linear warm-up (step+1)/W · peak, then peak. cosine: the same warm-up, then cosine from peak
 * to 0 at the last step (scripts/pretrain_full.py's lr_factor). onecycle: torch's OneCycleLR with
 * pct_start = W/T (0.3 when W = 0): cosine from peak/25 up to peak, then down to peak/25/1e4.
 */
export function learningRateAt(schedule: ScheduleName, peak: number, step: number, totalSteps: number, warmupSteps: number): number {
  const w = Math.max(0, Math.floor(warmupSteps));
  if (schedule === 'onecycle') {
    const initial = peak / ONE_CYCLE.divFactor;
    const min = initial / ONE_CYCLE.finalDivFactor;
    const pct = w > 0 ? w / totalSteps : ONE_CYCLE.defaultPctStart;
    const upEnd = pct * totalSteps - 1;
    const last = totalSteps - 1;
    if (step <= upEnd) return annealCos(initial, peak, upEnd <= 0 ? 1 : step / upEnd);
    return annealCos(peak, min, (step - upEnd) / Math.max(1e-12, last - upEnd));
  }
  if (step < w) return (peak * (step + 1)) / w;
  if (schedule === 'constant') return peak;
  const t = (step - w) / Math.max(1, totalSteps - w);
  return peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t)));
}

/** Python's round(): halves to even (10.5 → 10), where Math.round gives 11. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * Warm-up epochs as optimiser steps, as pretrain_full.py and the exported script compute it:
 * max(1, round(epochs · steps/epoch)) with Python's round, when > 0.
 */
export function warmupSteps(warmupEpochs: number, stepsPerEpoch: number): number {
  return warmupEpochs > 0 ? Math.max(1, roundHalfEven(warmupEpochs * stepsPerEpoch)) : 0;
}

/**
 * Names of the tensors weight decay applies to: conv and linear weights. Not BatchNorm γ/β, not biases
 * (pretrain_full.py's param_groups; the usual practice since Goyal et al. 2017).
 */
export function decayedTensorNames(spec: ModelSpec, channels?: Channels): string[] {
  return tensors(spec, channels).filter((t) => t.parameter && t.role === 'weight').map((t) => t.name);
}

/** Why a recipe cannot run, or null. */
export function recipeProblem(r: Recipe): string | null {
  if (!(r.weightDecay >= 0 && r.weightDecay < 1)) return `weight decay ${r.weightDecay} is outside [0, 1)`;
  if (!(r.labelSmoothing >= 0 && r.labelSmoothing < 1)) return `label smoothing ${r.labelSmoothing} is outside [0, 1)`;
  if (!(r.warmupEpochs >= 0 && r.warmupEpochs <= 1000)) return `warm-up ${r.warmupEpochs} epochs is outside [0, 1000]`;
  if (!SCHEDULES.includes(r.schedule)) return `unknown schedule ${String(r.schedule)}`;
  return null;
}
