/**
 * The measured "auto" backend: time a few training steps and an evaluation batch of the current model on
 * every candidate backend that initialises, pick the fastest, and cache the choice per browser (user
 * agent) + model + tfjs version. Pure logic: the measurement, the cache and the switch are injected (the
 * engine gives a measurement worker, IndexedDB through idb-keyval, and a queued backend switch), so it is
 * unit-tested with fake timings (autoBackend.test.ts).
 *
 * It never delays the first pruned accuracy: the engine starts on the cached choice (or the rule-based
 * one, selectBackend's), and runMeasuredAuto waits for the first preview before it measures anything;
 * when the measurement names another backend the engine switches between requests.
 */
import type { BackendName } from './selectBackend';

export interface BackendSpeed {
  /** Training images per second (a few steps of the model after a warm-up step). */
  trainImgPerSec: number;
  /** Evaluation images per second (one batch after a warm-up). */
  evalImgPerSec: number;
  /** What the figure was measured on, e.g. "2 threads" or "software adapter". */
  detail?: string;
}

export type BackendMeasurement =
  | { backend: BackendName; speed: BackendSpeed }
  | { backend: BackendName; error: string }
  /** Not timed: a software GPU (SwiftShader and the like) is skipped unless a re-measure asks for it. */
  | { backend: BackendName; skipped: string };

export interface AutoRecord {
  key: string;
  /** The fastest backend that initialised (by training speed, then evaluation speed). */
  choice: BackendName;
  measurements: BackendMeasurement[];
  /** ms since the epoch. */
  measuredAt: number;
}

export interface AutoCache {
  get(key: string): Promise<AutoRecord | undefined>;
  set(key: string, record: AutoRecord): Promise<void>;
}

export interface Candidate {
  backend: BackendName;
  /** A software GPU: timed only when a re-measure asks for everything. */
  software?: boolean;
}

export interface MeasuredAutoDeps {
  cache: AutoCache;
  /**
   * Times `backend` (rejects when it does not initialise). Rejects with MeasurementInterrupted when a job
   * started meanwhile: the figure would be taken under contention, and the job slowed by it.
   */
  measure: (backend: BackendName) => Promise<BackendSpeed>;
  /** The backends worth trying on this machine. */
  candidates: () => Promise<Candidate[]>;
  /** Resolves when no training or experiment runs (JobActivity.whenIdle); each backend is timed only then. */
  whenIdle?: () => Promise<void>;
  now?: () => number;
}

/** A measurement stopped because a job started; it is taken again once the engine is idle. */
export class MeasurementInterrupted extends Error {
  constructor() {
    super('interrupted by a job');
    this.name = 'MeasurementInterrupted';
  }
}

/**
 * Whether a job (training, experiment) runs in the engine, for the measured auto: a measurement waits
 * until none does, and one under way is aborted (its `signal`) the moment a job starts. Measured on this
 * VM: the start-up measurement running beside the page's sensitivity scan took ~3 s of the scan's 33 s.
 */
export class JobActivity {
  private jobs = 0;
  private waiters: (() => void)[] = [];
  private controller = new AbortController();

  /** Marks a job running until the returned function is called; aborts the measurement under way. */
  start(): () => void {
    this.jobs++;
    this.controller.abort();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.jobs--;
      if (this.jobs > 0) return;
      this.controller = new AbortController();
      for (const w of this.waiters.splice(0)) w();
    };
  }

  get busy(): boolean {
    return this.jobs > 0;
  }

  /** Aborted as soon as a job starts (a fresh one after each idle point). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  whenIdle(): Promise<void> {
    return this.jobs === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/** The cache key: a choice holds for one browser build, one model and one tfjs release. */
export function autoKey(userAgent: string, model: string, tfjsVersion: string): string {
  return `${userAgent}|${model}|tfjs ${tfjsVersion}`;
}

/** The fastest measured backend: training speed first (what the playground spends its time on), then evaluation. */
export function fastest(measurements: BackendMeasurement[]): BackendName | null {
  let best: { backend: BackendName; speed: BackendSpeed } | null = null;
  for (const m of measurements) {
    if (!('speed' in m)) continue;
    const s = m.speed;
    if (!(s.trainImgPerSec > 0)) continue;
    if (!best || s.trainImgPerSec > best.speed.trainImgPerSec || (s.trainImgPerSec === best.speed.trainImgPerSec && s.evalImgPerSec > best.speed.evalImgPerSec)) {
      best = { backend: m.backend, speed: s };
    }
  }
  return best?.backend ?? null;
}

