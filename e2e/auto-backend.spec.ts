/**
 * backend=auto measured (issue 24): after the first pruned accuracy the engine times the backends in a
 * worker of its own, shows the figures, caches the choice (IndexedDB) and starts on it next time; the
 * re-measure control times software GPUs too. Here WebGL is SwiftShader (software) and wasm wins.
 */
import { expect, test } from '@playwright/test';
import { openReady, percent, trackErrors } from './helpers';

const QUERY = '?model=convnet3&trainSubset=256&mode=remove&conv2=50';
/** "wasm 2 threads 1,234 img/s" */
const WASM_FIGURE = /wasm \d threads? [\d,]+ img\/s/;

test('auto measures after the first pruned accuracy, shows the figures, caches them, and re-measures on request', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, QUERY);
  await percent(page, 'pruned-acc');
  const figures = page.getByTestId('backend-figures');
  await expect(figures).toHaveAttribute('data-source', 'measured', { timeout: 120_000 });
  await expect(figures).toContainText(WASM_FIGURE);
  await expect(figures).toContainText('webgl software, not timed'); // software WebGL is only timed on request
  await expect(page.getByTestId('backend')).toHaveText('wasm');

  // A reload starts on the cached choice with its figures: nothing is measured again.
  await openReady(page, QUERY);
  await expect(figures).toHaveAttribute('data-source', 'cached');
  await expect(figures).toContainText(/measured before: wasm/);
  await expect(page.getByTestId('backend-reason')).toContainText('auto: the fastest measured in this browser before');
  await percent(page, 'pruned-acc');
  await expect(figures).toHaveAttribute('data-measuring', 'false');
  await expect(figures).toHaveAttribute('data-source', 'cached');

  // Re-measure: every backend, SwiftShader WebGL too; wasm stays the fastest.
  await page.getByTestId('remeasure').click();
  await expect(figures).toHaveAttribute('data-measuring', 'true');
  await expect(figures).toHaveAttribute('data-measuring', 'false', { timeout: 240_000 });
  await expect(figures).toHaveAttribute('data-source', 'measured');
  await expect(figures).toContainText(new RegExp(`${WASM_FIGURE.source} · webgl \\(software\\) [\\d,.]+`));
  console.log(`auto figures here: ${await figures.innerText()}`);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  expect(errors).toEqual([]);
});

test('a cached choice is where the engine starts: a measurement that named webgl starts the page on webgl', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?baseline=scratch');
  // What an earlier measurement in this browser would have stored (autoMeasure.ts: database, store, key).
  await page.evaluate(async () => {
    const key = `${navigator.userAgent}|convnet3|tfjs 4.22.0`;
    const record = { key, choice: 'webgl', measurements: [{ backend: 'webgl', speed: { trainImgPerSec: 5000, evalImgPerSec: 20000 } }, { backend: 'wasm', speed: { trainImgPerSec: 1000, evalImgPerSec: 9000 } }], measuredAt: 1 };
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open('pruning-playground-backend');
      open.onupgradeneeded = () => open.result.createObjectStore('auto');
      open.onsuccess = () => {
        const tx = open.result.transaction('auto', 'readwrite');
        tx.objectStore('auto').put(record, key);
        tx.oncomplete = () => {
          open.result.close();
          resolve();
        };
        tx.onerror = () => reject(tx.error);
      };
      open.onerror = () => reject(open.error);
    });
  });
  await openReady(page, QUERY);
  await expect(page.getByTestId('backend')).toHaveText('webgl');
  await expect(page.getByTestId('backend-reason')).toContainText('auto: the fastest measured in this browser before (webgl 5,000 img/s · wasm 1,000)');
  await expect(page.getByTestId('backend-figures')).toHaveAttribute('data-source', 'cached');
  expect(errors).toEqual([]);
});
