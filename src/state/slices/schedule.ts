/**
 * Scheduled fine-tuning and honest controls (issue 22). A scheduled run reaches the sliders' targets over
 * k prune → fine-tune steps in the engine (each `ftEpochs` long); every fine-tuned run, scheduled or not,
 * then gets its control: the unpruned baseline fine-tuned with the same epochs, seed, data and recipe,
 * computed by the engine once per (baseline, epochs, seed, subset, recipe) and written into the run's row.
 */
import { describeSchedule } from '../../core/pruning/schedule';
import type { ScheduleStepReport } from '../../worker/protocol';
import { type Shared, message, pruneSettingsOf, trainConfigOf } from '../shared';
import { rowCosts } from '../history';
import type { HistoryRow } from '../types';
import { amountKeysOf } from '../urlState';

/** "AGP, 3 steps" for a history row (one-shot for rows without a schedule). */
export function scheduleLabel(r: Pick<HistoryRow, 'schedule'>): string {
  if (!r.schedule) return 'one-shot';
  return `${r.schedule.kind === 'agp' ? 'AGP' : 'iterative'}, ${r.schedule.steps} steps`;
}

/** The slider targets' schedule as text: "AGP 3 steps: 52.8 → 72.2 → 75 %" (the largest amount). */
export function schedulePlanText(kind: 'oneshot' | 'iterative' | 'agp', steps: number, amounts: Record<string, number>): string {
  const target = Math.max(0, ...Object.values(amounts));
  return describeSchedule({ kind, steps: kind === 'oneshot' ? 1 : steps }, target);
}

export function scheduleSlice(ctx: Shared) {
  const { get, set, notify } = ctx;

  function patchRow(run: number, patch: Partial<HistoryRow>): void {
    set((s) => ({ history: s.history.map((r) => (r.run === run ? { ...r, ...patch } : r)) }));
  }

  /**
   * The run's control, queued in the engine behind whatever runs (the page stays free meanwhile): its
   * row says 'pending' until the figure arrives. `epochs` is the run's whole budget (steps × ftEpochs).
   */
  async function addControl(run: number, epochs: number): Promise<void> {
    const s = get().settings;
    patchRow(run, { control: { status: 'pending' } });
    try {
      const r = await ctx.engine().request('control', { config: trainConfigOf(s, epochs), trainSubset: s.trainSubset });
      patchRow(run, { control: r.cancelled ? { status: 'failed', error: `cancelled after ${r.epochs} epochs` } : { status: 'done', accuracy: r.evaluation.accuracy, epochs: r.epochs } });
    } catch (e) {
      patchRow(run, { control: { status: 'failed', error: message(e) } });
    }
  }

  /** k prune → fine-tune steps to the sliders' targets; a history row with the schedule, each step's figures and its control. */
  async function scheduledFineTune(): Promise<void> {
    if (ctx.refuseWhileBusy('Fine-tuning cannot start')) return;
    const s = get();
    if (s.preview.status !== 'ready' || !s.preview.reply || !s.baselineEval) return;
    const settings = s.settings;
    if (settings.schedule === 'oneshot') return;
    const schedule = { kind: settings.schedule, steps: settings.steps };
    const epochs = settings.ftEpochs * settings.steps;
    set({ scheduleSteps: [], prunedCurve: [], job: { role: 'pruned', epochs, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false } });
    let out;
    try {
      out = await ctx.engine().request('scheduledFinetune', { settings: pruneSettingsOf(settings), schedule, config: trainConfigOf(settings, settings.ftEpochs), trainSubset: settings.trainSubset });
    } catch (e) {
      notify(`Scheduled fine-tuning failed: ${message(e)}`);
      return;
    } finally {
      set({ job: null });
    }
    if (out.backend) set({ backend: out.backend });
    set({ finetunedEval: out.evaluation, prunedEpochs: out.totalEpochs, scheduleSteps: out.schedule });
    const reports: ScheduleStepReport[] = out.schedule;
    if (out.epochsDone === 0) {
      notify('Fine-tuning was cancelled before its first step: nothing changed, no run recorded.', 'info');
      return;
    }
    const c = out.measured ?? reports[reports.length - 1].costs;
    const row: HistoryRow = {
      run: (get().history.at(-1)?.run ?? 0) + 1,
      model: settings.model,
      method: settings.method,
      mode: settings.mode,
      amounts: Object.fromEntries(amountKeysOf(settings.model).map((k) => [k, settings.amounts[k] ?? 0])),
      manual: '',
      seed: settings.seed,
      ...rowCosts(c),
      keptFilters: out.kept,
      baselineAcc: s.baselineEval.accuracy,
      // the accuracy right after the first cut: what one prune did before any fine-tuning
      prunedAcc: reports[0].before.accuracy,
      finetunedAcc: out.evaluation.accuracy,
      testImages: { baseline: s.baselineEval.count, pruned: reports[0].before.count, finetuned: out.evaluation.count },
      ftEpochs: out.epochsDone,
      ftPlanned: epochs,
      cancelled: out.cancelled,
      schedule: { kind: schedule.kind, steps: schedule.steps, reports },
    };
    set((st) => ({ history: [...st.history, row] }));
    if (!out.cancelled) await addControl(row.run, epochs);
  }

  return { scheduledFineTune, addControl };
}
