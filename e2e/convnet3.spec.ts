/**
 * Issue 9 in the page: ConvNet-3, its per-layer and "all conv layers" sliders, dependency groups,
 * BatchNorm γ, filters pruned by hand, fine-tuning, share links, and the question before a trained
 * model is thrown away by a model switch.
 *
 * ConvNet-3 (issue 9): conv1 3→16, conv2 16→32, conv3 32→64 (3×3, no bias, each followed by BatchNorm,
 * ReLU, MaxPool 2×2), fc1 1,024→10. Parameters (weights, BatchNorm γ and β, fc1 weight and bias):
 *   conv1 16·3·9 = 432   bn1 2·16 = 32
 *   conv2 32·16·9 = 4,608   bn2 2·32 = 64
 *   conv3 64·32·9 = 18,432   bn3 2·64 = 128
 *   fc1 1,024·10 + 10 = 10,250          total 33,946
 * MACs per image (convs at 32², 16², 8² positions, and fc1):
 *   conv1 1,024·432 = 442,368   conv2 256·4,608 = 1,179,648   conv3 64·18,432 = 1,179,648   fc1 10,240
 *   total 2,811,904
 */
import { expect, test } from '@playwright/test';
import { TRAINED_ABOVE, fineTune, flushSaves, historyRows, openReady, percent, prunedTiles, refuseDialogs, setSlider, trackErrors, trainBaseline } from './helpers';

