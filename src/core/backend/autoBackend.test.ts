/** The measured auto with fake timings, a fake cache and a fake engine (no tfjs, no timers). */
import { describe, expect, test, vi } from 'vitest';
import { type AutoCache, type AutoRecord, type BackendSpeed, type Candidate, JobActivity, MeasuredAuto, MeasurementInterrupted, autoKey, describeMeasurements, fastest, runMeasuredAuto } from './autoBackend';
import type { BackendName } from './selectBackend';

function memoryCache(): AutoCache & { data: Map<string, AutoRecord> } {
  const data = new Map<string, AutoRecord>();
  return { data, get: async (k) => data.get(k), set: async (k, r) => void data.set(k, r) };
}

/** A promise resolved from outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const SPEEDS: Partial<Record<BackendName, BackendSpeed>> = {
  wasm: { trainImgPerSec: 1900, evalImgPerSec: 9000, detail: '2 threads' },
  webgl: { trainImgPerSec: 54, evalImgPerSec: 200 },
  webgpu: { trainImgPerSec: 2400, evalImgPerSec: 12000 },
};
const ALL: Candidate[] = [{ backend: 'wasm' }, { backend: 'webgl' }, { backend: 'webgpu' }];
const KEY = autoKey('Chromium 156', 'convnet3', '4.22.0');

function setup(speeds = SPEEDS, candidates = ALL) {
  const cache = memoryCache();
  const measure = vi.fn(async (b: BackendName) => {
    const s = speeds[b];
    if (!s) throw new Error(`${b} did not initialise`);
    return s;
  });
  const auto = new MeasuredAuto({ cache, measure, candidates: async () => candidates, now: () => 1234 });
  return { cache, measure, auto };
}

describe('fastest', () => {
  test('by training speed, then evaluation speed; failures and skipped ones never win', () => {
    expect(fastest([{ backend: 'wasm', speed: { trainImgPerSec: 10, evalImgPerSec: 5 } }, { backend: 'webgl', speed: { trainImgPerSec: 20, evalImgPerSec: 1 } }])).toBe('webgl');
    expect(fastest([{ backend: 'wasm', speed: { trainImgPerSec: 20, evalImgPerSec: 5 } }, { backend: 'webgl', speed: { trainImgPerSec: 20, evalImgPerSec: 6 } }])).toBe('webgl');
    expect(fastest([{ backend: 'webgpu', error: 'no adapter' }, { backend: 'webgl', skipped: 'software' }, { backend: 'wasm', speed: { trainImgPerSec: 3, evalImgPerSec: 5 } }])).toBe('wasm');
    expect(fastest([{ backend: 'wasm', speed: { trainImgPerSec: NaN, evalImgPerSec: 5 } }, { backend: 'webgpu', error: 'x' }])).toBeNull();
  });
});

describe('MeasuredAuto', () => {
  test('picks the fastest backend that initialises, and caches the choice with its figures', async () => {
    const { auto, cache, measure } = setup({ wasm: SPEEDS.wasm, webgl: SPEEDS.webgl }); // webgpu fails to initialise
    const r = await auto.measure(KEY);
    expect(r?.choice).toBe('wasm');
    expect(measure.mock.calls.map((c) => c[0])).toEqual(['wasm', 'webgl', 'webgpu']);
    expect(r?.measurements[2]).toEqual({ backend: 'webgpu', error: 'webgpu did not initialise' });
    expect(cache.data.get(KEY)).toEqual(r);
    expect(describeMeasurements(r!)).toBe('wasm 2 threads 1,900 img/s · webgl 54 · webgpu failed');
  });

  test('a cached choice is used without measuring; the key separates browsers, models and tfjs versions', async () => {
    const { auto, measure } = setup();
    expect(await auto.initialChoice(KEY)).toEqual({ backend: null, record: null });
    await auto.measure(KEY);
    expect(measure).toHaveBeenCalledTimes(3);
    expect((await auto.initialChoice(KEY)).backend).toBe('webgpu');
    expect((await auto.measure(KEY))?.choice).toBe('webgpu');
    expect(measure).toHaveBeenCalledTimes(3);
    for (const other of [autoKey('Firefox 140', 'convnet3', '4.22.0'), autoKey('Chromium 156', 'simplecnn', '4.22.0'), autoKey('Chromium 156', 'convnet3', '4.23.0')]) {
      expect((await auto.initialChoice(other)).backend).toBeNull();
    }
  });

  test('re-measures on request (force), replacing the cached choice', async () => {
    const speeds = { ...SPEEDS };
    const { auto, cache, measure } = setup(speeds);
    await auto.measure(KEY);
    speeds.webgpu = { trainImgPerSec: 12, evalImgPerSec: 40 }; // the GPU got busy
    const again = await auto.measure(KEY, { force: true });
    expect(measure).toHaveBeenCalledTimes(6);
    expect(again?.choice).toBe('wasm');
    expect(cache.data.get(KEY)?.choice).toBe('wasm');
  });

  test('software GPUs are listed but timed only on a re-measure', async () => {
    const { auto, measure } = setup(SPEEDS, [{ backend: 'wasm' }, { backend: 'webgl', software: true }]);
    const r = await auto.measure(KEY);
    expect(measure.mock.calls.map((c) => c[0])).toEqual(['wasm']);
    expect(describeMeasurements(r!)).toBe('wasm 2 threads 1,900 img/s · webgl software, not timed');
    const forced = await auto.measure(KEY, { force: true });
    expect(measure.mock.calls.map((c) => c[0])).toEqual(['wasm', 'wasm', 'webgl']);
    expect(describeMeasurements(forced!)).toBe('wasm 2 threads 1,900 img/s · webgl 54');
  });

  test('a failing cache (no IndexedDB) still measures and chooses', async () => {
    const measure = vi.fn(async () => SPEEDS.wasm!);
    const broken: AutoCache = { get: () => Promise.reject(new Error('no IndexedDB')), set: () => Promise.reject(new Error('no IndexedDB')) };
    const auto = new MeasuredAuto({ cache: broken, measure, candidates: async () => [{ backend: 'wasm' }] });
    expect(await auto.initialChoice(KEY)).toEqual({ backend: null, record: null });
    expect((await auto.measure(KEY))?.choice).toBe('wasm');
  });
});

describe('runMeasuredAuto (the engine start-up)', () => {
  test('never blocks the first preview: the preview is answered before any measurement starts or resolves', async () => {
    const cache = memoryCache();
    const timing = deferred<BackendSpeed>();
    const measure = vi.fn(() => timing.promise);
    const auto = new MeasuredAuto({ cache, measure, candidates: async () => [{ backend: 'webgpu' }] });
    const log: string[] = [];
    // A fake engine: starts on the rule's choice, answers the first preview, then switches if told to.
    let current = 'wasm';
    const firstPreview = deferred();
    const start = await auto.initialChoice(KEY);
    expect(start.backend).toBeNull(); // nothing cached: the rule (wasm) — decided without measuring
    const done = runMeasuredAuto(auto, {
      key: KEY,
      firstPreview: firstPreview.promise,
      current: () => current,
      switchTo: async (b) => {
        log.push(`switch to ${b}`);
        current = b;
      },
      onRecord: (r) => log.push(`figures ${describeMeasurements(r)}`),
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(measure).not.toHaveBeenCalled(); // waiting for the first preview
    log.push('first preview answered on wasm');
    firstPreview.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(measure).toHaveBeenCalledTimes(1);
    expect(log).toEqual(['first preview answered on wasm']); // the measurement has not resolved yet
    timing.resolve({ trainImgPerSec: 2400, evalImgPerSec: 12000 });
    const record = await done;
    expect(record?.choice).toBe('webgpu');
    expect(log).toEqual(['first preview answered on wasm', 'figures webgpu 2,400 img/s', 'switch to webgpu']);
    expect(current).toBe('webgpu');
  });

  test('no switch when the running backend is the fastest; a cached record reports its figures without measuring', async () => {
    const { auto, measure } = setup({ wasm: SPEEDS.wasm });
    const switchTo = vi.fn(async () => {});
    const onRecord = vi.fn();
    const o = { key: KEY, firstPreview: Promise.resolve(), current: () => 'wasm', switchTo, onRecord };
    await runMeasuredAuto(auto, o);
    await runMeasuredAuto(auto, o);
    expect(measure).toHaveBeenCalledTimes(3); // once per candidate, the first time only
    expect(onRecord).toHaveBeenCalledTimes(2);
    expect(switchTo).not.toHaveBeenCalled();
  });

  test('two measurements of the same key at once share one run', async () => {
    const { auto, measure } = setup();
    const [a, b] = await Promise.all([auto.measure(KEY, { force: true }), auto.measure(KEY, { force: true })]);
    expect(a).toBe(b);
    expect(measure).toHaveBeenCalledTimes(3);
  });
});

describe('measuring only while no job runs', () => {
  test('JobActivity: whenIdle waits for every job to end; a job start aborts the signal; a new signal after', async () => {
    const a = new JobActivity();
    await a.whenIdle(); // idle: at once
    const first = a.signal;
    const end1 = a.start();
    const end2 = a.start();
    expect(first.aborted).toBe(true);
    let idle = false;
    void a.whenIdle().then(() => (idle = true));
    end1();
    end1(); // twice: counted once
    await Promise.resolve();
    expect(idle).toBe(false);
    end2();
    await Promise.resolve();
    expect(idle).toBe(true);
    expect(a.busy).toBe(false);
    expect(a.signal.aborted).toBe(false);
  });

  test('a backend is timed only once the engine is idle, and timed again after a job interrupted it', async () => {
    const cache = memoryCache();
    const activity = new JobActivity();
    const endJob = activity.start(); // a scan is running when the measurement wants to start
    const interruptedOnce = new Set<BackendName>();
    const measure = vi.fn(async (b: BackendName) => {
      expect(activity.busy).toBe(false);
      if (b === 'webgpu' && !interruptedOnce.has(b)) {
        interruptedOnce.add(b);
        throw new MeasurementInterrupted(); // a training started while webgpu was timed
      }
      return SPEEDS[b]!;
    });
    const auto = new MeasuredAuto({ cache, measure, candidates: async () => ALL, whenIdle: () => activity.whenIdle(), now: () => 1 });
    const run = auto.measure(KEY);
    await new Promise((r) => setTimeout(r, 0));
    expect(measure).not.toHaveBeenCalled();
    endJob();
    const record = await run;
    expect(measure.mock.calls.map((c) => c[0])).toEqual(['wasm', 'webgl', 'webgpu', 'webgpu']);
    expect(record?.measurements.every((m) => 'speed' in m)).toBe(true);
    expect(record?.choice).toBe('webgpu');
  });
});
