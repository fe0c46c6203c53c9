/**
 * The flows of issue 8 that no other test covers: Train from scratch, cancelling and repeating a
 * fine-tune, each criterion and mode chosen through the page, a shared link that holds a trained
 * model's settings, a failing data fetch, dismissing a notice.
 *
 * Tests that need an untrained start say `baseline=scratch`, so they pass whether or not this build
 * ships a pretrained baseline (public/models/). Training runs on the first 256 images (4 batches of
 * 64 per epoch) so the suite stays short on two cores.
 */
import { type Route, expect, test } from '@playwright/test';
import {
  CHANCE,
  TRAINED_ABOVE,
  fineTune,
  fmtEpochs,
  gotoView,
  historyRows,
  openReady,
  percent,
  prunedTiles,
  setSlider,
  tileNorms,
  trackErrors,
  trainBaseline,
} from './helpers';

const BATCHES_PER_EPOCH = 4; // trainSubset=256, batch 64

test('Train from scratch throws the trained baseline away: the seeded untrained network, accuracy back at chance', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?baseline=scratch&trainSubset=256');
  const origin = page.getByTestId('baseline-origin');
  await expect(origin).toHaveText('Baseline: untrained SimpleCNN, seed 42');
  await expect(origin).toHaveAttribute('data-kind', 'scratch');
  const untrained = await percent(page, 'baseline-acc');
  expect(Math.abs(untrained - CHANCE)).toBeLessThan(5);

  const trained = await trainBaseline(page);
  expect(trained).toBeGreaterThan(TRAINED_ABOVE);
  expect(trained).not.toBe(untrained);
  await gotoView(page, 'data');
  await expect(origin).toHaveText('Baseline: SimpleCNN trained here for 1 epoch, seed 42');
  await expect(page.getByTestId('train')).toHaveText('Train more');
  await expect(page.getByTestId('baseline-curve')).toHaveAttribute('data-points', String(BATCHES_PER_EPOCH));

  await page.getByTestId('new-model').click();
  await expect(origin).toHaveText('Baseline: untrained SimpleCNN, seed 42');
  await expect(origin).toHaveAttribute('data-epochs', '0');
  await expect(page.getByTestId('baseline-curve')).toHaveAttribute('data-points', '0');
  await expect(page.getByText('after 0 epochs', { exact: false })).toBeVisible();
  // The same seed gives the same initial weights: exactly the accuracy the page started with.
  await expect(page.getByTestId('baseline-acc')).toHaveText(`${untrained.toFixed(1)}%`);
  await expect(page.getByTestId('train')).toHaveText('Train');
  await expect(page).toHaveURL(/baseline=scratch/);
  expect(errors).toEqual([]);
});

test('cancel a fine-tune mid-run: its row says how far it got; fine-tuning again continues from there', async ({ page }) => {
  const errors = trackErrors(page);
  // 20 epochs of 4 batches: long enough that the cancel lands mid-run however fast the steps are (with 5
  // epochs, a 25 ms step on a fast machine finished all 20 batches before the click reached the worker)
  await openReady(page, '?baseline=scratch&trainSubset=256&method=l1&mode=remove&conv1=50&ftEpochs=20');
  const pruned = await percent(page, 'pruned-acc');
  const curve = page.getByTestId('finetune-curve');
  await expect(curve).toHaveAttribute('data-points', '0');

  await page.getByTestId('finetune').click();
  const job = page.getByTestId('job');
  // Cancel in the second epoch or later, so the run has really trained (at least 5 batches).
  await expect(job).toContainText(/batch \d of 4, epoch ([2-9]|1[0-5]) of 20/);
  await page.getByTestId('cancel').click();
  await expect(job).toBeHidden({ timeout: 60_000 });
  const steps = Number(await curve.getAttribute('data-points'));
  expect(steps).toBeGreaterThanOrEqual(BATCHES_PER_EPOCH + 1);
  expect(steps).toBeLessThan(20 * BATCHES_PER_EPOCH);
  const done = Math.round((steps / BATCHES_PER_EPOCH) * 100) / 100;

  const rows = historyRows(page);
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('ft-description')).toHaveText(`cancelled after ${fmtEpochs(done)} of 20 epochs`);
  await expect(rows.first()).toContainText(`${pruned.toFixed(1)}%`);
  await expect(page.getByTestId('finetune')).toHaveText('Fine-tune more');

  // Again, one epoch: the pruned model continues, and its row counts all the epochs it has had.
  await page.getByTestId('input-ftEpochs').fill('1');
  await fineTune(page);
  await expect(curve).toHaveAttribute('data-points', String(steps + BATCHES_PER_EPOCH));
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).getByTestId('ft-description')).toHaveText(`${fmtEpochs(done + 1)} epochs`);
  await expect(rows.nth(1).locator('td').first()).toHaveText('2');
  const finetuned = await percent(page, 'finetuned-acc');
  await expect(rows.nth(1)).toContainText(`${finetuned.toFixed(1)}%`);
  expect(errors).toEqual([]);
});

