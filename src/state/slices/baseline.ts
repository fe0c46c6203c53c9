/**
 * The baseline slice: start-up (backend, saved work or the pretrained/seeded baseline), training it,
 * starting over (scratch, pretrained), switching model or backend, evaluating it, following the
 * engine's training events. Every change of the engine's baseline goes through ctx.baselineChanged().
 */
import { type ModelId, hasBatchNorm } from '../../core/model/spec';
import { specFor } from '../../core/model/zoo';
import type { Api } from '../../worker/protocol';
import { engineEventPatch } from '../engineEvents';
import { withoutLayout } from '../layout';
import { PERSIST_KEY, PERSIST_VERSION } from '../persistence';
import { type Shared, message } from '../shared';
import { freshBaseline } from '../store';
import type { Persisted } from '../types';
import { type Settings, migrateSettings, parseSettings, zeroAmounts } from '../urlState';
import { describeOrigin, epochsText } from '../vocabulary';

export function baselineSlice(ctx: Shared, data: { loadData: () => Promise<void>; prefetchData: () => void }) {
  const { get, set, notify, deps, store } = ctx;
  let persistNoticeShown = false;
  /** Settles once start() has put the first baseline in the engine: actions that replace it wait for it. */
  let baselineStarted: () => void = () => {};
  const startup = new Promise<void>((resolve) => (baselineStarted = resolve));
  /** The pretrained weights, requested at start-up beside the data (see dataSlice.prefetchData); taken once. */
  const prefetchedPretrained = new Map<string, ReturnType<typeof deps.loadPretrained>>();
  /** data=full: the baseline trained on the full CIFAR-10, when one ships for the model. */
  const wantFull = () => get().settings.data === 'full';

  async function start(): Promise<void> {
    const parsed = parseSettings(deps.search);
    // view=, controls= and presenter= pick a layout (layout.ts), not settings: such a link still gets the saved work back.
    const fromUrl = withoutLayout(deps.search) !== '';
    // Before anything is awaited: the engine's worker (its script is the longest download, then tfjs and
    // the backend start in it) and the data sets need nothing saved, and a link's pretrained weights
    // neither (a link's settings win over saved ones). Started after reading the saved work (IndexedDB,
    // while React renders the page), the worker was requested 280–400 ms after the page's script ran.
    let engineFailure: unknown = null;
    try {
      startEngine();
    } catch (e) {
      engineFailure = e;
    }
    if (!engineFailure && fromUrl) prefetchPretrained(parsed.settings);
    const saved = await readSaved();
    if (saved?.experiments) set((s) => ({ experiments: { ...s.experiments, ...saved.experiments } }));
    if (saved?.interrupted) {
      const { kind, points } = saved.interrupted;
      const kept = `kept the ${points} point${points === 1 ? '' : 's'} done`;
      notify(kind === 'sweep' ? `The method comparison was interrupted: ${kept}; Run continues it.` : `The ${kind === 'lottery' ? 'lottery ticket' : 'sensitivity scan'} was interrupted: ${kept}.`, 'info');
    }
    // A link's settings win; without one, the saved settings come back.
    // Saved settings from before group-keyed amounts (conv1…fc1 as fields of their own) read as today's.
    const settings = fromUrl || !saved ? parsed.settings : { ...migrateSettings(saved.settings), backend: parsed.settings.backend, kernels: parsed.settings.kernels };
    set({ settings });
    for (const n of parsed.notices) notify(n, 'info');
    ctx.writeUrl(settings);
    store.storage.controls.onFailure((reason) => {
      set({ persistence: 'off' });
      if (persistNoticeShown) return;
      persistNoticeShown = true;
      notify(`Your work is not being saved in this browser: ${reason}. Everything still works; export runs or save an experiment to keep them.`, 'info');
    });
    try {
      if (engineFailure) throw engineFailure;
      if (!fromUrl) prefetchPretrained(settings);
      await initBackend();
      await startBaseline(saved);
    } catch (e) {
      set({ engineError: message(e) });
      return;
    } finally {
      baselineStarted();
      if (!store.storage.controls.failed) {
        store.storage.controls.enable();
        set({ persistence: 'on' });
      }
    }
    await data.loadData();
  }

  /** The engine's worker, wired to the store, and the data sets' downloads (start()). */
  function startEngine(): void {
    const link = deps.makeEngine();
    ctx.setEngine(link);
    link.onEvent((e) => {
      const patch = engineEventPatch(get(), e);
      if (patch) set(patch);
    });
    data.prefetchData();
  }

  /** The pretrained weights the start-up will use (usePretrained takes them), requested beside the data. */
  function prefetchPretrained(settings: Settings): void {
    if (settings.baseline !== 'pretrained') return;
    const p = deps.loadPretrained(settings.model, settings.data === 'full');
    p.catch(() => {}); // reported where it is taken (usePretrained)
    prefetchedPretrained.set(`${settings.model}|${settings.data}`, p);
  }

  /** The saved record, if there is one this version can read; an unreadable one is reported and left alone. */
  async function readSaved(): Promise<Persisted | null> {
    const value = await store.storage.getItem(PERSIST_KEY);
    if (!value) return null;
    if (value.version !== PERSIST_VERSION || !value.state?.settings || !value.state.baseline) {
      notify('Saved work from an older version of the playground could not be read; starting fresh (it will be replaced).', 'info');
      return null;
    }
    return value.state;
  }

  /**
   * Saved work for the chosen model, else the pretrained baseline (unless the URL asks for scratch), else
   * a seeded start. A link that names a baseline (`baseline=scratch|pretrained`) gets that one, not saved work.
   */
  async function startBaseline(saved: Persisted | null): Promise<void> {
    const s = get().settings;
    const b = saved?.baseline;
    // A link asking for another kind of baseline than the saved work started from (a teacher's link with
    // baseline=pretrained, say) gets what it asks for; a reload (same settings) gets the saved work back.
    const asked = new URLSearchParams(deps.search).get('baseline');
    const compatible = asked === null || asked === saved?.settings.baseline;
    if (saved && b && compatible && b.origin.model === s.model && (b.weights || b.origin.kind === 'scratch')) {
      if (b.weights) await replaceBaseline('setBaseline', { weights: b.weights, epochs: b.origin.epochs });
      else await replaceBaseline('resetBaseline', { model: s.model, seed: b.origin.seed });
      set({ baseline: { ...b, trainingUntil: null }, history: saved.history, baselineEval: saved.baselineEval });
      const interrupted = b.trainingUntil !== null;
      notify(
        interrupted
          ? `Training was interrupted: restored the baseline after its last completed epoch (${epochsText(b.origin.epochs)}).`
          : `Restored your saved work: ${describeOrigin(b)}, ${saved.history.length} run${saved.history.length === 1 ? '' : 's'}.`,
        'info',
      );
      return;
    }
    if (saved) set({ history: saved.history });
    await defaultBaseline(s.model, s.baseline === 'pretrained', s.seed);
  }

  /** The pretrained baseline when wanted and shipped, else a seeded untrained one. */
  async function defaultBaseline(model: ModelId, pretrained: boolean, seed: number): Promise<void> {
    if (pretrained && (await usePretrained(model))) return;
    await replaceBaseline('resetBaseline', { model, seed });
    set({ baseline: freshBaseline(model, seed), baselineEval: null });
  }

  async function usePretrained(model: ModelId): Promise<boolean> {
    let p;
    try {
      const key = `${model}|${get().settings.data}`;
      const early = prefetchedPretrained.get(key);
      prefetchedPretrained.delete(key);
      p = await (early ?? deps.loadPretrained(model, wantFull()));
    } catch (e) {
      notify(`The pretrained ${specFor(model).label} could not be loaded (${message(e)}); starting from an untrained network.`);
      return false;
    }
    if (!p) return false;
    await replaceBaseline('setBaseline', { weights: p.weights, epochs: p.epochs });
    set({
      baseline: {
        origin: { kind: 'pretrained', model, seed: p.seed, epochs: p.epochs, trainedHere: 0, detail: p.about ?? `trained on the 5,000-image subset, ${(p.testAccuracy * 100).toFixed(1)} % on 1,000 test images when made, on ${p.backend}` },
        weights: p.weights,
        curve: [],
        trainingUntil: null,
      },
      baselineEval: null,
    });
    return true;
  }

  /** Every change of the engine's baseline goes through here: the pruned view starts over. */
  async function replaceBaseline<K extends 'setBaseline' | 'resetBaseline'>(type: K, body: Api[K]['req']): Promise<void> {
    ctx.baselineChanged();
    await ctx.engine().request(type, body);
  }

  async function initBackend(): Promise<void> {
    const { backend: choice, kernels } = get().settings;
    const backend = await ctx.engine().request('init', { backend: choice === 'auto' ? null : choice, kernels, model: get().settings.model });
    set({ backend });
    // The custom kernels asked for but not running (another tfjs version, a failed self-check): say so.
    if (backend.kernels?.reason) notify(`${backend.kernels.notice}.`, 'info');
  }

  /** backend=auto: times every backend again (software GPUs too); figures and any switch arrive as events. */
  async function remeasureBackend(): Promise<void> {
    try {
      set({ backend: await ctx.engine().request('measureBackends', {}) });
    } catch (e) {
      notify(`Re-measuring the backends failed: ${message(e)}`);
    }
  }

  async function switchBackend(): Promise<void> {
    // The figures are re-measured on the new backend; until then they show as pending.
    set({ baselineEval: null, preview: { status: 'pending', reply: null, error: null } });
    try {
      await initBackend();
      await evaluateBaseline();
      ctx.cross.schedulePreview();
    } catch (e) {
      notify(`Backend switch failed: ${message(e)}`);
    }
  }

  async function evaluateBaseline(): Promise<void> {
    const version = ctx.baselineVersion();
    try {
      const evaluation = await ctx.engine().request('evaluate', { role: 'baseline' });
      if (version === ctx.baselineVersion()) set({ baselineEval: evaluation });
    } catch (e) {
      notify(`Evaluation failed: ${message(e)}`);
    }
  }

  async function afterBaselineChange(): Promise<void> {
    if (!ctx.dataReady()) return;
    await evaluateBaseline();
    ctx.cross.schedulePreview();
  }

  /** Trains the baseline further (from pretrained or from where it is). */
  async function trainBaseline(): Promise<void> {
    if (ctx.refuseWhileBusy('The baseline cannot train')) return;
    const before = get().baseline;
    // The baseline changes: a preview in flight describes the old weights.
    ctx.baselineChanged({ baseline: { ...before, trainingUntil: before.origin.epochs + get().settings.epochs } });
    const out = await ctx.runTraining('baseline', get().settings.epochs);
    set((s) => ({
      baseline: {
        ...s.baseline,
        trainingUntil: null,
        origin: out ? { ...s.baseline.origin, epochs: out.totalEpochs, trainedHere: before.origin.trainedHere + out.epochsDone } : s.baseline.origin,
      },
      ...(out ? { baselineEval: out.evaluation } : {}),
    }));
    if (out?.cancelled) await saveBaselineWeights();
    ctx.cross.schedulePreview();
  }

  /** After a cancelled run the weights are mid-epoch: keep the saved copy in step with the engine. */
  async function saveBaselineWeights(): Promise<void> {
    try {
      const weights = await ctx.engine().request('readBaseline', {});
      set((s) => ({ baseline: { ...s.baseline, weights } }));
    } catch (e) {
      notify(`Could not read the baseline's weights: ${message(e)}`);
    }
  }

  function cancelJob(): void {
    const job = get().job;
    if (!job || job.cancelling) return;
    set({ job: { ...job, cancelling: true } });
    void ctx
      .engine()
      .request('cancel', {})
      .catch((e) => notify(`Cancel failed: ${message(e)}`));
  }

  /** Starts over from a freshly initialised network (seeded): "Train from scratch" / "New model". */
  async function newBaseline(): Promise<void> {
    if (ctx.refuseWhileBusy('A new baseline cannot start')) return;
    const s = get().settings;
    try {
      await replaceBaseline('resetBaseline', { model: s.model, seed: s.seed });
    } catch (e) {
      notify(`Could not start a new model: ${message(e)}`);
      return;
    }
    ctx.setSettings({ ...s, baseline: 'scratch' }, { baseline: freshBaseline(s.model, s.seed) });
    await afterBaselineChange();
  }

  /** Back to the shipped pretrained weights. */
  async function usePretrainedBaseline(): Promise<void> {
    if (ctx.refuseWhileBusy('The baseline cannot change')) return;
    const s = get().settings;
    try {
      if (!(await usePretrained(s.model))) {
        notify(`No pretrained ${specFor(s.model).label} ships with this build.`, 'info');
        return;
      }
    } catch (e) {
      notify(`Could not load the pretrained baseline: ${message(e)}`);
      return;
    }
    ctx.setSettings({ ...s, baseline: 'pretrained' });
    await afterBaselineChange();
  }

  /** A new model means a new baseline; a trained one is only dropped after the user agrees. */
  async function switchModel(model: ModelId): Promise<void> {
    const s = get();
    if (model === s.settings.model) return;
    const b = s.baseline;
    if (b.origin.trainedHere > 0 && !deps.confirm(`Switch to ${specFor(model).label}? Your ${specFor(s.settings.model).label} baseline (${epochsText(b.origin.trainedHere)} of your training) will be replaced. Runs in the history stay.`)) {
      return;
    }
    const cleared: Partial<Settings> = { model, amounts: zeroAmounts(model), manual: '', method: s.settings.method === 'bn' && !hasBatchNorm(specFor(model)) ? 'l1' : s.settings.method };
    const settings = { ...s.settings, ...cleared };
    ctx.setSettings(settings);
    ctx.baselineChanged({ baselineEval: null });
    try {
      if (!(settings.baseline === 'pretrained' && (await usePretrained(model)))) {
        await replaceBaseline('resetBaseline', { model, seed: settings.seed });
        set({ baseline: freshBaseline(model, settings.seed) });
      }
      await afterBaselineChange();
    } catch (e) {
      notify(`Could not switch to ${specFor(model).label}: ${message(e)}`);
    }
  }

  return {
    start,
    startup,
    defaultBaseline,
    replaceBaseline,
    evaluateBaseline,
    afterBaselineChange,
    switchBackend,
    remeasureBackend,
    switchModel,
    trainBaseline,
    cancelJob,
    newBaseline,
    usePretrainedBaseline,
  };
}
