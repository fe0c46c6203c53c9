/**
 * A second core for the SIMD kernels: XNNPACK's convs use both cores, our kernels ran on one. A
 * kernel call is cut by images into a few chunks; the calling thread and helper workers (which
 * instantiate the same kernel modules on the same shared WebAssembly.Memory, so they work on the
 * tensors in place) claim chunks from a shared counter until none is left. Accumulating kernels
 * get an accumulator per chunk, summed in chunk order: results do not depend on who ran what.
 * Jobs go through a control block (a SharedArrayBuffer of i32s) with Atomics; no messages.
 *
 * A helper's state word: BOOTING until it has instantiated the modules (it boots only once the
 * creating thread returns to its event loop; the caller runs every chunk meanwhile), then IDLE →
 * JOB (offered) → RUNNING (entered; or taken back by the caller, if it finished first) → DONE |
 * FAILED (a trap) → IDLE. The caller waits at most JOB_TIMEOUT_MS for a helper to leave a job:
 * then the helpers are dropped and every chunk no one completed is cleared and rerun here.
 */

/** Threads running a split kernel, the caller included (capped by the cores). */
export const MAX_THREADS = 2;

/**
 * Threads for the split kernels: every core, at most MAX_THREADS (PyTorch also trains on every core).
 * A core was once left to the page: with the helper sleeping in Atomics.waitAsync, training beside it
 * gave the page 200–250 ms long tasks on 2 cores. Since the helper blocks in Atomics.wait (see
 * serve), an A/B of the app training on 2 cores (bench row app-training-longtask, heartbeat gap)
 * gave 85–86 ms (SimpleCNN) and 64–72 ms (ConvNet-3) with the helper against 74–106 and 59 ms without:
 * no worse within the noise, and ConvNet-3 trains 1.4× faster.
 */
export function kernelThreads(cores: number): number {
  return threadsOverride ?? Math.max(1, Math.min(MAX_THREADS, cores));
}

let threadsOverride: number | null = null;

/** For measurements: the thread count whatever the cores (null: the rule above); for helpers made afterwards. */
export function setKernelThreads(n: number | null): void {
  threadsOverride = n;
}
/** Chunks per thread: threads claim chunks as they go, so a helper that starts late or runs slowly
 * (XNNPACK's pool thread spin-waits on the second core for a few ms after each conv) costs little. */
export const DEFAULT_CHUNKS_PER_THREAD = 3;
let chunksPerThread = DEFAULT_CHUNKS_PER_THREAD;

/** For measurements (bench.html?chunksPerThread=N, window.bench.setChunksPerThread): chunks per thread (1–8) for later calls. */
export function setChunksPerThread(n: number): void {
  chunksPerThread = Math.max(1, Math.min(8, Math.floor(n)));
}
/** A helper that has not finished a job by then is presumed dead (a job takes a few ms). */
export const JOB_TIMEOUT_MS = 2000;
/** Floats per chunk below which waking a helper (tens of µs) costs more than it saves. */
const MIN_CHUNK_FLOATS = 8192;

const MAX_HELPERS = 3;
export const MAX_ARGS = 20;
export const MAX_CHUNKS = 16;
const MAX_OVERRIDES = 4;
// Control block (i32): per-helper state words, the shared chunk counter, the job.
const STATE = (helper: number) => helper;
const NEXT = MAX_HELPERS; // next unclaimed chunk
const DONE_MASK = NEXT + 1; // chunks completed by helpers
const NCHUNKS = NEXT + 2;
const FN = NEXT + 3;
const NARGS = NEXT + 4;
const OVERRIDES = NEXT + 5; // per thread: count, then (arg index, value) pairs
const CHUNK_ARGS = OVERRIDES + (MAX_HELPERS + 1) * (1 + 2 * MAX_OVERRIDES);
const LOADED = (helper: number) => CHUNK_ARGS + MAX_CHUNKS * MAX_ARGS + helper; // kernels a helper has instantiated
const ADDS_SENT = (helper: number) => LOADED(MAX_HELPERS) + helper; // `add` messages posted to a helper
const SLEEPS = (helper: number) => ADDS_SENT(MAX_HELPERS) + helper; // times a helper went to sleep (Atomics.wait): each needs a futex wake
const SPIN_US = SLEEPS(MAX_HELPERS); // how long a helper polls for the next job before sleeping (µs)
const ENTERED_US = (helper: number) => SPIN_US + 1 + helper; // when a helper entered the current job (µs, low 31 bits of the shared clock)
export const BUSY_US = (helper: number) => ENTERED_US(MAX_HELPERS) + helper; // µs a helper spent in jobs (from entry to its last chunk), added up
export const CONTROL_INTS = BUSY_US(MAX_HELPERS);

