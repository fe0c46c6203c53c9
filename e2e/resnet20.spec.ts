/**
 * Issue 20 in the page: ResNet-20 picked from the model list, its sliders generated from its channel
 * groups (three residual streams, nine blocks' inner channels, fc), a stream group's description and
 * exact counts, fine-tuning into the history, and a shared link that reproduces it all.
 *
 * ResNet-20 (He et al. 2016, option-B shortcuts): 272,474 parameters, 40,813,184 MACs per image. The
 * counts below are computed here from the architecture (resnet20Counts), not read from the app.
 */
import { expect, test } from '@playwright/test';
import { resnet20Counts } from '../src/core/model/resnet20Counts.testUtil';
import { fineTune, gotoView, historyRows, openReady, percent, refuseDialogs, setSlider, shippedPretrained, trackErrors } from './helpers';


const n = (x: number) => x.toLocaleString('en-US');

test('ResNet-20: the stage-2 stream at 50 % removed shows its group and exact counts, fine-tunes into a history row, and the link reproduces it', async ({ page, context }) => {
  test.setTimeout(600_000);
  const errors = trackErrors(page);
  const dialogs: string[] = [];
  refuseDialogs(page, dialogs);
  expect(resnet20Counts()).toEqual({ params: 272_474, macs: 40_813_184 });
  await openReady(page, '?trainSubset=256');
  await page.getByTestId('model').selectOption('resnet20');
  await expect(page).toHaveURL(/model=resnet20/);
  await expect(page.getByTestId('param-count')).toHaveText('272,474');
  // The shipped baseline says what it is, from its manifest entry (re-exported checkpoints update it).
  const shipped = (await shippedPretrained(page, 'resnet20-full')) as { epochs: number; testAccuracy: number; testImages: number; recipe: { epochs: number } } | null;
  if (shipped)
    await expect(page.getByTestId('baseline-origin')).toContainText(
      // A finished run: "40 epochs"; one shipped before its end: "8 of 100 epochs".
      `trained on the full CIFAR-10, ${shipped.epochs >= shipped.recipe.epochs ? shipped.epochs : `${shipped.epochs} of ${shipped.recipe.epochs}`} epochs, ${(shipped.testAccuracy * 100).toFixed(1)} % on ${n(shipped.testImages)} test images`,
    );
  await percent(page, 'baseline-acc');

  // Sliders from the groups: no conv2 (a chain's), three streams, nine inner groups, the aggregates.
  await expect(page.getByTestId('slider-conv2')).toHaveCount(0);
  for (const id of ['stream1', 'stream2', 'stream3', 'inner1.1', 'inner2.3', 'inner3.3', 'fc', 'allinner', 'all']) await expect(page.getByTestId(`slider-${id}`)).toHaveCount(1);
  await expect(page.getByTestId('coupling-note')).toContainText('Li et al. (2017)');

  await page.getByTestId('mode-remove').check();
  await setSlider(page, 'slider-stream2', 50);
  await expect(page.getByTestId('detail-stream2')).toHaveText('16 of 32 stream channels removed · 16 kept');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64 · 16 · 16 · 16 · 32 · 32 · 32 · 64 · 64 · 64');
  const counts = resnet20Counts({ stream2: 16 });
  await expect(page.getByTestId('fig-params')).toHaveText(n(counts.params));
  await expect(page.getByTestId('fig-nonzero')).toHaveText(n(counts.params));
  await expect(page.getByTestId('fig-macs')).toHaveText(n(counts.macs));
  await expect(page.getByTestId('what-changed')).toContainText('stream2 32→16');
  await expect(page).toHaveURL(/model=resnet20&baseline=pretrained&method=l1&mode=remove&stream1=0&stream2=50&stream3=0&inner1\.1=0&/);

  // The group: every conv writing into stage 2's stream and every layer reading it.
  await page.getByTestId('slider-stream2').focus();
  await expect(page.getByTestId('group-stream2')).toHaveText(
    "Removing 16 of stage 2's 32 stream channels also removes: 16 filters each of layers.3.conv2, layers.3.shortcut.0, layers.4.conv2, layers.5.conv2 (14,080 weights), " +
      '16 channels each of BatchNorm layers.3.bn2, layers.3.shortcut.1, layers.4.bn2, layers.5.bn2 (γ, β, running mean and variance), ' +
      '16 input channels each of layers.4.conv1, layers.5.conv1, layers.6.conv1, layers.6.shortcut.0 (19,456 weights), from 12 layers',
  );
  const pruned = await percent(page, 'pruned-acc');
  await expect(page.getByTestId('filter-grid-stream2')).toHaveAttribute('data-kept', '16');
  await expect(page.getByTestId('filter-grid-inner2.1')).toHaveAttribute('data-kept', '32');
  // The stem's RGB filters are the stage-1 stream's tiles.
  await expect(page.getByTestId('filter-grid-stream1').locator('canvas')).toHaveCount(16);

  // Fine-tune 1 epoch on the first 256 training images: a history row with these settings.
  await fineTune(page);
  const row = historyRows(page).last();
  await expect(row).toContainText('stream2 50');
  const finetuned = await percent(page, 'finetuned-acc');
  expect(finetuned).toBeGreaterThanOrEqual(0);

  // The shared link reproduces the settings and figures in a fresh page.
  const url = page.url();
  const other = await context.newPage();
  const otherErrors = trackErrors(other);
  await other.goto(url);
  await expect(other.getByTestId('model')).toHaveValue('resnet20');
  await expect(other.getByTestId('slider-stream2')).toHaveValue('50');
  await expect(other.getByTestId('mode-remove')).toBeChecked();
  await expect(other.getByTestId('fig-params')).toHaveText(n(counts.params));
  await expect(other.getByTestId('fig-macs')).toHaveText(n(counts.macs));
  await expect(other.getByTestId('detail-stream2')).toHaveText('16 of 32 stream channels removed · 16 kept');
  expect(await percent(other, 'pruned-acc')).toBe(pruned);

  // A click on a channel tile prunes it by hand and says what its group takes with it.
  await other.getByTestId('tile-inner2.1-3').click();
  await expect(other.getByTestId('group-inner2.1')).toHaveText(
    "Removing 1 of stage 2 block 1's 32 inner channels also removes: 1 filters of layers.3.conv1 (144 weights), 1 channels of BatchNorm layers.3.bn1 (γ, β, running mean and variance), 1 input channels of layers.3.conv2 (288 weights), from 3 layers",
  );
  await expect(other).toHaveURL(/method=manual&/);
  await expect(other).toHaveURL(/manual=stream2:[\d,]+;inner2\.1:3|manual=inner2\.1:3;stream2:/);
  await expect(other.getByTestId('filter-grid-inner2.1')).toHaveAttribute('data-kept', '31');
  expect(otherErrors).toEqual([]);
  expect(errors).toEqual([]);
  expect(dialogs).toEqual([]);
});

