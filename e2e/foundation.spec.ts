import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { CHANCE, TRAINED_ABOVE, baselineEpochs, gotoView, openReady, percent, setSlider, shippedPretrained, trackErrors } from './helpers';

test('loads CIFAR-10, shows the model size, the backend it runs on, and where the baseline came from', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  const backend = await page.getByTestId('backend').innerText();
  expect(['webgl', 'wasm']).toContain(backend);
  await expect(page.getByTestId('backend-reason')).not.toBeEmpty();
  const origin = page.getByTestId('baseline-origin');
  const acc = await percent(page, 'baseline-acc');
  // A build that ships a pretrained SimpleCNN starts from it (its manifest's accuracy, re-measured
  // here); one without starts from the seeded untrained network, at about chance.
  const shipped = await shippedPretrained(page, 'simplecnn');
  if (shipped) {
    await expect(origin).toHaveAttribute('data-kind', 'pretrained');
    await expect(origin).toHaveAttribute('data-epochs', String(shipped.epochs));
    await expect(origin).toContainText(`pretrained SimpleCNN: ${shipped.epochs} epochs, seed ${shipped.seed}`);
    expect(Math.abs(acc - shipped.testAccuracy * 100)).toBeLessThanOrEqual(1);
  } else {
    await expect(origin).toHaveAttribute('data-kind', 'scratch');
    await expect(origin).toHaveText('Baseline: untrained SimpleCNN, seed 42');
    expect(Math.abs(acc - CHANCE)).toBeLessThan(5);
  }
  expect(errors).toEqual([]);
});

test('backend=webgl runs on WebGL (software WebGL allowed, no silent CPU fallback)', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?trainSubset=256&backend=webgl');
  await expect(page.getByTestId('backend')).toHaveText('webgl');
  await expect(page.getByTestId('renderer')).toContainText(/SwiftShader|ANGLE/);
  expect(errors).toEqual([]);
});

test('trains an epoch on a subset with live curves, test accuracy, and Cancel', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?baseline=scratch&trainSubset=512&batch=64');
  await gotoView(page, 'data');
  const untrained = await percent(page, 'baseline-acc');
  expect(Math.abs(untrained - CHANCE)).toBeLessThan(5);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('job')).toBeVisible();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
  const points = Number(await page.getByTestId('baseline-curve').getAttribute('data-points'));
  expect(points).toBe(8); // 512 images / batch 64
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-epochs', '1');
  await expect(page.getByText('after 1 epoch (', { exact: false })).toBeVisible();
  // One epoch on 512 images lifts the untrained network clearly above chance (about 22 %).
  const trained = await percent(page, 'baseline-acc');
  expect(trained).toBeGreaterThan(TRAINED_ABOVE);
  expect(trained).not.toBe(untrained);
  await expect(page.getByTestId('per-class')).toBeVisible();

  // Cancel a long run: it stops within a batch, records the fraction of an epoch it did, and the model stays usable.
  await page.getByTestId('input-epochs').fill('20');
  await page.getByTestId('train').click();
  await expect.poll(async () => Number(await page.getByTestId('baseline-curve').getAttribute('data-points'))).toBeGreaterThan(points + 1);
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 30_000 });
  const after = Number(await page.getByTestId('baseline-curve').getAttribute('data-points'));
  expect(after).toBeLessThan(points + 8 * 20);
  // 1 epoch + the batches of the cancelled run, in eighths of an epoch, rounded to 2 decimals as the engine does.
  const epochs = 1 + Math.round(((after - points) / 8) * 100) / 100;
  expect(await baselineEpochs(page)).toBeCloseTo(epochs, 6);
  await expect(page.getByTestId('train')).toBeEnabled();
  await percent(page, 'baseline-acc');
  expect(errors).toEqual([]);
});