/**
 * µs on a clock all threads share (performance.timeOrigin differs between a page and its workers),
 * kept to 31 bits: only differences of a few ms are taken.
 */
const sharedClockUs = () => Math.floor((performance.timeOrigin + performance.now()) * 1000) & 0x7fffffff;

/**
 * After a job a helper may poll its state word this long before sleeping in Atomics.wait, as
 * pthreadpool and OpenMP do: a sleeping thread costs a futex wake (on a VM an inter-processor
 * interrupt, possibly a VM exit) and its wake-up latency. Off by default: measured on a ConvNet-3
 * b64 step (scripts/step-counts.mjs, bench.html?helperSpinUs=N), polling 50 or 200 µs left the
 * helper's sleeps at 12–13 of 20 jobs per step (the gaps between jobs are longer), while a polling
 * helper holds a core that the page's thread may need (one core: taskset, a busy neighbour).
 */
export const DEFAULT_SPIN_US = 0;
let spinUs = DEFAULT_SPIN_US;

/** For measurements (bench.html?helperSpinUs=N): the polling time of helpers (0: sleep at once). */
export function setHelperSpinMicros(us: number): void {
  spinUs = Math.max(0, Math.floor(us));
}

export const IDLE = 0;
export const JOB = 1;
export const RUNNING = 2;
export const DONE = 3;
export const FAILED = 4;
export const BOOTING = 5;

type Kernel = (...args: number[]) => void;

/** One kernel call cut into chunks (by images); `overrides[t]` replaces arguments for thread t (its scratch). */
export interface Job {
  name: string;
  chunks: number[][];
  overrides: Array<Array<[index: number, value: number]>>;
}

/** Helper threads that run chunks of a job alongside the calling thread (thread 0). */
export interface Helpers {
  /** Helpers in the pool (fixed: the chunk layout, hence the float summation order, depends on it only). */
  readonly count: number;
  /** Floats per chunk below which a kernel is not split. */
  readonly minChunkFloats: number;
  /** Offers the job to the helpers that are awake (and have its kernel). */
  start(job: Job): void;
  /**
   * More kernels for the helpers, named `prefix` + export name (modules compiled after the pool
   * started, e.g. one per conv shape). Until a helper has instantiated them, jobs using them run on
   * the calling thread alone. Optional: without it, only the pool's first modules are shared.
   */
  addModules?(prefix: string, modules: WebAssembly.Module[]): void;
  /** The next chunk for the calling thread, or −1 when all are claimed. */
  claim(): number;
  /** Waits until no helper works on the job; returns the bitmask of chunks helpers completed. */
  finish(): number;
  dispose(): void;
}

/** Makes helpers for kernel modules on a memory (null: none possible here). */
export type HelpersFactory = (modules: WebAssembly.Module[], memory: WebAssembly.Memory) => Helpers | null;

/** The modules' exported functions in a fixed order: a job names its kernel by index. */
export function kernelNames(modules: WebAssembly.Module[]): string[] {
  return modules.flatMap((m) => WebAssembly.Module.exports(m).filter((e) => e.kind === 'function').map((e) => e.name));
}

/** Instantiates the modules on `memory`: kernels by name (what a helper runs). */
export function kernelTable(modules: WebAssembly.Module[], memory: WebAssembly.Memory): Map<string, Kernel> {
  const table = new Map<string, Kernel>();
  for (const m of modules) {
    const inst = new WebAssembly.Instance(m, { env: { memory } });
    for (const [name, fn] of Object.entries(inst.exports)) if (typeof fn === 'function') table.set(name, fn as Kernel);
  }
  return table;
}

/** Chunks for a batch of n images (1: not worth splitting, or no helpers). */
export function chunkCount(helpers: Helpers | null, n: number, floatsPerImage: number): number {
  if (!helpers) return 1;
  return Math.max(1, Math.min(n, MAX_CHUNKS, chunksPerThread * (1 + helpers.count), Math.floor((n * floatsPerImage) / helpers.minChunkFloats)));
}

