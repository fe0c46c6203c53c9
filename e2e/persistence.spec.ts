import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { gotoView, trackErrors } from './helpers';

const manifest = JSON.parse(readFileSync(new URL('../public/models/manifest.json', import.meta.url), 'utf8'));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

test('a fresh page starts from the pretrained baseline: the manifest’s accuracy, no training', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./');
  const m = manifest.models.simplecnn;
  await expect(page.getByTestId('baseline-acc')).toHaveText(pct(m.testAccuracy));
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-kind', 'pretrained');
  await expect(page.getByTestId('baseline-origin')).toContainText(`pretrained SimpleCNN: ${m.epochs} epochs, seed ${m.seed}`);
  await expect(page.getByTestId('baseline-origin')).toContainText('Train from scratch');
  await gotoView(page, 'data');
  await expect(page.getByTestId('train')).toHaveText('Train more');
  expect(errors).toEqual([]);
});

test('a link with a pruning setting shows the pruned accuracy with no training click', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?conv1=50&mode=remove&method=l1');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 30_000 });
  const pruned = await page.getByTestId('pruned-acc').innerText();
  const baseline = await page.getByTestId('baseline-acc').innerText();
  expect(parseFloat(pruned)).toBeGreaterThan(15); // a trained network, pruned: well above chance
  expect(pruned).not.toBe(baseline);
  await expect(page.getByTestId('fig-filters')).toHaveText('32');
  expect(errors).toEqual([]);
});

test('a run, then a reload: the same history and baseline come back', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?conv1=50&mode=remove&method=l1&trainSubset=256');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/%$/, { timeout: 30_000 });
  await page.getByTestId('finetune').click();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
  await expect(page.getByTestId('history').locator('tbody tr')).toHaveCount(1);
  const row = await page.getByTestId('history').locator('tbody tr').first().innerText();
  const baseline = await page.getByTestId('baseline-acc').innerText();
  await page.evaluate(() => (window as unknown as { __playground: { flushSaves: () => Promise<void> } }).__playground.flushSaves());
  await page.reload();
  await expect(page.getByTestId('history').locator('tbody tr')).toHaveCount(1);
  expect(await page.getByTestId('history').locator('tbody tr').first().innerText()).toBe(row);
  await expect(page.getByTestId('baseline-acc')).toHaveText(baseline);
  await expect(page.getByTestId('notice').filter({ hasText: 'Restored your saved work' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('save → forget → open restores the same accuracies; a corrupted file is named and loses nothing', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?conv1=25&mode=mask&method=l2&trainSubset=256');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/%$/, { timeout: 30_000 });
  await page.getByTestId('finetune').click();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
  // The row's control is fine-tuned after the run: read the row once it has its figure (seen 'computing…' once).
  await expect(page.getByTestId('history').locator('tbody tr').first()).not.toContainText('computing', { timeout: 120_000 });
  const finetuned = await page.getByTestId('history').locator('tbody tr').first().innerText();
  const baseline = await page.getByTestId('baseline-acc').innerText();
  await gotoView(page, 'work');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-experiment').click()]);
  const file = readFileSync(await download.path());
  expect(download.suggestedFilename()).toMatch(/^pruning-experiment-simplecnn-.*\.zip$/);

  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('forget-saved').click();
  await expect(page.getByTestId('notice').filter({ hasText: 'Saved work forgotten' })).toBeVisible();
  await page.goto('./?baseline=scratch');
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-kind', 'scratch');
  await expect(page.getByTestId('history')).toHaveCount(0);
  // read once evaluated: under load the clean-clone CI read '…' here once
  await expect(page.getByTestId('baseline-acc')).toHaveText(/%$/, { timeout: 30_000 });
  const scratchAcc = await page.getByTestId('baseline-acc').innerText();

  // A damaged copy: the page names the file and the problem, and keeps what it had.
  await gotoView(page, 'work');
  await page.getByTestId('open-experiment').setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: file.subarray(0, 1000) });
  await expect(page.getByTestId('notice').filter({ hasText: 'broken.zip: ' })).toContainText('Nothing was changed');
  await gotoView(page, 'prune');
  await expect(page.getByTestId('baseline-acc')).toHaveText(scratchAcc);

  await gotoView(page, 'work');
  await page.getByTestId('open-experiment').setInputFiles({ name: 'class.zip', mimeType: 'application/zip', buffer: file });
  await expect(page.getByTestId('notice').filter({ hasText: 'Opened class.zip' })).toBeVisible();
  await gotoView(page, 'prune');
  await expect(page.getByTestId('baseline-acc')).toHaveText(baseline);
  await expect(page.getByTestId('history').locator('tbody tr')).toHaveCount(1);
  expect(await page.getByTestId('history').locator('tbody tr').first().innerText()).toBe(finetuned);
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-kind', 'file');
  expect(errors).toEqual([]);
});
