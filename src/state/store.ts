/**
 * The page's state and nothing else: settings (mirrored in the URL), what the engine reported, the
 * baseline's record and the run history. Orchestration (engine, data, jobs, previews) lives in
 * controller.ts; components read this store and call the controller's actions.
 *
 * The baseline record, the history and the settings persist in IndexedDB (persistence.ts), so a
 * reload or a crashed tab gets them back.
 */
import { createStore } from 'zustand/vanilla';
import { useStore as useZustand } from 'zustand';
import { persist } from 'zustand/middleware';
import type { ModelId, NetWeights } from '../core/model/spec';
import type { Evaluation } from '../core/train/trainer';
import type { BackendInfo, DataRole, ModelRole, PreviewReply } from '../worker/protocol';
import type { ExperimentsState } from './experiments';
import type { HistoryRow } from './history';
import { type ControlledStorage, PERSIST_KEY, PERSIST_VERSION, idbStorage } from './persistence';
import { DEFAULT_SETTINGS, type Settings } from './urlState';

export type { HistoryRow } from './history';

export interface Notice {
  id: number;
  level: 'info' | 'error';
  text: string;
  /** Offers a Retry button that calls this action. */
  retry?: 'data';
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
  /** Which model trains, or 'experiment' while a sensitivity scan or a method comparison runs (experiments.ts). */
  role: ModelRole | 'experiment';
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

/** Where the baseline came from, shown in the page ("pretrained: 10 epochs, seed 42, 47.9 %"). */
export interface BaselineOrigin {
  kind: 'pretrained' | 'scratch' | 'file';
  model: ModelId;
  seed: number;
  /** Epochs trained so far (fractional after a cancelled run). */
  epochs: number;
  /** Of those, epochs trained in this browser (switching model asks before throwing them away). */
  trainedHere: number;
  /** Pretrained: the manifest's test accuracy and backend; file: the file name. */
  detail?: string;
}

/** The baseline as it is saved: enough to restore it exactly after a reload. */
export interface BaselineRecord {
  origin: BaselineOrigin;
  /** Weights after the last completed epoch (null until the first one, or for an untouched seeded start). */
  weights: NetWeights | null;
  curve: CurvePoint[];
  /** Set while training runs; a reload that finds it knows the training was interrupted. */
  trainingUntil: number | null;
}

export interface State {
  settings: Settings;
  notices: Notice[];
  backend: BackendInfo | null;
  engineError: string | null;
  data: Record<DataRole, DataStatus>;
  job: Job | null;
  baseline: BaselineRecord;
  baselineEval: Evaluation | null;
  /** The fine-tuning curve of the pruned model (the baseline's lives in its record). */
  prunedCurve: CurvePoint[];
  preview: { status: 'idle' | 'pending' | 'ready' | 'error'; reply: PreviewReply | null; error: string | null };
  finetunedEval: Evaluation | null;
  /** Epochs the current pruned model has been fine-tuned for (fine-tuning again continues it). */
  prunedEpochs: number;
  history: HistoryRow[];
  /** Sensitivity scan and method comparison: the last results (saved) and the one running. */
  experiments: ExperimentsState;
  /** 'off' when IndexedDB is missing, full or failing: the page then works from memory only. */
  persistence: 'pending' | 'on' | 'off';
  /** The last "Export to PyTorch": its file name, the script shown in the page, and the zip to download. */
  pytorchExport: { name: string; script: string; problem: string | null; zip: Uint8Array; label: string } | null;
}

const emptyData = (): DataStatus => ({ status: 'idle', loaded: 0, total: null, count: 0, source: '', perClass: [] });

export const freshBaseline = (model: ModelId, seed: number, kind: BaselineOrigin['kind'] = 'scratch'): BaselineRecord => ({
  origin: { kind, model, seed, epochs: 0, trainedHere: 0 },
  weights: null,
  curve: [],
  trainingUntil: null,
});

export function initialState(settings: Settings = DEFAULT_SETTINGS): State {
  return {
    settings,
    notices: [],
    backend: null,
    engineError: null,
    data: { train: emptyData(), test: emptyData() },
    job: null,
    baseline: freshBaseline(settings.model, settings.seed),
    baselineEval: null,
    prunedCurve: [],
    preview: { status: 'idle', reply: null, error: null },
    finetunedEval: null,
    prunedEpochs: 0,
    history: [],
    experiments: { sensitivity: null, sweep: null, running: null },
    persistence: 'pending',
    pytorchExport: null,
  };
}

/** What survives a reload. */
export type Persisted = Pick<State, 'settings' | 'baseline' | 'history'> & {
  baselineEval: Evaluation | null;
  /** Absent in records saved before the experiments existed. */
  experiments?: Pick<ExperimentsState, 'sensitivity' | 'sweep'>;
};

/**
 * The store with zustand's persist middleware writing the persisted slice on every change (coalesced
 * by the storage). Reading it back is the controller's job (`restoreSaved`), because what to do with a
 * saved baseline depends on the URL and the model: so hydration is skipped here.
 */
export function createAppStore(storage: ControlledStorage<Persisted> = idbStorage<Persisted>()) {
  const store = createStore<State>()(
    persist(() => initialState(), {
      name: PERSIST_KEY,
      version: PERSIST_VERSION,
      storage,
      skipHydration: true,
      partialize: (s): Persisted => ({
        settings: s.settings,
        baseline: s.baseline,
        history: s.history,
        baselineEval: s.baselineEval,
        experiments: { sensitivity: s.experiments.sensitivity, sweep: s.experiments.sweep },
      }),
    }),
  );
  return Object.assign(store, { storage });
}

export type AppStore = ReturnType<typeof createAppStore>;

export const appStore: AppStore = createAppStore();

/** React hook over the app store. */
export function useStore<T>(selector: (s: State) => T): T {
  return useZustand(appStore, selector);
}
