/**
 * What the page does, as plain functions over the store: starting the engine, loading data,
 * restoring saved work, training, previews, fine-tuning, history. The engine link, the timers, the
 * fetch, the URL writer and the confirmation dialog are passed in, so all of it is unit-tested with
 * fakes (controller.test.ts). Components call these actions; they never talk to the engine.
 */
import { type Cifar10Set, Cifar10FormatError, classCounts, concatSets, parseCifar10 } from '../core/data/cifar10';
import { type ModelId, type NetWeights, hasBatchNorm } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import { type Costs, previewCosts } from '../core/pruning/costs';
import type { PruneSettings } from '../core/pruning/settings';
import type { Evaluation, TrainConfig } from '../core/train/trainer';
import { type EngineLink, SupersededRequest } from '../worker/client';
import type { Api, DataRole, EngineEvent, ModelRole, TrainReply } from '../worker/protocol';
import { type Experiment, decodeExperiment, encodeExperiment, experimentFileName } from './experimentFile';
import type { HistoryRow } from './history';
import { PERSIST_KEY, PERSIST_VERSION } from './persistence';
import {
  type AppStore,
  type BaselineRecord,
  type CurvePoint,
  type Notice,
  type Persisted,
  type State,
  freshBaseline,
} from './store';
import { AMOUNT_KEYS, type Settings, amountKeysOf, channelsOf, formatManual, parseManual, parseSettings, settingsToQuery } from './urlState';

/** A shipped pretrained baseline (public/models/), as the loader returns it. */
export interface Pretrained {
  weights: NetWeights;
  seed: number;
  epochs: number;
  /** Test accuracy on test_1000 measured when it was made (the manifest's). */
  testAccuracy: number;
  backend: string;
}