test('ConvNet-3 chosen in the page: 33,946 parameters, conv2 at 50 % removed keeps 16 of 32 filters with the described figures and dependency group', async ({ page }) => {
  const errors = trackErrors(page);
  const dialogs: string[] = [];
  refuseDialogs(page, dialogs);
  await openReady(page, '?baseline=scratch&trainSubset=256');
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  // SimpleCNN has no BatchNorm, so no γ to rank by, and only conv1 to prune.
  await expect(page.getByTestId('method-bn')).toBeDisabled();
  await expect(page.getByTestId('slider-conv2')).toHaveCount(0);
  await expect(page.getByTestId('slider-allconv')).toHaveCount(0);

  await page.getByTestId('model').selectOption('convnet3');
  await expect(page.getByTestId('param-count')).toHaveText('33,946');
  await expect(page).toHaveURL(/model=convnet3/);
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: untrained ConvNet-3, seed 42');
  await percent(page, 'baseline-acc');
  await expect(page.getByTestId('method-bn')).toBeEnabled();
  await page.getByTestId('method-bn').check();
  await expect(page).toHaveURL(/method=bn&/);
  await page.getByTestId('method-l1').check();

  await page.getByTestId('mode-remove').check();
  await setSlider(page, 'slider-conv2', 50);
  await expect(page.getByTestId('detail-conv2')).toHaveText('16 of 32 filters removed · 16 kept');
  await expect(page.getByTestId('detail-conv1')).toHaveText('0 of 16 filters removed · 16 kept');
  await expect(page.getByTestId('detail-conv3')).toHaveText('0 of 64 filters removed · 64 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  // conv2 keeps 16 filters of 16·9 weights (2,304), bn2 keeps 2·16 = 32, conv3 reads 16 channels:
  // 64·16·9 = 9,216. 432 + 32 + 2,304 + 32 + 9,216 + 128 + 10,250 = 22,394 (11,552 fewer).
  await expect(page.getByTestId('fig-params')).toHaveText('22,394');
  await expect(page.getByTestId('fig-nonzero')).toHaveText('22,394');
  // conv2 256·2,304 = 589,824; conv3 64·9,216 = 589,824: 442,368 + 589,824 + 589,824 + 10,240 = 1,632,256.
  await expect(page.getByTestId('fig-macs')).toHaveText('1,632,256');
  await expect(page.getByTestId('what-changed')).toContainText('conv1 16→16, conv2 32→16, conv3 64→64 filters');
  await expect(page.getByTestId('what-changed')).toContainText('11,552 parameters are gone, not zeroed');
  await expect(page).toHaveURL(/model=convnet3&baseline=scratch&method=l1&mode=remove&conv1=0&conv2=50&conv3=0&fc1=0&/);
  await percent(page, 'pruned-acc');
  await expect(page.getByTestId('filter-grid-conv2')).toHaveAttribute('data-kept', '16');
  await expect(page.getByTestId('filter-grid-conv3')).toHaveAttribute('data-kept', '64');

  // Focusing a slider shows its dependency group: bn2's channels and conv3's input channels go too.
  await page.getByTestId('slider-conv2').focus();
  await expect(page.getByTestId('group-conv2')).toHaveText(
    "Removing 16 of conv2's 32 filters (2,304 weights) also removes: 16 bn2 channels (γ, β, running mean and variance), 16 of conv3's 32 input channels (9,216 weights)",
  );
  // conv3 feeds the flatten: one filter is 4·4 = 16 of fc1's 1,024 input rows (160 weights).
  await page.getByTestId('slider-conv3').focus();
  await expect(page.getByTestId('group-conv2')).toHaveCount(0);
  await expect(page.getByTestId('group-conv3')).toHaveText(
    "Removing (for example) 1 of conv3's 64 filters (288 weights) also removes: 1 bn3 channels (γ, β, running mean and variance), 16 of fc1's 1,024 input rows (160 weights)",
  );

  // Mask mode: the shape stays, conv2's 16·144 = 2,304 weights are zero, and β leaks through.
  await page.getByTestId('mode-mask').check();
  await expect(page.getByTestId('detail-conv2')).toHaveText('16 of 32 filters masked · 16 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 32 · 64');
  await expect(page.getByTestId('fig-params')).toHaveText('33,946');
  await expect(page.getByTestId('fig-macs')).toHaveText('2,811,904');
  await expect(page.locator('fieldset', { hasText: 'Mode' }).locator('p.help')).toContainText('BatchNorm β still reaches the next layer');
  await expect(page.getByTestId('what-changed')).toContainText('yet BatchNorm adds its β');

  // Global unstructured ranks single weights: BatchNorm γ (a channel criterion) is not offered there.
  await page.getByTestId('mode-global').check();
  await expect(page.getByTestId('method-bn')).toBeDisabled();
  await page.getByTestId('mode-remove').check();
  await page.getByTestId('method-bn').check();

  // Back to SimpleCNN (nothing trained: no question): γ is gone, so the method falls back to L1.
  await page.getByTestId('model').selectOption('simplecnn');
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  await expect(page).toHaveURL(/model=simplecnn/);
  await expect(page.getByTestId('method-bn')).toBeDisabled();
  await expect(page.getByTestId('method-l1')).toBeChecked();
  await expect(page.getByTestId('slider-conv2')).toHaveCount(0);
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
});

test('ConvNet-3 pruned at conv2=50 fine-tunes into a history row, and a copied link reproduces it', async ({ page, context }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&baseline=scratch&trainSubset=256&method=l1&mode=remove&conv2=50');
  await expect(page.getByTestId('param-count')).toHaveText('33,946');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  const untrained = await percent(page, 'baseline-acc');
  const trained = await trainBaseline(page);
  expect(trained).toBeGreaterThan(TRAINED_ABOVE);
  expect(trained).not.toBe(untrained);
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: ConvNet-3 trained here for 1 epoch, seed 42');
  const pruned = await percent(page, 'pruned-acc');

  await fineTune(page);
  const finetuned = await percent(page, 'finetuned-acc');
  await expect(page.getByTestId('finetune-curve')).toHaveAttribute('data-points', '4');
  const cells = historyRows(page).first().locator('td');
  await expect(cells.nth(1)).toHaveText('l1');
  await expect(cells.nth(2)).toHaveText('remove');
  await expect(cells.nth(3)).toHaveText('ConvNet-3');
  await expect(cells.nth(4)).toHaveText('conv1 0%, conv2 50%, conv3 0%, fc1 0%');
  await expect(cells.nth(5)).toHaveText('16 · 16 · 64');
  await expect(cells.nth(6)).toHaveText('22,394'); // counted on the fine-tuned weights
  await expect(cells.nth(7)).toHaveText('1,632,256');
  await expect(cells.nth(8)).toHaveText(`${trained.toFixed(1)}%`);
  await expect(cells.nth(9)).toHaveText(`${pruned.toFixed(1)}%`);
  await expect(cells.nth(10)).toHaveText(`${finetuned.toFixed(1)}%`);
  await expect(historyRows(page).first().getByTestId('ft-description')).toHaveText('1 epoch');

  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('copy-status')).toHaveText('Link copied.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  for (const kv of ['model=convnet3', 'baseline=scratch', 'method=l1', 'mode=remove', 'conv2=50', 'seed=42', 'epochs=1', 'trainSubset=256']) expect(link).toContain(kv);

  // A new page of the same browser: the link's settings, and the saved trained baseline (the link asks
  // for the same kind, baseline=scratch) comes back, so the pruned network is the same without training.
  await flushSaves(page);
  const other = await context.newPage();
  const otherErrors = trackErrors(other);
  await other.goto(link);
  await expect(other.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(other.getByTestId('param-count')).toHaveText('33,946');
  await expect(other.getByTestId('model')).toHaveValue('convnet3');
  await expect(other.getByTestId('method-l1')).toBeChecked();
  await expect(other.getByTestId('mode-remove')).toBeChecked();
  await expect(other.getByTestId('slider-conv2')).toHaveValue('50');
  await expect(other.getByTestId('detail-conv2')).toHaveText('16 of 32 filters removed · 16 kept');
  await expect(other.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  await expect(other.getByTestId('fig-params')).toHaveText('22,394');
  await expect(other.getByTestId('fig-macs')).toHaveText('1,632,256');
  await expect(other.getByTestId('notice').filter({ hasText: 'Restored your saved work' })).toBeVisible();
  await expect(other.getByTestId('baseline-origin')).toHaveText('Baseline: ConvNet-3 trained here for 1 epoch, seed 42');
  await expect(other.getByTestId('baseline-acc')).toHaveText(`${trained.toFixed(1)}%`);
  await expect(other.getByTestId('pruned-acc')).toHaveText(`${pruned.toFixed(1)}%`);
  await expect(historyRows(other)).toHaveCount(1);
  expect(otherErrors).toEqual([]);
  expect(errors).toEqual([]);
});

test('ConvNet-3: the all-conv-layers slider sets conv1..conv3 together; three clicked tiles prune exactly those filters', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&baseline=scratch&trainSubset=256&mode=remove');
  await setSlider(page, 'slider-allconv', 25);
  for (const k of ['conv1', 'conv2', 'conv3']) await expect(page.getByTestId(`slider-${k}`)).toHaveValue('25');
  await expect(page.getByTestId('detail-conv1')).toHaveText('4 of 16 filters removed · 12 kept');
  await expect(page.getByTestId('detail-conv2')).toHaveText('8 of 32 filters removed · 24 kept');
  await expect(page.getByTestId('detail-conv3')).toHaveText('16 of 64 filters removed · 48 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('12 · 24 · 48');
  // conv1 12·27 = 324, bn1 24, conv2 24·12·9 = 2,592, bn2 48, conv3 48·24·9 = 10,368, bn3 96,
  // fc1 48·16·10 + 10 = 7,690: 21,142. MACs 1,024·324 + 256·2,592 + 64·10,368 + 7,680 = 1,666,560.
  await expect(page.getByTestId('fig-params')).toHaveText('21,142');
  await expect(page.getByTestId('fig-macs')).toHaveText('1,666,560');
  await expect(page).toHaveURL(/conv1=25&conv2=25&conv3=25&fc1=0/);
  await setSlider(page, 'slider-conv2', 50);
  await expect(page.locator('label[for="slider-allconv"]')).toContainText('All conv layers (layers differ)');
  await expect(page.getByTestId('slider-conv1')).toHaveValue('25');

  // Back to the full network, then prune by hand: conv1's filters 3 and 7, conv2's filter 5.
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 32 · 64');
  await percent(page, 'pruned-acc');
  await expect(page.getByTestId('filter-grid-conv1')).toHaveAttribute('data-kept', '16');
  for (const id of ['tile-conv1-3', 'tile-conv1-7', 'tile-conv2-5']) {
    await page.getByTestId(id).click();
    await expect(page.getByTestId(id)).toHaveAttribute('data-pruned', 'true');
  }
  await expect(page.getByTestId('method-manual')).toBeChecked();
  await expect(page.getByTestId('filter-grid-conv1')).toHaveAttribute('data-kept', '14');
  await expect(page.getByTestId('filter-grid-conv2')).toHaveAttribute('data-kept', '31');
  await expect(page.getByTestId('filter-grid-conv3')).toHaveAttribute('data-kept', '64');
  expect(await prunedTiles(page, 'conv1')).toEqual([3, 7]);
  expect(await prunedTiles(page, 'conv2')).toEqual([5]);
  expect(await prunedTiles(page, 'conv3')).toEqual([]);
  await expect(page.getByTestId('fig-filters')).toHaveText('14 · 31 · 64');
  await expect(page).toHaveURL(/manual=3,7;conv2:5(&|$)/);
  await expect(page.getByTestId('slider-conv1')).toBeDisabled();
  // A second click restores the filter.
  await page.getByTestId('tile-conv1-3').click();
  await expect(page.getByTestId('tile-conv1-3')).toHaveAttribute('data-pruned', 'false');
  await expect(page.getByTestId('fig-filters')).toHaveText('15 · 31 · 64');
  await expect(page).toHaveURL(/manual=7;conv2:5(&|$)/);
  await percent(page, 'pruned-acc');
  expect(errors).toEqual([]);
});

test('switching model after training asks first: dismiss keeps the trained model, accept switches', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?baseline=scratch&trainSubset=256');
  const trained = await trainBaseline(page);
  expect(trained).toBeGreaterThan(TRAINED_ABOVE);
  const asked: string[] = [];

  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByTestId('model').selectOption('convnet3');
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain('Switch to ConvNet-3?');
  expect(asked[0]).toContain('SimpleCNN baseline');
  await expect(page.getByTestId('model')).toHaveValue('simplecnn');
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: SimpleCNN trained here for 1 epoch, seed 42');
  await expect(page.getByTestId('baseline-acc')).toHaveText(`${trained.toFixed(1)}%`);
  await expect(page).toHaveURL(/model=simplecnn/);

  page.once('dialog', (d) => {
    asked.push(d.message());
    void d.accept();
  });
  await page.getByTestId('model').selectOption('convnet3');
  await expect.poll(() => asked.length).toBe(2);
  await expect(page.getByTestId('param-count')).toHaveText('33,946');
  await expect(page.getByTestId('model')).toHaveValue('convnet3');
  await expect(page).toHaveURL(/model=convnet3/);
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: untrained ConvNet-3, seed 42');
  await percent(page, 'baseline-acc');

  // An untrained ConvNet-3 is nothing to lose: switching back asks nothing.
  await page.getByTestId('model').selectOption('simplecnn');
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  await expect(page.getByTestId('baseline-origin')).toHaveText('Baseline: untrained SimpleCNN, seed 42');
  expect(asked).toHaveLength(2);
  expect(errors).toEqual([]);
});