/** Chunk c's arguments for thread t. */
export function chunkArgs(job: Job, c: number, t: number): number[] {
  const args = [...job.chunks[c]];
  for (const [i, v] of job.overrides[t] ?? []) args[i] = v;
  return args;
}

/** Caller side: writes the job into the control block (helpers are woken by wake()). */
export function postJob(ctl: Int32Array, fn: number, job: Job): void {
  const nargs = job.chunks[0].length;
  if (nargs > MAX_ARGS || job.chunks.length > MAX_CHUNKS || job.overrides.some((o) => o.length > MAX_OVERRIDES)) throw new Error('parallel: job too large');
  ctl[FN] = fn;
  ctl[NARGS] = nargs;
  ctl[NCHUNKS] = job.chunks.length;
  job.chunks.forEach((a, c) => ctl.set(a, CHUNK_ARGS + c * MAX_ARGS));
  job.overrides.forEach((o, t) => {
    const base = OVERRIDES + t * (1 + 2 * MAX_OVERRIDES);
    ctl[base] = o.length;
    o.forEach(([i, v], k) => ctl.set([i, v], base + 1 + 2 * k));
  });
  Atomics.store(ctl, DONE_MASK, 0);
  Atomics.store(ctl, NEXT, 0);
}

/**
 * What the hand-offs cost, for the bench's step split: jobs run, their chunks, how many a helper
 * ran, the time this thread spent waiting for helpers after running its own share, the helper
 * offers (Atomics.notify of an idle helper), the times this thread blocked in Atomics.wait for a
 * helper to finish, the jobs a helper entered and the sum of the latencies from offer to entry
 * (the hand-off, µs), and the times a helper went to sleep (each costs a futex wake: on a VM an
 * inter-processor interrupt, possibly a VM exit). callerMs / callerChunks and helperMs: the wall time
 * each side spent running its chunks — per chunk, a helper that sleeps between jobs ran 25–40 % slower
 * than the caller in the ResNet-20 bench (its core's caches go cold, or the host runs something else on
 * its idle vCPU); polling 1 ms instead evened it, but slowed the caller as much (the browser's other
 * threads then share its core).
 */
export const jobStats = { jobs: 0, chunks: 0, helperChunks: 0, waitMs: 0, wakes: 0, blocks: 0, handoffs: 0, handoffUs: 0, helperSleeps: 0, callerMs: 0, callerChunks: 0, helperMs: 0 };

/** Offers the posted job to helper i if it is idle (a booting helper is left out). */
export function wake(ctl: Int32Array, helper: number): void {
  if (Atomics.compareExchange(ctl, STATE(helper), IDLE, JOB) === IDLE) {
    jobStats.wakes++;
    Atomics.notify(ctl, STATE(helper), 1);
  }
}

/** Claims the next chunk (any thread), or −1. */
export function claim(ctl: Int32Array): number {
  const c = Atomics.add(ctl, NEXT, 1);
  return c < ctl[NCHUNKS] ? c : -1;
}

/** Helper side, once woken: enters the job if the caller has not taken it back, runs chunks until none is left. */
export function serveJob(ctl: Int32Array, fns: Kernel[], helper: number): void {
  if (Atomics.compareExchange(ctl, STATE(helper), JOB, RUNNING) !== JOB) return;
  Atomics.store(ctl, ENTERED_US(helper), sharedClockUs());
  const fn = fns[ctl[FN]];
  const nargs = ctl[NARGS];
  const ob = OVERRIDES + (helper + 1) * (1 + 2 * MAX_OVERRIDES);
  let state = DONE;
  const entered = performance.now();
  for (let c = claim(ctl); c >= 0; c = claim(ctl)) {
    const args = Array.from(ctl.subarray(CHUNK_ARGS + c * MAX_ARGS, CHUNK_ARGS + c * MAX_ARGS + nargs));
    for (let k = 0; k < ctl[ob]; k++) args[ctl[ob + 1 + 2 * k]] = ctl[ob + 2 + 2 * k];
    try {
      fn(...args);
    } catch {
      state = FAILED; // a trap: the caller reruns the chunk and gets the error itself
      break;
    }
    Atomics.or(ctl, DONE_MASK, 1 << c);
  }
  Atomics.add(ctl, BUSY_US(helper), Math.round((performance.now() - entered) * 1000));
  Atomics.store(ctl, STATE(helper), state);
  Atomics.notify(ctl, STATE(helper), 1);
}