test('fine-tune twice in a row: two rows, 1 then 2 epochs in total, and the second run trained further', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?baseline=scratch&trainSubset=256&method=l1&mode=remove&conv1=25&ftEpochs=1');
  const pruned = await percent(page, 'pruned-acc');
  await fineTune(page);
  const first = await percent(page, 'finetuned-acc');
  await expect(page.getByTestId('finetune-curve')).toHaveAttribute('data-points', String(BATCHES_PER_EPOCH));
  await fineTune(page);
  const second = await percent(page, 'finetuned-acc');
  await expect(page.getByTestId('finetune-curve')).toHaveAttribute('data-points', String(2 * BATCHES_PER_EPOCH));

  const rows = historyRows(page);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0).getByTestId('ft-description')).toHaveText('1 epoch');
  await expect(rows.nth(1).getByTestId('ft-description')).toHaveText('2 epochs');
  await expect(page.getByTestId('pareto')).toHaveAttribute('data-points', '2');
  // Both start from the same pruned network; each records its own fine-tuned accuracy.
  for (const [i, acc] of [first, second].entries()) {
    const cells = rows.nth(i).locator('td');
    await expect(cells.nth(0)).toHaveText(String(i + 1));
    await expect(cells.nth(5)).toHaveText('48'); // filters left: 64 − round(0.25 × 64)
    await expect(cells.nth(9)).toHaveText(`${pruned.toFixed(1)}%`);
    await expect(cells.nth(10)).toHaveText(`${acc.toFixed(1)}%`);
  }
  // Fine-tuning trained the pruned network: above chance after the second epoch.
  expect(second).toBeGreaterThan(TRAINED_ABOVE);
  expect(errors).toEqual([]);
});

