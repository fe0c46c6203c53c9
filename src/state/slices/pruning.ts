/**
 * The pruning slice: settings (sliders, criteria, filters by hand), the debounced preview of the
 * pruned model, fine-tuning and the run history.
 */
import { specFor } from '../../core/model/zoo';
import { SupersededRequest } from '../../worker/client';
import { type Shared, message, pruneSettingsOf } from '../shared';
import { rowCosts } from '../history';
import type { HistoryRow } from '../types';
import { structure } from '../../core/model/graph';
import { type Settings, amountsFor, channelsOf, formatManual, parseManual, zeroAmounts } from '../urlState';

const PREVIEW_DEBOUNCE_MS = 80;
/** Settings whose change changes the pruned model (its preview is asked for again). */
const PRUNING_KEYS: (keyof Settings)[] = ['method', 'mode', 'amounts', 'manual', 'seed', 'taylorBatch', 'taylorSeed'];

export function pruningSlice(ctx: Shared) {
  const { get, set, notify, timers } = ctx;
  let previewTimer: ReturnType<typeof setTimeout> | null = null;

  function setSetting<K extends keyof Settings>(key: K, value: Settings[K]): void {
    if ((key === 'backend' || key === 'kernels' || key === 'model') && ctx.refuseWhileBusy(`The ${key} cannot change`)) return;
    if (key === 'model') {
      void ctx.cross.switchModel(value as Settings['model']);
      return;
    }
    ctx.setSettings({ ...get().settings, [key]: value });
    if (key === 'backend' || key === 'kernels') void ctx.cross.switchBackend();
    if (PRUNING_KEYS.includes(key)) schedulePreview();
  }

  /** One slider: a channel group's amount (by its id) or the linear layer's, in percent. */
  function setAmount(key: string, percent: number): void {
    setAmounts([key], percent);
  }

  /** Several sliders at once (the "all conv layers", "all inner", "all" sliders); keys the model lacks are ignored. */
  function setAmounts(keys: readonly string[], percent: number): void {
    const s = get().settings;
    const patch = Object.fromEntries(keys.map((k) => [k, percent]));
    ctx.setSettings({ ...s, amounts: amountsFor(s.model, { ...s.amounts, ...patch }) });
    schedulePreview();
  }

  /** Manual pruning: a click on a filter tile prunes it, a second click restores it. */
  function toggleFilter(layer: string, filter: number): void {
    if (ctx.refuseWhileBusy('Filters cannot change')) return;
    const s = get().settings;
    // Leaving a criterion starts from the filters it pruned: only known once its preview has answered.
    if (s.method !== 'manual' && get().preview.status !== 'ready') return;
    const { manual } = parseManual(s.method === 'manual' ? s.manual : '', s.model);
    // Switching to manual starts from what the current criterion pruned, so the first click changes one filter.
    if (s.method !== 'manual') {
      const kept = get().preview.reply?.kept;
      if (kept && s.mode !== 'global') {
        const groups = structure(specFor(s.model)).groups;
        channelsOf(s.model).forEach((n, i) => {
          const name = groups[i].id;
          const keep = new Set(kept[name] ?? []);
          const pruned = Array.from({ length: n }, (_, j) => j).filter((j) => !keep.has(j));
          if (pruned.length) manual[name] = pruned;
        });
      }
    }
    const list = new Set(manual[layer] ?? []);
    if (list.has(filter)) list.delete(filter);
    else list.add(filter);
    manual[layer] = [...list].sort((a, b) => a - b);
    ctx.setSettings({ ...s, method: 'manual', mode: s.mode === 'global' ? 'remove' : s.mode, manual: formatManual(manual, s.model) });
    schedulePreview();
  }

  /**
   * The pruned model's accuracy follows the sliders once a drag settles; stale answers are dropped.
   * `now`: asked at once, not after the drag's debounce (the data just arrived: nothing is dragging).
   */
  function schedulePreview(now = false): void {
    if (previewTimer) timers.clearTimeout(previewTimer);
    const s = get();
    if (!ctx.engineStarted() || !ctx.dataReady()) return;
    const ticket = ctx.newPreviewTicket();
    set({ preview: { ...s.preview, status: 'pending' }, finetunedEval: null, prunedEpochs: 0, prunedCurve: s.prunedCurve.length ? [] : s.prunedCurve });
    if (now) {
      previewTimer = null;
      void runPreview(ticket);
      return;
    }
    previewTimer = timers.setTimeout(() => void runPreview(ticket), PREVIEW_DEBOUNCE_MS);
  }

  async function runPreview(ticket: object): Promise<void> {
    if (get().job) return; // asked again when the job ends
    const settings = pruneSettingsOf(get().settings);
    try {
      const reply = await ctx.engine().request('preview', { settings });
      if (ctx.isCurrentPreview(ticket)) set({ preview: { status: 'ready', reply, error: null } });
    } catch (e) {
      if (e instanceof SupersededRequest || !ctx.isCurrentPreview(ticket)) return;
      set({ preview: { status: 'error', reply: null, error: message(e) } });
    }
  }

  /** Fine-tunes the pruned model and records a history row (a cancelled run says how far it got). */
  async function fineTune(): Promise<void> {
    if (get().settings.schedule !== 'oneshot') return ctx.cross.scheduledFineTune();
    if (ctx.refuseWhileBusy('Fine-tuning cannot start')) return;
    const s = get();
    if (s.preview.status !== 'ready' || !s.preview.reply || !s.baselineEval) return;
    const reply = s.preview.reply;
    const settings = s.settings;
    const out = await ctx.runTraining('pruned', settings.ftEpochs);
    if (!out) return;
    set({ finetunedEval: out.evaluation, prunedEpochs: out.totalEpochs });
    if (out.steps === 0) {
      notify('Fine-tuning was cancelled before its first step: nothing changed, no run recorded.', 'info');
      return;
    }
    const c = out.measured ?? reply.costs; // counted on the fine-tuned weights: masked ones stayed zero
    const row: HistoryRow = {
      run: (get().history.at(-1)?.run ?? 0) + 1,
      model: settings.model,
      method: settings.method,
      mode: settings.mode,
      amounts: { ...settings.amounts },
      manual: settings.method === 'manual' ? settings.manual : '',
      seed: settings.seed,
      ...rowCosts(c),
      keptFilters: reply.kept,
      baselineAcc: s.baselineEval.accuracy,
      prunedAcc: reply.evaluation.accuracy,
      finetunedAcc: out.evaluation.accuracy,
      testImages: { baseline: s.baselineEval.count, pruned: reply.evaluation.count, finetuned: out.evaluation.count },
      ftEpochs: out.totalEpochs,
      ftPlanned: out.cancelled ? out.totalEpochs - out.epochsDone + settings.ftEpochs : out.totalEpochs,
      cancelled: out.cancelled,
    };
    set((st) => ({ history: [...st.history, row] }));
    if (!out.cancelled) await ctx.cross.addControl(row.run, out.totalEpochs);
  }

  /**
   * Back to the unpruned baseline, exactly: pruning always starts from an untouched copy of the
   * baseline, so sliders at 0 give back the baseline's weights bit for bit.
   */
  function resetPruning(): void {
    if (ctx.refuseWhileBusy('Pruning cannot reset')) return;
    const s = get().settings;
    const settings: Settings = { ...s, amounts: zeroAmounts(s.model), manual: '', method: s.method === 'manual' ? 'l1' : s.method };
    ctx.setSettings(settings);
    schedulePreview();
  }

  /** "Clear runs" (asks first: the runs are not saved anywhere else unless exported). */
  function clearHistory(): void {
    const n = get().history.length;
    if (n === 0 || !ctx.deps.confirm(`Clear the ${n} run${n === 1 ? '' : 's'} in the history? Export them first to keep them.`)) return;
    set({ history: [] });
  }

  return { setSetting, setAmount, setAmounts, toggleFilter, schedulePreview, fineTune, resetPruning, clearHistory };
}