/**
 * Caller side: takes the job back from helper i if it has not entered it, else waits (Atomics.wait
 * where the thread may block, a spin on a page's main thread) at most `timeoutMs` for it to leave.
 * False on a timeout (the helper is presumed dead). The helper's state word is then IDLE again.
 */
export function awaitHelper(ctl: Int32Array, helper: number, canBlock: boolean, timeoutMs: number): boolean {
  if (Atomics.compareExchange(ctl, STATE(helper), JOB, IDLE) === JOB) return true;
  const deadline = performance.now() + timeoutMs;
  let state = Atomics.load(ctl, STATE(helper));
  while (state === RUNNING) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    if (canBlock) {
      jobStats.blocks++;
      Atomics.wait(ctl, STATE(helper), RUNNING, left);
    }
    state = Atomics.load(ctl, STATE(helper));
  }
  if (state === DONE || state === FAILED) Atomics.store(ctl, STATE(helper), IDLE);
  return true;
}

/** Chunks helpers completed (after awaitHelper for all of them). */
export const doneMask = (ctl: Int32Array) => Atomics.load(ctl, DONE_MASK);

/** Whether this thread may Atomics.wait (not on a page's main thread). */
function threadCanBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // 'not-equal' at once where allowed
    return true;
  } catch {
    return false;
  }
}

/** What a helper worker is sent first; later messages are `{ add: modules }` (Helpers.addModules). */
export interface HelperInit {
  modules: WebAssembly.Module[];
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  helper: number;
}

/**
 * A helper's life (runs in the worker): instantiate, report IDLE, then serve jobs, sleeping in the
 * blocking Atomics.wait between them (never spinning). When the caller has posted more modules (it
 * counts them in ADDS_SENT and wakes the helper), the helper returns to its event loop to receive
 * them, then goes back to serving. (Sleeping with Atomics.waitAsync instead kept the event loop free
 * but, measured in the bench, doubled the page's long tasks while training: 200+ vs 60–70 ms.)
 */
export function serve({ modules, memory, control, helper }: HelperInit): { add(modules: WebAssembly.Module[]): void } {
  const ctl = new Int32Array(control);
  const fns: Kernel[] = [];
  let received = 0;
  const load = (mods: WebAssembly.Module[]) => {
    const table = kernelTable(mods, memory);
    fns.push(...kernelNames(mods).map((n) => table.get(n)!));
    Atomics.store(ctl, LOADED(helper), fns.length);
  };
  const pause = (Atomics as unknown as { pause?: () => void }).pause; // a spin-wait hint where the engine has it
  const loop = (): void => {
    let pollUntil = 0;
    for (;;) {
      if (Atomics.load(ctl, ADDS_SENT(helper)) > received) return; // an `add` message waits in the event loop
      const state = Atomics.load(ctl, STATE(helper));
      if (state === JOB) {
        serveJob(ctl, fns, helper);
        pollUntil = performance.now() + Atomics.load(ctl, SPIN_US) / 1000;
      } else if (performance.now() < pollUntil) {
        pause?.(); // IDLE or DONE: the next job may come within microseconds
      } else {
        Atomics.add(ctl, SLEEPS(helper), 1);
        Atomics.wait(ctl, STATE(helper), state); // IDLE, or DONE until the caller collects it
      }
    }
  };
  load(modules);
  Atomics.store(ctl, STATE(helper), IDLE);
  loop();
  return {
    add: (mods) => {
      load(mods);
      received++;
      loop();
    },
  };
}

/**
 * Paused helpers are not woken: the calling thread runs every chunk itself, with the same chunks in
 * the same order, so results are the same bit for bit (the chunk layout depends on the pool's size
 * only). For the measured choice of whether the helper pays on this machine (helperTuner.ts).
 */
let helpersPaused = false;

export function setHelpersPaused(on: boolean): void {
  helpersPaused = on;
}

export const helpersArePaused = (): boolean => helpersPaused;

