import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCsv } from '../core/experiments/csv';
import type { SensitivityPoint, SensitivityResult } from '../core/experiments/sensitivity';
import { type SweepPoint, type SweepResult, planSweep } from '../core/experiments/sweep';
import { simpleCnn } from '../core/model/zoo';
import { randomWeights } from '../core/pruning/testUtil';
import type { EngineLink } from '../worker/client';
import type { Api, EngineEvent, LotteryRequest, LotteryResult, RequestType, SweepRequest } from '../worker/protocol';
import { createController } from './controller';
import { DEFAULT_LOTTERY_FORM, FOLLOW_EVERY_MS, createExperimentActions } from './experiments';
import { type KeyValue, PERSIST_KEY, PERSIST_VERSION, RUNNING_KEY, type SavedRunning, idbStorage } from './persistence';
import { type Persisted, createAppStore } from './store';

const testBin = new Uint8Array(readFileSync(new URL('../../public/data/cifar10/test_1000.bin', import.meta.url))).slice(0, 3073 * 10);
const evaluation = { accuracy: 0.5, loss: 2, perClass: Array(10).fill(0.5), count: 10 };

type Handler<K extends RequestType> = (body: Api[K]['req']) => Promise<Api[K]['reply']> | Api[K]['reply'];

/** An engine whose experiment requests wait until the test answers them; everything else answers at once. */
function fakeEngine() {
  const calls: { type: RequestType; body: unknown }[] = [];
  const listeners = new Set<(e: EngineEvent) => void>();
  const pending: { type: RequestType; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const answers: { [K in RequestType]?: Handler<K> } = {
    init: () => ({ backend: 'cpu', renderer: null, reason: 'test' }),
    setData: (b) => ({ count: b.set.count }),
    cancel: () => true,
    evaluate: () => evaluation,
    resetBaseline: () => true,
    setBaseline: () => true,
    readBaseline: () => randomWeights(simpleCnn, 1, [2]),
    memory: () => ({ numTensors: 5, numBytes: 0 }),
  };
  const link: EngineLink = {
    request(type, body) {
      calls.push({ type, body });
      const h = answers[type] as Handler<typeof type> | undefined;
      if (h) return Promise.resolve().then(() => h(body as never)) as never;
      return new Promise((resolve, reject) => pending.push({ type, resolve: resolve as (v: unknown) => void, reject })) as never;
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    link,
    calls,
    of: (t: RequestType) => calls.filter((c) => c.type === t),
    emit: (e: EngineEvent) => listeners.forEach((l) => l(e)),
    listeners,
    /** Answers the oldest waiting request of this type. */
    answer(type: RequestType, value: unknown) {
      const i = pending.findIndex((p) => p.type === type);
      pending.splice(i, 1)[0].resolve(value);
    },
    fail(type: RequestType, error: string) {
      const i = pending.findIndex((p) => p.type === type);
      pending.splice(i, 1)[0].reject(new Error(error));
    },
  };
}

function memoryKv(initial: Record<string, unknown> = {}): KeyValue & { data: Map<string, unknown> } {
  const data = new Map(Object.entries(initial));
  return { data, get: async (k) => data.get(k), set: async (k, v) => void data.set(k, v), del: async (k) => void data.delete(k) };
}

async function setup(opts: { search?: string; kv?: ReturnType<typeof memoryKv> } = {}) {
  vi.useFakeTimers();
  const engine = fakeEngine();
  const kv = opts.kv ?? memoryKv();
  const store = createAppStore(idbStorage(kv));
  const controller = createController({
    store,
    makeEngine: () => engine.link,
    fetchBytes: async () => testBin,
    loadPretrained: async () => null,
    writeUrl: () => {},
    search: opts.search ?? '?baseline=scratch',
    confirm: () => true,
  });
  const downloads: { name: string; type: string; text: string }[] = [];
  const experiments = createExperimentActions({
    store,
    controller,
    download: (name, type, text) => downloads.push({ name, type, text }),
    now: () => new Date('2026-01-02T03:04:05Z'),
  });
  const settle = async () => {
    for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(200);
  };
  await controller.start();
  await settle();
  return { engine, store, controller, experiments, downloads, settle, kv, get: store.getState };
}

afterEach(() => {
  vi.useRealTimers();
});

const costs = { params: 100, nonzeroParams: 50, macs: 1000, denseMacs: 2000, channels: [32] };

function sensitivityPoint(fraction: number, criterion: 'l1' | 'random', accuracy: number): SensitivityPoint {
  return { layer: 'conv1', fraction, criterion, mode: 'mask', pruned: Math.round(fraction * 64), accuracy, ...costs };
}

function sensitivityResult(points: SensitivityPoint[], cancelled = false): SensitivityResult {
  return {
    layers: [{ layer: 'conv1', scope: 'conv', unit: 'filters', units: 64, label: 'conv1' }],
    criteria: ['l1'],
    skipped: [],
    randomSeeds: [1, 2, 3],
    fractions: [0, 0.5],
    total: 2,
    model: 'simplecnn',
    mode: 'mask',
    baselineAccuracy: 0.5,
    points,
    cancelled,
    evaluations: points.length,
    seconds: 1,
  };
}

function sweepPoint(criterion: 'l1' | 'random', sparsity: number, seed: number, accAfter: number): SweepPoint {
  return { criterion, sparsity, seed, mode: 'mask', ...costs, accBefore: accAfter - 0.1, accAfter, epochs: 1, subset: 256, seconds: 2 };
}

function sweepResult(req: SweepRequest, points: SweepPoint[], cancelled = false): SweepResult {
  return {
    ...planSweep({ spec: simpleCnn, ...req, seeds: req.seeds }),
    model: 'simplecnn',
    mode: req.mode,
    baseline: { accuracy: 0.5, ...costs },
    points,
    cancelled,
    seconds: 3,
  };
}

describe('experiment actions', () => {
  it('sensitivity scan: the page is busy while it runs, events grow the curves, the result is saved with its baseline', async () => {
    const t = await setup({ search: '?baseline=scratch&mode=mask' });
    const run = t.experiments.runSensitivity({ criteria: ['l1'], fractions: [0, 0.5] });
    await t.settle();
    expect(t.engine.of('sensitivity').map((c) => c.body)).toEqual([{ mode: 'mask', criteria: ['l1'], randomSeeds: [1, 2, 3], fractions: [0, 0.5] }]);
    expect(t.get().job?.role).toBe('experiment');
    expect(t.get().experiments.running).toMatchObject({ kind: 'sensitivity', model: 'simplecnn', mode: 'mask', points: [] });

    // Other jobs wait: training does not start, a second experiment is refused with a reason.
    await t.controller.trainBaseline();
    expect(t.engine.of('train')).toHaveLength(0);
    await t.experiments.runSweep({ criteria: ['l1'], sparsities: [50], seeds: 2, epochs: 1, subset: 0 });
    expect(t.engine.of('sweep')).toHaveLength(0);
    expect(t.get().notices.at(-1)?.text).toMatch(/already running/);

    const p0 = sensitivityPoint(0, 'l1', 0.5);
    const progress = { done: 1, total: 2, current: { layer: 'conv1', fraction: 0.5, criterion: 'l1' as const }, evaluations: 1, elapsedSeconds: 1, etaSeconds: 1 };
    t.engine.emit({ type: 'experiment', kind: 'sensitivity', point: p0 });
    t.engine.emit({ type: 'experiment', kind: 'sensitivity', progress });
    t.engine.emit({ type: 'experiment', kind: 'sweep', point: sweepPoint('l1', 0.5, 1, 0.4) }); // not this experiment's
    // The first event shows at once, the next ones together after FOLLOW_EVERY_MS.
    expect(t.get().experiments.running).toMatchObject({ points: [p0], progress: null });
    await vi.advanceTimersByTimeAsync(FOLLOW_EVERY_MS);
    expect(t.get().experiments.running).toMatchObject({ points: [p0], progress });
    const p1 = sensitivityPoint(0.05, 'l1', 0.49);
    t.engine.emit({ type: 'experiment', kind: 'sensitivity', point: p1 });
    expect(t.get().experiments.running?.points).toEqual([p0, p1]);

    const result = sensitivityResult([p0, sensitivityPoint(0.5, 'l1', 0.3)]);
    t.engine.answer('sensitivity', result);
    await run;
    expect(t.get().job).toBeNull();
    expect(t.get().experiments.running).toBeNull();
    expect(t.get().experiments.sensitivity).toEqual({ result, baseline: 'untrained SimpleCNN, seed 42', finishedAt: '2026-01-02T03:04:05.000Z' });
    expect(t.engine.listeners.size).toBe(1); // the controller's own; the experiment's listener is gone

    // Saved with the rest of the work, and back after a reload.
    await t.store.storage.controls.flush();
    const saved = t.kv.data.get(PERSIST_KEY) as { state: Persisted };
    expect(saved.state.experiments?.sensitivity?.result.points).toHaveLength(2);
    expect(saved.state.experiments).not.toHaveProperty('running');
    const again = await setup({ kv: memoryKv({ [PERSIST_KEY]: { version: PERSIST_VERSION, state: saved.state } }) });
    expect(again.get().experiments.sensitivity?.result).toEqual(result);
    expect(again.get().experiments.running).toBeNull();
  });

  it('method comparison: the form becomes the request; Cancel uses the engine’s cancel and keeps the points done; Run then continues', async () => {
    const t = await setup({ search: '?baseline=scratch&mode=mask&batch=32&lr=0.01&opt=sgd' });
    const form = { criteria: ['l1' as const, 'random' as const], sparsities: [25, 50], seeds: 2, epochs: 1, subset: 256 };
    const run = t.experiments.runSweep(form);
    await t.settle();
    const req = t.engine.of('sweep')[0].body as SweepRequest;
    expect(req).toMatchObject({ mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.25, 0.5], seeds: [1, 2], epochs: 1, subset: 256 });
    expect(req.config).toMatchObject({ batchSize: 32, learningRate: 0.01, optimizer: 'sgd', epochs: 1 });
    expect(req.previous).toBeUndefined();

    t.experiments.cancel();
    expect(t.get().job?.cancelling).toBe(true);
    await t.settle();
    expect(t.engine.of('cancel')).toHaveLength(1);
    const done = [sweepPoint('l1', 0.25, 1, 0.4), sweepPoint('random', 0.25, 1, 0.3)];
    t.engine.answer('sweep', sweepResult(req, done, true));
    await run;
    expect(t.get().job).toBeNull();
    expect(t.get().experiments.sweep?.result.points).toEqual(done);
    expect(t.get().notices.at(-1)?.text).toMatch(/cancelled: kept the 2 of 8 points done/);

    // Run again: the finished points go along and are not measured again.
    const resumed = t.experiments.runSweep(form);
    await t.settle();
    expect((t.engine.of('sweep')[1].body as SweepRequest).previous).toEqual(done);
    t.engine.answer('sweep', sweepResult(req, [...done, sweepPoint('l1', 0.5, 1, 0.35)]));
    await resumed;
    expect(t.get().experiments.sweep?.result.points).toHaveLength(3);
    // A finished comparison is not continued: the next Run starts afresh.
    void t.experiments.runSweep(form);
    await t.settle();
    expect((t.engine.of('sweep')[2].body as SweepRequest).previous).toBeUndefined();
    t.engine.fail('sweep', 'out of memory');
    await t.settle();
    expect(t.get().notices.at(-1)?.text).toBe('The method comparison failed: out of memory');
    expect(t.get().job).toBeNull();
    expect(t.get().experiments.sweep?.result.points).toHaveLength(3); // the last result stays
  });

  it('a method comparison that runs saves its points as they arrive; a closed tab brings them back, cancelled, and Run continues it', async () => {
    const t = await setup({ search: '?baseline=scratch&mode=mask' });
    const form = { criteria: ['l1' as const, 'random' as const], sparsities: [25, 50], seeds: 1, epochs: 1, subset: 256 };
    void t.experiments.runSweep(form);
    await t.settle();
    const req = t.engine.of('sweep')[0].body as SweepRequest;
    t.engine.emit({ type: 'experiment', kind: 'sweep', start: sweepResult(req, []) });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.kv.data.has(RUNNING_KEY)).toBe(false); // no point yet: nothing to keep
    const done = [sweepPoint('l1', 0.25, 1, 0.4), sweepPoint('random', 0.25, 1, 0.3)];
    for (const point of done) t.engine.emit({ type: 'experiment', kind: 'sweep', point });
    await vi.advanceTimersByTimeAsync(FOLLOW_EVERY_MS); // the page takes the gathered events; the record follows at once
    expect((t.kv.data.get(RUNNING_KEY) as SavedRunning | undefined)?.running.points).toEqual(done);

    // The tab dies here. The next page has the comparison's result, cancelled, with the points done.
    const next = await setup({ search: '?baseline=scratch&mode=mask', kv: memoryKv(Object.fromEntries(t.kv.data)) });
    expect(next.get().experiments.sweep?.result).toMatchObject({ cancelled: true, points: done, runs: sweepResult(req, []).runs, baseline: { accuracy: 0.5 } });
    expect(next.get().experiments.running).toBeNull();
    expect(next.get().notices.map((n) => n.text)).toContain('The method comparison was interrupted: kept the 2 points done; Run continues it.');
    await next.store.storage.controls.flush();
    expect(next.kv.data.has(RUNNING_KEY)).toBe(false); // now part of the saved work
    expect((next.kv.data.get(PERSIST_KEY) as { state: Persisted }).state.experiments?.sweep?.result.points).toEqual(done);
    // Run continues it: the points done go along.
    void next.experiments.runSweep(form);
    await next.settle();
    expect((next.engine.of('sweep')[0].body as SweepRequest).previous).toEqual(done);
  });

  it('the running record ends with the experiment: its result and the deletion are one write', async () => {
    const t = await setup({ search: '?baseline=scratch&mode=mask' });
    const run = t.experiments.runSensitivity({ criteria: ['l1'], fractions: [0, 0.5] });
    await t.settle();
    const p0 = sensitivityPoint(0, 'l1', 0.5);
    t.engine.emit({ type: 'experiment', kind: 'sensitivity', start: sensitivityResult([]) });
    t.engine.emit({ type: 'experiment', kind: 'sensitivity', point: p0 });
    await vi.advanceTimersByTimeAsync(FOLLOW_EVERY_MS);
    expect((t.kv.data.get(RUNNING_KEY) as SavedRunning | undefined)?.running.points).toEqual([p0]);
    // A closed tab now would bring the scan back with its one point.
    const early = await setup({ search: '?baseline=scratch&mode=mask', kv: memoryKv(Object.fromEntries(t.kv.data)) });
    expect(early.get().experiments.sensitivity?.result).toMatchObject({ cancelled: true, points: [p0], total: 2, baselineAccuracy: 0.5 });
    expect(early.get().notices.map((n) => n.text)).toContain('The sensitivity scan was interrupted: kept the 1 point done.');

    const result = sensitivityResult([p0, sensitivityPoint(0.5, 'l1', 0.3)]);
    t.engine.answer('sensitivity', result);
    await run;
    await vi.advanceTimersByTimeAsync(0);
    expect(t.kv.data.has(RUNNING_KEY)).toBe(false); // at once, not after the metadata's delay
    expect((t.kv.data.get(PERSIST_KEY) as { state: Persisted }).state.experiments?.sensitivity?.result).toEqual(result);
    const after = await setup({ search: '?baseline=scratch&mode=mask', kv: memoryKv(Object.fromEntries(t.kv.data)) });
    expect(after.get().experiments.sensitivity?.result).toEqual(result);
    expect(after.get().notices.map((n) => n.text).join('\n')).not.toMatch(/interrupted/);
  });

  it('lottery ticket: the form becomes the request, the page is busy, points follow, the result is saved; a closed tab keeps the points done', async () => {
    const t = await setup({ search: '?baseline=scratch&batch=32&lr=0.01&opt=sgd' });
    const run = t.experiments.runLottery({ ...DEFAULT_LOTTERY_FORM, rounds: 2, ratePercent: 50, epochs: 3, rewindEpoch: 1, seed: 4, subset: 256 });
    await t.settle();
    const req = t.engine.of('lottery')[0].body as LotteryRequest;
    expect(req).toMatchObject({ rounds: 2, p: 0.5, epochs: 3, rewindEpoch: 1, seed: 4, subset: 256 });
    expect(req.config).toMatchObject({ batchSize: 32, learningRate: 0.01, optimizer: 'sgd', epochs: 3 });
    expect(t.get().job?.role).toBe('experiment');
    await t.controller.trainBaseline();
    expect(t.engine.of('train')).toHaveLength(0);
    const start: LotteryResult = { model: 'simplecnn', rounds: 2, p: 0.5, epochs: 3, rewindEpoch: 1, seed: 4, images: 256, points: [], cancelled: false, seconds: 0 };
    const dense = (['rewind', 'reinit', 'randomMask'] as const).map((arm) => ({ arm, round: 0, sparsity: 0, accuracy: 0.4 }));
    t.engine.emit({ type: 'experiment', kind: 'lottery', start });
    for (const point of dense) t.engine.emit({ type: 'experiment', kind: 'lottery', point });
    await vi.advanceTimersByTimeAsync(FOLLOW_EVERY_MS);
    expect(t.get().experiments.running).toMatchObject({ kind: 'lottery', points: dense });
    expect((t.kv.data.get(RUNNING_KEY) as SavedRunning | undefined)?.running.points).toEqual(dense);
    // The tab dies here: the next page has the lottery's result, cancelled, with its points.
    const next = await setup({ search: '?baseline=scratch', kv: memoryKv(Object.fromEntries(t.kv.data)) });
    expect(next.get().experiments.lottery?.result).toMatchObject({ cancelled: true, points: dense, rounds: 2 });
    expect(next.get().notices.map((n) => n.text)).toContain('The lottery ticket was interrupted: kept the 3 points done.');

    const result: LotteryResult = { ...start, points: [...dense, { arm: 'rewind', round: 1, sparsity: 0.5, accuracy: 0.41 }], cancelled: false, seconds: 3 };
    t.engine.answer('lottery', result);
    await run;
    expect(t.get().job).toBeNull();
    expect(t.get().experiments.lottery?.result).toEqual(result);
    await t.store.storage.controls.flush();
    expect((t.kv.data.get(PERSIST_KEY) as { state: Persisted }).state.experiments?.lottery?.result).toEqual(result);
    expect(t.kv.data.has(RUNNING_KEY)).toBe(false);
    // Impossible settings: a reason, nothing sent.
    for (const [patch, why] of [
      [{ ratePercent: 100 }, /below 100/],
      [{ rewindEpoch: 2, epochs: 2 }, /from 0 to 1/],
      [{ rounds: 0 }, /Rounds/],
    ] as const) {
      await t.experiments.runLottery({ ...DEFAULT_LOTTERY_FORM, ...patch });
      expect(t.get().notices.at(-1)?.text).toMatch(why);
    }
    expect(t.engine.of('lottery')).toHaveLength(1);
  });

  it('the oracle and the speed lab take the job guard: refused while a job runs, and nothing else runs beside them', async () => {
    const t = await setup({ search: '?baseline=scratch&mode=mask' });
    const oracleReq = { group: 'conv1', batch: 16, seed: 1 };
    const labReq = { settings: { method: 'l1' as const, mode: 'mask' as const, amounts: {}, seed: 1 }, batches: [1], runs: 1, warmup: 0 };
    // While an experiment runs, both are refused with a reason and send nothing.
    void t.experiments.runSensitivity({ criteria: ['l1'], fractions: [0] });
    await t.settle();
    expect(await t.experiments.oracle(oracleReq)).toBeNull();
    expect(t.get().notices.at(-1)?.text).toMatch(/The oracle cannot run while an experiment is running/);
    expect(await t.experiments.speedLab(labReq)).toBeNull();
    expect(t.get().notices.at(-1)?.text).toMatch(/The speed lab cannot run while an experiment is running/);
    expect(t.engine.of('oracle')).toHaveLength(0);
    expect(t.engine.of('speedLab')).toHaveLength(0);
    t.engine.answer('sensitivity', sensitivityResult([]));
    await t.settle();
    expect(t.get().job).toBeNull();

    // While the oracle runs the page is busy: training, an experiment and the speed lab wait.
    const oracle = t.experiments.oracle(oracleReq);
    await t.settle();
    expect(t.get().job?.role).toBe('experiment');
    await t.controller.trainBaseline();
    expect(t.engine.of('train')).toHaveLength(0);
    await t.experiments.runSweep({ criteria: ['l1'], sparsities: [50], seeds: 1, epochs: 1, subset: 0 });
    expect(t.engine.of('sweep')).toHaveLength(0);
    expect(await t.experiments.speedLab(labReq)).toBeNull();
    const reply = { group: 'conv1', units: 32, delta: [], baseLoss: 2, millis: 1, criteria: [], images: 16 };
    t.engine.answer('oracle', reply);
    expect(await oracle).toEqual(reply);
    expect(t.get().job).toBeNull();

    // The speed lab likewise; its error reaches the caller and the page is free again.
    const lab = t.experiments.speedLab(labReq);
    await t.settle();
    expect(t.get().job?.role).toBe('experiment');
    expect(await t.experiments.oracle(oracleReq)).toBeNull();
    t.engine.fail('speedLab', 'no backend');
    await expect(lab).rejects.toThrow('no backend');
    expect(t.get().job).toBeNull();
    expect(t.engine.of('oracle')).toHaveLength(1);
  });

  it('refuses a bad form with a reason and sends nothing', async () => {
    const t = await setup();
    const base = { criteria: ['l1' as const], sparsities: [50], seeds: 2, epochs: 1, subset: 0 };
    for (const [patch, why] of [
      [{ criteria: [] }, /at least one criterion/],
      [{ sparsities: [50, 120] }, /0 to 100 \(not 120\)/],
      [{ sparsities: [] }, /0 to 100/],
      [{ seeds: 0 }, /Seeds/],
      [{ epochs: 1.5 }, /epochs/],
      [{ subset: -1 }, /subset/],
      [{ scope: 'inner' }, /Groups to prune: .*simplecnn has no inner channel groups/],
    ] as const) {
      await t.experiments.runSweep({ ...base, ...patch });
      expect(t.get().notices.at(-1)?.text).toMatch(why);
    }
    await t.experiments.runSensitivity({ criteria: [] });
    expect(t.get().notices.at(-1)?.text).toMatch(/at least one criterion/);
    expect(t.engine.of('sweep')).toHaveLength(0);
    // the form's scope goes into the request only when it is not the default
    expect(t.experiments.sweepRequest({ ...base, scope: 'all' })).not.toHaveProperty('scope');
    expect(t.engine.of('sensitivity')).toHaveLength(0);
    expect(t.get().job).toBeNull();
  });

  it('waits for the data before running', async () => {
    vi.useFakeTimers();
    const t = await setup();
    t.store.setState((s) => ({ data: { ...s.data, test: { ...s.data.test, status: 'loading' } } }));
    await t.experiments.runSensitivity({ criteria: ['l1'] });
    expect(t.engine.of('sensitivity')).toHaveLength(0);
    expect(t.get().notices.at(-1)?.text).toMatch(/need the training and test data/);
  });

  it('exports CSV and JSON with one row per measured network and a telling file name', async () => {
    const t = await setup();
    t.experiments.exportSweep('csv'); // nothing yet: nothing happens
    expect(t.downloads).toHaveLength(0);
    const req: SweepRequest = { mode: 'mask', criteria: ['l1', 'random'], sparsities: [0.5], seeds: [1, 2], epochs: 1, subset: 256, config: { epochs: 1, batchSize: 64, learningRate: 0.001, optimizer: 'adam', momentum: 0.9, seed: 1 } };
    const points = [sweepPoint('l1', 0.5, 1, 0.4), sweepPoint('random', 0.5, 1, 0.3), sweepPoint('l1', 0.5, 2, 0.41), sweepPoint('random', 0.5, 2, 0.31)];
    t.store.setState((s) => ({ experiments: { ...s.experiments, sweep: { result: sweepResult(req, points), baseline: 'b', finishedAt: 'now' } } }));
    t.experiments.exportSweep('csv');
    t.experiments.exportSweep('json');
    expect(t.downloads.map((d) => [d.name, d.type])).toEqual([
      ['sweep-simplecnn-mask.csv', 'text/csv'],
      ['sweep-simplecnn-mask.json', 'application/json'],
    ]);
    const rows = parseCsv(t.downloads[0].text);
    expect(rows[0]).toEqual(['sparsity', 'criterion', 'seed', 'mode', 'params', 'nonzeroParams', 'macs', 'accBefore', 'accAfter', 'scope']);
    expect(rows).toHaveLength(5);
    expect(rows[1]).toEqual(['0.5', 'l1', '1', 'mask', '100', '50', '1000', String(0.4 - 0.1), '0.4', 'all']);
    expect(JSON.parse(t.downloads[1].text).rows).toHaveLength(4);

    t.store.setState((s) => ({ experiments: { ...s.experiments, sensitivity: { result: sensitivityResult([sensitivityPoint(0, 'l1', 0.5)]), baseline: 'b', finishedAt: 'now' } } }));
    t.experiments.exportSensitivity('csv');
    expect(t.downloads[2].name).toBe('sensitivity-simplecnn-mask.csv');
    expect(parseCsv(t.downloads[2].text)[1]).toEqual(['conv1', '0', 'l1', '', 'mask', '100', '50', '1000', '0.5']);

    t.experiments.clear('sweep');
    expect(t.get().experiments.sweep).toBeNull();
  });
});
