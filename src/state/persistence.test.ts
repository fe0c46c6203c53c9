import { afterEach, describe, expect, it, vi } from 'vitest';
import { simpleCnn } from '../core/model/zoo';
import { randomWeights } from '../core/pruning/testUtil';
import { type Journal, type KeyValue, PERSIST_KEY, RUNNING_KEY, WEIGHTS_KEY, idbStorage } from './persistence';
import { createAppStore } from './store';
import { planSweep, type SweepPoint, type SweepResult } from '../core/experiments/sweep';
import type { HistoryRow, RunningExperiment } from './types';

/** An in-memory IndexedDB whose writes can be held (a tab that dies before they land). */
function memoryKv() {
  const data = new Map<string, unknown>();
  const sets: string[] = [];
  let hold = false;
  const held: (() => void)[] = [];
  const later = (f: () => void) => (hold ? new Promise<void>((r) => held.push(() => (f(), r()))) : Promise.resolve(f()));
  const kv: Required<KeyValue> = {
    get: async (k) => data.get(k),
    set: (k, v) => later(() => (sets.push(k), void data.set(k, v))),
    setMany: (entries) => later(() => entries.forEach(([k, v]) => (sets.push(k), data.set(k, v)))),
    del: (k) => later(() => void data.delete(k)),
    keys: async () => [...data.keys()],
  };
  return { kv, data, sets, hold: (on: boolean) => (hold = on), release: () => held.splice(0).forEach((f) => f()) };
}

function memoryJournal(): Journal & { text: string | null } {
  const j = { text: null as string | null, read: () => j.text, write: (t: string | null) => void (j.text = t) };
  return j;
}

const row = (run: number, patch: Partial<HistoryRow> = {}): HistoryRow =>
  ({ run, model: 'simplecnn', method: 'l1', mode: 'remove', amounts: { conv1: 50 }, finetunedAcc: 0.4, ...patch }) as HistoryRow;

/** A page: a store following the storage, started the way the controller starts it. */
async function page(kv: KeyValue, journal: Journal) {
  const storage = idbStorage(kv, globalThis, journal);
  const store = createAppStore(storage);
  const saved = await storage.getItem(PERSIST_KEY);
  if (saved) store.setState({ history: saved.state.history, baseline: saved.state.baseline, settings: saved.state.settings });
  storage.controls.enable();
  return { storage, store, saved, get: store.getState };
}

afterEach(() => vi.useRealTimers());

describe('saved work: records of their own', () => {
  it('a finished run is its own record, written when it appears (no timer), and the page says saving… then saved', async () => {
    vi.useFakeTimers();
    const m = memoryKv();
    const p = await page(m.kv, memoryJournal());
    await p.storage.controls.flush();
    expect(p.get().saving).toBe('saved');
    m.hold(true);
    p.store.setState({ history: [row(1)] });
    expect(p.get().saving).toBe('saving');
    m.release();
    await Promise.resolve();
    await Promise.resolve();
    expect(m.data.get('run:1')).toEqual(row(1));
    await vi.waitFor(() => expect(p.get().saving).toBe('saved'));
  });

  it('the weights are written only when they change, not with every state change', async () => {
    vi.useFakeTimers();
    const m = memoryKv();
    const p = await page(m.kv, memoryJournal());
    const weights = randomWeights(simpleCnn, 1);
    p.store.setState((s) => ({ baseline: { ...s.baseline, weights } }));
    for (let i = 0; i < 5; i++) {
      p.store.setState((s) => ({ settings: { ...s.settings, amounts: { ...s.settings.amounts, conv1: i * 10 } }, baseline: { ...s.baseline, curve: [...s.baseline.curve, { step: i }] } }));
      await vi.advanceTimersByTimeAsync(500);
    }
    p.store.setState((s) => ({ history: [row(1)], baseline: { ...s.baseline, origin: { ...s.baseline.origin, epochs: 3 } } }));
    await p.storage.controls.flush();
    expect(m.sets.filter((k) => k === WEIGHTS_KEY)).toHaveLength(1);
    expect(m.sets.filter((k) => k === PERSIST_KEY).length).toBeGreaterThan(1);
    expect((m.data.get(PERSIST_KEY) as { state: { baseline: { weights: unknown } } }).state.baseline.weights).toBeNull();
    const again = await page(m.kv, memoryJournal());
    expect(again.saved?.state.baseline.weights).toEqual(weights);
    expect(again.saved?.state.settings.amounts.conv1).toBe(40);
    expect(again.saved?.state.history).toEqual([row(1)]);
  });

  it('Clear runs deletes the run records', async () => {
    const m = memoryKv();
    const p = await page(m.kv, memoryJournal());
    p.store.setState({ history: [row(1), row(2)] });
    await p.storage.controls.flush();
    expect([...m.data.keys()].filter((k) => k.startsWith('run:'))).toEqual(['run:1', 'run:2']);
    p.store.setState({ history: [] });
    await p.storage.controls.flush();
    expect([...m.data.keys()].filter((k) => k.startsWith('run:'))).toEqual([]);
    expect((await page(m.kv, memoryJournal())).saved?.state.history).toEqual([]);
  });
});

const costs = { params: 100, nonzeroParams: 50, macs: 1000, denseMacs: 2000, channels: [32] };
const sweepPoint = (criterion: 'l1' | 'random', sparsity: number, seed: number): SweepPoint =>
  ({ criterion, sparsity, seed, mode: 'mask', ...costs, accBefore: 0.3, accAfter: 0.4, epochs: 1, subset: 256, seconds: 2 });