/** Helpers in web workers: only where the memory is shared and workers exist (threaded tfjs build). */
export const workerHelpers: HelpersFactory = (modules, memory) => {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  const count = Math.min(kernelThreads(cores), MAX_HELPERS + 1) - 1;
  if (count < 1 || typeof Worker === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  const names = kernelNames(modules); // a job's kernel index, in the order helpers instantiate them
  const canBlock = threadCanBlock();
  const control = new SharedArrayBuffer(CONTROL_INTS * 4);
  const ctl = new Int32Array(control);
  const workers: Worker[] = [];
  let alive = true;
  let offeredAt = 0;
  const sleepsSeen = new Array<number>(count).fill(0);
  const drop = (why: string) => {
    if (alive) console.warn(`SIMD kernels: helper threads dropped (${why}); running single-threaded`);
    alive = false;
    for (const w of workers) w.terminate();
  };
  try {
    for (let i = 0; i < count; i++) {
      ctl[STATE(i)] = BOOTING;
      const worker = new Worker(new URL('./simdHelper.worker.ts', import.meta.url), { type: 'module' });
      worker.onerror = (e) => drop(`worker error: ${e.message}`);
      worker.postMessage({ modules, memory, control, helper: i } satisfies HelperInit);
      workers.push(worker);
    }
  } catch (e) {
    drop(String(e));
    return null;
  }
  return {
    count,
    minChunkFloats: MIN_CHUNK_FLOATS,
    start: (job) => {
      const fn = names.indexOf(job.name);
      postJob(ctl, fn, job);
      ctl[SPIN_US] = spinUs;
      offeredAt = sharedClockUs();
      for (let i = 0; i < count; i++) ctl[ENTERED_US(i)] = -1;
      if (alive && !helpersPaused && fn >= 0) for (let i = 0; i < count; i++) if (Atomics.load(ctl, LOADED(i)) > fn) wake(ctl, i);
    },
    addModules: (prefix, mods) => {
      names.push(...kernelNames(mods).map((n) => prefix + n));
      workers.forEach((w, i) => {
        w.postMessage({ add: mods });
        Atomics.add(ctl, ADDS_SENT(i), 1);
        Atomics.notify(ctl, STATE(i)); // out of Atomics.wait, back to its event loop for the message
      });
    },
    claim: () => claim(ctl),
    finish: () => {
      for (let i = 0; i < count; i++) {
        if (!awaitHelper(ctl, i, canBlock, JOB_TIMEOUT_MS)) drop(`no answer within ${JOB_TIMEOUT_MS} ms`);
        const entered = Atomics.load(ctl, ENTERED_US(i));
        if (entered >= 0) {
          // Signed 31-bit difference, at least 0: the threads' clocks may differ by a few µs.
          const d = (entered - offeredAt) & 0x7fffffff;
          jobStats.handoffs++;
          jobStats.handoffUs += d > 0x3fffffff ? 0 : d;
        }
        jobStats.helperMs += Atomics.exchange(ctl, BUSY_US(i), 0) / 1000;
        jobStats.helperSleeps += Atomics.load(ctl, SLEEPS(i)) - sleepsSeen[i];
        sleepsSeen[i] = Atomics.load(ctl, SLEEPS(i));
      }
      return doneMask(ctl);
    },
    dispose: () => {
      alive = false;
      for (const w of workers) w.terminate();
    },
  };
};

/**
 * Runs a job: this thread claims chunks alongside the helpers, then reruns whatever no one
 * completed (a dead helper's chunk: `reset(c)` first clears what it may have accumulated; a chunk
 * that trapped on a helper traps here too). Returns the number of chunks helpers ran.
 */

export function runJob(helpers: Helpers, local: (name: string, args: number[]) => void, job: Job, reset: (chunk: number) => void): number {
  helpers.start(job);
  let mine = 0;
  let helped: number;
  const started = performance.now();
  try {
    for (let c = helpers.claim(); c >= 0; c = helpers.claim()) {
      local(job.name, chunkArgs(job, c, 0));
      mine |= 1 << c;
      jobStats.callerChunks++;
    }
    jobStats.callerMs += performance.now() - started;
  } finally {
    // Even when this thread's chunk threw: the helpers' scratch must stay allocated until they leave.
    const waitStart = performance.now();
    helped = helpers.finish();
    jobStats.waitMs += performance.now() - waitStart;
  }
  let ran = 0;
  for (let c = 0; c < job.chunks.length; c++) {
    if (helped & (1 << c)) ran++;
    else if (!(mine & (1 << c))) {
      reset(c);
      local(job.name, chunkArgs(job, c, 0));
    }
  }
  jobStats.jobs++;
  jobStats.chunks += job.chunks.length;
  jobStats.helperChunks += ran;
  return ran;
}
