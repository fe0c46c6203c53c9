/**
 * Saved work in IndexedDB (idb-keyval; structured clone keeps the baseline's Float32Arrays as they are).
 *
 * Durable by design, not by timing (issue 18): the work is split into records, each written when it
 * changes — a store subscriber compares the state with what was last written, so no action has to
 * remember to save:
 * - `run:<n>`: one finished run (history row), written the moment the row appears;
 * - `weights`: the baseline's weights (2.6 MB for SimpleCNN), written only when they change, in the
 *   same transaction as the record that describes them;
 * - RUNNING_KEY: the experiment that runs (experiments.running: its plan, baseline and the points done),
 *   written at once whenever points arrive (it is small), deleted in the same write as the metadata that
 *   holds its whole result; a record found at start-up comes back as that experiment's result, cancelled
 *   with the points it had (`interrupted`), so a tab closed mid-experiment loses at most the point that ran;
 * - PERSIST_KEY: settings, the baseline's record without its weights (origin, curve), the baseline's
 *   accuracy, the experiment results and the list of runs. Settings and curve changes are coalesced
 *   (WRITE_DELAY_MS); a changed baseline origin, run list or experiment result is written at once.
 * A record is "pending" from the change until IndexedDB confirms the write; the state's `saving` says
 * whether anything is pending ("saving…" / "saved" in the page). A page hidden or unloaded while writes
 * are pending puts every pending record except the weights into a synchronous journal (localStorage):
 * the browser aborts IndexedDB transactions still open when a page unloads (a reload in the same task
 * as a run's end lost the run, e2e/durability.spec.ts), a localStorage write is already done. The next
 * start reads the journal over the records, rewrites them, and clears it once IndexedDB holds them.
 * Writes wait until the controller has read what was saved (`enable()`), so an early change never
 * overwrites it. Failures (no IndexedDB in private mode, quota exceeded) switch saving off, reported once.
 */
import { createStore as createIdbStore, del, get, keys, set, setMany, type UseStore } from 'idb-keyval';
import { runKey as sweepRunKey } from '../core/experiments/sweep';
import type { ExperimentsState, HistoryRow, Persisted, RunningExperiment, State } from './types';

export const PERSIST_VERSION = 3;
export const PERSIST_KEY = 'pruning-playground';
export const WEIGHTS_KEY = 'weights';
export const JOURNAL_KEY = 'pruning-playground:journal';
export const RUNNING_KEY = 'experiment:running';
const RUN_PREFIX = 'run:';
const WRITE_DELAY_MS = 400;

/** What getItem returns: the saved work put back together, as the controller restores it. */
export interface StorageValue<S> {
  state: S;
  version: number;
}

export interface PersistControls {
  /** Starts writing (after the saved records were read and merged). */
  enable(): void;
  /** Writes everything pending now and waits for IndexedDB to confirm it (tests, the e2e hook). */
  flush(): Promise<void>;
  /** The page is being hidden or unloaded: journal what is pending synchronously, then flush. */
  pageHidden(): void;
  /** Called once, with a reason, when saving stops working. */
  onFailure(cb: (reason: string) => void): void;
  readonly failed: string | null;
}

/** Backing store: idb-keyval by default; tests pass an in-memory map. */
export interface KeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  /** Several records in one transaction (all or none); without it, one after the other. */
  setMany?(entries: [string, unknown][]): Promise<void>;
  /** Every key: finds run records the metadata does not list yet. */
  keys?(): Promise<string[]>;
}

/** The synchronous journal for pages that go away with writes pending (localStorage in the browser). */
export interface Journal {
  read(): string | null;
  write(text: string | null): void;
}

export function idbKeyValue(): KeyValue | null {
  if (typeof indexedDB === 'undefined') return null;
  let db: UseStore | null = null;
  const store = () => (db ??= createIdbStore('pruning-playground', 'state'));
  return {
    get: (k) => get(k, store()),
    set: (k, v) => set(k, v, store()),
    del: (k) => del(k, store()),
    setMany: (entries) => setMany(entries, store()),
    keys: async () => (await keys(store())).map(String),
  };
}

export function localStorageJournal(): Journal | null {
  try {
    if (typeof localStorage === 'undefined') return null;
    return {
      read: () => localStorage.getItem(JOURNAL_KEY),
      write: (text) => (text === null ? localStorage.removeItem(JOURNAL_KEY) : localStorage.setItem(JOURNAL_KEY, text)),
    };
  } catch {
    return null; // a sandboxed frame that refuses storage access
  }
}

/** The metadata record: the persisted state without the weights and the runs (records of their own). */
type Meta = Omit<Persisted, 'history'> & { runs: number[]; history?: HistoryRow[] };

interface JournalEntries {
  set: Record<string, unknown>;
  del: string[];
}

