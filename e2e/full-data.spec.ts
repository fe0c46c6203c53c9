/**
 * Issue 21: the full CIFAR-10 as a data set the user picks (data=full). Picking it downloads the 50,000
 * training and 10,000 test images with progress and uses them: the shipped full-data ConvNet-3 is loaded,
 * its accuracy on the 10,000 test images is PyTorch's (the manifest's, to 0.1 point), the slider preview
 * stays on the subset's 1,000, and a training step runs on the full set. Cancel and a failed batch (404)
 * leave the subset in use, with a message and Retry.
 */
import { expect, test } from '@playwright/test';
import { baselineEpochs, fineTune, gotoView, historyRows, openReady, percent, setSlider, shippedPretrained, trackErrors } from './helpers';

test('picking the full CIFAR-10 shows its progress, loads it, measures the full-data baseline on 10,000 images and trains a step', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&trainSubset=64&epochs=1');
  await gotoView(page, 'data'); // the picker is in the Data & baseline view
  await expect(page.getByTestId('data-subset')).toBeChecked();
  await expect(page.getByTestId('footer-data')).toHaveText('a subset of 5,000 training and 1,000 test images in use');
  const t0 = Date.now();
  await page.getByTestId('data-full').check();
  const progress = page.getByTestId('full-data-progress');
  await expect(progress).toContainText(/of 175\.84 MiB · [\d,]+ of 60,000 images/);
  await expect(page.getByTestId('full-data-ready')).toBeVisible({ timeout: 150_000 });
  // From the click to the full set in the engine (download from the local preview server, SHA-256, parse, hand-over).
  console.log(`full CIFAR-10 picked → in use: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await expect(page.getByTestId('train-count')).toHaveText('50,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('10,000 images');
  await expect(page).toHaveURL(/[?&]data=full(&|$)/);
  await expect(page.getByTestId('footer-data')).toHaveText('all 50,000 training and 10,000 test images in use');
  // The full-data baseline (convnet3-full), said so, measured on the 10,000 test images = PyTorch's figure.
  const shipped = await shippedPretrained(page, 'convnet3-full');
  expect(shipped).not.toBeNull();
  await expect(page.getByTestId('baseline-origin')).toContainText('trained on the full CIFAR-10');
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
  await expect(page.locator('.result', { has: page.getByTestId('baseline-acc') })).toContainText('on 10,000 test images');
  expect(Math.abs((await percent(page, 'baseline-acc')) - shipped!.testAccuracy * 100)).toBeLessThanOrEqual(0.1);
  // The slider preview: on the subset's 1,000 test images; the baseline beside it on 10,000.
  await gotoView(page, 'prune');
  await setSlider(page, 'slider-conv1', 50);
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('preview')).toContainText(/after pruning\s*\d+\.\d%\s*on 1,000/);
  await expect(page.getByTestId('preview')).toContainText(/baseline\s*\d+\.\d%\s*on 10,000/);
  // One training step (64 images, batch 64) on the full set, evaluated on its 10,000 test images.
  await gotoView(page, 'data');
  const before = await baselineEpochs(page);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-epochs', String(before + 1), { timeout: 150_000 });
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 150_000 });
  await expect(page.locator('.result', { has: page.getByTestId('baseline-acc') })).toContainText('on 10,000 test images');
  // A fine-tune on the full set: its row says the accuracies are on 10,000 (the preview's on 1,000).
  await gotoView(page, 'prune');
  await setSlider(page, 'slider-conv1', 25);
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  await fineTune(page);
  await expect(page.getByTestId('finetuned-acc').locator('..')).toContainText(/\d+\.\d%\s*on 10,000/);
  await expect(historyRows(page).first().getByTestId('test-images')).toHaveText('10,000 (pruned: 1,000)');
  expect(errors).toEqual([]);
});

test('Cancel and a failed batch (404) keep the subset in use; the failure says which file, and Retry loads the full set', async ({ page }) => {
  const errors = trackErrors(page, [/Failed to load resource/]);
  // data_batch_2 first answers nothing (Cancel), then 404 (the message), then normally (Retry).
  let mode: 'hang' | '404' | 'serve' = 'hang';
  await page.route('**/data/cifar10-full/data_batch_2.bin', async (route) => {
    if (mode === 'serve') return route.continue();
    if (mode === '404') return route.fulfill({ status: 404, body: 'not here' });
    // hang: never answered; the page's Cancel aborts the request
  });
  await openReady(page, '?model=convnet3&trainSubset=64');
  await gotoView(page, 'data');
  await page.getByTestId('data-full').check();
  await expect(page.getByTestId('full-data-progress')).toContainText('data_batch_2.bin', { timeout: 60_000 });
  await page.getByTestId('full-data-cancel').click();
  await expect(page.getByTestId('data-subset')).toBeChecked();
  await expect(page.getByTestId('full-data-progress')).toBeHidden();
  await expect(page.getByTestId('notice').filter({ hasText: 'download was cancelled' })).toBeVisible();
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page).not.toHaveURL(/data=full/);

  mode = '404';
  await page.getByTestId('data-full').check();
  const failure = page.getByTestId('notice').filter({ hasText: 'full CIFAR-10 could not be loaded' });
  await expect(failure).toContainText('data_batch_2.bin: HTTP 404', { timeout: 60_000 });
  await expect(failure).toContainText('subset stays in use');
  await expect(page.getByTestId('full-data-error')).toBeVisible();
  // The subset still works: counts, accuracy, a preview.
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  await gotoView(page, 'prune');
  await setSlider(page, 'slider-conv1', 25);
  await expect(page.getByTestId('preview')).toContainText(/after pruning\s*\d+\.\d%\s*on 1,000/);

  mode = 'serve';
  await gotoView(page, 'data');
  await page.getByTestId('full-data-retry').click();
  await expect(page.getByTestId('full-data-ready')).toBeVisible({ timeout: 150_000 });
  await expect(page.getByTestId('train-count')).toHaveText('50,000 images');
  await expect(page.getByTestId('notice').filter({ hasText: 'could not be loaded' })).toHaveCount(0);
  expect(errors).toEqual([]);
});
