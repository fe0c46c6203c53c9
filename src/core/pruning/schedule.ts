/**
 * Pruning schedules: how a target sparsity is reached over several prune → fine-tune steps.
 *
 * one-shot  — the whole target at once (what the page did before schedules).
 * iterative — k equal steps to the target, fine-tuning between (Torch-Pruning's `iterative_steps`,
 *             Han et al. 2015): after step t the sparsity is s_f · t / k.
 * agp       — Automated Gradual Pruning (Zhu & Gupta 2017, eq. 1): s_t = s_f + (s_i − s_f)(1 − t/n)³,
 *             t = 1 … n. Large cuts early, while the network has redundancy, small ones near the end.
 *
 * Sparsities are cumulative fractions of a group's ORIGINAL units. A step turns its fraction into a unit
 * count with torch's rounding (amount.ts) and prunes only the difference among the units still alive, so
 * the steps compose: masks multiply, and removal of step t+1 acts on step t's smaller network.
 */
import { fraction, pruneCount } from './amount';

export type ScheduleKind = 'oneshot' | 'iterative' | 'agp';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['oneshot', 'iterative', 'agp'];

export interface Schedule {
  kind: ScheduleKind;
  /** Number of prune steps (1 for one-shot). */
  steps: number;
}

export const MAX_SCHEDULE_STEPS = 20;

/** Why a schedule is invalid, or null. */
export function scheduleProblem(s: Schedule): string | null {
  if (!SCHEDULE_KINDS.includes(s.kind)) return `unknown schedule "${String(s.kind)}"`;
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > MAX_SCHEDULE_STEPS)
    return `a schedule needs 1 to ${MAX_SCHEDULE_STEPS} steps, got ${s.steps}`;
  if (s.kind === 'oneshot' && s.steps !== 1) return 'a one-shot schedule has exactly one step';
  return null;
}

/**
 * Cumulative sparsity after each step, for a final sparsity `target` (0..1) starting from `initial`
 * (AGP's s_i; 0 for a dense baseline). The last entry is always exactly `target`.
 */
export function scheduleSparsities(s: Schedule, target: number, initial = 0): number[] {
  const why = scheduleProblem(s);
  if (why) throw new RangeError(why);
  if (!(target >= 0 && target <= 1) || !(initial >= 0 && initial <= target))
    throw new RangeError(`need 0 ≤ initial (${initial}) ≤ target (${target}) ≤ 1`);
  const n = s.steps;
  const out: number[] = [];
  for (let t = 1; t <= n; t++) {
    if (t === n) out.push(target); // exact, whatever the floating point below does
    else if (s.kind === 'agp') out.push(target + (initial - target) * (1 - t / n) ** 3);
    else out.push(initial + ((target - initial) * t) / n);
  }
  return out;
}

/**
 * Units pruned in total after each step, for a group of `units` (torch's round-half-even of fraction × n),
 * never decreasing. `perStep[t]` = how many more the step prunes.
 */
export function scheduleCounts(s: Schedule, target: number, units: number, initial = 0): { cumulative: number[]; perStep: number[] } {
  const cumulative: number[] = [];
  let prev = pruneCount(fraction(initial), units);
  const perStep: number[] = [];
  for (const sp of scheduleSparsities(s, target, initial)) {
    const c = Math.max(prev, pruneCount(fraction(sp), units));
    cumulative.push(c);
    perStep.push(c - prev);
    prev = c;
  }
  return { cumulative, perStep };
}

/**
 * The fraction of the units STILL ALIVE that step t prunes: what a framework whose amounts are relative
 * to the remaining units (torch's PruningContainer, NNI) is given. Exact only as a count; the PyTorch
 * export passes integer amounts (`perStep`) so rounding never differs.
 */
export function relativeStepAmounts(s: Schedule, target: number, units: number): number[] {
  const { cumulative, perStep } = scheduleCounts(s, target, units);
  return perStep.map((p, t) => {
    const alive = units - (t === 0 ? 0 : cumulative[t - 1]);
    return alive === 0 ? 0 : p / alive;
  });
}

/** Short text for a history row or a chart legend: "AGP 3 steps → 75 %". */
export function describeSchedule(s: Schedule, target: number): string {
  const pct = `${Math.round(target * 1000) / 10} %`;
  if (s.kind === 'oneshot') return `one-shot ${pct}`;
  const steps = scheduleSparsities(s, target).map((x) => `${Math.round(x * 1000) / 10}`).join(' → ');
  return `${s.kind === 'agp' ? 'AGP' : 'iterative'} ${s.steps} steps: ${steps} %`;
}
