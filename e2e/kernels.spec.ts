/**
 * The custom kernels' kill switch (issue 18): `?kernels=stock` runs tfjs's own kernels, says so in the
 * backend line, and prunes and fine-tunes the pretrained ConvNet-3 to the figures the custom kernels give.
 */
import { type Page, expect, test } from '@playwright/test';
import { TRAINED_ABOVE, fineTune, historyRows, openReady, percent, trackErrors } from './helpers';

const QUERY = '?model=convnet3&baseline=pretrained&trainSubset=256&method=l1&mode=remove&conv2=50';

/** Prunes (the link's settings) and fine-tunes one epoch; the figures of the history row. */
async function pruneAndFineTune(page: Page): Promise<{ pruned: number; finetuned: number }> {
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  await expect(page.getByTestId('fig-params')).toHaveText('22,394');
  await expect(page.getByTestId('fig-macs')).toHaveText('1,632,256');
  const pruned = await percent(page, 'pruned-acc');
  await fineTune(page);
  const finetuned = await percent(page, 'finetuned-acc');
  await expect(page.getByTestId('finetune-curve')).toHaveAttribute('data-points', '4');
  const cells = historyRows(page).first().locator('td');
  await expect(cells.nth(5)).toHaveText('16 · 16 · 64');
  await expect(cells.nth(6)).toHaveText('22,394');
  await expect(cells.nth(7)).toHaveText('1,632,256');
  await expect(cells.nth(9)).toHaveText(`${pruned.toFixed(1)}%`);
  await expect(cells.nth(10)).toHaveText(`${finetuned.toFixed(1)}%`);
  return { pruned, finetuned };
}

test('kernels=stock: the backend line says stock tfjs kernels, and pruning + fine-tuning ConvNet-3 gives the custom kernels’ figures', async ({ page, browser }) => {
  const errors = trackErrors(page);
  await openReady(page, `${QUERY}&kernels=stock`);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await expect(page.getByTestId('kernels')).toHaveText('stock tfjs kernels');
  await expect(page.getByTestId('kernels-reason')).toContainText('kernels=stock');
  // The threaded wasm build needs a loader fix written for tfjs 4.22: stock runs the single-threaded one.
  await expect(page.getByTestId('backend-reason')).toContainText('single thread');
  const baseline = await page.getByTestId('baseline-acc').innerText();
  const stock = await pruneAndFineTune(page);
  expect(stock.finetuned).toBeGreaterThan(TRAINED_ABOVE);
  // The link keeps the switch; a link without it gets the custom kernels.
  await page.getByTestId('copy-link').click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('kernels=stock');
  expect(errors).toEqual([]);

  // The same link with the custom kernels, in a fresh context (no saved work carried over).
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL, permissions: ['clipboard-read', 'clipboard-write'] });
  const other = await context.newPage();
  const otherErrors = trackErrors(other);
  await openReady(other, QUERY);
  await expect(other.getByTestId('kernels')).toHaveText('custom kernels');
  await expect(other.getByTestId('kernels-reason')).toHaveCount(0);
  await expect(other.getByTestId('baseline-acc')).toHaveText(baseline);
  const custom = await pruneAndFineTune(other);
  // Evaluation is the same computation to float noise: the same pruned accuracy to the shown 0.1 %.
  expect(custom.pruned).toBe(stock.pruned);
  // Four seeded training steps on either kernel set: float-level differences only.
  expect(Math.abs(custom.finetuned - stock.finetuned)).toBeLessThanOrEqual(0.5);
  expect(otherErrors).toEqual([]);
  await context.close();
});

test('a bad kernels value gets a notice and the custom kernels', async ({ page }) => {
  await openReady(page, '?baseline=scratch&trainSubset=256&kernels=fast');
  await expect(page.getByTestId('notice').filter({ hasText: 'kernels=fast is not one of custom, stock; using custom.' })).toBeVisible();
  await expect(page.getByTestId('kernels')).toHaveText('custom kernels');
});
