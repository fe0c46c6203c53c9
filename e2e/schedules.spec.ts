import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { fineTune, openReady, percent, setSlider, trackErrors } from './helpers';

test('an AGP run to 75 % in 3 steps draws its step curve and one history row with its schedule and its control', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?trainSubset=256');
  await page.getByTestId('method-l1').check();
  await page.getByTestId('mode-mask').check();
  await setSlider(page, 'slider-conv1', 75);
  await percent(page, 'pruned-acc');
  await page.getByTestId('input-schedule').selectOption('agp');
  await expect(page.getByTestId('input-steps')).toHaveValue('3');
  // AGP: 75 % · (1 − (1 − t/3)³)
  await expect(page.getByTestId('schedule-plan')).toContainText('AGP 3 steps: 52.8 → 72.2 → 75 %');
  await expect(page.getByTestId('schedule-plan')).toContainText('the control gets the same 3 epochs');
  await expect(page).toHaveURL(/schedule=agp&steps=3/);

  await fineTune(page);
  const chart = page.getByTestId('schedule-chart');
  await expect(chart).toHaveAttribute('data-steps', '3');
  await expect(chart.locator('.recharts-line-dot')).toHaveCount(7); // baseline + before/after of each step
  const steps = page.getByTestId('schedule-steps').locator('tr');
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0)).toContainText('52.8 %');
  await expect(steps.nth(2)).toContainText('75 %');

  const rows = page.getByTestId('history').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('schedule-label')).toHaveText(' · AGP, 3 steps');
  await expect(rows.first().getByTestId('ft-description')).toContainText('3 epochs');
  await expect(rows.first().getByTestId('control')).toHaveText(/^control \(unpruned, same 3 epochs\) \d+\.\d%$/, { timeout: 120_000 });

  // The measured figures, for the record (pretrained SimpleCNN, L1 mask, conv1 75 %, 256 training images, 1 epoch per step).
  console.log(`AGP 3 steps: ${(await steps.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')).join(' | ')}; ${await rows.first().getByTestId('control').innerText()}; fine-tuned ${await rows.first().locator('td').nth(10).innerText()}`);

  // The PyTorch export prunes one-shot: a scheduled row does not offer it, and the export says so.
  await expect(page.getByTestId('export-pytorch-run-1')).toBeDisabled();
  await expect(page.getByTestId('export-oneshot-note')).toBeVisible();

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const lines = readFileSync(await csv.path(), 'utf8').trimEnd().split('\r\n');
  expect(lines[0].endsWith(',schedule,controlAcc,controlEpochs')).toBe(true);
  expect(lines[1]).toMatch(/,agp 3,0\.\d+,3$/);
  expect(errors).toEqual([]);
});
