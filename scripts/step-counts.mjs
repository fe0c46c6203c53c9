#!/usr/bin/env node
/**
 * Counts per training step in the browser, under conditions that simulate other machines (issue 19):
 *
 *   node scripts/step-counts.mjs [--model convnet3] [--batch 64] [--optimizer adam] [--steps 20]
 *        [--query 'simdThreads=1&threads=1&kernels=stock'] [--pin 0] [--busy 1] [--rounds 2]
 *
 * Serves the build (BENCH_DIST or dist/, port BENCH_PORT, default 4191) with `vite preview`, opens
 * bench.html?<query> in headless Chromium and trains `steps` timed steps (after 3 warm-up steps)
 * exactly as the bench's training rows do. Around the timed steps it reads the renderer process's
 * /proc counters (page faults, context switches and CPU time by thread name) and, where `perf` can
 * attach, its system calls by kind; the page adds its own: the SIMD kernels' jobs and helper wakes,
 * and the growth of the wasm memory. Everything is printed per step.
 *
 * --pin 0: every thread of the renderer on CPU 0 (taskset, before the backend starts its threads).
 * --busy 1: a busy loop pinned to CPU 1 meanwhile (a neighbour that takes the second core).
 * Wall-clock figures from these runs are as noisy as the machine; the counts are not.
 * STEP_COUNTS_RECORD=<file>: `perf record -g` of the renderer over a bench.train call, of the event
 * STEP_COUNTS_EVENT (default page-faults; e.g. syscalls:sys_enter_madvise).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from './browser.mjs';
import { spawnPreview, waitForServer } from './preview.mjs';
import { exposeStepCounts, rendererPids } from './procCounts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'convnet3' },
    batch: { type: 'string', default: '64' },
    optimizer: { type: 'string', default: 'adam' },
    steps: { type: 'string', default: '20' },
    query: { type: 'string', default: '' },
    pin: { type: 'string' },
    busy: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
// Not 4190: it is on the fetch standard's blocked ports (sieve), so Node's fetch and Chromium refuse it.
const PORT = Number(process.env.BENCH_PORT || 4191);
const DIST = path.resolve(process.env.BENCH_DIST || path.join(root, 'dist'));

const run = (cmd, args) => new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', resolve));

async function main() {
  const server = spawnPreview({ port: PORT, outDir: DIST, config: 'bench/vite.config.ts' });
  let busy = null;
  // With STEP_COUNTS_RECORD, V8 writes /tmp/perf-<pid>.map so that perf names the JavaScript frames.
  const extra = process.env.STEP_COUNTS_RECORD ? ['--js-flags=--perf-basic-prof --interpreted-frames-native-stack'] : [];
  const browser = await chromium.launch({ executablePath: chromiumPathOrExit(), args: [...CHROMIUM_ARGS, ...extra] });
  try {
    await waitForServer(`http://localhost:${PORT}/bench.html`);
    const page = await browser.newPage();
    await page.goto(`http://localhost:${PORT}/bench.html?${a.query}`);
    await page.waitForFunction(() => window.bench != null);
    const pids = await rendererPids(browser);
    console.error(`renderer pids: ${pids.join(',')}`);
    if (a.pin != null) for (const pid of pids) await run('taskset', ['-a', '-p', '-c', a.pin, String(pid)]);
    const info = await page.evaluate(() => window.bench.init());
    if (a.busy != null) busy = spawn('taskset', ['-c', a.busy, process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' });
    const counts = await exposeStepCounts(page, browser);
    let recorder = null;
    if (process.env.STEP_COUNTS_RECORD) {
      // `perf record` of the page faults (call stacks, addresses) over a whole bench.train call.
      recorder = spawn('perf', ['record', '-e', process.env.STEP_COUNTS_EVENT || 'page-faults', '-g', '-d', '-o', process.env.STEP_COUNTS_RECORD, '-p', pids.join(',')], { stdio: 'ignore' });
    }
    const steps = Number(a.steps);
    const out = [];
    for (let r = 0; r < Number(a.rounds); r++) {
      const res = await page.evaluate((o) => window.bench.train(o), { model: a.model, batch: Number(a.batch), optimizer: a.optimizer, warmup: 3, steps });
      const c = counts.take(steps);
      const row = { query: a.query, pin: a.pin ?? null, busy: a.busy ?? null, threads: `xnnpack ${info.selection.threads} / simd ${info.simdKernel?.threads ?? '–'}`, medianStepMs: Math.round(res.medianStepMs * 10) / 10, split: res.split, perStep: c };
      out.push(row);
      if (!a.json) console.log(JSON.stringify(row));
    }
    if (a.json) console.log(JSON.stringify(out, null, 1));
    if (recorder) {
      writeFileSync(`${process.env.STEP_COUNTS_RECORD}.maps`, pids.map((p) => readFileSync(`/proc/${p}/maps`, 'utf8')).join(''));
      recorder.kill('SIGINT');
      await new Promise((res) => recorder.on('close', res));
    }
  } finally {
    busy?.kill();
    await browser.close();
    server.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
