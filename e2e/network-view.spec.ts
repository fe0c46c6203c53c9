import { expect, test } from '@playwright/test';
import { gotoView, openReady, setSlider, tensorCount, trackErrors } from './helpers';

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

test('what each filter sees: maps for a chosen image, a masked channel’s map is blank, a removed one absent; top-3, per class, confusion; own image', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&baseline=scratch&trainSubset=256&method=l1&mode=mask&conv2=50');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  // The channels the network view (prune view) greys are the masked ones: one constant map each (Inspect view).
  // (Its layout engine starts once the first accuracy is shown: main.tsx holdElkUntil.)
  await expect(page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="pruned"]')).toHaveCount(16);
  const pruned = await page.getByTestId('net-block-conv2').locator('rect.stripe[data-state="pruned"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.split('-').pop()!));
  expect(pruned).toHaveLength(16);
  await gotoView(page, 'inspect');
  const fm = page.getByTestId('feature-maps');
  await fm.getByTestId('test-image-3').click();
  await expect(fm.getByTestId('fmaps-conv2').locator('canvas[data-testid^="fmap-baseline-"]')).toHaveCount(32);
  for (const j of pruned.slice(0, 4)) {
    const map = fm.getByTestId(`fmap-pruned-conv2-${j}`);
    await expect(map).toHaveAttribute('data-state', 'masked');
    await expect(map).toHaveAttribute('data-flat', 'true');
  }
  await expect(fm.getByTestId('fmaps-conv2').locator('canvas[data-testid^="fmap-pruned-"][data-state="kept"][data-flat="false"]')).not.toHaveCount(0);
  await expect(fm.getByTestId('top3-baseline').locator('li')).toHaveCount(3);
  await expect(fm.getByTestId('top3-pruned').locator('li')).toHaveCount(3);
  const tensors = await tensorCount(page);
  await fm.getByTestId('test-image-5').click();
  await expect(fm.getByTestId('test-image-5')).toHaveAttribute('aria-pressed', 'true');
  await expect(fm.getByTestId('top3-pruned').locator('li')).toHaveCount(3);
  expect(await tensorCount(page)).toBe(tensors); // the maps' tensors are disposed
  await expect(fm.getByTestId('per-class-compare').locator('tbody tr')).toHaveCount(10);
  // The confusion matrix holds every test image once.
  await expect(fm.getByTestId('confusion')).toBeVisible();
  const total = await fm.getByTestId('confusion').locator('td').evaluateAll((els) => els.reduce((a, e) => a + Number(e.textContent), 0));
  expect(total).toBe(1000);

  // Remove mode (set in the prune view): the pruned channels' maps are gone.
  await gotoView(page, 'prune');
  await page.getByTestId('mode-remove').check();
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  await gotoView(page, 'inspect');
  await expect(fm.getByTestId(`fmap-pruned-conv2-${pruned[0]}`)).toHaveAttribute('data-state', 'removed');
  await expect(fm.getByTestId('fmaps-conv2').locator('canvas[data-testid^="fmap-pruned-"]')).toHaveCount(16);

  // A bad file: a clear message, the maps stay. Then a real PNG, scaled to 32×32 in the page.
  await fm.getByTestId('own-image').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(fm.getByTestId('fmaps-error')).toContainText('“notes.txt” is not a PNG or JPEG image');
  await expect(fm.getByTestId('fmaps-conv2')).toBeVisible();
  await fm.getByTestId('own-image').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a png') });
  await expect(fm.getByTestId('fmaps-error')).toContainText('could not be decoded');
  const png = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#c33';
    ctx.fillRect(0, 0, 64, 48);
    ctx.fillStyle = '#3c3';
    ctx.fillRect(16, 12, 32, 24);
    return c.toDataURL('image/png').split(',')[1];
  });
  await fm.getByTestId('own-image').setInputFiles({ name: 'mine.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
  await expect(fm.getByText('mine.png')).toBeVisible();
  await expect(fm.getByTestId('fmaps-error')).toBeHidden();
  await expect(fm.getByTestId('top3-pruned').locator('li')).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('speed lab: three timings per model (masked, removed, dense) beside their MACs, on the current backend', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?model=convnet3&baseline=scratch&trainSubset=256&method=l1&mode=remove&conv2=50&conv3=50');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  const tensors = await tensorCount(page);
  await gotoView(page, 'inspect');
  const lab = page.getByTestId('speed-lab');
  await lab.getByTestId('speed-run').click();
  await expect(lab.getByTestId('speed-table')).toBeVisible({ timeout: 120_000 });
  expect(await tensorCount(page)).toBe(tensors); // every model and input of the lab disposed
  for (const m of ['masked', 'removed', 'dense']) {
    const row = lab.getByTestId(`speed-row-${m}`);
    for (const b of [1, 32, 256]) await expect(row.getByTestId(`speed-ms-${m}-${b}`)).toHaveText(/^\d+(\.\d+)?$/);
  }
  // MACs as computed: the masked model keeps the baseline's 2,811,904; the removed one has fewer.
  await expect(lab.getByTestId('speed-row-masked')).toContainText('2,811,904');
  await expect(lab.getByTestId('speed-row-removed')).toContainText('16 · 16 · 32');
  await expect(lab.getByTestId('speed-findings')).toContainText('Why masks do not speed anything up');
  expect(errors).toEqual([]);
});
