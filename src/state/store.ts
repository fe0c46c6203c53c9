/**
 * The page's state: settings (mirrored in the URL), what the engine reported, and the run
 * history. Actions talk to the engine worker; components only read state and call actions.
 */
import { create } from 'zustand';
import { type Cifar10Set, Cifar10FormatError, classCounts, concatSets, parseCifar10 } from '../core/data/cifar10';
import { fetchBytes } from '../core/data/fetchBytes';
import { type Costs, previewCosts } from '../core/pruning/costs';
import type { PruneSettings } from '../core/pruning/settings';
import type { Evaluation, TrainConfig } from '../core/train/trainer';
import { EngineClient, SupersededRequest } from '../worker/client';
import type { BackendInfo, DataRole, EngineEvent, ModelRole, PreviewReply, TrainReply } from '../worker/protocol';
import type { HistoryRow } from './history';
import { type Settings, parseSettings, settingsToQuery } from './urlState';

export type { HistoryRow } from './history';

export interface Notice {
  id: number;
  level: 'info' | 'error';
  text: string;
}

export interface DataStatus {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loaded: number;
  total: number | null;
  count: number;
  source: string;
  perClass: number[];
}

export interface CurvePoint {
  /** Images seen since the curve started, in thousands (x axis). */
  step: number;
  loss?: number;
  trainAcc?: number;
  testAcc?: number;
}

export interface Job {
  role: ModelRole;
  epochs: number;
  /** Epoch index within this job (0-based). */
  epoch: number;
  /** Absolute epoch number of the first report, to turn report epochs into job epochs. */
  firstEpoch: number | null;
  batch: number;
  batchesPerEpoch: number;
  imagesPerSecond: number;
  cancelling: boolean;
}


export interface State {
  settings: Settings;
  notices: Notice[];
  backend: BackendInfo | null;
  engineError: string | null;
  data: Record<DataRole, DataStatus>;
  job: Job | null;
  baselineEpochs: number;
  baselineEval: Evaluation | null;
  curves: Record<ModelRole, CurvePoint[]>;
  preview: { status: 'idle' | 'pending' | 'ready' | 'error'; reply: PreviewReply | null; error: string | null };
  finetunedEval: Evaluation | null;
  history: HistoryRow[];
}

const emptyData = (): DataStatus => ({ status: 'idle', loaded: 0, total: null, count: 0, source: '', perClass: [] });

const initial = parseSettings(typeof location === 'undefined' ? '' : location.search);

export const useStore = create<State>(() => ({
  settings: initial.settings,
  notices: initial.notices.map((text, i) => ({ id: i + 1, level: 'info' as const, text })),
  backend: null,
  engineError: null,
  data: { train: emptyData(), test: emptyData() },
  job: null,
  baselineEpochs: 0,
  baselineEval: null,
  curves: { baseline: [], pruned: [] },
  preview: { status: 'idle', reply: null, error: null },
  finetunedEval: null,
  history: [],
}));

const set = useStore.setState;
const get = useStore.getState;

let client: EngineClient | null = null;
let noticeId = 100;

export function notify(text: string, level: Notice['level'] = 'error'): void {
  set((s) => ({ notices: [...s.notices, { id: noticeId++, level, text }] }));
}

