import { expect, test } from '@playwright/test';
import { gotoView, openReady, percent, setSlider, trackErrors } from './helpers';

test('Taylor through the page: pruned counts, which images it scored, accuracy; global structured shows what each layer lost', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&trainSubset=256');
  await page.getByTestId('method-taylor').check();
  await page.getByTestId('mode-remove').check();
  await page.getByTestId('input-taylorBatch').fill('16');
  await setSlider(page, 'slider-conv2', 50);
  await expect(page.getByTestId('detail-conv2')).toHaveText('16 of 32 filters removed · 16 kept');
  await expect(page.getByTestId('taylor-batch')).toContainText('Scored on 16 of the 5,000 loaded training images, picked by a shuffle with seed 0');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  expect(await percent(page, 'pruned-acc')).toBeGreaterThan(0);
  await expect(page).toHaveURL(/method=taylor/);
  await expect(page).toHaveURL(/taylorBatch=16/);

  await page.getByTestId('method-globalStruct').check();
  await setSlider(page, 'slider-conv1', 30);
  await expect(page.getByTestId('global-lost')).toContainText(/Lost per layer: conv1 \d+ of 16 · conv2 \d+ of 32 · conv3 \d+ of 64/);
  const lost = (await page.getByTestId('global-lost').innerText()).match(/\d+ of/g)!.map((s) => parseInt(s));
  expect(lost.reduce((a, b) => a + b, 0)).toBe(34); // 30 % of 112 filters, torch-rounded
  expect(await percent(page, 'pruned-acc')).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('the oracle chart for one layer shows a ρ bar per criterion and the time it took', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&trainSubset=256&taylorBatch=16');
  await gotoView(page, 'experiments');
  await page.getByTestId('oracle-group').selectOption('conv1');
  await page.getByTestId('oracle-run').click();
  await expect(page.getByTestId('oracle-time')).toContainText(/conv1: 16 units in \d+\.\d s on 16 training images/, { timeout: 120_000 });
  for (const c of ['l1', 'l2', 'bn', 'taylor', 'random']) await expect(page.getByTestId(`oracle-bar-${c}`)).toHaveCount(1);
  expect(errors).toEqual([]);
});
