import { expect, test } from '@playwright/test';
import { openReady, setSlider, trackErrors } from './helpers';

const stripes = (page: import('@playwright/test').Page, layer: string) => page.getByTestId(`net-block-${layer}`).locator('rect.stripe');

test('network view: ConvNet-3, remove conv2 50 % → conv2 draws 16 of 32 stripes; a click lights conv2’s group', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&baseline=scratch&trainSubset=256&method=l1&mode=remove&conv2=50');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  const view = page.getByTestId('network-view');
  await expect(view.getByTestId('network-svg')).toBeVisible();
  await expect(stripes(page, 'conv2')).toHaveCount(16);
  await expect(stripes(page, 'conv1')).toHaveCount(16);
  await expect(stripes(page, 'conv3')).toHaveCount(64);
  await expect(page.getByTestId('network-row-conv2')).toContainText('16 / 32');

  // Mask mode: all 32 drawn, 16 of them grey.
  await page.getByTestId('mode-mask').check();
  await expect(stripes(page, 'conv2')).toHaveCount(32);
  await expect(page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="pruned"]')).toHaveCount(16);

  // The slider moves the stripes.
  await setSlider(page, 'slider-conv2', 25);
  await expect(page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="pruned"]')).toHaveCount(8);

  // Click a kept conv2 channel: conv2 (filters), bn2 (folded), conv3 (input channels) light up, conv1 does not.
  const kept = page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="kept"]').first();
  await kept.click();
  await expect(page.getByTestId('net-block-conv2')).toHaveClass(/lit/);
  await expect(page.getByTestId('net-block-conv3')).toHaveClass(/lit/);
  await expect(page.getByTestId('net-block-conv1')).not.toHaveClass(/lit/);
  await expect(page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="lit"]')).toHaveCount(1);
  await expect(page.getByTestId('network-group')).toContainText("removing 1 of conv2's 32 filters");

  // Break it: conv2 alone loses the channel → PyTorch's error at conv3.
  await page.getByTestId('break-it').check();
  await page.getByTestId('stripe-conv2-0').click();
  await expect(page.getByTestId('break-error')).toHaveText(
    'RuntimeError: Given groups=1, weight of size [64, 32, 3, 3], expected input[1, 31, 8, 8] to have 32 channels, but got 31 channels instead',
  );
  expect(errors).toEqual([]);
});
