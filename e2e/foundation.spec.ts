import { expect, test } from '@playwright/test';
import { openReady, trackErrors } from './helpers';

test('loads CIFAR-10, shows the model size and the backend it runs on', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  await expect(page.getByTestId('param-count')).toHaveText('657,162');
  const backend = await page.getByTestId('backend').innerText();
  expect(['webgl', 'wasm']).toContain(backend);
  await expect(page.getByTestId('backend-reason')).not.toBeEmpty();
  // Untrained: about chance.
  const acc = parseFloat(await page.getByTestId('baseline-acc').innerText());
  expect(acc).toBeLessThan(25);
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
  await openReady(page, '?trainSubset=512&batch=64');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('job')).toBeVisible();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
  const points = Number(await page.getByTestId('baseline-curve').getAttribute('data-points'));
  expect(points).toBe(8); // 512 images / batch 64
  await expect(page.getByTestId('baseline-acc')).toHaveText(/%$/);
  await expect(page.getByText('after 1 epoch', { exact: false })).toBeVisible();
  await expect(page.getByTestId('per-class')).toBeVisible();

  // Cancel a long run: it stops within a batch and the model stays usable.
  await page.getByTestId('input-epochs').fill('20');
  await page.getByTestId('train').click();
  await expect.poll(async () => Number(await page.getByTestId('baseline-curve').getAttribute('data-points'))).toBeGreaterThan(points + 1);
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 30_000 });
  const after = Number(await page.getByTestId('baseline-curve').getAttribute('data-points'));
  expect(after).toBeLessThan(points + 8 * 20);
  await expect(page.getByTestId('train')).toBeEnabled();
  await expect(page.getByTestId('baseline-acc')).toHaveText(/%$/);
  expect(errors).toEqual([]);
});

test('a bad file gets a clear message and the loaded data stays', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
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
  const dataTransfer = await page.evaluateHandle(() => {
    const record = new Uint8Array(3073 * 3);
    record[0] = 1;
    record[3073] = 2;
    record[6146] = 9;
    const dt = new DataTransfer();
    dt.items.add(new File([record], 'data_batch_1.bin'));
    return dt;
  });
  await page.locator('.drop').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('train-count')).toHaveText('3 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  // Training works on the new data.
  await page.getByTestId('train').click();
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 60_000 });
  await expect(page.getByTestId('baseline-curve')).toHaveAttribute('data-points', '1');
  expect(errors).toEqual([]);
});

test('switching the backend in the page keeps the model and its accuracy', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  const accuracy = await page.getByTestId('baseline-acc').innerText();
  await page.getByLabel('TensorFlow.js backend').selectOption('cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
  await expect(page.getByTestId('backend-reason')).toContainText('requested cpu');
  // The same weights on another backend give the same test accuracy (up to a rare float near-tie).
  await expect(page.getByTestId('baseline-acc')).toHaveText(/%$/, { timeout: 90_000 });
  await expect(page.getByTestId('pruned-acc')).toHaveText(/%$/, { timeout: 90_000 });
  const onCpu = parseFloat(await page.getByTestId('baseline-acc').innerText());
  expect(Math.abs(onCpu - parseFloat(accuracy))).toBeLessThanOrEqual(0.3);
  await expect(page).toHaveURL(/backend=cpu/);
  expect(errors).toEqual([]);
});
