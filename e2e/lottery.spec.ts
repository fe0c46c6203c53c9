/**
 * The lottery ticket in the page (issue 22): a small budget (ConvNet-3, 2 rounds, 128 images, 1 epoch)
 * draws one chart with its three lines, the page is busy meanwhile (the oracle waits), no tensor is
 * left behind, and the result survives a reload.
 */
import { expect, test } from '@playwright/test';
import { flushSaves, gotoView, openReady, tensorCount, trackErrors } from './helpers';

/** The engine keeps the training subset on the device (as it does for training): two tensors, images and labels. */
const TRAINING_SET_TENSORS = 2;

test('lottery ticket: 2 rounds draw 3 lines of 3 points each; the page is busy meanwhile; tensors flat; saved with the work', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&trainSubset=256');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  const tensors = (await tensorCount(page)) + TRAINING_SET_TENSORS;
  await gotoView(page, 'experiments');
  const lottery = page.getByTestId('lottery');
  await expect(page.getByTestId('lottery-anchor')).toContainText('Conv-2, Conv-4 and Conv-6');
  for (const [k, v] of Object.entries({ rounds: '2', ratePercent: '50', epochs: '1', rewindEpoch: '0', seed: '3', subset: '128' })) await page.getByTestId(`lottery-${k}`).fill(v);
  await expect(lottery).toContainText('7 trainings');
  await page.getByTestId('lottery-run').click();
  await expect(page.getByTestId('lottery-progress')).toBeVisible();
  await expect(page.getByTestId('oracle-run')).toBeDisabled(); // the job guard: one job at a time

  const chart = page.getByTestId('lottery-chart');
  await expect(page.getByTestId('lottery-about')).toContainText('9 points', { timeout: 240_000 });
  for (const arm of ['rewind', 'reinit', 'randomMask']) {
    const line = chart.locator(`.lottery-line-${arm}`);
    await expect(line).toHaveCount(1);
    await expect(chart.locator(`.lottery-dot-${arm}`)).toHaveCount(3); // dense, 50 %, 25 % remaining
  }
  await expect(chart.locator('.recharts-legend-item')).toHaveCount(3);
  await expect(page.getByTestId('lottery-about')).toContainText('on 128 training images');
  await expect(page.getByTestId('oracle-run')).toBeEnabled();
  expect(await tensorCount(page)).toBe(tensors);

  // Impossible settings: a clear message, nothing lost.
  await page.getByTestId('lottery-rewindEpoch').fill('1');
  await page.getByTestId('lottery-run').click();
  await expect(page.getByText('Rewind point: a whole number of epochs from 0 to 0')).toBeVisible();
  await expect(page.getByTestId('lottery-about')).toContainText('9 points');

  await flushSaves(page);
  await page.reload();
  await expect(page.getByTestId('lottery-about')).toContainText('9 points');
  await expect(page.getByTestId('lottery-chart').locator('.lottery-line-rewind')).toHaveCount(1);
  expect(errors).toEqual([]);
});