test('Random, L2 and Global chosen through the page give their exact counts and figures', async ({ page }) => {
  const errors = trackErrors(page);
  // The default baseline (pretrained when this build ships one): the counts do not depend on the weights.
  await openReady(page, '?trainSubset=256');

  // Random, remove, 25 %: round(0.25 × 64) = 16 filters go.
  await page.getByTestId('method-random').check();
  await page.getByTestId('mode-remove').check();
  await setSlider(page, 'slider-conv1', 25);
  await expect(page.getByTestId('detail-conv1')).toHaveText('16 of 64 filters removed · 48 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('48');
  // conv1 48·27 + 48 = 1,344; fc1 (48·32·32)·10 + 10 = 491,530; total 492,874.
  await expect(page.getByTestId('fig-params')).toHaveText('492,874');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('492,874');
  // conv1 32·32·48·27 = 1,327,104; fc1 49,152·10 = 491,520; total 1,818,624.
  await expect(page.getByTestId('fig-macs')).toHaveText('1,818,624');
  await expect(page).toHaveURL(/method=random&mode=remove&conv1=25&/);
  await expect(page.getByTestId('filter-grid-conv1')).toHaveAttribute('data-kept', '48');
  await percent(page, 'pruned-acc');
  const random = await prunedTiles(page, 'conv1');
  expect(random).toHaveLength(16);

  // L2, same amount: the 16 filters with the smallest L2 norms, as the tiles state them.
  await page.getByTestId('method-l2').check();
  await expect(page.getByTestId('method-l2')).toBeChecked();
  await expect(page).toHaveURL(/method=l2&/);
  await expect.poll(async () => (await prunedTiles(page, 'conv1')).join(',')).not.toBe(random.join(','));
  await percent(page, 'pruned-acc');
  const l2 = await prunedTiles(page, 'conv1');
  expect(l2).toHaveLength(16);
  const norms = await tileNorms(page, 'conv1');
  const largestPruned = Math.max(...l2.map((j) => norms[j]));
  const smallestKept = Math.min(...norms.filter((_, j) => !l2.includes(j)));
  expect(largestPruned).toBeLessThanOrEqual(smallestKept);
  await expect(page.getByTestId('fig-params')).toHaveText('492,874');

  // L2, mask: same filters, but only their 16·27 = 432 weights become zero; the shape stays.
  await page.getByTestId('mode-mask').check();
  await expect(page.getByTestId('detail-conv1')).toHaveText('16 of 64 filters masked · 48 kept');
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('656,730');
  await expect(page.getByTestId('fig-macs')).toHaveText('2,424,832');

  // Global unstructured at 30 %: round(0.3 × 1,728) = 518 single conv1 weights, no filter gone.
  await page.getByTestId('mode-global').check();
  await setSlider(page, 'slider-conv1', 30);
  await expect(page.getByTestId('detail-conv1')).toHaveText('518 of 1,728 conv1 weights zeroed');
  await expect(page.getByTestId('fig-filters')).toHaveText('64');
  await expect(page.getByTestId('fig-params')).toHaveText('657,162');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('656,644'); // 657,162 − 518
  await expect(page.getByTestId('fig-macs')).toHaveText('2,424,832');
  await expect(page.getByTestId('fig-nonzero-macs')).toHaveText('1,894,400'); // 2,424,832 − 518·32·32
  await expect(page.getByTestId('method-manual')).toBeDisabled();
  await expect(page.getByTestId('what-changed')).toContainText('Single weights are zeroed anywhere in the conv layers (518 here)');
  await expect(page).toHaveURL(/method=l2&mode=global&conv1=30&/);
  await percent(page, 'pruned-acc');
  expect(errors).toEqual([]);
});

test('a shared link holding a trained model’s settings reproduces settings, figures and accuracies', async ({ page, browser }) => {
  const errors = trackErrors(page);
  const query = '?baseline=scratch&trainSubset=256&conv1=50&mode=remove&method=l1&seed=7&epochs=2';
  const expectSettings = async (p: typeof page) => {
    await expect(p.getByTestId('method-l1')).toBeChecked();
    await expect(p.getByTestId('mode-remove')).toBeChecked();
    await expect(p.getByTestId('slider-conv1')).toHaveValue('50');
    await expect(p.getByTestId('detail-conv1')).toHaveText('32 of 64 filters removed · 32 kept');
    await expect(p.getByTestId('fig-params')).toHaveText('328,586');
    await expect(p.getByTestId('fig-macs')).toHaveText('1,212,416');
    // The training settings are in the Data & baseline view.
    await gotoView(p, 'data');
    await expect(p.getByTestId('input-seed')).toHaveValue('7');
    await expect(p.getByTestId('input-epochs')).toHaveValue('2');
    await gotoView(p, 'prune');
  };
  await openReady(page, query);
  await expectSettings(page);
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: untrained SimpleCNN, seed 7');
  const untrained = await percent(page, 'baseline-acc');
  const baseline = await trainBaseline(page, 2);
  expect(baseline).toBeGreaterThan(TRAINED_ABOVE);
  expect(baseline).not.toBe(untrained);
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: SimpleCNN trained here for 2 epochs, seed 7');
  const pruned = await percent(page, 'pruned-acc');

  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('copy-status')).toHaveText('Link copied.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  for (const kv of ['baseline=scratch', 'method=l1', 'mode=remove', 'conv1=50', 'seed=7', 'epochs=2', 'trainSubset=256']) expect(link).toContain(kv);

  // Someone else's browser (nothing saved): the same settings, the same untrained seed-7 network, and
  // pressing Train there gives the same baseline and the same pruned accuracy (seeded init and shuffles).
  const elsewhere = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    const other = await elsewhere.newPage();
    const otherErrors = trackErrors(other);
    await other.goto(link);
    await expect(other.getByTestId('train-count')).toHaveText('5,000 images');
    await expectSettings(other);
    await expect(other.getByTestId('baseline-origin')).toHaveText('Baseline: untrained SimpleCNN, seed 7');
    await expect(other.getByTestId('baseline-acc')).toHaveText(`${untrained.toFixed(1)}%`);
    expect(await trainBaseline(other, 2)).toBe(baseline);
    await expect(other.getByTestId('pruned-acc')).toHaveText(`${pruned.toFixed(1)}%`);
    expect(otherErrors).toEqual([]);
  } finally {
    await elsewhere.close();
  }

  expect(errors).toEqual([]);
});

