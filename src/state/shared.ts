/**
 * The one context every slice of the controller shares (controller.ts composes them): the store,
 * the injected world (engine, fetch, URL, dialogs, timers), notices, the job guard, and the one
 * transition every baseline change goes through, `baselineChanged()`.
 */
import type { ModelId } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import { type Costs, previewCosts } from '../core/pruning/costs';
import type { PruneSettings } from '../core/pruning/settings';
import type { TrainConfig } from '../core/train/trainer';
import type { EngineLink } from '../worker/client';
import type { ModelRole, TrainReply } from '../worker/protocol';
import type { AppStore } from './store';
import type { Notice, Pretrained, State } from './types';
import { type Settings, amountKeysOf, pageQuery, parseManual, recipeOf } from './urlState';

export interface ControllerDeps {
  store: AppStore;
  makeEngine: () => EngineLink;
  fetchBytes: (url: string, onProgress: (loaded: number, total: number | null) => void, signal?: AbortSignal) => Promise<Uint8Array>;
  /** The shipped baseline of a model (`full`: the one trained on the full CIFAR-10 when it ships), or null when none ships. */
  loadPretrained: (model: ModelId, full?: boolean) => Promise<Pretrained | null>;
  /**
   * Mirrors the settings' and layout's query string into the address bar: `push` makes a new history
   * entry (a change of view, so back/forward move between views), otherwise it replaces the current one.
   */
  writeUrl: (query: string, push?: boolean) => void;
  /** The page's query string at start. */
  search: string;
  confirm: (question: string) => boolean;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

/** What one slice asks of another, bound once all are made (no slice imports another). */
export interface CrossSlice {
  evaluateBaseline(): Promise<void>;
  /** `now`: without the sliders' debounce. */
  schedulePreview(now?: boolean): void;
  switchModel(model: ModelId): Promise<void>;
  switchBackend(): Promise<void>;
  defaultBaseline(model: ModelId, pretrained: boolean, seed: number): Promise<void>;
  /** Issue 22: a fine-tune over a schedule (settings.schedule ≠ one-shot), and a run's control. */
  scheduledFineTune(): Promise<void>;
  addControl(run: number, epochs: number): Promise<void>;
}

const URL_DEBOUNCE_MS = 150;

export function pruneSettingsOf(s: Settings): PruneSettings {
  const amounts: Record<string, number> = {};
  for (const k of amountKeysOf(s.model)) amounts[k] = (s.amounts[k] ?? 0) / 100;
  const out: PruneSettings = { method: s.method, mode: s.mode, amounts, seed: s.seed };
  if (s.method === 'manual') out.manual = parseManual(s.manual, s.model).manual;
  if (s.method === 'taylor') out.taylor = { batch: s.taylorBatch, seed: s.taylorSeed };
  return out;
}

/** Counts and costs for the current sliders: pure arithmetic, so it runs on every drag event. */
export function currentCosts(s: Settings): Costs {
  return previewCosts(specFor(s.model), pruneSettingsOf(s));
}

export function trainConfigOf(s: Settings, epochs: number): TrainConfig {
  return { epochs, batchSize: s.batch, learningRate: s.lr, optimizer: s.opt, momentum: 0.9, seed: s.seed, recipe: recipeOf(s) };
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export type Shared = ReturnType<typeof createShared>;

export function createShared(deps: ControllerDeps) {
  const { store } = deps;
  const timers = deps.timers ?? globalThis;
  const get = store.getState;
  const set = store.setState;
  let engineLink: EngineLink | null = null;
  let noticeId = 1;
  let urlTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped at every change of the engine's baseline or data: an evaluation of an older one is stale. */
  let baselineVersion = 0;
  /** The preview request whose answer may be shown; null after a baseline change (none may). */
  let previewTicket: object | null = null;

  const shared = {
    deps,
    store,
    timers,
    get,
    set,
    /** Filled by controller.ts once every slice exists. */
    cross: null as unknown as CrossSlice,

    engine(): EngineLink {
      if (!engineLink) throw new Error('The engine has not started.');
      return engineLink;
    },
    engineStarted: () => engineLink !== null,
    setEngine(link: EngineLink) {
      engineLink = link;
    },

    notify(text: string, level: Notice['level'] = 'error', retry?: Notice['retry']): void {
      set((s) => ({ notices: [...s.notices, { id: noticeId++, level, text, retry }] }));
    },

    writeUrl(s: Settings): void {
      if (urlTimer) timers.clearTimeout(urlTimer);
      urlTimer = timers.setTimeout(() => deps.writeUrl(pageQuery(s, get().layout)), URL_DEBOUNCE_MS);
    },

    /** The layout changed by a person (push: a history entry) or by the page (replace): written at once. */
    writeUrlNow(push: boolean): void {
      if (urlTimer) timers.clearTimeout(urlTimer);
      urlTimer = null;
      deps.writeUrl(pageQuery(get().settings, get().layout), push);
    },

    /** Settings changed by an action: into the store and, debounced, into the address bar. */
    setSettings(settings: Settings, patch: Partial<State> = {}): void {
      set({ settings, ...patch });
      shared.writeUrl(settings);
    },

    dataReady: () => get().data.train.status === 'ready' && get().data.test.status === 'ready',

    /**
     * The job guard, one behaviour for every action that must not run beside a job: while one runs it
     * says why (`what` is the subject: "The model cannot change") and answers true; the caller stops.
     */
    refuseWhileBusy(what: string): boolean {
      const job = get().job;
      if (!job) return false;
      const running = job.role === 'experiment' ? 'an experiment is already running' : 'training runs';
      shared.notify(`${what} while ${running}; cancel it or wait for it to finish.`, 'info');
      return true;
    },

    /**
     * The one baseline transition: the engine's baseline (or what it is measured on) changes, so every
     * answer about the old one is stale — evaluations in flight are dropped, the pruned view (preview,
     * fine-tuned accuracy and curve) starts over.
     */
    baselineChanged(patch: Partial<State> = {}): void {
      baselineVersion++;
      previewTicket = null;
      set({ preview: { status: 'idle', reply: null, error: null }, finetunedEval: null, prunedCurve: [], prunedEpochs: 0, ...patch });
    },
    /** Data replaced: the baseline's accuracy must be measured again; the preview waits for it. */
    dataChanged(): void {
      baselineVersion++;
      set({ baselineEval: null, preview: { ...get().preview, status: 'pending' } });
    },
    baselineVersion: () => baselineVersion,

    /** Runs a training job (baseline or pruned model): the page is busy until it ends; null when it failed (said). */
    async runTraining(role: ModelRole, epochs: number): Promise<TrainReply | null> {
      const s = get().settings;
      set({ job: { role, epochs, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false } });
      try {
        const reply = await shared.engine().request('train', { role, config: trainConfigOf(s, epochs), trainSubset: s.trainSubset });
        if (reply.backend) set({ backend: reply.backend }); // the helper thread's measured choice, in the backend line
        return reply;
      } catch (e) {
        shared.notify(`Training failed: ${message(e)}`);
        return null;
      } finally {
        set({ job: null });
      }
    },

    /** A new preview request: only the newest one's answer is shown. */
    newPreviewTicket(): object {
      return (previewTicket = {});
    },
    isCurrentPreview: (ticket: object) => ticket === previewTicket,
  };
  return shared;
}