test('ResNet-20 trade-off (issue 21): a method comparison of the inner channels only, with the control line on its chart', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = trackErrors(page);
  await openReady(page, '?trainSubset=128&model=resnet20&mode=remove');
  await expect(page.getByTestId('param-count')).toHaveText('272,474');
  await gotoView(page, 'experiments');
  for (const c of ['random', 'l1', 'l2', 'bn', 'taylor']) {
    const box = page.getByTestId(`sweep-criterion-${c}`);
    if (await box.count()) await box.setChecked(c === 'l1');
  }
  await page.getByTestId('sweep-sparsities').fill('50');
  await page.getByTestId('sweep-seeds').fill('1');
  await page.getByTestId('sweep-epochs').fill('1');
  await page.getByTestId('sweep-subset').fill('64');
  await page.getByTestId('sweep-scope').selectOption('inner');
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-progress')).toBeVisible();
  await expect(page.getByTestId('sweep-progress')).toBeHidden({ timeout: 540_000 });

  const chart = page.getByTestId('sweep-chart');
  await expect(chart).toHaveAttribute('data-points', '1');
  await expect(chart.locator('.recharts-reference-line')).toHaveCount(2); // unpruned, and the control
  await expect(chart).toContainText(/control: unpruned \+ 1 epoch \d+\.\d%/);
  await expect(page.getByTestId('sweep-controls')).toContainText('seed 1');
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-export-json').click()]);
  const json = JSON.parse(await (await d.createReadStream()).toArray().then((b) => Buffer.concat(b).toString('utf8')));
  expect(json.scope).toBe('inner');
  expect(json.controls).toHaveLength(1);
  // Half of every block's inner channels removed, the streams whole: the counts from the architecture.
  const half = Object.fromEntries([1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => [`inner${s}.${b}`, [8, 16, 32][s - 1]])));
  const expected = resnet20Counts(half);
  expect(json.rows).toHaveLength(1);
  expect(json.rows[0]).toMatchObject({ scope: 'inner', sparsity: 0.5, params: expected.params, nonzeroParams: expected.params, macs: expected.macs });
  expect(errors).toEqual([]);
});
