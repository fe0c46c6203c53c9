import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { TRAINED_ABOVE, fineTune, gotoView, openReady, percent, setSlider, tensorCount, trackErrors, trainBaseline } from './helpers';

test('prune 50% of conv1 filters by L1 norm, removed; fine-tune; history; share link', async ({ page, context }) => {
  const errors = trackErrors(page);
  await openReady(page, '?baseline=scratch&trainSubset=256');

  // A short baseline: one epoch on 256 images, clearly above the untrained network's chance level.
  const untrained = await percent(page, 'baseline-acc');
  const trained = await trainBaseline(page);
  expect(trained).toBeGreaterThan(TRAINED_ABOVE);
  expect(trained).not.toBe(untrained);
  const baseline = await page.getByTestId('baseline-acc').innerText();

  await page.getByTestId('method-l1').check();
  await page.getByTestId('mode-remove').check();
  await setSlider(page, 'slider-conv1', 50);
  await expect(page.getByTestId('detail-conv1')).toHaveText('32 of 64 filters removed · 32 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('32');
  await expect(page.getByTestId('fig-params')).toHaveText('328,586');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('328,586');
  await expect(page.getByTestId('fig-macs')).toHaveText('1,212,416');
  await expect(page.getByTestId('fig-size')).toHaveText('1.25 MiB');
  await expect(page.getByTestId('filter-grid-conv1')).toHaveAttribute('data-kept', '32');
  await expect(page.getByTestId('what-changed')).toContainText('32 filters, and fc1 reads 32,768 inputs instead of 65,536. 328,576 parameters are gone');
  const removed = await percent(page, 'pruned-acc');

  // Mask mode keeps the shape: only conv1's 32·27 weights become zero.
  await page.getByTestId('mode-mask').check();
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('656,298');
  await expect(page.getByTestId('what-changed')).toContainText('Masks zero 864 of 657,162 parameters');
  await expect(page.getByTestId('what-changed')).toContainText('fc1 holds 99.7%');
  await page.getByTestId('mode-remove').check();
  // Back to the same pruned network: the same accuracy (pruning starts from the untouched baseline).
  await expect(page.getByTestId('pruned-acc')).toHaveText(`${removed.toFixed(1)}%`);

  // Fine-tune one epoch: a new point in the history.
  await expect(page.getByTestId('input-ftEpochs')).toHaveValue('1');
  await fineTune(page);
  await expect(page.getByText('After fine-tuning (1 epoch):')).toBeVisible();
  const finetuned = await percent(page, 'finetuned-acc');
  expect(finetuned).toBeGreaterThan(TRAINED_ABOVE);
  await expect(page.getByTestId('pareto')).toHaveAttribute('data-points', '1');
  const row = page.getByTestId('history').locator('tbody tr');
  await expect(row).toHaveCount(1);
  const cells = row.first().locator('td');
  await expect(cells.nth(1)).toHaveText('l1');
  await expect(cells.nth(2)).toHaveText('remove');
  await expect(cells.nth(5)).toHaveText('32');
  await expect(cells.nth(6)).toHaveText('328,586');
  await expect(cells.nth(7)).toHaveText('1,212,416');
  await expect(cells.nth(8)).toHaveText(baseline);
  await expect(cells.nth(9)).toHaveText(`${removed.toFixed(1)}%`);
  await expect(cells.nth(10)).toHaveText(`${finetuned.toFixed(1)}%`);
  await expect(row.first().getByTestId('ft-description')).toHaveText('1 epoch');

  // Exports.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(csv.suggestedFilename()).toBe('pruning-runs.csv');
  const csvLines = readFileSync(await csv.path(), 'utf8').trimEnd().split('\r\n');
  expect(csvLines).toHaveLength(2);
  expect(csvLines[0].startsWith('run,model,method,mode,amounts,manual,seed,channels,totalParams,nonzeroParams,macs')).toBe(true);
  expect(csvLines[1].startsWith('1,simplecnn,l1,remove,conv1=50 fc1=0,,42,32,328586,328586,1212416,')).toBe(true);
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  expect(json.suggestedFilename()).toBe('pruning-runs.json');
  const runs = JSON.parse(readFileSync(await json.path(), 'utf8'));
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ method: 'l1', mode: 'remove', channels: [32], nonzeroParams: 328_586, macs: 1_212_416 });
  expect(runs[0].keptFilters.conv1).toHaveLength(32);

  // The copied link reproduces the settings in a new page.
  await gotoView(page, 'data');
  await page.getByTestId('input-seed').fill('7');
  await gotoView(page, 'prune');
  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('copy-status')).toHaveText('Link copied.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toContain('mode=remove');
  const other = await context.newPage();
  const otherErrors = trackErrors(other);
  await other.goto(link);
  await expect(other.getByTestId('method-l1')).toBeChecked();
  await expect(other.getByTestId('mode-remove')).toBeChecked();
  await expect(other.getByTestId('slider-conv1')).toHaveValue('50');
  await expect(other.getByTestId('detail-conv1')).toHaveText('32 of 64 filters removed · 32 kept');
  await expect(other.getByTestId('fig-params')).toHaveText('328,586');
  await gotoView(other, 'data');
  await expect(other.getByTestId('input-seed')).toHaveValue('7');
  expect(otherErrors).toEqual([]);

  // Reset restores the baseline exactly.
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('slider-conv1')).toHaveValue('0');
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  await expect(page.getByTestId('pruned-acc')).toHaveText(baseline);
  expect(errors).toEqual([]);
});

