// README screenshots and the comparison figure, from the production build in headless Chromium:
//   docs/screenshot.png, docs/screenshot-phone.png — the pretrained SimpleCNN, three removal runs
//   docs/comparison.png (+ docs/measurements/comparison-simplecnn.{csv,txt}) — the method comparison on
//     the pretrained SimpleCNN: 25/50/75/90 % of conv1 removed, Random / L1 / L2, 3 seeds, 1 fine-tuning
//     epoch on the first 1,000 training images
//   docs/sensitivity-convnet3.png — ConvNet-3's layer sensitivity scan
//   docs/screenshots/<view>-desktop.png (1280×800) and <view>-phone.png (390×844) — every view (issue 23),
//     the pretrained ConvNet-3 with conv2 half removed (seed 42), the first screen of each view
// Usage: npm run build && node scripts/screenshot.mjs [baseUrl] [all|page|comparison|sensitivity|views]
//   (serve dist/ first, e.g. npx vite preview --port 4199)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';

const base = process.argv[2] || 'http://localhost:4199/';
const only = process.argv[3] || 'all';
mkdirSync('docs/measurements', { recursive: true });
const browser = await launchChromium();
const waitJob = async (page, timeout = 600_000) => {
  await page.getByTestId('job').first().waitFor({ state: 'visible' });
  await page.getByTestId('job').first().waitFor({ state: 'hidden', timeout });
};

if (only === 'all' || only === 'page') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto(`${base}?trainSubset=1000&mode=remove`);
  await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor({ timeout: 60_000 });
  for (const [method, pctv] of [['random', 50], ['l1', 50], ['l1', 75]]) {
    await page.getByTestId(`method-${method}`).check();
    await page.getByTestId('slider-conv1').fill(String(pctv));
    await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor();
    await page.getByTestId('finetune').click();
    await waitJob(page);
  }
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'docs/screenshot-phone.png', fullPage: true });
  await page.close();
}

if (only === 'all' || only === 'comparison') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto(`${base}?mode=remove`);
  await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor({ timeout: 60_000 });
  await page.getByTestId('sweep-sparsities').fill('25, 50, 75, 90');
  await page.getByTestId('sweep-seeds').fill('3');
  await page.getByTestId('sweep-epochs').fill('1');
  await page.getByTestId('sweep-subset').fill('1000');
  const t0 = Date.now();
  await page.getByTestId('sweep-run').click();
  await page.getByTestId('sweep-export-csv').waitFor({ timeout: 3_600_000 });
  const seconds = Math.round((Date.now() - t0) / 1000);
  await page.getByTestId('comparison').screenshot({ path: 'docs/comparison.png' });
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-export-csv').click()]);
  writeFileSync('docs/measurements/comparison-simplecnn.csv', readFileSync(await csv.path()));
  const table = await page.getByTestId('sweep-table').innerText();
  writeFileSync('docs/measurements/comparison-simplecnn.txt', `${seconds} s in the page\n${table}\n`);
  console.log(`comparison: ${seconds} s\n${table}`);
  await page.close();
}

if (only === 'all' || only === 'sensitivity') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}?model=convnet3&mode=remove`);
  await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor({ timeout: 60_000 });
  await page.getByTestId('sensitivity-run').click();
  await page.getByTestId('sensitivity-export-csv').waitFor({ timeout: 3_600_000 });
  await page.getByTestId('sensitivity').screenshot({ path: 'docs/sensitivity-convnet3.png' });
  console.log(`sensitivity (ConvNet-3): ${await page.getByTestId('sensitivity-seconds').innerText()}`);
  await page.close();
}
if (only === 'all' || only === 'views') {
  // The pretrained ConvNet-3 (shipped, seeded), conv2 half removed by L1: the prune loop with a group to light.
  const link = `${base}?model=convnet3&mode=remove&method=l1&conv2=50`;
  mkdirSync('docs/screenshots', { recursive: true });
  const views = ['prune', 'data', 'experiments', 'inspect', 'work', 'article'];
  for (const [device, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.log('pageerror', e.message));
    for (const view of views) {
      await page.goto(view === 'prune' ? link : `${link}&view=${view}`);
      await page.getByTestId(`view-${view}`).waitFor();
      if (view === 'prune') await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor({ timeout: 120_000 });
      if (view === 'data') await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor({ timeout: 120_000 });
      if (view === 'inspect') await page.getByTestId('top3-pruned').locator('li').first().waitFor({ timeout: 120_000 });
      for (const n of await page.getByTestId('dismiss-notice').all()) await n.click(); // "restored your saved work" etc.
      // Desktop: light conv2's dependency group, as hovering a channel does (on a phone it is below the first screen).
      if (view === 'prune' && device === 'desktop') await page.getByTestId('net-block-conv2').locator('rect.stripe').nth(3).hover();
      await page.waitForTimeout(800); // charts size themselves after a frame
      const path = `docs/screenshots/${view}-${device}.png`;
      await page.screenshot({ path });
      console.log(path);
    }
    await context.close();
  }
}
await browser.close();
