// Makes the pretrained baselines the page starts from (public/models/): for each model, the default
// recipe — Adam 1e-3, batch 64, 10 epochs, seed 42, on the shipped train_5000 — trained in the
// production build, in headless Chromium, on the default backend, exactly as a user's click on Train
// would. Writes <model>.safetensors (PyTorch names and layout) and manifest.json (recipe, backend, test
// accuracy on test_1000, SHA-256 of the file). Usage: npm run pretrain [-- --models simplecnn,convnet3]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchChromium } from './chromium.mjs';
import { spawnPreview, waitForServer } from './preview.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const models = arg('models', 'simplecnn,convnet3').split(',');
const recipe = { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: Number(arg('epochs', 10)), seed: Number(arg('seed', 42)), train: 'train_5000.bin' };
const port = Number(process.env.PRETRAIN_PORT || 4182);
const outDir = path.join(root, 'public/models');
const manifestPath = path.join(outDir, 'manifest.json');

const server = spawnPreview({ port });
const browser = await launchChromium();
try {
  await waitForServer(`http://localhost:${port}/`, 20_000);
  mkdirSync(outDir, { recursive: true });
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { version: 1, models: {} };
  for (const model of models) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('pageerror', e.message));
    const q = `model=${model}&baseline=scratch&seed=${recipe.seed}&epochs=${recipe.epochs}&batch=${recipe.batchSize}&lr=${recipe.learningRate}&opt=${recipe.optimizer}`;
    await page.goto(`http://localhost:${port}/?${q}`);
    await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor({ timeout: 120_000 });
    const backend = (await page.evaluate(() => window.__playground.state().backend)).backend;
    const t0 = Date.now();
    await page.getByTestId('train').click();
    await page.getByTestId('job').waitFor({ state: 'visible' });
    await page.getByTestId('job').waitFor({ state: 'hidden', timeout: 3_600_000 });
    const seconds = (Date.now() - t0) / 1000;
    const s = await page.evaluate(() => window.__playground.state());
    if (s.baseline.origin.epochs !== recipe.epochs) throw new Error(`${model}: trained ${s.baseline.origin.epochs} epochs, expected ${recipe.epochs}`);
    const testAccuracy = s.baselineEval.accuracy;
    const metadata = { recipe: JSON.stringify(recipe), backend, testAccuracy: String(testAccuracy), epochs: String(recipe.epochs), seed: String(recipe.seed) };
    const bytes = Buffer.from(await page.evaluate((m) => window.__playground.baselineFile(m), metadata));
    const file = `${model}.safetensors`;
    writeFileSync(path.join(outDir, file), bytes);
    manifest.models[model] = {
      model,
      file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      recipe,
      seed: recipe.seed,
      epochs: recipe.epochs,
      backend,
      testAccuracy,
      trainingSeconds: Math.round(seconds),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    console.log(`${model}: ${recipe.epochs} epochs on ${backend} in ${Math.round(seconds)} s, test accuracy ${(testAccuracy * 100).toFixed(1)} % → public/models/${file} (${bytes.length.toLocaleString('en-US')} bytes)`);
    await page.close();
  }
} finally {
  await browser.close();
  server.kill();
}

