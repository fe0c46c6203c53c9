#!/usr/bin/env node
/**
 * Where a training step's time goes on the thread that runs it (issue 19's "a bench that explains a
 * miss", at the level of functions): opens the bench page of a build, trains `model` with `optimizer`
 * for a few steps under Chromium's sampling profiler (CDP, 200 µs), and prints that thread's time per
 * step in four parts — our SIMD kernels (wasm modules built in the page), tfjs's wasm (XNNPACK and the
 * stock kernels), waiting for / handing off to our helper thread (parallel.ts), and other JavaScript
 * (tfjs's engine and tape, our kernels' set-up) — then the functions with the most self time, named by
 * the build's source maps. The helper thread's share of the split kernels is bench.train's own count.
 *
 * The profiler's figures are self time on the training thread, so they hold up under load better than
 * the step's wall time; compare two builds in alternation. The bench page trains on the page's main
 * thread, which cannot block: its wait for the helper is a spin (the app's worker sleeps instead).
 *
 *   npx vite build --sourcemap --outDir /tmp/dist-sm && PROFILE_DIST=/tmp/dist-sm node scripts/profile-step.mjs [resnet20] [sgd]
 * Env: PROFILE_DIST (build directory with source maps; default dist/, names then minified), PROFILE_PORT
 * (default 4386), PROFILE_STEPS (default 6), PROFILE_BATCH (default 64; batch 1 shows a step's fixed cost: the
 * engine, the tape, the kernels' set-up), PROFILE_QUERY (bench.html query, e.g. threads=1).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceMapConsumer } from 'source-map-js';
import { launchChromium } from './chromium.mjs';
import { spawnPreview, waitForServer } from './preview.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(process.env.PROFILE_DIST || path.join(root, 'dist'));
const PORT = Number(process.env.PROFILE_PORT || 4386);
const STEPS = Number(process.env.PROFILE_STEPS || 6);
const BATCH = Number(process.env.PROFILE_BATCH || 64);
const [model = 'resnet20', optimizer = 'sgd'] = process.argv.slice(2);

const maps = new Map();
/** `name@dir/file.ts:line` of a compiled position, from the build's source map (null without one). */
function original(url, line, column) {
  const file = url.split('/').pop();
  if (!file.endsWith('.js')) return null;
  if (!maps.has(file)) {
    try {
      maps.set(file, new SourceMapConsumer(JSON.parse(readFileSync(path.join(DIST, 'assets', `${file}.map`), 'utf8'))));
    } catch {
      maps.set(file, null);
    }
  }
  const o = maps.get(file)?.originalPositionFor({ line: line + 1, column });
  return o?.source ? `${o.name ?? ''}@${o.source.split('/').slice(-2).join('/')}:${o.line}` : null;
}

/** The part of the step a sampled frame's self time belongs to. */
function partOf(frame, where) {
  const { url, functionName } = frame;
  if (url.startsWith('wasm') || url.endsWith('.wasm')) return url.includes('tfjs-backend-wasm') ? 'tfjs wasm' : 'our kernels';
  if (functionName === 'now' || /parallel\.ts/.test(where ?? '')) return 'helper hand-off';
  if (!url) return functionName === '(idle)' ? 'idle' : 'browser';
  return 'JavaScript';
}

const server = spawnPreview({ port: PORT, outDir: DIST });
try {
  await waitForServer(`http://localhost:${PORT}/bench.html`);
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://localhost:${PORT}/bench.html?${process.env.PROFILE_QUERY ?? ''}`);
    await page.waitForFunction(() => window.bench != null, null, { timeout: 60_000 });
    const { selection } = await page.evaluate(() => window.bench.init());
    const options = { model, batch: BATCH, optimizer, warmup: 0, steps: STEPS };
    // Warm-up outside the profile (module compiles, the helper's start, the data set on the device).
    await page.evaluate((o) => window.bench.train(o), { ...options, warmup: 2, steps: 2 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    const t0 = Date.now();
    const trained = await page.evaluate((o) => window.bench.train(o), options);
    const { profile } = await cdp.send('Profiler.stop');
    const wallMs = Date.now() - t0;
    // bench.train also builds its training set on the device before the steps: not part of a step.
    const setUp = /normalisedBatch|toDevice|takeFirst/;
    const hits = new Map();
    for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
    const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
    const parts = new Map();
    const functions = new Map();
    for (const n of profile.nodes) {
      const h = hits.get(n.id) ?? 0;
      if (!h) continue;
      const where = original(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber);
      if (setUp.test(where ?? '')) continue;
      const part = partOf(n.callFrame, where);
      parts.set(part, (parts.get(part) ?? 0) + h);
      const name = where ?? `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}`;
      functions.set(`${part}: ${name}`, (functions.get(`${part}: ${name}`) ?? 0) + h);
    }
    const perStep = (h) => ((h * msPerSample) / STEPS).toFixed(1);
    console.log(`${model} b${BATCH} ${optimizer} on ${selection.backend} (${process.env.PROFILE_QUERY || 'default settings'}), ${DIST}`);
    console.log(`median step ${trained.medianStepMs.toFixed(1)} ms while profiled (${STEPS} steps, ${wallMs} ms in all); helper ran ${(100 * trained.split.helperShare).toFixed(0)} % of the split kernels' chunks, the caller waited ${trained.split.helperWaitMs.toFixed(1)} ms per step for it`);
    console.log('training thread, ms per step (self time):');
    for (const [part, h] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${perStep(h).padStart(7)}  ${part}`);
    console.log('functions with the most self time, ms per step:');
    for (const [name, h] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP || 30))) console.log(`  ${perStep(h).padStart(7)}  ${name}`);
  } finally {
    await browser.close();
  }
} finally {
  server.kill();
}