test('the article’s gotcha: what it prints vs the true nonzero count', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await gotoView(page, 'article');
  await expect(page.getByTestId('gotcha-prints')).toHaveText('657,162');
  await expect(page.getByTestId('gotcha-true')).toHaveText('656,816');
  // "Show me" sets the article's pruning and opens the prune view to see it.
  await page.getByTestId('show-article').click();
  await expect(page.getByTestId('tab-prune')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('mode-global')).toBeChecked();
  await expect(page.getByTestId('method-random')).toBeChecked();
  await expect(page.getByTestId('detail-conv1')).toHaveText('346 of 1,728 conv1 weights zeroed');
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('656,816');
  await expect(page.getByTestId('fig-filters')).toHaveText('64');
  expect(errors).toEqual([]);
});

test('20 slider changes leave the tensor count flat', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await page.getByTestId('mode-remove').check();
  await setSlider(page, 'slider-conv1', 10);
  const first = await percent(page, 'pruned-acc');
  const before = await tensorCount(page);
  for (let i = 0; i < 20; i++) {
    await setSlider(page, i % 2 ? 'slider-fc1' : 'slider-conv1', 5 + ((i * 37) % 90));
  }
  await setSlider(page, 'slider-fc1', 0);
  await setSlider(page, 'slider-conv1', 10);
  await expect(page.getByTestId('detail-conv1')).toHaveText('6 of 64 filters removed · 58 kept');
  // The last answer is for the last setting: the same accuracy as the first time at 10 %.
  await expect(page.getByTestId('pruned-acc')).toHaveText(`${first.toFixed(1)}%`);
  expect(await tensorCount(page)).toBe(before);
  expect(errors).toEqual([]);
});

test('every filter removed is an impossible network but not a crash', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?mode=remove&conv1=100');
  await expect(page.getByTestId('detail-conv1')).toHaveText('64 of 64 filters removed · 0 kept');
  await expect(page.getByTestId('fig-params')).toHaveText('10');
  await expect(page.getByTestId('no-filters')).toBeVisible();
  await expect(page.getByTestId('pruned-acc')).toHaveText('10.0%');
  expect(errors).toEqual([]);
});

test('mask mode: masked weights stay zero through fine-tuning (counted on the trained weights)', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?trainSubset=128&method=l2&mode=mask&conv1=50&fc1=30');
  await expect(page.getByTestId('detail-conv1')).toHaveText('32 of 64 filters masked · 32 kept');
  await expect(page.getByTestId('detail-fc1')).toHaveText('196,608 of 655,360 fc1 weights zeroed');
  // 657,162 − 32·27 conv1 weights − 196,608 fc1 weights; biases are not masked (torch semantics).
  await expect(page.getByTestId('fig-nonzero')).toHaveText('459,690');
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  const pruned = await percent(page, 'pruned-acc');
  await fineTune(page);
  const row = page.getByTestId('history').locator('tbody tr').first();
  const cells = row.locator('td');
  await expect(cells.nth(1)).toHaveText('l2');
  await expect(cells.nth(2)).toHaveText('mask');
  await expect(cells.nth(5)).toHaveText('64'); // masking keeps every filter's slot
  await expect(cells.nth(6)).toHaveText('459,690');
  await expect(cells.nth(9)).toHaveText(`${pruned.toFixed(1)}%`);
  await expect(cells.nth(10)).toHaveText(`${(await percent(page, 'finetuned-acc')).toFixed(1)}%`);
  expect(errors).toEqual([]);
});

test('the sliders work from the keyboard and announce the exact count', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?mode=remove');
  const slider = page.getByTestId('slider-conv1');
  await slider.focus();
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('30');
  // round(0.30 × 64) = round(19.2) = 19
  await expect(page.getByTestId('detail-conv1')).toHaveText('19 of 64 filters removed · 45 kept');
  await expect(slider).toHaveAttribute('aria-valuetext', '30%, 19 of 64 filters removed · 45 kept');
  await page.keyboard.press('End');
  await expect(slider).toHaveValue('100');
  await page.keyboard.press('Home');
  await expect(slider).toHaveValue('0');
  await page.getByTestId('slider-fc1').focus();
  await page.keyboard.press('PageUp');
  await expect(page.getByTestId('slider-fc1')).toHaveValue('10');
  await expect(page.getByTestId('detail-fc1')).toHaveText('65,536 of 655,360 fc1 weights zeroed');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('591,626'); // 657,162 − 65,536
  await percent(page, 'pruned-acc');
  expect(errors).toEqual([]);
});
