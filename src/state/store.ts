/**
 * The page's state and nothing else: settings (mirrored in the URL), what the engine reported, the
 * baseline's record and the run history. Orchestration (engine, data, jobs, previews) lives in
 * controller.ts; components read this store and call the controller's actions.
 *
 * The baseline record, the history and the settings persist in IndexedDB (persistence.ts), so a
 * reload or a crashed tab gets them back.
 */
import { createStore } from 'zustand/vanilla';
import type { ModelId } from '../core/model/spec';
import { type WorkStorage, idbStorage } from './persistence';
import type { BaselineOrigin, BaselineRecord, DataStatus, State } from './types';
import { DEFAULT_LAYOUT } from './layout';
import { DEFAULT_SETTINGS, type Settings } from './urlState';

export type * from './types';

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
    fullData: { status: 'idle', loaded: 0, total: null, file: '', error: null },
    job: null,
    baseline: freshBaseline(settings.model, settings.seed),
    baselineEval: null,
    prunedCurve: [],
    preview: { status: 'idle', reply: null, error: null },
    finetunedEval: null,
    prunedEpochs: 0,
    history: [],
    experiments: { sensitivity: null, sweep: null, lottery: null, running: null },
    persistence: 'pending',
    saving: 'saved',
    pytorchExport: null,
    scheduleSteps: [],
    layout: DEFAULT_LAYOUT,
  };
}

/**
 * The store, followed by the saved-work storage (persistence.ts): it writes each record that changes
 * on its own. Reading it back is the controller's job (`restoreSaved`), because what to do with a
 * saved baseline depends on the URL and the model.
 */
export function createAppStore(storage: WorkStorage = idbStorage()) {
  const store = createStore<State>()(() => initialState());
  storage.attach(store);
  return Object.assign(store, { storage });
}

export type AppStore = ReturnType<typeof createAppStore>;
