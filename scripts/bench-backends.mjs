#!/usr/bin/env node
/**
 * node scripts/bench-backends.mjs   (after `npx vite build`)
 *
 * The bench's training and inference rows on EVERY tfjs backend of this machine — wasm, webgl, webgpu,
 * cpu — for both models, so the WebGL / WebGPU paths can be measured the day a machine with a real GPU
 * is available (docs/backends.md). Serves the build with `vite preview` (COOP/COEP: wasm threads), opens
 * bench.html?backend=<name> in Chromium once per backend, and records what the browser itself reports:
 * the WebGL renderer and the WebGPU adapter, and whether they are software (SwiftShader, llvmpipe, a
 * fallback adapter). A software figure is labelled so: it says nothing about a GPU.
 *
 * GPU flags (BENCH_GPU_FLAGS, default "auto"): the e2e tests' flags (e2e/chromium-args.json) minus
 * `--use-angle=swiftshader`, plus
 *   --enable-gpu --ignore-gpu-blocklist --enable-unsafe-webgpu --use-angle=<BENCH_ANGLE>
 *   [--enable-features=Vulkan when BENCH_ANGLE=vulkan]
 * BENCH_ANGLE: `vulkan` (Linux with a Vulkan driver; the default on Linux), `gl` (Linux, desktop GL/EGL),
 * `d3d11` (Windows), `metal` (macOS), `swiftshader` (software: what this script measures on a machine
 * without a GPU). Headless Chromium on Linux needs a GPU driver the sandboxed GPU process can open
 * (/dev/dri render node for GL/Vulkan, or the NVIDIA driver); without it Chromium silently falls back to
 * SwiftShader — the report then says "software" from the renderer string, not from the flags.
 * BENCH_GPU_FLAGS="--flag1 --flag2" replaces the extra flags entirely.
 *
 * Env: BENCH_PORT (default 4181), BENCH_DIST (default dist), BENCH_BACKENDS (default wasm,webgl,webgpu,cpu),
 * BENCH_MODELS (default simplecnn,convnet3), BENCH_QUICK=1 (fewer steps), BENCH_OUT (default
 * bench/backends: writes .json and .md).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from './browser.mjs';
import { spawnPreview, waitForServer } from './preview.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PORT = Number(process.env.BENCH_PORT || 4181);
const BASE = `http://localhost:${PORT}/`;
const DIST = path.resolve(root, process.env.BENCH_DIST || 'dist');
const QUICK = process.env.BENCH_QUICK === '1';
const BACKENDS = (process.env.BENCH_BACKENDS || 'wasm,webgl,webgpu,cpu').split(',');
const MODELS = (process.env.BENCH_MODELS || 'simplecnn,convnet3').split(',');
const OUT = path.resolve(root, process.env.BENCH_OUT || 'bench/backends');
const ANGLE = process.env.BENCH_ANGLE || { linux: 'vulkan', win32: 'd3d11', darwin: 'metal' }[process.platform] || 'default';

/** The flags a real GPU needs in headless Chromium (see the file comment). */
export function gpuFlags(angle = ANGLE, override = process.env.BENCH_GPU_FLAGS) {
  const base = CHROMIUM_ARGS.filter((a) => !a.startsWith('--use-angle='));
  if (override && override !== 'auto') return [...base, ...override.split(/\s+/).filter(Boolean)];
  const extra = ['--enable-gpu', '--ignore-gpu-blocklist', '--enable-unsafe-webgpu'];
  if (angle !== 'default') extra.push(`--use-angle=${angle}`);
  if (angle === 'vulkan') extra.push('--enable-features=Vulkan');
  return [...base, ...extra];
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

/** Steps per row: software GPU backends and cpu train at a few images a second. */
function plan(backend) {
  const slow = backend !== 'wasm';
  return {
    train: { batch: 64, warmup: slow ? 1 : 3, steps: QUICK ? (slow ? 1 : 3) : slow ? 3 : 10 },
    inference: { batch: 250, warmup: 1, runs: QUICK ? 1 : slow ? 2 : 7 },
  };
}


async function measureBackend(browser, backend) {
  const page = await browser.newPage();
  const row = { backend, initialised: false };
  try {
    await page.goto(`${BASE}bench.html?backend=${backend}`);
    await page.waitForFunction(() => document.title === 'bench ready', null, { timeout: 120_000 });
    const init = await page.evaluate(() => window.bench.init());
    const sel = init.selection;
    Object.assign(row, {
      active: sel.backend,
      renderer: sel.renderer,
      reason: sel.reason,
      threads: sel.threads ?? null,
      kernels: sel.kernels?.active ?? null,
      crossOriginIsolated: init.crossOriginIsolated,
      userAgent: init.userAgent,
      webgl: init.probe,
    });
    if (sel.backend !== backend) {
      row.error = `did not initialise: ${sel.reason}`;
      return row;
    }
    row.initialised = true;
    // Software when the browser says so: the WebGL renderer / WebGPU adapter string, or the reason.
    row.software = backend === 'cpu' || backend === 'wasm' ? null : SOFTWARE.test(`${sel.renderer ?? ''} ${sel.reason}`);
    const p = plan(backend);
    row.train = {};
    row.inference = {};
    for (const model of MODELS) {
      const t = await page.evaluate((o) => window.bench.train(o), { model, optimizer: 'adam', subset: 1024, ...p.train });
      row.train[model] = { imgPerSec: t.imagesPerSecond, medianStepMs: t.medianStepMs, batch: t.batch, steps: t.steps, tensorsLeaked: t.tensorsAfter - t.tensorsBefore };
      const i = await page.evaluate((o) => window.bench.inference(o), { model, ...p.inference });
      row.inference[model] = { imgPerSec: i.imagesPerSecond, medianMs: i.medianMs, batch: i.batch };
      console.log(`${backend} ${model}: train ${t.imagesPerSecond.toFixed(1)} img/s, inference ${i.imagesPerSecond.toFixed(1)} img/s`);
    }
  } catch (e) {
    row.error = String(e?.message ?? e).split('\n')[0];
  } finally {
    await page.close();
  }
  return row;
}

function markdown(result) {
  const f = (x) => (x == null ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  const lines = [
    `# tfjs backends on ${result.machine.cpu} (${result.machine.cores} cores), ${result.date}`,
    '',
    `Chromium flags: \`${result.flags.join(' ')}\``,
    '',
    `| backend | what ran it | ${MODELS.map((m) => `train ${m} b64 img/s | inference ${m} b250 img/s`).join(' | ')} |`,
    `| --- | --- | ${MODELS.map(() => '--- | ---').join(' | ')} |`,
  ];
  for (const r of result.rows) {
    const what = !r.initialised
      ? `not available: ${r.error ?? ''}`.replace(/\|/g, '/')
      : r.backend === 'wasm'
        ? `${r.threads} thread${r.threads > 1 ? 's' : ''}, ${r.kernels} kernels`
        : r.backend === 'cpu'
          ? 'JavaScript'
          : `${r.software ? '**software** ' : ''}${r.renderer ?? ''}`.replace(/\|/g, '/');
    lines.push(`| ${r.backend} | ${what} | ${MODELS.map((m) => `${f(r.train?.[m]?.imgPerSec)} | ${f(r.inference?.[m]?.imgPerSec)}`).join(' | ')} |`);
  }
  lines.push('', 'Software GPU figures (SwiftShader and the like) measure a CPU emulating a GPU: they say nothing about a real GPU.', '');
  return lines.join('\n');
}

async function main() {
  const server = spawnPreview({ port: PORT, outDir: DIST });
  try {
    await waitForServer(BASE, 60_000);
    const flags = gpuFlags();
    const browser = await chromium.launch({ executablePath: chromiumPathOrExit(), args: flags });
    const rows = [];
    try {
      for (const backend of BACKENDS) rows.push(await measureBackend(browser, backend));
    } finally {
      await browser.close();
    }
    const result = {
      date: new Date().toISOString(),
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${process.platform} ${os.release()}`, load: os.loadavg() },
      flags,
      angle: ANGLE,
      quick: QUICK,
      rows,
    };
    writeFileSync(`${OUT}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`${OUT}.md`, markdown(result));
    console.log(markdown(result));
    console.log(`wrote ${path.relative(root, OUT)}.json and .md`);
  } finally {
    server.kill();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
