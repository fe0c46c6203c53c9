// Takes README screenshots of a short session: node scripts/dev/screenshot.mjs <baseUrl> <outDir>
import { launchChromium } from './chromium.mjs';
const base = process.argv[2] || 'http://localhost:4199/';
const out = process.argv[3] || '/tmp/shots';
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.goto(`${base}?trainSubset=1000&epochs=2`);
await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor();
await page.getByTestId('train').click();
await page.getByTestId('job').waitFor({ state: 'visible' });
await page.getByTestId('job').waitFor({ state: 'hidden', timeout: 300_000 });
for (const [method, pctv] of [['Random', 50], ['L1 norm', 50], ['L1 norm', 75]]) {
  await page.getByLabel(method, { exact: true }).check();
  await page.getByLabel('Remove filters (true structured)').check();
  await page.getByTestId('slider-conv1').fill(String(pctv));
  await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor();
  await page.getByTestId('finetune').click();
  await page.getByTestId('job').waitFor({ state: 'visible' });
  await page.getByTestId('job').waitFor({ state: 'hidden', timeout: 300_000 });
}
await page.screenshot({ path: `${out}/desktop.png`, fullPage: true });
await page.setViewportSize({ width: 390, height: 844 });
await page.waitForTimeout(500);
await page.screenshot({ path: `${out}/phone.png`, fullPage: true });
await browser.close();