export interface ControllerDeps {
  store: AppStore;
  makeEngine: () => EngineLink;
  fetchBytes: (url: string, onProgress: (loaded: number, total: number | null) => void) => Promise<Uint8Array>;
  /** The shipped baseline of a model, or null when none ships. */
  loadPretrained: (model: ModelId) => Promise<Pretrained | null>;
  /** Mirrors the settings' query string into the address bar. */
  writeUrl: (query: string) => void;
  /** The page's query string at start. */
  search: string;
  confirm: (question: string) => boolean;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

export const DATA_FILES: Record<DataRole, string> = { train: 'data/cifar10/train_5000.bin', test: 'data/cifar10/test_1000.bin' };
const PREVIEW_DEBOUNCE_MS = 80;
const URL_DEBOUNCE_MS = 150;
const PRUNING_KEYS: (keyof Settings)[] = ['method', 'mode', ...AMOUNT_KEYS, 'manual', 'seed'];

export function pruneSettingsOf(s: Settings): PruneSettings {
  const amounts: Record<string, number> = {};
  for (const k of amountKeysOf(s.model)) amounts[k] = s[k] / 100;
  const out: PruneSettings = { method: s.method, mode: s.mode, amounts, seed: s.seed };
  if (s.method === 'manual') out.manual = parseManual(s.manual, s.model).manual;
  return out;
}

/** Counts and costs for the current sliders: pure arithmetic, so it runs on every drag event. */
export function currentCosts(s: Settings): Costs {
  return previewCosts(specFor(s.model), pruneSettingsOf(s));
}

export function trainConfigOf(s: Settings, epochs: number): TrainConfig {
  return { epochs, batchSize: s.batch, learningRate: s.lr, optimizer: s.opt, momentum: 0.9, seed: s.seed };
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type Controller = ReturnType<typeof createController>;

export function createController(deps: ControllerDeps) {
  const { store } = deps;
  const timers = deps.timers ?? globalThis;
  const get = store.getState;
  const set = store.setState;
  let engineLink: EngineLink | null = null;
  let noticeId = 1;
  let urlTimer: ReturnType<typeof setTimeout> | null = null;
  let previewTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped on every pruning change: only the answer for the newest settings is shown. */
  let previewGeneration = 0;
  let persistNoticeShown = false;
  /** Bumped whenever the engine's baseline is replaced or trained: an evaluation of an older one is stale. */
  let baselineVersion = 0;
  /** Settles once start() has put the first baseline in the engine: actions that replace it wait for it. */
  let baselineStarted: () => void = () => {};
  const startup = new Promise<void>((resolve) => (baselineStarted = resolve));

  const engine = (): EngineLink => {
    if (!engineLink) throw new Error('The engine has not started.');
    return engineLink;
  };

  function notify(text: string, level: Notice['level'] = 'error', retry?: Notice['retry']): void {
    set((s) => ({ notices: [...s.notices, { id: noticeId++, level, text, retry }] }));
  }

  function dismissNotice(id: number): void {
    set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
  }

  function writeUrl(s: Settings): void {
    if (urlTimer) timers.clearTimeout(urlTimer);
    urlTimer = timers.setTimeout(() => deps.writeUrl(settingsToQuery(s)), URL_DEBOUNCE_MS);
  }

  // ------------------------------------------------------------ start-up, saved work, data

  async function start(): Promise<void> {
    const parsed = parseSettings(deps.search);
    const fromUrl = deps.search.replace(/^\?/, '') !== '';
    const saved = await readSaved();
    if (saved?.experiments) set((s) => ({ experiments: { ...s.experiments, ...saved.experiments } }));
    // A link's settings win; without one, the saved settings come back.
    const settings = fromUrl || !saved ? parsed.settings : { ...saved.settings, backend: parsed.settings.backend, kernels: parsed.settings.kernels };
    set({ settings });
    for (const n of parsed.notices) notify(n, 'info');
    writeUrl(settings);
    store.storage.controls.onFailure((reason) => {
      set({ persistence: 'off' });
      if (persistNoticeShown) return;
      persistNoticeShown = true;
      notify(`Your work is not being saved in this browser: ${reason}. Everything still works; export runs or save an experiment to keep them.`, 'info');
    });
    try {
      engineLink = deps.makeEngine();
      engineLink.onEvent(onEngineEvent);
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
    await loadData();
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
    let p: Pretrained | null;
    try {
      p = await deps.loadPretrained(model);
    } catch (e) {
      notify(`The pretrained ${specFor(model).label} could not be loaded (${message(e)}); starting from an untrained network.`);
      return false;
    }
    if (!p) return false;
    await replaceBaseline('setBaseline', { weights: p.weights, epochs: p.epochs });
    set({
      baseline: {
        origin: { kind: 'pretrained', model, seed: p.seed, epochs: p.epochs, trainedHere: 0, detail: `${(p.testAccuracy * 100).toFixed(1)} % when made, on ${p.backend}` },
        weights: p.weights,
        curve: [],
        trainingUntil: null,
      },
      baselineEval: null,
    });
    return true;
  }

  async function initBackend(): Promise<void> {
    const { backend: choice, kernels } = get().settings;
    const backend = await engine().request('init', { backend: choice === 'auto' ? null : choice, kernels, model: get().settings.model });
    set({ backend });
    // The custom kernels asked for but not running (another tfjs version, a failed self-check): say so.
    if (backend.kernels?.reason) notify(`${backend.kernels.notice}.`, 'info');
  }

  /** backend=auto: times every backend again (software GPUs too); figures and any switch arrive as events. */
  async function remeasureBackend(): Promise<void> {
    try {
      set({ backend: await engine().request('measureBackends', {}) });
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
      schedulePreview();
    } catch (e) {
      notify(`Backend switch failed: ${message(e)}`);
    }
  }

  function updateData(role: DataRole, patch: Partial<State['data'][DataRole]>): void {
    set((s) => ({ data: { ...s.data, [role]: { ...s.data[role], ...patch } } }));
  }

  /** Loads the shipped data sets that are not loaded yet; a failure offers Retry and loses nothing. */
  async function loadData(): Promise<void> {
    const roles = (['train', 'test'] as const).filter((r) => get().data[r].status !== 'ready' && get().data[r].status !== 'loading');
    const failures: string[] = [];
    await Promise.all(
      roles.map(async (role) => {
        const url = DATA_FILES[role];
        updateData(role, { status: 'loading', loaded: 0, total: null });
        try {
          const bytes = await deps.fetchBytes(url, (loaded, total) => updateData(role, { loaded, total }));
          await useSet(role, parseCifar10(bytes, url.split('/').pop()!));
        } catch (e) {
          updateData(role, { status: 'error' });
          // fetchBytes already names the file in its HTTP errors; say it once.
          failures.push(message(e).startsWith(url) ? message(e) : `${url}: ${message(e)}`);
        }
      }),
    );
    if (failures.length) {
      notify(`Could not load the CIFAR-10 data (${failures.join('; ')}). Check the connection and retry, or drop your own CIFAR-10 .bin files.`, 'error', 'data');
    }
    if (dataReady()) await afterDataChange();
  }

  async function retryData(): Promise<void> {
    set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'data') }));
    await loadData();
  }

  const dataReady = () => get().data.train.status === 'ready' && get().data.test.status === 'ready';

  async function useSet(role: DataRole, data: Cifar10Set): Promise<void> {
    await engine().request('setData', { role, set: data });
    updateData(role, { status: 'ready', count: data.count, source: data.source, perClass: classCounts(data), loaded: data.pixels.length });
    // The accuracy shown was measured on the old data: it goes (and one still being measured is dropped)
    // until the baseline is evaluated on the new data.
    baselineVersion++;
    set({ baselineEval: null, preview: { ...get().preview, status: 'pending' } });
  }

  async function afterDataChange(): Promise<void> {
    await evaluateBaseline();
    schedulePreview();
  }

  /**
   * The user's own CIFAR-10 batches, parsed here and never uploaded. `test_batch*` files become the
   * test set, the rest the training set. A bad file is reported and the data already loaded stays.
   */
  async function loadUserFiles(files: File[]): Promise<void> {
    if (get().job) {
      notify('Data cannot change while training runs; cancel it or wait for it to finish, then load the files again.', 'info');
      return;
    }
    const parsed: Record<DataRole, Cifar10Set[]> = { train: [], test: [] };
    for (const f of files) {
      try {
        const data = parseCifar10(new Uint8Array(await f.arrayBuffer()), f.name);
        parsed[/test/i.test(f.name) ? 'test' : 'train'].push(data);
      } catch (e) {
        notify(e instanceof Cifar10FormatError ? `${e.message} The data already loaded is unchanged.` : `${f.name}: ${message(e)}`);
      }
    }
    for (const role of ['train', 'test'] as const) {
      if (parsed[role].length === 0) continue;
      const merged = parsed[role].length === 1 ? parsed[role][0] : concatSets(parsed[role]);
      try {
        await useSet(role, merged);
        set((s) => ({ notices: s.notices.filter((n) => n.retry !== 'data') }));
        notify(`Loaded ${merged.count.toLocaleString('en-US')} ${role} images from ${merged.source}.`, 'info');
      } catch (e) {
        notify(`${merged.source}: ${message(e)}`);
      }
    }
    if (parsed.train.length + parsed.test.length > 0 && dataReady()) await afterDataChange();
  }

  // ------------------------------------------------------------ settings

  function setSetting<K extends keyof Settings>(key: K, value: Settings[K]): void {
    if ((key === 'backend' || key === 'kernels' || key === 'model') && get().job) {
      notify(`The ${key} cannot change while training runs; cancel it or wait for it to finish.`, 'info');
      return;
    }
    if (key === 'model') {
      void switchModel(value as ModelId);
      return;
    }
    const settings = { ...get().settings, [key]: value };
    set({ settings });
    writeUrl(settings);
    if (key === 'backend' || key === 'kernels') void switchBackend();
    if (PRUNING_KEYS.includes(key)) schedulePreview();
  }

  /** Sets every conv layer's slider at once (the "all conv layers" slider). */
  function setAllConv(percent: number): void {
    const s = get().settings;
    const patch: Partial<Settings> = {};
    for (const k of amountKeysOf(s.model)) if (k !== 'fc1') patch[k] = percent;
    const settings = { ...s, ...patch };
    set({ settings });
    writeUrl(settings);
    schedulePreview();
  }

  /** Manual pruning: a click on a filter tile prunes it, a second click restores it. */
  function toggleFilter(layer: string, filter: number): void {
    if (get().job) return;
    const s = get().settings;
    // Leaving a criterion starts from the filters it pruned: only known once its preview has answered.
    if (s.method !== 'manual' && get().preview.status !== 'ready') return;
    const { manual } = parseManual(s.method === 'manual' ? s.manual : '', s.model);
    // Switching to manual starts from what the current criterion pruned, so the first click changes one filter.
    if (s.method !== 'manual') {
      const kept = get().preview.reply?.kept;
      if (kept && s.mode !== 'global') {
        channelsOf(s.model).forEach((n, i) => {
          const name = specFor(s.model).layers[i].name;
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
    const settings: Settings = { ...s, method: 'manual', mode: s.mode === 'global' ? 'remove' : s.mode, manual: formatManual(manual, s.model) };
    set({ settings });
    writeUrl(settings);
    schedulePreview();
  }

  /** A new model means a new baseline; a trained one is only dropped after the user agrees. */
  async function switchModel(model: ModelId): Promise<void> {
    const s = get();
    if (model === s.settings.model) return;
    const b = s.baseline;
    if (b.origin.trainedHere > 0 && !deps.confirm(`Switch to ${specFor(model).label}? Your ${specFor(s.settings.model).label} baseline (${epochsText(b.origin.trainedHere)} of your training) will be replaced. Runs in the history stay.`)) {
      return;
    }
    const cleared: Partial<Settings> = { model, manual: '', method: s.settings.method === 'bn' && !hasBatchNorm(specFor(model)) ? 'l1' : s.settings.method };
    for (const k of AMOUNT_KEYS) cleared[k] = 0;
    const settings = { ...s.settings, ...cleared };
    set({ settings, baselineEval: null, finetunedEval: null, prunedCurve: [], prunedEpochs: 0, preview: { status: 'idle', reply: null, error: null } });
    writeUrl(settings);
    try {
      if (!(settings.baseline === 'pretrained' && (await usePretrained(model)))) {
        await replaceBaseline('resetBaseline', { model, seed: settings.seed });
        set({ baseline: freshBaseline(model, settings.seed) });
      }
      if (dataReady()) await afterDataChange();
    } catch (e) {
      notify(`Could not switch to ${specFor(model).label}: ${message(e)}`);
    }
  }

  // ------------------------------------------------------------ training

  function onEngineEvent(e: EngineEvent): void {
    if (e.type === 'experiment') return; // experiments.ts follows its own events
    if (e.type === 'backend') {
      set({ backend: e.info }); // backend=auto: measured figures, or the switch to the measured fastest
      return;
    }
    if (e.type === 'batch') {
      const r = e.reports[e.reports.length - 1];
      if (!r) return;
      set((s) => {
        const curve = e.role === 'baseline' ? s.baseline.curve : s.prunedCurve;
        const next = [...curve];
        for (const b of e.reports) {
          const prev = next.length ? next[next.length - 1].step : 0;
          next.push({ step: round(prev + b.size / 1000, 3), loss: b.loss, trainAcc: b.accuracy });
        }
        return {
          job: s.job && {
            ...s.job,
            firstEpoch: s.job.firstEpoch ?? r.epoch,
            epoch: r.epoch - (s.job.firstEpoch ?? r.epoch),
            batch: r.batch + 1,
            batchesPerEpoch: r.batchesPerEpoch,
            imagesPerSecond: r.imagesPerSecond,
          },
          ...(e.role === 'baseline' ? { baseline: { ...s.baseline, curve: next } } : { prunedCurve: next }),
        };
      });
      return;
    }
    set((s) => {
      const withTest = (curve: CurvePoint[]) => {
        const c = curve.slice();
        if (c.length) c[c.length - 1] = { ...c[c.length - 1], testAcc: e.evaluation.accuracy };
        return c;
      };
      if (e.role === 'pruned') return { prunedCurve: withTest(s.prunedCurve) };
      const o = s.baseline.origin;
      const origin = { ...o, epochs: Math.floor(o.epochs) + 1, trainedHere: Math.floor(o.trainedHere) + 1 };
      // The weights after each completed epoch are what a reload restores if the tab dies mid-training.
      return { baselineEval: e.evaluation, baseline: { ...s.baseline, origin, curve: withTest(s.baseline.curve), weights: e.weights ?? s.baseline.weights } };
    });
  }

  async function runTraining(role: ModelRole, epochs: number): Promise<TrainReply | null> {
    const s = get().settings;
    set({ job: { role, epochs, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false } });
    try {
      return await engine().request('train', { role, config: trainConfigOf(s, epochs), trainSubset: s.trainSubset });
    } catch (e) {
      notify(`Training failed: ${message(e)}`);
      return null;
    } finally {
      set({ job: null });
    }
  }

  /** Trains the baseline further (from pretrained or from where it is). */
  async function trainBaseline(): Promise<void> {
    if (get().job) return;
    // The baseline changes: a preview in flight describes the old weights, so it is superseded now.
    previewGeneration++;
    set((s) => ({
      preview: { status: 'idle', reply: null, error: null },
      finetunedEval: null,
      prunedCurve: [],
      prunedEpochs: 0,
      baseline: { ...s.baseline, trainingUntil: s.baseline.origin.epochs + s.settings.epochs },
    }));
    const before = get().baseline.origin;
    baselineVersion++;
    const out = await runTraining('baseline', get().settings.epochs);
    set((s) => ({
      baseline: {
        ...s.baseline,
        trainingUntil: null,
        origin: out ? { ...s.baseline.origin, epochs: out.totalEpochs, trainedHere: before.trainedHere + out.epochsDone } : s.baseline.origin,
      },
      ...(out ? { baselineEval: out.evaluation } : {}),
    }));
    if (out?.cancelled) await saveBaselineWeights();
    schedulePreview();
  }

  /** After a cancelled run the weights are mid-epoch: keep the saved copy in step with the engine. */
  async function saveBaselineWeights(): Promise<void> {
    try {
      const weights = await engine().request('readBaseline', {});
      set((s) => ({ baseline: { ...s.baseline, weights } }));
    } catch (e) {
      notify(`Could not read the baseline's weights: ${message(e)}`);
    }
  }

  function cancelJob(): void {
    const job = get().job;
    if (!job || job.cancelling) return;
    set({ job: { ...job, cancelling: true } });
    void engine()
      .request('cancel', {})
      .catch((e) => notify(`Cancel failed: ${message(e)}`));
  }

  /** Every change of the engine's baseline goes through here, so evaluations of an older one are dropped. */
  async function replaceBaseline<K extends 'setBaseline' | 'resetBaseline'>(type: K, body: Api[K]['req']): Promise<void> {
    baselineVersion++;
    await engine().request(type, body);
  }

  async function evaluateBaseline(): Promise<void> {
    const version = baselineVersion;
    try {
      const evaluation = await engine().request('evaluate', { role: 'baseline' });
      if (version === baselineVersion) set({ baselineEval: evaluation });
    } catch (e) {
      notify(`Evaluation failed: ${message(e)}`);
    }
  }

  /** Starts over from a freshly initialised network (seeded): "Train from scratch" / "New model". */
  async function newBaseline(): Promise<void> {
    if (get().job) return;
    const s = get().settings;
    previewGeneration++;
    try {
      await replaceBaseline('resetBaseline', { model: s.model, seed: s.seed });
    } catch (e) {
      notify(`Could not start a new model: ${message(e)}`);
      return;
    }
    const settings = { ...s, baseline: 'scratch' as const };
    set({ settings, baseline: freshBaseline(s.model, s.seed), prunedCurve: [], prunedEpochs: 0, finetunedEval: null, preview: { status: 'idle', reply: null, error: null } });
    writeUrl(settings);
    if (dataReady()) await afterDataChange();
  }

  /** Back to the shipped pretrained weights. */
  async function usePretrainedBaseline(): Promise<void> {
    if (get().job) return;
    const s = get().settings;
    previewGeneration++;
    try {
      if (!(await usePretrained(s.model))) {
        notify(`No pretrained ${specFor(s.model).label} ships with this build.`, 'info');
        return;
      }
    } catch (e) {
      notify(`Could not load the pretrained baseline: ${message(e)}`);
      return;
    }
    const settings = { ...s, baseline: 'pretrained' as const };
    set({ settings, prunedCurve: [], prunedEpochs: 0, finetunedEval: null, preview: { status: 'idle', reply: null, error: null } });
    writeUrl(settings);
    if (dataReady()) await afterDataChange();
  }

  // ------------------------------------------------------------ pruning preview and fine-tuning

  /** The pruned model's accuracy follows the sliders once a drag settles; stale answers are dropped. */
  function schedulePreview(): void {
    if (previewTimer) timers.clearTimeout(previewTimer);
    const s = get();
    if (!engineLink || !dataReady()) return;
    const generation = ++previewGeneration;
    set({ preview: { ...s.preview, status: 'pending' }, finetunedEval: null, prunedEpochs: 0, prunedCurve: s.prunedCurve.length ? [] : s.prunedCurve });
    previewTimer = timers.setTimeout(() => void runPreview(generation), PREVIEW_DEBOUNCE_MS);
  }

  async function runPreview(generation: number): Promise<void> {
    if (get().job) return; // runs again when the job ends
    const settings = pruneSettingsOf(get().settings);
    try {
      const reply = await engine().request('preview', { settings });
      if (generation === previewGeneration) set({ preview: { status: 'ready', reply, error: null } });
    } catch (e) {
      if (e instanceof SupersededRequest || generation !== previewGeneration) return;
      set({ preview: { status: 'error', reply: null, error: message(e) } });
    }
  }

  /** Fine-tunes the pruned model and records a history row (a cancelled run says how far it got). */
  async function fineTune(): Promise<void> {
    const s = get();
    if (s.job || s.preview.status !== 'ready' || !s.preview.reply || !s.baselineEval) return;
    const reply = s.preview.reply;
    const settings = s.settings;
    const out = await runTraining('pruned', settings.ftEpochs);
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
      amounts: Object.fromEntries(amountKeysOf(settings.model).map((k) => [k, settings[k]])),
      manual: settings.method === 'manual' ? settings.manual : '',
      seed: settings.seed,
      channels: c.channels,
      keptFilters: reply.kept,
      totalParams: c.params,
      nonzeroParams: c.nonzeroParams,
      macs: c.macs,
      nonzeroMacs: c.nonzeroMacs,
      sizeBytes: c.sizeBytes,
      baselineAcc: s.baselineEval.accuracy,
      prunedAcc: reply.evaluation.accuracy,
      finetunedAcc: out.evaluation.accuracy,
      ftEpochs: out.totalEpochs,
      ftPlanned: out.cancelled ? out.totalEpochs - out.epochsDone + settings.ftEpochs : out.totalEpochs,
      cancelled: out.cancelled,
    };
    set((st) => ({ history: [...st.history, row] }));
  }

  /**
   * Back to the unpruned baseline, exactly: pruning always starts from an untouched copy of the
   * baseline, so sliders at 0 give back the baseline's weights bit for bit.
   */
  function resetPruning(): void {
    if (get().job) return;
    const s = get().settings;
    const settings: Settings = { ...s, manual: '', method: s.method === 'manual' ? 'l1' : s.method };
    for (const k of AMOUNT_KEYS) settings[k] = 0;
    set({ settings });
    writeUrl(settings);
    schedulePreview();
  }

  /** "Clear runs" (asks first: the runs are not saved anywhere else unless exported). */
  function clearHistory(): void {
    const n = get().history.length;
    if (n === 0 || !deps.confirm(`Clear the ${n} run${n === 1 ? '' : 's'} in the history? Export them first to keep them.`)) return;
    set({ history: [] });
  }

  /** "Forget saved work": clears what IndexedDB holds, and the page starts over (pretrained baseline, no runs). */
  async function forgetSavedWork(): Promise<boolean> {
    if (get().job) return false;
    if (!deps.confirm('Forget the saved baseline, runs and settings in this browser? The page starts over from the pretrained baseline.')) return false;
    await store.storage.removeItem(PERSIST_KEY);
    const s = get().settings;
    previewGeneration++;
    set({ settings: { ...s, baseline: 'pretrained' }, history: [], prunedCurve: [], prunedEpochs: 0, finetunedEval: null, preview: { status: 'idle', reply: null, error: null } });
    writeUrl(get().settings);
    try {
      await defaultBaseline(s.model, true, s.seed);
      if (dataReady()) await afterDataChange();
    } catch (e) {
      notify(`Could not start over: ${message(e)}`);
    }
    notify('Saved work forgotten: the page starts over from the pretrained baseline.', 'info');
    return true;
  }

  async function tensorCount(): Promise<number> {
    return (await engine().request('memory', {})).numTensors;
  }

  /** For experiment files and exports: the baseline's current weights from the engine. */
  async function readBaseline(): Promise<NetWeights> {
    return engine().request('readBaseline', {});
  }

  /** Restores a baseline with its record and history (an experiment file). */
  async function restoreWork(record: BaselineRecord, history: HistoryRow[], settings: Settings, evaluation: Evaluation | null): Promise<void> {
    await startup; // a file opened while the page starts must not be replaced by the start's baseline
    if (get().job) throw new Error('Training is running: cancel it or wait, then open the file again.');
    if (!record.weights) throw new Error('the file holds no baseline weights');
    await replaceBaseline('setBaseline', { weights: record.weights, epochs: record.origin.epochs });
    previewGeneration++;
    set({ settings, baseline: { ...record, trainingUntil: null }, history, baselineEval: evaluation, prunedCurve: [], prunedEpochs: 0, finetunedEval: null, preview: { status: 'idle', reply: null, error: null } });
    writeUrl(settings);
    if (dataReady()) await afterDataChange();
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
    if (get().job) {
      notify('An experiment cannot be opened while training runs; cancel it or wait for it to finish.', 'info');
      return false;
    }
    try {
      const { experiment: e, notices } = decodeExperiment(new Uint8Array(await file.arrayBuffer()), file.name);
      await restoreWork({ origin: e.origin, weights: e.weights, curve: e.curve, trainingUntil: null }, e.history, e.settings, e.baselineEval);
      for (const n of notices) notify(`${file.name}: ${n}`, 'info');
      notify(`Opened ${file.name}: ${describeOrigin({ origin: e.origin, weights: null, curve: [], trainingUntil: null })}, ${e.history.length} run${e.history.length === 1 ? '' : 's'}.`, 'info');
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
      settings = { ...s.settings, method: row.method, mode: row.mode, manual: row.manual, seed: row.seed };
      for (const k of AMOUNT_KEYS) settings[k] = row.amounts[k] ?? 0;
      label = `run ${row.run}`;
      if (s.baselineEval && Math.abs(s.baselineEval.accuracy - row.baselineAcc) > 1e-9) {
        notify(`The baseline changed since run ${row.run} (${(row.baselineAcc * 100).toFixed(1)} % then): the export prunes the current baseline.`, 'info');
      }
    }
    const measured = !row && s.preview.status === 'ready' ? s.preview.reply?.evaluation.accuracy : row?.prunedAcc;
    try {
      const r = await engine().request('exportPytorch', {
        settings: pruneSettingsOf(settings),
        finetune: { optimizer: settings.opt, learningRate: settings.lr, batchSize: settings.batch, momentum: 0.9 },
        measuredAccuracy: measured,
      });
      const name = `pytorch-${settings.model}-${settings.mode}-${settings.method}${row ? `-run${row.run}` : ''}.zip`;
      set({ pytorchExport: { name, script: r.script, problem: r.problem, zip: r.zip, label } });
      return true;
    } catch (e) {
      notify(`Export to PyTorch failed: ${message(e)}`);
      return false;
    }
  }

  return {
    start,
    remeasureBackend,
    exportPytorch,
    saveExperiment,
    openExperiment,
    notify,
    dismissNotice,
    retryData,
    loadUserFiles,
    setSetting,
    setAllConv,
    toggleFilter,
    trainBaseline,
    cancelJob,
    newBaseline,
    usePretrainedBaseline,
    schedulePreview,
    fineTune,
    resetPruning,
    clearHistory,
    forgetSavedWork,
    tensorCount,
    readBaseline,
    restoreWork,
    engine,
  };
}


/** "1 epoch", "10 epochs", "2.56 epochs". */
export function epochsText(n: number): string {
  return `${fmtEpochs(n)} epoch${n === 1 ? '' : 's'}`;
}

export function fmtEpochs(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0$/, '');
}

export function describeOrigin(b: BaselineRecord): string {
  const o = b.origin;
  const label = specFor(o.model).label;
  if (o.kind === 'pretrained') return `pretrained ${label}: ${fmtEpochs(o.epochs)} epochs, seed ${o.seed}${o.detail ? ` (${o.detail})` : ''}`;
  if (o.kind === 'file') return `${label} from ${o.detail ?? 'a file'}, ${epochsText(o.epochs)}`;
  return o.epochs > 0 ? `${label} trained here for ${fmtEpochs(o.epochs)} epoch${o.epochs === 1 ? '' : 's'}, seed ${o.seed}` : `untrained ${label}, seed ${o.seed}`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
