// Measures the default recipe in the production build, in headless Chromium, on the shipped data:
//  1. trains the baseline for N epochs (Adam 1e-3, batch 64, seed 42) on train_5000: test accuracy on
//     test_1000 after each epoch, and training throughput;
//  2. prunes conv1 filters (remove mode) with Random and L1 at 50% and 90%: test accuracy before and
//     after one fine-tuning epoch, and the slider → accuracy latency seen in the page.
// Usage: npm run build && node scripts/measure-recipe.mjs [--model simplecnn|convnet3] [--epochs 10] [--backend auto] [--seed 42]
// Writes docs/measurements/recipe-[<model>-]<backend>[-seed<N>].json and prints a Markdown table.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const epochs = Number(arg('epochs', 10));
const backend = arg('backend', 'auto');
const seed = Number(arg('seed', 42));
const model = arg('model', 'simplecnn');
const firstConv = 'conv1';
const port = Number(process.env.RECIPE_PORT || 4181);
const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', ...(process.env.RECIPE_DIST ? ['--outDir', process.env.RECIPE_DIST] : [])], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 2500));
const browser = await launchChromium();
const state = (page) => page.evaluate(() => window.__playground.state());
const waitJob = async (page) => {
  await page.getByTestId('job').waitFor({ state: 'visible' });
  await page.getByTestId('job').waitFor({ state: 'hidden', timeout: 3_600_000 });
};
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('pageerror', e.message));
  await page.goto(`http://localhost:${port}/?model=${model}&baseline=scratch&epochs=${epochs}&seed=${seed}${backend === 'auto' ? '' : `&backend=${backend}`}`);
  await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor({ timeout: 120_000 });
  const backendUsed = (await state(page)).backend;
  console.error(`backend ${backendUsed.backend}: ${backendUsed.reason}`);

  const t0 = Date.now();
  await page.getByTestId('train').click();
  await waitJob(page);
  const trainSeconds = (Date.now() - t0) / 1000;
  const s = await state(page);
  const perEpoch = s.baseline.curve.filter((p) => p.testAcc !== undefined).map((p) => p.testAcc);
  const baseline = { epochs, seconds: Math.round(trainSeconds), imagesPerSecondIncludingEvaluation: Math.round((5000 * epochs) / trainSeconds), testAccuracyPerEpoch: perEpoch, testAccuracy: s.baselineEval.accuracy };
  console.error(JSON.stringify(baseline));

  await page.getByTestId('mode-remove').check();
  await page.getByTestId('method-l1').check();
  // Sensitivity at one point: 50 % of each conv layer's filters removed (L1), the others untouched, no fine-tuning.
  const convs = await page.locator('[data-testid^="slider-conv"]').evaluateAll((els) => els.map((e) => e.dataset.testid.replace('slider-', '')));
  const layer50 = {};
  for (const layer of convs) {
    for (const other of convs) await page.getByTestId(`slider-${other}`).fill(other === layer ? '50' : '0');
    await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor();
    layer50[layer] = (await state(page)).preview.reply.evaluation.accuracy;
  }
  for (const other of convs) await page.getByTestId(`slider-${other}`).fill('0');
  console.error(JSON.stringify({ layer50 }));
  const runs = [];
  for (const method of ['random', 'l1']) {
    for (const pct of [50, 90]) {
      await page.getByTestId(`method-${method}`).check();
      // Latency: from the slider change to the pruned model's accuracy on screen.
      const before = Date.now();
      await page.getByTestId(`slider-${firstConv}`).fill(String(pct));
      await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor();
      const latencyMs = Date.now() - before;
      const pre = await state(page);
      await page.getByTestId('finetune').click();
      await waitJob(page);
      const post = await state(page);
      const run = { method, conv1: pct, filtersKept: pre.preview.reply.kept[firstConv].length, prunedAccuracy: pre.preview.reply.evaluation.accuracy, finetunedAccuracy: post.finetunedEval.accuracy, workerPruneAndEvalMs: Math.round(pre.preview.reply.millis), sliderToAccuracyMs: latencyMs };
      runs.push(run);
      console.error(JSON.stringify(run));
    }
  }
  const result = { date: new Date().toISOString(), model, seed, backend: backendUsed, baseline, layer50, runs };
  mkdirSync('docs/measurements', { recursive: true });
  writeFileSync(`docs/measurements/recipe-${model === 'simplecnn' ? '' : `${model}-`}${backendUsed.backend}${seed === 42 ? '' : `-seed${seed}`}.json`, JSON.stringify(result, null, 2) + '\n');
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  console.log(`Baseline (${backendUsed.backend}): ${epochs} epochs in ${baseline.seconds} s, ${baseline.imagesPerSecondIncludingEvaluation} img/s incl. per-epoch evaluation; test accuracy ${pct(baseline.testAccuracy)} (per epoch: ${perEpoch.map(pct).join(', ')})`);
  console.log(`50 % of one layer removed (L1, no fine-tuning): ${Object.entries(layer50).map(([l, a]) => `${l} ${pct(a)}`).join(', ')}`);
  console.log('\n| method | conv1 pruned | filters kept | accuracy after pruning | after 1 fine-tune epoch | slider → accuracy (ms) |\n|---|---|---|---|---|---|');
  for (const r of runs) console.log(`| ${r.method} | ${r.conv1}% | ${r.filtersKept} | ${pct(r.prunedAccuracy)} | ${pct(r.finetunedAccuracy)} | ${r.sliderToAccuracyMs} (worker ${r.workerPruneAndEvalMs}) |`);
} finally {
  await browser.close();
  server.kill();
}