const plan = planSweep({ spec: simpleCnn, mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.25, 0.5], seeds: [1], epochs: 1, subset: 256 });
const sweepStart = (points: SweepPoint[] = []): SweepResult =>
  ({ ...plan, model: 'simplecnn', mode: 'mask', baseline: { accuracy: 0.5, ...costs }, points, cancelled: false, seconds: 1 });
const runningSweep = (points: SweepPoint[], start = sweepStart()): RunningExperiment =>
  ({ kind: 'sweep', model: 'simplecnn', mode: 'mask', baseline: 'scratch SimpleCNN', start, progress: null, points });

describe('saved work: a page that goes away with writes pending', () => {
  it('journals the pending run synchronously; the next page restores it, rewrites it and clears the journal', async () => {
    const m = memoryKv();
    const journal = memoryJournal();
    const p = await page(m.kv, journal);
    await p.storage.controls.flush();
    m.hold(true); // the tab unloads before IndexedDB confirms: the browser aborts the transaction
    p.store.setState({ history: [row(1, { finetunedAcc: NaN })] });
    p.storage.controls.pageHidden();
    expect(journal.text).not.toBeNull();
    expect(m.data.has('run:1')).toBe(false);

    m.hold(false);
    const next = await page(m.kv, journal);
    expect(next.saved?.state.history).toHaveLength(1);
    expect(next.get().history[0].finetunedAcc).toBeNaN();
    await next.storage.controls.flush();
    expect(m.data.has('run:1')).toBe(true);
    expect(journal.text).toBeNull();
  });

  it('journals the running experiment\'s points; the next page has them as the result, cancelled (kept points in run order), and drops the record', async () => {
    const m = memoryKv();
    const journal = memoryJournal();
    const p = await page(m.kv, journal);
    await p.storage.controls.flush();
    const kept = sweepPoint('l1', 0.25, 1); // from a comparison cancelled before, continued now
    const fresh = [sweepPoint('l1', 0.5, 1), sweepPoint('random', 0.25, 1)];
    m.hold(true);
    p.store.setState((s) => ({ experiments: { ...s.experiments, running: runningSweep(fresh.slice(0, 1), sweepStart([kept])) } }));
    p.store.setState((s) => ({ experiments: { ...s.experiments, running: { ...s.experiments.running!, points: fresh } as RunningExperiment } }));
    p.storage.controls.pageHidden();
    expect(m.data.has(RUNNING_KEY)).toBe(false);

    m.hold(false);
    const next = await page(m.kv, journal);
    expect(next.saved?.state.interrupted).toEqual({ kind: 'sweep', points: 3 });
    const sweep = next.saved?.state.experiments?.sweep;
    expect(sweep?.baseline).toBe('scratch SimpleCNN');
    expect(sweep?.result).toMatchObject({ cancelled: true, runs: plan.runs, baseline: { accuracy: 0.5 } });
    expect(sweep?.result.points).toEqual([kept, fresh[1], fresh[0]]); // plan order: seed, sparsity, criterion
    next.store.setState((s) => ({ experiments: { ...s.experiments, ...next.saved!.state.experiments } }));
    await next.storage.controls.flush();
    expect(m.data.has(RUNNING_KEY)).toBe(false);
    expect((m.data.get(PERSIST_KEY) as { state: { experiments: { sweep: unknown } } }).state.experiments.sweep).toEqual(sweep);
    expect(journal.text).toBeNull();
  });

  it('a running experiment is written with each new point, not with each progress report', async () => {
    vi.useFakeTimers();
    const m = memoryKv();
    const p = await page(m.kv, memoryJournal());
    await p.storage.controls.flush();
    const setRunning = (r: RunningExperiment | null) => p.store.setState((s) => ({ experiments: { ...s.experiments, running: r } }));
    setRunning(runningSweep([]));
    await Promise.resolve();
    expect(m.data.has(RUNNING_KEY)).toBe(false); // no point yet
    const one = runningSweep([sweepPoint('l1', 0.25, 1)]);
    setRunning(one);
    await Promise.resolve();
    expect(m.data.get(RUNNING_KEY)).toMatchObject({ running: one });
    const writes = m.sets.length;
    setRunning({ ...one, progress: { done: 1, total: 4, current: null, phase: null, pointFraction: 0, fraction: 0.25, elapsedSeconds: 3, etaSeconds: 9 } } as RunningExperiment);
    await Promise.resolve();
    expect(m.sets.length).toBe(writes);
    setRunning(null);
    await Promise.resolve();
    await Promise.resolve();
    expect(m.data.has(RUNNING_KEY)).toBe(false);
  });

  it('never journals weights that did not land: the metadata keeps the baseline IndexedDB holds', async () => {
    const m = memoryKv();
    const journal = memoryJournal();
    const p = await page(m.kv, journal);
    const first = randomWeights(simpleCnn, 1);
    p.store.setState((s) => ({ baseline: { ...s.baseline, weights: first, origin: { ...s.baseline.origin, epochs: 1 } } }));
    await p.storage.controls.flush();
    m.hold(true);
    p.store.setState((s) => ({ history: [row(1)], baseline: { ...s.baseline, weights: randomWeights(simpleCnn, 2), origin: { ...s.baseline.origin, epochs: 2 } } }));
    p.storage.controls.pageHidden();
    expect(Object.keys(JSON.parse(journal.text!).set)).toEqual(['run:1', PERSIST_KEY]);
    m.hold(false);
    const next = await page(m.kv, journal);
    expect(next.saved?.state.baseline.origin.epochs).toBe(1);
    expect(next.saved?.state.baseline.weights).toEqual(first);
    expect(next.saved?.state.history).toHaveLength(1);
  });

});
