/**
 * Load-independent counts of what a browser process does over a window (issue 19): page faults,
 * context switches and CPU time from /proc (per thread, grouped by thread name), and — when Linux
 * `perf` can attach (perf_event_paranoid ≤ 2 for one's own processes) — system calls by kind.
 * These transfer between machines of the same kind where wall-clock times do not: a hypervisor
 * changes what each futex wake or page fault costs, not how many there are.
 *
 * Used by scripts/bench.mjs around the timed steps of every training row (bench.train calls the
 * page's `__benchCounts('start' | 'end')` hook, exposed with page.exposeFunction).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100 on Linux: /proc times are in 10 ms ticks

/** The pids of the browser's renderer processes (Chromium's SystemInfo over CDP), [] when unknown. */
export async function rendererPids(browser) {
  try {
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    await cdp.detach();
    return processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  } catch {
    return [];
  }
}

/** Per-thread counters of process `pid` from /proc (null when the process is gone). */
export function threadSnapshot(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const threads = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const num = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      threads.push({
        tid: Number(tid),
        name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        minflt: Number(f[7]),
        majflt: Number(f[9]),
        utimeMs: Number(f[11]) * TICK_MS,
        stimeMs: Number(f[12]) * TICK_MS,
        voluntary: num('voluntary_ctxt_switches'),
        involuntary: num('nonvoluntary_ctxt_switches'),
      });
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return threads;
}

const FIELDS = ['minflt', 'majflt', 'utimeMs', 'stimeMs', 'voluntary', 'involuntary'];

/**
 * What changed between two snapshots of the same pids, in total and by thread name (Chromium's
 * names: "CrRendererMain" the page's main thread, "DedicatedWorker" workers — our SIMD helper,
 * XNNPACK's pool threads, the app's engine worker —, "V8 DefaultWorke" the GC's helpers, …).
 * Threads that started within the window count from zero.
 */
export function threadDelta(before, after) {
  const total = Object.fromEntries(FIELDS.map((k) => [k, 0]));
  const byName = {};
  const prev = new Map(before.map((t) => [t.tid, t]));
  for (const t of after) {
    const p = prev.get(t.tid);
    const d = Object.fromEntries(FIELDS.map((k) => [k, t[k] - (p ? p[k] : 0)]));
    if (FIELDS.every((k) => d[k] === 0)) continue;
    // Workers one by one (in order of creation): the wasm backend's XNNPACK pool threads start with
    // the backend, the SIMD kernels' helper after them.
    const key = t.name === 'DedicatedWorker' ? `DedicatedWorker#${t.tid}` : t.name;
    const g = (byName[key] ??= { threads: 0, ...Object.fromEntries(FIELDS.map((k) => [k, 0])) });
    g.threads++;
    for (const k of FIELDS) {
      g[k] += d[k];
      total[k] += d[k];
    }
  }
  return { total, byName };
}

/** System calls and scheduler events counted by `perf stat` (tracepoints), by kind. */
const PERF_EVENTS = [
  'raw_syscalls:sys_enter',
  'syscalls:sys_enter_futex',
  'syscalls:sys_enter_mmap',
  'syscalls:sys_enter_munmap',
  'syscalls:sys_enter_madvise',
  'syscalls:sys_enter_mprotect',
  'syscalls:sys_enter_sched_yield',
  'page-faults',
  'context-switches',
  'cpu-migrations',
];