const failures: [string, (r: Route) => Promise<void>, string][] = [
  ['the server answers 404', (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }), 'data/cifar10/train_5000.bin: HTTP 404'],
  ['the connection drops', (r) => r.abort('connectionreset'), 'data/cifar10/train_5000.bin: Failed to fetch'],
];

for (const [what, fail, says] of failures) {
  test(`the data fetch fails (${what}): one clear message with Retry, no crash; Retry loads it and the page works`, async ({ page }) => {
    // Chromium logs the failed request itself ("Failed to load resource: …"): that line is expected.
    const errors = trackErrors(page, [/Failed to load resource/]);
    await page.route('**/train_5000.bin', fail);
    await page.goto('./?baseline=scratch&trainSubset=256');
    const notices = page.getByTestId('notice');
    await expect(notices).toHaveCount(1);
    await expect(notices).toContainText(`Could not load the CIFAR-10 data (${says}`);
    await expect(notices).toContainText('retry, or drop your own CIFAR-10 .bin files');
    await expect(notices.getByTestId('data-retry')).toBeVisible();
    await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
    await expect(page.getByTestId('train-count')).toHaveCount(0);
    await expect(page.getByTestId('finetune')).toBeDisabled();
    await expect(page.getByTestId('baseline-acc')).toHaveText('…');
    await gotoView(page, 'data');
    await expect(page.locator('.data-row').first()).toContainText('failed');
    await expect(page.getByTestId('train')).toBeDisabled();
    await expect(page.getByTestId('baseline-acc')).toHaveText('…');
    await gotoView(page, 'prune');
    // Still one message a moment later (no second notice from a later step), and the page still answers.
    await setSlider(page, 'slider-conv1', 50);
    await expect(page.getByTestId('detail-conv1')).toHaveText('32 of 64 filters masked · 32 kept');
    await expect(notices).toHaveCount(1);

    await page.unroute('**/train_5000.bin');
    await page.getByTestId('data-retry').click();
    await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
    await expect(notices).toHaveCount(0);
    await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
    // The page works: the preview of the slider set while the data was missing is evaluated, and it trains.
    const pruned = await percent(page, 'pruned-acc');
    expect(pruned).toBeGreaterThanOrEqual(0);
    await expect(page.getByTestId('filter-grid-conv1')).toHaveAttribute('data-kept', '32');
    expect(await trainBaseline(page)).toBeGreaterThan(TRAINED_ABOVE);
    expect(errors).toEqual([]);
  });
}

test('dismissing a notice removes that notice only, and it stays gone', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?baseline=scratch&trainSubset=256&lr=fast&bogus=1');
  const notices = page.getByTestId('notice');
  await expect(notices).toHaveCount(2);
  const lr = notices.filter({ hasText: 'lr=fast is not a number; using 0.001.' });
  const bogus = notices.filter({ hasText: 'Unknown URL parameter “bogus” was ignored.' });
  await expect(lr).toHaveCount(1);
  await lr.getByTestId('dismiss-notice').click();
  await expect(lr).toHaveCount(0);
  await expect(notices).toHaveCount(1);
  await expect(bogus).toBeVisible();
  // Other changes do not bring it back.
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await setSlider(page, 'slider-conv1', 10);
  await percent(page, 'pruned-acc');
  await expect(notices).toHaveCount(1);
  await bogus.getByTestId('dismiss-notice').click();
  await expect(notices).toHaveCount(0);
  await expect(page.locator('section.notices')).toHaveCount(0);
  expect(errors).toEqual([]);
});
