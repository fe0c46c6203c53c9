/**
 * Issue 19: whether the SIMD kernels' helper thread pays is measured on the machine the page runs on,
 * in the first training steps (helperTuner.ts), and the backend line says what was chosen and why.
 */
import { expect, test } from '@playwright/test';
import { openReady, trackErrors, trainBaseline } from './helpers';

test('the first training measures the SIMD helper thread with and without, and the backend line gives the choice', async ({ page }) => {
  const errors = trackErrors(page);
  // 1,024 images: 16 full batches of 64 in the epoch, more than the 14 steps the measurement takes.
  await openReady(page, '?trainSubset=1024&epochs=1');
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await expect(page.getByTestId('kernels')).toHaveText('custom kernels');
  const reason = page.getByTestId('backend-reason');
  await expect(reason).not.toContainText('SIMD helper thread');
  await trainBaseline(page, 1);
  await expect(reason).toContainText(/SIMD helper thread (on|off) for simplecnn b64 \(measured: \d+\.\d ms per step with it, \d+\.\d ms without\)/);
  expect(errors).toEqual([]);
});