/** JSON that keeps NaN and ±Infinity (an experiment's unmeasured accuracy is NaN). */
const encodeJournal = (j: JournalEntries) =>
  JSON.stringify(j, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
const decodeJournal = (text: string): JournalEntries =>
  JSON.parse(text, (_k, v) => (v && typeof v === 'object' && typeof v.$number === 'string' && Object.keys(v).length === 1 ? Number(v.$number) : v));

const runKey = (run: number) => `${RUN_PREFIX}${run}`;

function metaOf(s: State): Meta {
  return {
    settings: s.settings,
    baseline: { ...s.baseline, weights: null },
    baselineEval: s.baselineEval,
    experiments: { sensitivity: s.experiments.sensitivity, sweep: s.experiments.sweep, lottery: s.experiments.lottery ?? null },
    runs: s.history.map((r) => r.run),
  };
}

/** The running experiment's record: the state's object and when it was written (the partial result's end). */
export interface SavedRunning {
  running: RunningExperiment;
  savedAt: string;
}

/**
 * A running experiment's saved record as a finished one: its result cancelled, with the points done (a
 * continued comparison's kept points included), so the method comparison's Run continues it. Null when
 * it had not measured its baseline yet (nothing to keep).
 */
export function interruptedExperiment(saved: SavedRunning): Partial<ExperimentsState> | null {
  const { running: r, savedAt } = saved;
  if (!r.start) return null;
  const seconds = r.progress?.elapsedSeconds ?? r.start.seconds;
  if (r.kind === 'lottery') return { lottery: { result: { ...r.start, points: r.points, cancelled: true, seconds }, baseline: r.baseline, finishedAt: savedAt } };
  if (r.kind === 'sweep') {
    const byRun = new Map([...r.start.points, ...r.points].map((p) => [sweepRunKey(p), p]));
    const points = r.start.runs.filter((x) => byRun.has(sweepRunKey(x))).map((x) => byRun.get(sweepRunKey(x))!);
    return { sweep: { result: { ...r.start, points, cancelled: true, seconds }, baseline: r.baseline, finishedAt: savedAt } };
  }
  const evaluations = r.progress?.evaluations ?? r.start.evaluations;
  return { sensitivity: { result: { ...r.start, points: r.points, cancelled: true, evaluations, seconds }, baseline: r.baseline, finishedAt: savedAt } };
}

type FollowedStore = { getState(): State; setState(patch: Partial<State>): void; subscribe(l: (s: State, prev: State) => void): () => void };

export interface WorkStorage {
  controls: PersistControls;
  /** The saved work put together (records, then the journal over them), or null when there is none. */
  getItem(name: string): Promise<StorageValue<Persisted> | null>;
  /** Forgets every record and the journal, and stops writing until enable(). */
  removeItem(name: string): Promise<void>;
  /** Follows a store: called once by createAppStore. */
  attach(store: FollowedStore): void;
}

export function idbStorage(
  kv: KeyValue | null = idbKeyValue(),
  timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } = globalThis,
  journal: Journal | null = localStorageJournal(),
): WorkStorage {
  let enabled = false;
  let failed: string | null = kv ? null : 'this browser gives the page no IndexedDB (private mode?)';
  let failureCb: ((reason: string) => void) | null = null;
  let attached: FollowedStore | null = null;
  /** What IndexedDB is known to hold, by key (values compared by reference). */
  const written = new Map<string, unknown>();
  /** Writes started and not yet confirmed (a value, or null for a deletion). */
  const pending = new Map<string, unknown>();
  /** Keys whose value came from the journal (rewritten to IndexedDB once writing starts). */
  const fromJournal = new Map<string, unknown>();
  let metaTimer: ReturnType<typeof setTimeout> | null = null;
  const inFlight = new Set<Promise<void>>();

  const fail = (e: unknown) => {
    if (failed) return;
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    failed = /quota/i.test(text) ? `the browser's storage is full (${text})` : text;
    pending.clear();
    if (metaTimer) timers.clearTimeout(metaTimer);
    metaTimer = null;
    status();
    failureCb?.(failed);
  };

  let lastStatus: State['saving'] | null = null;
  function status(): void {
    if (!attached || !enabled) return;
    const next: State['saving'] = failed ? 'off' : pending.size > 0 || metaTimer ? 'saving' : 'saved';
    if (next === lastStatus) return;
    lastStatus = next;
    attached.setState({ saving: next });
  }

  /** Writes records (one transaction when the store allows it); each stays pending until confirmed. */
  function write(entries: [string, unknown][], deletions: string[] = []): void {
    if (!kv || failed || (!entries.length && !deletions.length)) return;
    for (const [k, v] of entries) pending.set(k, v);
    for (const k of deletions) pending.set(k, null);
    status();
    const run = async () => {
      if (entries.length > 1 && kv.setMany) await kv.setMany(entries);
      else for (const [k, v] of entries) await kv.set(k, v);
      for (const k of deletions) await kv.del(k);
    };
    const p = run().then(
      () => {
        for (const [k, v] of entries) confirm(k, v);
        for (const k of deletions) confirm(k, null);
      },
      (e) => fail(e),
    );
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      status();
    });
  }

  function confirm(key: string, value: unknown): void {
    if (value === null) written.delete(key);
    else written.set(key, value);
    if (pending.get(key) === value) pending.delete(key);
    fromJournal.delete(key);
    if (pending.size === 0 && !metaTimer && fromJournal.size === 0) journal?.write(null); // all of it is in IndexedDB
  }

  const known = (key: string) => (pending.has(key) ? pending.get(key) : written.get(key));

  /** Writes what the state holds that IndexedDB does not (prev null: everything, at enable()). */
  function sync(s: State, prev: State | null): void {
    if (!enabled || failed) return;
    // Runs: each row its own record, at once.
    const keep = new Set<string>();
    const runs: [string, unknown][] = [];
    for (const row of s.history) {
      const k = runKey(row.run);
      keep.add(k);
      if (known(k) !== row || fromJournal.has(k)) runs.push([k, row]);
    }
    const gone = [...new Set([...written.keys(), ...pending.keys()])].filter((k) => k.startsWith(RUN_PREFIX) && !keep.has(k) && pending.get(k) !== null);
    write(runs, gone);
    // The running experiment: its own record whenever points arrive. Once it ends, the record goes in the
    // same write as the metadata that holds its result (sets first, then the deletion).
    const running = s.experiments.running;
    const savedRunning = known(RUNNING_KEY) as SavedRunning | null | undefined;
    if (running?.start && running.points.length && (savedRunning?.running.points !== running.points || savedRunning.running.start !== running.start))
      write([[RUNNING_KEY, { running, savedAt: new Date().toISOString() } satisfies SavedRunning]]);
    const dropRunning = !running && (!!savedRunning || fromJournal.has(RUNNING_KEY));
    // Weights: only when they changed, in one transaction with the metadata that describes them.
    const weights = s.baseline.weights;
    if (weights && weights !== known(WEIGHTS_KEY)) {
      if (metaTimer) timers.clearTimeout(metaTimer);
      metaTimer = null;
      write([[WEIGHTS_KEY, weights], [PERSIST_KEY, { version: PERSIST_VERSION, state: metaOf(s) }]], dropRunning ? [RUNNING_KEY] : []);
      return status();
    }
    if (dropRunning) return writeMeta([RUNNING_KEY]);
    const metaChanged =
      !prev ||
      fromJournal.has(PERSIST_KEY) ||
      s.settings !== prev.settings ||
      s.baseline !== prev.baseline ||
      s.baselineEval !== prev.baselineEval ||
      s.history !== prev.history ||
      s.experiments.sensitivity !== prev.experiments.sensitivity ||
      s.experiments.sweep !== prev.experiments.sweep ||
      s.experiments.lottery !== prev.experiments.lottery;
    if (!metaChanged) return status();
    // Work (a new baseline, the run list, an experiment's result) at once; slider moves and curve points
    // coalesced. (At enable() it waits too: what was just read is in IndexedDB, or in the journal.)
    const urgent =
      !!prev &&
      (s.baseline.origin !== prev.baseline.origin ||
        s.baseline.trainingUntil !== prev.baseline.trainingUntil ||
        s.history !== prev.history ||
        s.experiments.sensitivity !== prev.experiments.sensitivity ||
        s.experiments.sweep !== prev.experiments.sweep ||
        s.experiments.lottery !== prev.experiments.lottery);
    if (urgent) return writeMeta();
    metaTimer ??= timers.setTimeout(() => writeMeta(), WRITE_DELAY_MS);
    status();
  }

  function writeMeta(deletions: string[] = []): void {
    if (metaTimer) timers.clearTimeout(metaTimer);
    metaTimer = null;
    if (!attached || failed || !enabled) return;
    write([[PERSIST_KEY, { version: PERSIST_VERSION, state: metaOf(attached.getState()) }]], deletions);
    status();
  }

  /** Pending records, except the weights, into the journal: a synchronous write the unload cannot abort. */
  function writeJournal(): void {
    if (!journal || failed || !enabled || !attached) return;
    const entries: JournalEntries = { set: {}, del: [] };
    const pendingNow = new Map(pending);
    if (metaTimer) pendingNow.set(PERSIST_KEY, { version: PERSIST_VERSION, state: metaOf(attached.getState()) });
    const weightsPending = pendingNow.has(WEIGHTS_KEY);
    for (const [k, v] of pendingNow) {
      if (k === WEIGHTS_KEY) continue;
      if (v === null) entries.del.push(k);
      else if (k === PERSIST_KEY && weightsPending) {
        // Its baseline describes weights that may not land: keep the baseline IndexedDB holds.
        const held = written.get(PERSIST_KEY) as StorageValue<Meta> | undefined;
        const meta = v as StorageValue<Meta>;
        if (held) entries.set[k] = { ...meta, state: { ...meta.state, baseline: held.state.baseline } };
      } else entries.set[k] = v;
    }
    for (const [k, v] of fromJournal) if (!(k in entries.set)) entries.set[k] = v;
    try {
      if (Object.keys(entries.set).length || entries.del.length) journal.write(encodeJournal(entries));
    } catch {
      // localStorage full or refused: the IndexedDB writes still run
    }
  }

  const controls: PersistControls = {
    enable() {
      enabled = true;
      if (attached) sync(attached.getState(), null);
      status();
    },
    async flush() {
      if (metaTimer) writeMeta();
      while (inFlight.size) await Promise.all(inFlight);
    },
    pageHidden() {
      writeJournal();
      void controls.flush();
    },
    onFailure(cb) {
      failureCb = cb;
      if (failed) cb(failed);
    },
    get failed() {
      return failed;
    },
  };

  return {
    controls,
    attach(store) {
      attached = store;
      store.subscribe((s, prev) => sync(s, prev));
    },
    async getItem(name) {
      if (!kv || failed || name !== PERSIST_KEY) return null;
      try {
        let entries: JournalEntries = { set: {}, del: [] };
        try {
          const text = journal?.read();
          if (text) entries = decodeJournal(text);
        } catch {
          journal?.write(null); // unreadable: the records in IndexedDB stand
        }
        const read = async (k: string): Promise<unknown> => {
          if (entries.del.includes(k)) return undefined;
          if (k in entries.set) {
            fromJournal.set(k, entries.set[k]);
            return entries.set[k];
          }
          const v = await kv.get(k);
          if (v !== undefined) written.set(k, v);
          return v;
        };
        const meta = (await read(PERSIST_KEY)) as StorageValue<Meta> | undefined;
        if (!meta) return null;
        if (meta.version !== PERSIST_VERSION || !meta.state?.baseline) return meta as unknown as StorageValue<Persisted>;
        const { runs: listed = [], history: inline = [], ...rest } = meta.state;
        // Run records: those the metadata lists, those IndexedDB holds, those the journal holds.
        const runKeys = new Set([...listed.map(runKey), ...Object.keys(entries.set).filter((k) => k.startsWith(RUN_PREFIX))]);
        for (const k of (await kv.keys?.()) ?? []) if (k.startsWith(RUN_PREFIX)) runKeys.add(k);
        const rows = new Map<number, HistoryRow>(inline.map((r) => [r.run, r]));
        for (const k of runKeys) {
          const row = (await read(k)) as HistoryRow | undefined;
          if (row) rows.set(row.run, row);
        }
        const weights = rest.baseline.weights ?? ((await read(WEIGHTS_KEY)) as Persisted['baseline']['weights'] | undefined) ?? null;
        const history = [...rows.values()].sort((a, b) => a.run - b.run);
        const state: Persisted = { ...rest, baseline: { ...rest.baseline, weights }, history };
        // An experiment that was running: its points come back as its result, cancelled.
        if (entries.del.includes(RUNNING_KEY)) await kv.del(RUNNING_KEY); // it ended; the deletion did not land
        const saved = (await read(RUNNING_KEY)) as SavedRunning | undefined;
        const kept = saved?.running ? interruptedExperiment(saved) : null;
        if (saved?.running && kept) {
          state.experiments = { sensitivity: null, sweep: null, ...state.experiments, ...kept };
          state.interrupted = { kind: saved.running.kind, points: (kept.sweep ?? kept.sensitivity ?? kept.lottery)!.result.points.length };
        }
        return { version: meta.version, state };
      } catch (e) {
        fail(e);
        return null;
      }
    },
    async removeItem() {
      enabled = false; // until the controller has started over and calls enable() again
      if (metaTimer) timers.clearTimeout(metaTimer);
      metaTimer = null;
      pending.clear();
      fromJournal.clear();
      journal?.write(null);
      if (!kv || failed) return;
      try {
        await Promise.all(inFlight);
        const all = new Set([PERSIST_KEY, WEIGHTS_KEY, RUNNING_KEY, ...written.keys(), ...((await kv.keys?.()) ?? []).filter((k) => k.startsWith(RUN_PREFIX))]);
        for (const k of all) await kv.del(k);
        written.clear();
      } catch (e) {
        fail(e);
      }
    },
  };
}