export function dismissNotice(id: number): void {
  set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

function engine(): EngineClient {
  if (!client) throw new Error('engine not started');
  return client;
}

export function pruneSettingsOf(s: Settings): PruneSettings {
  return { method: s.method, mode: s.mode, conv1: s.conv1 / 100, fc1: s.fc1 / 100, seed: s.seed };
}

/** Counts and costs for the current sliders: pure arithmetic, so it runs on every drag event. */
export function currentCosts(s: Settings): Costs {
  return previewCosts(pruneSettingsOf(s));
}

export function trainConfigOf(s: Settings, epochs: number): TrainConfig {
  return { epochs, batchSize: s.batch, learningRate: s.lr, optimizer: s.opt, momentum: 0.9, seed: s.seed };
}

const PRUNING_KEYS: (keyof Settings)[] = ['method', 'mode', 'conv1', 'fc1', 'seed'];

export function setSetting<K extends keyof Settings>(key: K, value: Settings[K]): void {
  if (key === 'backend' && get().job) {
    notify('The backend cannot change while training runs; cancel it or wait for it to finish.', 'info');
    return;
  }
  const settings = { ...get().settings, [key]: value };
  set({ settings });
  writeUrl(settings);
  if (key === 'backend') void switchBackend();
  if (PRUNING_KEYS.includes(key)) schedulePreview();
}

let urlTimer: ReturnType<typeof setTimeout> | null = null;

/** Mirrors settings into the address bar, debounced: browsers throttle rapid replaceState calls. */
function writeUrl(s: Settings): void {
  if (typeof history === 'undefined') return;
  if (urlTimer) clearTimeout(urlTimer);
  urlTimer = setTimeout(() => history.replaceState(null, '', `?${settingsToQuery(s)}`), 150);
}

export function shareLink(): string {
  return `${location.origin}${location.pathname}?${settingsToQuery(get().settings)}`;
}

// ---------------------------------------------------------------- engine start and data

export async function start(): Promise<void> {
  client = new EngineClient();
  client.onEvent(onEngineEvent);
  writeUrl(get().settings);
  try {
    await initBackend();
    await engine().request({ type: 'resetBaseline', seed: get().settings.seed });
  } catch (e) {
    set({ engineError: message(e) });
    return;
  }
  await Promise.all([loadShipped('train', 'data/cifar10/train_5000.bin'), loadShipped('test', 'data/cifar10/test_1000.bin')]);
  if (get().data.train.status === 'ready' && get().data.test.status === 'ready') {
    await evaluateBaseline();
    schedulePreview();
  }
}

async function initBackend(): Promise<void> {
  const choice = get().settings.backend;
  const info = await engine().request<BackendInfo>({ type: 'init', backend: choice === 'auto' ? null : choice });
  set({ backend: info });
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

function updateData(role: DataRole, patch: Partial<DataStatus>): void {
  set((s) => ({ data: { ...s.data, [role]: { ...s.data[role], ...patch } } }));
}

async function loadShipped(role: DataRole, url: string): Promise<void> {
  updateData(role, { status: 'loading', loaded: 0, total: null });
  try {
    const bytes = await fetchBytes(url, (loaded, total) => updateData(role, { loaded, total }));
    await useSet(role, parseCifar10(bytes, url.split('/').pop()!));
  } catch (e) {
    updateData(role, { status: 'error' });
    notify(`Could not load ${url}: ${message(e)}`);
  }
}

async function useSet(role: DataRole, set: Cifar10Set): Promise<void> {
  await engine().request({ type: 'setData', role, set });
  updateData(role, { status: 'ready', count: set.count, source: set.source, perClass: classCounts(set), loaded: set.pixels.length });
}

/**
 * The user's own CIFAR-10 batches, parsed here and never uploaded. `test_batch*` files become the
 * test set, the rest the training set. A bad file is reported and the data already loaded stays.
 */
export async function loadUserFiles(files: File[]): Promise<void> {
  const parsed: Record<DataRole, Cifar10Set[]> = { train: [], test: [] };
  for (const f of files) {
    try {
      const set = parseCifar10(new Uint8Array(await f.arrayBuffer()), f.name);
      parsed[/test/i.test(f.name) ? 'test' : 'train'].push(set);
    } catch (e) {
      notify(e instanceof Cifar10FormatError ? `${e.message} The data already loaded is unchanged.` : `${f.name}: ${message(e)}`);
    }
  }
  for (const role of ['train', 'test'] as const) {
    if (parsed[role].length === 0) continue;
    const merged = parsed[role].length === 1 ? parsed[role][0] : concatSets(parsed[role]);
    await useSet(role, merged);
    notify(`Loaded ${merged.count.toLocaleString('en-US')} ${role} images from ${merged.source}.`, 'info');
  }
  if (parsed.train.length + parsed.test.length > 0) {
    await evaluateBaseline();
    schedulePreview();
  }
}

// ---------------------------------------------------------------- training

function onEngineEvent(e: EngineEvent): void {
  if (e.type === 'batch') {
    const r = e.report;
    set((s) => {
      const curve = s.curves[e.role];
      const prev = curve.length ? curve[curve.length - 1].step : 0;
      const step = prev + r.size / 1000;
      return {
        job: s.job && {
          ...s.job,
          firstEpoch: s.job.firstEpoch ?? r.epoch,
          epoch: r.epoch - (s.job.firstEpoch ?? r.epoch),
          batch: r.batch + 1, batchesPerEpoch: r.batchesPerEpoch, imagesPerSecond: r.imagesPerSecond },
        curves: { ...s.curves, [e.role]: [...curve, { step: round(step, 3), loss: r.loss, trainAcc: r.accuracy }] },
      };
    });
  } else {
    set((s) => {
      const curve = s.curves[e.role].slice();
      if (curve.length) curve[curve.length - 1] = { ...curve[curve.length - 1], testAcc: e.evaluation.accuracy };
      return {
        curves: { ...s.curves, [e.role]: curve },
        ...(e.role === 'baseline' ? { baselineEval: e.evaluation, baselineEpochs: s.baselineEpochs + 1 } : {}),
      };
    });
  }
}

async function runTraining(role: ModelRole, epochs: number): Promise<TrainReply | null> {
  const s = get().settings;
  set({ job: { role, epochs, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false } });
  try {
    return await engine().request<TrainReply>({ type: 'train', role, config: trainConfigOf(s, epochs), trainSubset: s.trainSubset });
  } catch (e) {
    notify(`Training failed: ${message(e)}`);
    return null;
  } finally {
    set({ job: null });
  }
}

export async function trainBaseline(): Promise<void> {
  if (get().job) return;
  // Training the baseline invalidates the pruned copy, whose numbers described the old weights.
  set({ preview: { status: 'idle', reply: null, error: null }, finetunedEval: null, curves: withoutPrunedCurve(get().curves) });
  const out = await runTraining('baseline', get().settings.epochs);
  if (out) set({ baselineEval: out.evaluation });
  schedulePreview();
}

export function cancelJob(): void {
  const job = get().job;
  if (!job || job.cancelling) return;
  set({ job: { ...job, cancelling: true } });
  void engine().request({ type: 'cancel' });
}

export async function evaluateBaseline(): Promise<void> {
  try {
    set({ baselineEval: await engine().request<Evaluation>({ type: 'evaluate', role: 'baseline' }) });
  } catch (e) {
    notify(`Evaluation failed: ${message(e)}`);
  }
}

/** Starts over from a freshly initialised model (seeded). */
export async function newBaseline(): Promise<void> {
  if (get().job) return;
  await engine().request({ type: 'resetBaseline', seed: get().settings.seed });
  set({ baselineEpochs: 0, curves: { baseline: [], pruned: [] }, finetunedEval: null, preview: { status: 'idle', reply: null, error: null } });
  await evaluateBaseline();
  schedulePreview();
}

// ---------------------------------------------------------------- pruning preview and fine-tuning

let previewTimer: ReturnType<typeof setTimeout> | null = null;
/** Bumped on every slider change: only the answer for the newest settings is shown. */
let previewGeneration = 0;
const PREVIEW_DEBOUNCE_MS = 80;

/** The pruned model's accuracy follows the sliders once a drag settles; stale answers are dropped. */
export function schedulePreview(): void {
  if (previewTimer) clearTimeout(previewTimer);
  const s = get();
  if (!client || s.data.test.status !== 'ready' || s.data.train.status !== 'ready') return;
  const generation = ++previewGeneration;
  set({ preview: { ...s.preview, status: 'pending' }, finetunedEval: null, curves: withoutPrunedCurve(s.curves) });
  previewTimer = setTimeout(() => void runPreview(generation), PREVIEW_DEBOUNCE_MS);
}

async function runPreview(generation: number): Promise<void> {
  if (get().job) return; // runs again when the job ends
  const settings = pruneSettingsOf(get().settings);
  try {
    const reply = await engine().request<PreviewReply>({ type: 'preview', settings });
    if (generation === previewGeneration) set({ preview: { status: 'ready', reply, error: null } });
  } catch (e) {
    if (e instanceof SupersededRequest || generation !== previewGeneration) return;
    set({ preview: { status: 'error', reply: null, error: message(e) } });
  }
}

/** Fine-tunes the pruned model and records a history point. */
export async function fineTune(): Promise<void> {
  const s = get();
  if (s.job || s.preview.status !== 'ready' || !s.preview.reply || !s.baselineEval) return;
  const reply = s.preview.reply;
  const settings = s.settings;
  const out = await runTraining('pruned', settings.ftEpochs);
  if (!out) return;
  set({ finetunedEval: out.evaluation });
  // Counted on the fine-tuned weights, so the history shows that masked weights stayed zero.
  const c = out.measured ?? reply.costs;
  set((st) => ({
    history: [
      ...st.history,
      {
        run: st.history.length + 1,
        method: settings.method,
        mode: settings.mode,
        conv1: settings.conv1,
        fc1: settings.fc1,
        seed: settings.seed,
        keptFilters: reply.keptFilters.length,
        totalParams: c.params,
        nonzeroParams: c.nonzeroParams,
        macs: c.macs,
        nonzeroMacs: c.nonzeroMacs,
        sizeBytes: c.sizeBytes,
        baselineAcc: s.baselineEval!.accuracy,
        prunedAcc: reply.evaluation.accuracy,
        finetunedAcc: out.evaluation.accuracy,
        ftEpochs: out.cancelled ? 0 : settings.ftEpochs,
      },
    ],
  }));
}

/**
 * Back to the unpruned baseline, exactly: pruning always starts from an untouched copy of the
 * baseline, so sliders at 0 give back the baseline's weights bit for bit.
 */
export function resetPruning(): void {
  if (get().job) return;
  const settings = { ...get().settings, conv1: 0, fc1: 0 };
  set({ settings, finetunedEval: null, curves: withoutPrunedCurve(get().curves) });
  writeUrl(settings);
  schedulePreview();
}

export async function tensorCount(): Promise<number> {
  return (await engine().request<{ numTensors: number }>({ type: 'memory' })).numTensors;
}

/** Clears the fine-tuning curve, keeping the same object when it is already empty (no re-render). */
function withoutPrunedCurve(curves: State['curves']): State['curves'] {
  return curves.pruned.length === 0 ? curves : { ...curves, pruned: [] };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