test('a bad file gets a clear message and the loaded data stays', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await gotoView(page, 'data');
  await page.getByTestId('file-input').setInputFiles({ name: 'data_batch_9.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3073 * 2 + 5) });
  await expect(page.getByTestId('notice')).toContainText('data_batch_9.bin: length 6,151 bytes is not a multiple of 3,073');
  const bad = Buffer.alloc(3073 * 3);
  bad[3073 * 2] = 200;
  await page.getByTestId('file-input').setInputFiles({ name: 'test_batch.bin', mimeType: 'application/octet-stream', buffer: bad });
  await expect(page.getByTestId('notice').nth(1)).toContainText('test_batch.bin: record 2 has label 200');
  await page.getByTestId('file-input').setInputFiles({ name: 'empty.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) });
  await expect(page.getByTestId('notice').nth(2)).toContainText('empty.bin: the file is empty');
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  expect(errors).toEqual([]);
});

test('loads the user’s own CIFAR-10 batch from a file', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await gotoView(page, 'data');
  // Two valid records: labels 3 and 7.
  const buf = Buffer.alloc(3073 * 2);
  buf[0] = 3;
  buf[3073] = 7;
  await page.getByTestId('file-input').setInputFiles({ name: 'test_batch.bin', mimeType: 'application/octet-stream', buffer: buf });
  await expect(page.getByTestId('test-count')).toHaveText('2 images');
  await expect(page.getByTestId('notice')).toContainText('Loaded 2 test images from test_batch.bin');
  expect(errors).toEqual([]);
});

test('a bad URL value is clamped or ignored with a visible notice', async ({ page }) => {
  await page.goto('./?conv1=150&lr=fast&mode=remove&bogus=1');
  const notices = page.getByTestId('notice');
  await expect(notices.filter({ hasText: 'conv1=150 is outside 0–100; using 100.' })).toBeVisible();
  await expect(notices.filter({ hasText: 'lr=fast is not a number' })).toBeVisible();
  await expect(notices.filter({ hasText: 'Unknown URL parameter “bogus”' })).toBeVisible();
  await expect(page.getByTestId('detail-conv1')).toHaveText('64 of 64 filters removed · 0 kept');
});

test('dropping CIFAR-10 batches on the page replaces the training set', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await gotoView(page, 'data');
  const dataTransfer = await page.evaluateHandle(() => {
    const record = new Uint8Array(3073 * 3);
    record[0] = 1;
    record[3073] = 2;
    record[6146] = 9;
    const dt = new DataTransfer();
    dt.items.add(new File([record], 'data_batch_1.bin'));
    return dt;
  });
  // The data panel's drop zone (other panels have their own).
  await page.locator('section[aria-labelledby="data-h"] .drop').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('train-count')).toHaveText('3 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  // Training works on the new data: one batch of 3 images is one epoch.
  const epochs = await baselineEpochs(page);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-epochs', String(epochs + 1), { timeout: 60_000 });
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 60_000 });
  await expect(page.getByTestId('baseline-curve')).toHaveAttribute('data-points', '1');
  expect(errors).toEqual([]);
});

test('switching the backend in the page keeps the model and its accuracy', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await gotoView(page, 'data');
  // The first 250 real test images, so that the cpu backend's evaluations stay short.
  const test250 = readFileSync(new URL('../public/data/cifar10/test_1000.bin', import.meta.url)).subarray(0, 250 * 3073);
  await page.getByTestId('file-input').setInputFiles({ name: 'test_batch.bin', mimeType: 'application/octet-stream', buffer: test250 });
  await expect(page.getByTestId('test-count')).toHaveText('250 images');
  await expect(page.getByTestId('notice').filter({ hasText: 'Loaded 250 test images from test_batch.bin' })).toBeVisible();
  await gotoView(page, 'prune');
  await setSlider(page, 'slider-conv1', 25);
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
  const accuracy = await percent(page, 'baseline-acc');
  const pruned = await percent(page, 'pruned-acc');
  await page.getByLabel('TensorFlow.js backend').selectOption('cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
  await expect(page.getByTestId('backend-reason')).toContainText('requested cpu');
  // The same weights on another backend give the same test accuracy (up to one image, 0.4 %, for a rare float near-tie).
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 90_000 });
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 90_000 });
  expect(Math.abs((await percent(page, 'baseline-acc')) - accuracy)).toBeLessThanOrEqual(0.4);
  expect(Math.abs((await percent(page, 'pruned-acc')) - pruned)).toBeLessThanOrEqual(0.4);
  await expect(page.getByTestId('test-count')).toHaveText('250 images');
  await expect(page).toHaveURL(/backend=cpu/);
  expect(errors).toEqual([]);
});