let perfUsable = null;
/** Whether `perf stat` can count tracepoints here (tried once). */
export function perfAvailable() {
  if (perfUsable == null) {
    const r = spawnSync('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '--', 'true'], { encoding: 'utf8' });
    perfUsable = r.status === 0 && /raw_syscalls:sys_enter/.test(r.stderr) && !/not supported|<not counted>/.test(r.stderr);
  }
  return perfUsable;
}

/**
 * Starts `perf stat` on the pids (every thread, threads started later included); stop() resolves
 * with { event: count } (null when perf is unusable or failed).
 */
export function startSyscallCount(pids) {
  if (!pids.length || !perfAvailable()) return { stop: async () => null };
  const p = spawn('perf', ['stat', '-x,', '-e', PERF_EVENTS.join(','), '-p', pids.join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise((resolve) => p.on('close', () => resolve()));
  return {
    async stop() {
      p.kill('SIGINT');
      await done;
      const counts = {};
      for (const line of err.split('\n')) {
        const [value, , event] = line.split(',');
        if (event && /^\d+$/.test(value)) counts[event.replace(/^(raw_)?syscalls:sys_enter_?/, '') || 'all'] = Number(value);
      }
      if (counts.sys_enter != null) {
        counts.all = counts.sys_enter;
        delete counts.sys_enter;
      }
      return Object.keys(counts).length ? counts : null;
    },
  };
}

/**
 * Gives the page a `__benchCounts('start' | 'end')` hook (bench.train calls it around its timed
 * steps) that records the renderers' counters, perf's system calls and the page's own counts
 * (window.bench.pageCounts) over that window. take(steps) returns them per step (null if no window).
 */
export async function exposeStepCounts(page, browser) {
  let open = null;
  let last = null;
  await page.exposeFunction('__benchCounts', async (phase) => {
    if (phase === 'start') {
      const pids = await rendererPids(browser);
      const perf = startSyscallCount(pids);
      if (perfAvailable()) await new Promise((r) => setTimeout(r, 300)); // perf attaches
      open = { pids, perf, before: pids.flatMap((p) => threadSnapshot(p) ?? []), page: await page.evaluate(() => window.bench.pageCounts()) };
    } else if (open) {
      const after = open.pids.flatMap((p) => threadSnapshot(p) ?? []);
      const pageAfter = await page.evaluate(() => window.bench.pageCounts());
      last = { threads: threadDelta(open.before, after), syscalls: await open.perf.stop(), page: Object.fromEntries(Object.entries(pageAfter).map(([k, v]) => [k, v - open.page[k]])) };
      open = null;
    }
  });
  return {
    take(steps) {
      const w = last;
      last = null;
      if (!w) return null;
      const per = (x) => (x == null ? null : Math.round((x / steps) * 10) / 10);
      const t = w.threads.total;
      return {
        pageFaults: per(t.minflt + t.majflt),
        voluntarySwitches: per(t.voluntary),
        involuntarySwitches: per(t.involuntary),
        userMs: per(t.utimeMs),
        sysMs: per(t.stimeMs),
        syscalls: w.syscalls ? Object.fromEntries(Object.entries(w.syscalls).map(([k, v]) => [k, per(v)])) : null,
        page: Object.fromEntries(Object.entries(w.page).map(([k, v]) => [k, per(v)])),
        byThread: Object.fromEntries(Object.entries(w.threads.byName).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, f === 'threads' ? x : per(x)]))])),
      };
    },
  };
}

/** One line for a bench row: the per-step counts that transfer between machines. */
export function fmtCounts(c) {
  if (!c) return 'counts: not measured';
  const s = c.syscalls;
  const p = c.page;
  return (
    `per step: ${c.pageFaults} page faults, ${c.voluntarySwitches} + ${c.involuntarySwitches} context switches (voluntary + preempted), ` +
    (s ? `${s.all} syscalls (${s.futex} futex, ${s.madvise + s.munmap + s.mmap + s.mprotect} mmap/munmap/madvise/mprotect), ` : 'syscalls not measured (no perf), ') +
    `${p.simdJobs} SIMD jobs, ${p.helperWakes} offered to the helper, ${p.handoffs} entered (${p.handoffs ? Math.round(p.handoffUs / p.handoffs) : '–'} µs from offer to entry), ${p.helperSleeps} helper sleeps (futex wakes), ${p.callerBlocks} blocking waits, wasm memory +${Math.round(p.wasmMemoryBytes / 1024)} KB, ` +
    `CPU ${c.userMs} ms user + ${c.sysMs} ms system (10 ms ticks)`
  );
}
