// Trains the default recipe (Adam 1e-3, batch 64, seed 42) for 10 epochs on train_5000 in the
// production build, in headless Chromium, and prints test accuracy on test_1000 after each epoch
// plus the training throughput. Usage: npm run build && node scripts/baseline-accuracy.mjs [backend] [epochs]
import { spawn } from 'node:child_process';
import { chromium } from '@playwright/test';

const backend = process.argv[2] || 'auto';
const epochs = Number(process.argv[3] || 10);
const port = 4181;
const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 2500));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${port}/?epochs=${epochs}${backend === 'auto' ? '' : `&backend=${backend}`}`);
  await page.getByTestId('baseline-acc').filter({ hasText: '%' }).waitFor({ timeout: 120_000 });
  const used = await page.getByTestId('backend').innerText();
  const t0 = Date.now();
  await page.getByTestId('train').click();
  await page.getByTestId('job').waitFor({ state: 'visible' });
  let last = '';
  for (;;) {
    if (!(await page.getByTestId('job').isVisible())) break;
    const txt = await page.getByTestId('job').innerText().catch(() => '');
    const ep = txt.match(/epoch (\d+) of/)?.[1];
    if (ep && ep !== last) {
      last = ep;
      console.log(`${new Date().toISOString()} ${txt.split('\n')[0]}`);
    }
    await page.waitForTimeout(2000);
  }
  const seconds = (Date.now() - t0) / 1000;
  const acc = await page.getByTestId('baseline-acc').innerText();
  const images = 5000 * epochs;
  console.log(JSON.stringify({ backend: used, epochs, seconds: Math.round(seconds), imagesPerSecond: Math.round(images / seconds), testAccuracy: acc }));
} finally {
  await browser.close();
  server.kill();
}
