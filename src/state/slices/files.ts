/**
 * The files slice: experiment files (save, open), "Export to PyTorch", and forgetting the saved work.
 */
import type { NetWeights } from '../../core/model/spec';
import { specFor } from '../../core/model/zoo';
import type { Evaluation } from '../../core/train/trainer';
import { type Experiment, decodeExperiment, encodeExperiment, experimentFileName } from '../experimentFile';
import { PERSIST_KEY } from '../persistence';
import { type Shared, message, pruneSettingsOf } from '../shared';
import type { BaselineRecord, HistoryRow } from '../types';
import { type Settings, amountsFor, recipeOf } from '../urlState';
import { describeOrigin } from '../vocabulary';

export interface FilesSliceNeeds {
  /** Settles once the start-up baseline is in the engine. */
  startup: Promise<void>;
  replaceBaseline(type: 'setBaseline', body: { weights: NetWeights; epochs: number }): Promise<void>;
  afterBaselineChange(): Promise<void>;
}

export function filesSlice(ctx: Shared, needs: FilesSliceNeeds) {
  const { get, set, notify, store } = ctx;

  /** "Forget saved work": clears what IndexedDB holds, and the page starts over (pretrained baseline, no runs). */
  async function forgetSavedWork(): Promise<boolean> {
    if (ctx.refuseWhileBusy('Saved work cannot be forgotten')) return false;
    if (!ctx.deps.confirm('Forget the saved baseline, runs and settings in this browser? The page starts over from the pretrained baseline.')) return false;
    await store.storage.removeItem(PERSIST_KEY);
    const s = get().settings;
    ctx.setSettings({ ...s, baseline: 'pretrained' }, { history: [] });
    try {
      await ctx.cross.defaultBaseline(s.model, true, s.seed);
      await needs.afterBaselineChange();
    } catch (e) {
      notify(`Could not start over: ${message(e)}`);
    }
    if (!store.storage.controls.failed) store.storage.controls.enable();
    notify('Saved work forgotten: the page starts over from the pretrained baseline.', 'info');
    return true;
  }

  async function tensorCount(): Promise<number> {
    return (await ctx.engine().request('memory', {})).numTensors;
  }

  /** For experiment files and exports: the baseline's current weights from the engine. */
  async function readBaseline(): Promise<NetWeights> {
    return ctx.engine().request('readBaseline', {});
  }

  /** Restores a baseline with its record and history (an experiment file). */
  async function restoreWork(record: BaselineRecord, history: HistoryRow[], settings: Settings, evaluation: Evaluation | null): Promise<void> {
    await needs.startup; // a file opened while the page starts must not be replaced by the start's baseline
    if (!record.weights) throw new Error('the file holds no baseline weights');
    await needs.replaceBaseline('setBaseline', { weights: record.weights, epochs: record.origin.epochs });
    ctx.setSettings(settings, { baseline: { ...record, trainingUntil: null }, history, baselineEval: evaluation });
    await needs.afterBaselineChange();
  }

  /** "Save experiment": the baseline's weights, its record, the history and the settings in one file. */
  async function saveExperiment(): Promise<{ name: string; bytes: Uint8Array } | null> {
    const s = get();
    try {
      const weights = await readBaseline();
      const e: Experiment = { settings: s.settings, origin: s.baseline.origin, weights, curve: s.baseline.curve, baselineEval: s.baselineEval, history: s.history };
      return { name: experimentFileName(e), bytes: encodeExperiment(e) };
    } catch (e) {
      notify(`Could not save the experiment: ${message(e)}`);
      return null;
    }
  }

  /** "Open experiment": restores all of it; a bad file gets a message naming it, and nothing loaded is lost. */
  async function openExperiment(file: File): Promise<boolean> {
    if (ctx.refuseWhileBusy('An experiment cannot be opened')) return false;
    try {
      const { experiment: e, notices } = decodeExperiment(new Uint8Array(await file.arrayBuffer()), file.name);
      await restoreWork({ origin: e.origin, weights: e.weights, curve: e.curve, trainingUntil: null }, e.history, e.settings, e.baselineEval);
      for (const n of notices) notify(`${file.name}: ${n}`, 'info');
      notify(`Opened ${file.name}: ${describeOrigin({ origin: e.origin })}, ${e.history.length} run${e.history.length === 1 ? '' : 's'}.`, 'info');
      return true;
    } catch (e) {
      notify(message(e));
      return false;
    }
  }

  /**
   * "Export to PyTorch" for the current setting, or for a run in the history (pruned from the current
   * baseline, which must be the one the run started from for the figures to agree).
   */
  async function exportPytorch(row?: HistoryRow): Promise<boolean> {
    const s = get();
    let settings = s.settings;
    let label = 'current setting';
    if (row) {
      if (row.model !== s.settings.model) {
        notify(`Run ${row.run} was made on ${specFor(row.model).label}: switch the model to export it.`, 'info');
        return false;
      }
      settings = { ...s.settings, method: row.method, mode: row.mode, amounts: amountsFor(row.model, row.amounts), manual: row.manual, seed: row.seed };
      label = `run ${row.run}`;
      if (s.baselineEval && Math.abs(s.baselineEval.accuracy - row.baselineAcc) > 1e-9) {
        notify(`The baseline changed since run ${row.run} (${(row.baselineAcc * 100).toFixed(1)} % then): the export prunes the current baseline.`, 'info');
      }
    }
    const schedule = row ? (row.schedule ? { kind: row.schedule.kind, steps: row.schedule.steps } : undefined) : settings.schedule !== 'oneshot' ? { kind: settings.schedule, steps: settings.steps } : undefined;
    // The preview is the one-shot prune: not what a scheduled script computes, so it is not quoted for one.
    const measured = !row && s.preview.status === 'ready' && !schedule ? s.preview.reply?.evaluation.accuracy : row?.prunedAcc;
    try {
      const r = await ctx.engine().request('exportPytorch', {
        settings: pruneSettingsOf(settings),
        finetune: { optimizer: settings.opt, learningRate: settings.lr, batchSize: settings.batch, momentum: 0.9, recipe: recipeOf(settings) },
        measuredAccuracy: measured,
        schedule,
        // A scheduled run's own kept units after each step (rows recorded since they are; a cancelled run has fewer).
        stepKept: row?.schedule?.reports.every((r) => r.kept) ? row.schedule.reports.map((r) => r.kept!) : undefined,
      });
      const name = `pytorch-${settings.model}-${settings.mode}-${settings.method}${row ? `-run${row.run}` : ''}.zip`;
      set({ pytorchExport: { name, script: r.script, problem: r.problem, zip: r.zip, label } });
      return true;
    } catch (e) {
      notify(`Export to PyTorch failed: ${message(e)}`);
      return false;
    }
  }

  return { forgetSavedWork, tensorCount, readBaseline, saveExperiment, openExperiment, exportPytorch };
}
