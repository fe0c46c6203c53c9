#!/usr/bin/env node
/**
 * Where the page's main thread spends its time while the app trains (issue 19: the longest main-thread
 * task while the app trains). Serves the build (dist/) with `vite preview`, opens the page the bench's
 * app-training-longtask row opens (`?model=<m>&trainSubset=2000&epochs=2&view=data`), clicks Train and
 * records a CDP CPU profile of the main thread until the job ends. Prints the main thread's busy time
 * per second of training (samples that are not idle), split by where the self time is (React, recharts,
 * the app's own code, the browser's GC / layout), and the top functions.
 *
 * CPU-time figures hold under load (a loaded machine stretches a task's wall time, not the work in it),
 * so they compare two builds better than the bench's wall-clock gaps.
 *
 *   node scripts/profile-app-training.mjs [simplecnn|convnet3 ...]
 * Env: PROFILE_PORT (default 4385), PROFILE_SUBSET (default 2000), PROFILE_JSON (write the figures), PROFILE_DIST
 * (another build's directory, e.g. `npx vite build --minify false --outDir /tmp/dist-named` for readable names).
 */
import { writeFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';
import { spawnPreview, waitForServer } from './preview.mjs';

const PORT = Number(process.env.PROFILE_PORT || 4385);
const BASE = `http://localhost:${PORT}/`;
const SUBSET = Number(process.env.PROFILE_SUBSET || 2000);
const models = process.argv.slice(2).length ? process.argv.slice(2) : ['simplecnn', 'convnet3'];

/** Which part of the page a function's self time belongs to, from its script URL and name. */
function bucketOf(frame) {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'browser (program)';
  if (functionName === '(garbage collector)') return 'gc';
  if (!url) return `native ${functionName || '(anonymous)'}`;
  return `script ${url.replace(/^.*\/assets\//, '').replace(/-[\w-]{8}\.js$/, '.js')}`;
}

async function profileOne(browser, model) {
  const page = await browser.newPage();
  await page.goto(new URL(`./?model=${model}&trainSubset=${SUBSET}&epochs=2&view=data`, BASE).href);
  await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor({ timeout: 180_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const m0 = await metrics();
  await cdp.send('Profiler.start');
  const t0 = Date.now();
  await page.getByTestId('train').click();
  await page.getByTestId('job').waitFor({ state: 'visible' });
  await page.getByTestId('job').waitFor({ state: 'hidden', timeout: 900_000 });
  const seconds = (Date.now() - t0) / 1000;
  const { profile } = await cdp.send('Profiler.stop');
  const m1 = await metrics();
  const points = await page.evaluate(() => window.__playground.state().baseline.curve.length);
  await page.close();

  // Self time per node from the samples (timeDeltas[i] is the time before sample i).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const buckets = new Map();
  const fns = new Map();
  let busy = 0;
  for (const [id, ms] of self) {
    const f = byId.get(id).callFrame;
    const b = bucketOf(f);
    buckets.set(b, (buckets.get(b) ?? 0) + ms);
    if (b === 'idle') continue;
    busy += ms;
    const key = `${f.functionName || '(anonymous)'} ${bucketOf(f).replace(/^script /, '')}:${f.lineNumber}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  profile.samples.forEach((id, i) => {
    if (byId.get(id).callFrame.functionName === '(idle)') return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const seen = new Set();
    for (let n = id; n != null; n = parent.get(n)) {
      const f = byId.get(n).callFrame;
      if (f.functionName === '(root)') continue;
      const key = `${f.functionName || '(anonymous)'} ${bucketOf(f).replace(/^script /, '')}:${f.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + ms);
    }
  });
  // Render time by component (readable with an unminified build): the frame renderWithHooks calls.
  const components = new Map();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const seen = new Set();
    let child = null;
    for (let n = id; n != null; child = n, n = parent.get(n)) {
      if (byId.get(n).callFrame.functionName !== 'renderWithHooks' || child == null) continue;
      const name = byId.get(child).callFrame.functionName || '(anonymous)';
      if (!seen.has(name)) components.set(name, (components.get(name) ?? 0) + ms);
      seen.add(name);
    }
  });
  const d = (k) => (m1[k] - m0[k]) * 1000;
  const perS = (ms) => Number((ms / seconds).toFixed(1));
  return {
    model,
    seconds,
    points,
    busyMsPerS: perS(busy),
    metricsMsPerS: { task: perS(d('TaskDuration')), script: perS(d('ScriptDuration')), layout: perS(d('LayoutDuration')), style: perS(d('RecalcStyleDuration')) },
    buckets: [...buckets].filter(([b]) => b !== 'idle').sort((a, b) => b[1] - a[1]).slice(0, 12).map(([b, ms]) => [b, perS(ms)]),
    inclusive: [...incl].sort((a, b) => b[1] - a[1]).slice(0, 60).map(([f, ms]) => [f, perS(ms)]),
    components: [...components].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([f, ms]) => [f, perS(ms)]),
    top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([f, ms]) => [f, perS(ms)]),
  };
}


const server = spawnPreview({ port: PORT, outDir: process.env.PROFILE_DIST || null });
try {
  await waitForServer(BASE, 120_000);
  const browser = await launchChromium();
  const results = [];
  for (const model of models) {
    const r = await profileOne(browser, model);
    results.push(r);
    console.log(`\n${model}: ${r.seconds.toFixed(1)} s of training, ${r.points} curve points`);
    console.log(`  main thread busy (profile samples, not idle): ${r.busyMsPerS} ms per second of training`);
    console.log(`  CDP Performance metrics, ms per second: ${JSON.stringify(r.metricsMsPerS)}`);
    console.log('  self time by where, ms per second:');
    for (const [b, v] of r.buckets) console.log(`    ${String(v).padStart(7)}  ${b}`);
    if (process.env.PROFILE_INCLUSIVE) {
      console.log('  top functions (inclusive), ms per second:');
      for (const [f, v] of r.inclusive) console.log(`    ${String(v).padStart(7)}  ${f}`);
    }
    console.log('  render time by component (inclusive of its hooks, not its children), ms per second:');
    for (const [f, v] of r.components) console.log(`    ${String(v).padStart(7)}  ${f}`);
    console.log('  top functions (self), ms per second:');
    for (const [f, v] of r.top) console.log(`    ${String(v).padStart(7)}  ${f}`);
  }
  await browser.close();
  if (process.env.PROFILE_JSON) writeFileSync(process.env.PROFILE_JSON, JSON.stringify(results, null, 2));
} finally {
  server.kill();
}