export class MeasuredAuto {
  private readonly now: () => number;
  /** One measurement per key at a time: a second request joins the running one. */
  private readonly running = new Map<string, Promise<AutoRecord | null>>();

  constructor(private readonly deps: MeasuredAutoDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** What to start on: the cached choice, or null (selectBackend's rule). Never measures. */
  async initialChoice(key: string): Promise<{ backend: BackendName | null; record: AutoRecord | null }> {
    let record: AutoRecord | undefined;
    try {
      record = await this.deps.cache.get(key);
    } catch {
      record = undefined; // no IndexedDB (private mode): the rule, and a measurement later
    }
    return { backend: record?.choice ?? null, record: record ?? null };
  }

  /**
   * The cached record, or (none cached, or `force`) a new measurement of every candidate, one after the
   * other, cached. `force` also times software GPUs. Null when nothing initialised.
   */
  async measure(key: string, { force = false } = {}): Promise<AutoRecord | null> {
    if (!force) {
      const { record } = await this.initialChoice(key);
      if (record) return record;
    }
    const pending = this.running.get(key);
    if (pending) return pending;
    const run = this.measureAll(key, force).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  private async measureAll(key: string, all: boolean): Promise<AutoRecord | null> {
    const measurements: BackendMeasurement[] = [];
    for (const c of await this.deps.candidates()) {
      if (c.software && !all) {
        measurements.push({ backend: c.backend, skipped: 'software GPU: not timed (re-measure times it)' });
        continue;
      }
      for (;;) {
        await this.deps.whenIdle?.();
        try {
          measurements.push({ backend: c.backend, speed: await this.deps.measure(c.backend) });
        } catch (e) {
          if (e instanceof MeasurementInterrupted) continue; // again, once the job is over
          measurements.push({ backend: c.backend, error: e instanceof Error ? e.message : String(e) });
        }
        break;
      }
    }
    const choice = fastest(measurements);
    if (!choice) return null;
    const record: AutoRecord = { key, choice, measurements, measuredAt: this.now() };
    try {
      await this.deps.cache.set(key, record);
    } catch {
      /* not cached (no IndexedDB): measured again next time */
    }
    return record;
  }
}

export interface RunMeasuredAutoOptions {
  key: string;
  /** Resolves once the first pruned accuracy has been answered: nothing is measured before. */
  firstPreview: Promise<unknown>;
  force?: boolean;
  /** The backend the engine runs on now. */
  current: () => string | null;
  /** Queues the switch (between the engine's requests). */
  switchTo: (backend: BackendName, record: AutoRecord) => Promise<void>;
  /** The figures, for the backend line (also when no switch is needed). */
  onRecord: (record: AutoRecord) => void;
}

/** After the first preview: measure (or read the cache), report the figures, switch when another backend is faster. */
export async function runMeasuredAuto(auto: MeasuredAuto, o: RunMeasuredAutoOptions): Promise<AutoRecord | null> {
  await o.firstPreview;
  const record = await auto.measure(o.key, { force: o.force });
  if (!record) return null;
  o.onRecord(record);
  if (record.choice !== o.current()) await o.switchTo(record.choice, record);
  return record;
}

/** "wasm 2 threads 1,900 img/s · webgl 54 · webgpu 12" (training images per second), for the backend line. */
export function describeMeasurements(record: AutoRecord): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  let first = true;
  const parts: string[] = [];
  const rank = (m: BackendMeasurement) => ('speed' in m ? -m.speed.trainImgPerSec : 'skipped' in m ? 1 : 2);
  for (const m of [...record.measurements].sort((a, b) => rank(a) - rank(b))) {
    if ('speed' in m) {
      parts.push(`${m.backend}${m.speed.detail ? ` ${m.speed.detail}` : ''} ${fmt(m.speed.trainImgPerSec)}${first ? ' img/s' : ''}`);
      first = false;
    } else if ('skipped' in m) {
      parts.push(`${m.backend} software, not timed`);
    } else {
      parts.push(`${m.backend} failed`);
    }
  }
  return parts.join(' · ');
}
