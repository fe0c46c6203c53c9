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
    const g = (byName[t.name] ??= { threads: 0, ...Object.fromEntries(FIELDS.map((k) => [k, 0])) });
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
