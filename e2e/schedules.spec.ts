import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import type { HistoryRow } from '../src/state/types';
import { fineTune, openReady, percent, setSlider, trackErrors } from './helpers';

const python = '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const torchMissing = probe.error ? `${python} not found` : probe.status !== 0 ? `${python} cannot import torch (apt-get install python3-torch)` : null;

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

  // The PyTorch export runs the schedule (L1 on SimpleCNN): the run's script prunes conv1 in the same 3 steps.
  await expect(page.getByTestId('export-oneshot-note')).toHaveCount(0);
  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pytorch-run-1').click()]);
  await expect(page.getByTestId('pytorch-script')).toContainText('PRUNE_SCHEDULE = "agp 3"');
  // conv1's 64 filters at 52.8, 72.2, 75 %: 33.8, 46.2, 48 -> 34, 46, 48 pruned in total, so 34, 12, 2 per step.
  await expect(page.getByTestId('pytorch-script')).toContainText('STEP_FILTERS = [\n    {"conv1": 34},\n    {"conv1": 12},\n    {"conv1": 2},\n]');
  const files = unzipSync(new Uint8Array(readFileSync(await zip.path())));
  const row = ((await page.evaluate(() => (window as unknown as { __playground: { state: () => unknown } }).__playground.state())) as { history: HistoryRow[] }).history[0];
  if (process.env.CI === 'true') expect(torchMissing, 'CI=true needs PyTorch to check the exported script').toBeNull();
  if (torchMissing === null) {
    // Without --finetune the script runs the 3 steps back to back: its counts are the page's run's exactly.
    const dir = mkdtempSync(path.join(tmpdir(), 'pp-schedule-'));
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
    const run = spawnSync(python, [path.join(dir, 'prune_run.py'), '--data', path.resolve('public/data/cifar10')], { encoding: 'utf8', timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.steps.length).toBe(3);
    expect([out.params, out.nonzero_params, out.macs, out.nonzero_macs]).toEqual([row.totalParams, row.nonzeroParams, row.macs, row.nonzeroMacs]);
    expect(out.kept.conv1.length).toBe(row.keptFilters.conv1.length);
    console.log(`scheduled export: ${JSON.stringify(out.steps.map((st: { step: number; nonzero_params: number; accuracy: number }) => [st.step, st.nonzero_params, st.accuracy]))}`);
  } else console.log(`PyTorch run of the scheduled export skipped: ${torchMissing}`);
  // Random filters: the script replays the page's draw at each step; global mode with random weights too (each
  // step's draw over all conv weights in masks.safetensors): no one-shot note for either.
  await page.getByTestId('method-random').check();
  await expect(page.getByTestId('export-oneshot-note')).toHaveCount(0);
  await page.getByTestId('mode-global').check();
  await expect(page.getByTestId('mode-global')).toBeChecked();
  await expect(page.getByTestId('export-oneshot-note')).toHaveCount(0);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const lines = readFileSync(await csv.path(), 'utf8').trimEnd().split('\r\n');
  expect(lines[0].endsWith(',schedule,controlAcc,controlEpochs')).toBe(true);
  expect(lines[1]).toMatch(/,agp 3,0\.\d+,3$/);
  expect(errors).toEqual([]);
});

test('a scheduled Taylor run re-scores each step; its history row keeps each step’s filters and its PyTorch export replays them', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?trainSubset=256&taylorBatch=16&method=taylor&mode=remove&conv1=50&schedule=iterative&steps=2');
  await percent(page, 'pruned-acc');
  // The script runs this schedule (it used to prune Taylor in one shot).
  await expect(page.getByTestId('export-oneshot-note')).toHaveCount(0);
  await fineTune(page);
  const rows = page.getByTestId('history').locator('tbody tr');
  await expect(rows.first().getByTestId('schedule-label')).toHaveText(' · iterative, 2 steps');
  const row = ((await page.evaluate(() => (window as unknown as { __playground: { state: () => unknown } }).__playground.state())) as { history: HistoryRow[] }).history[0];
  // SimpleCNN's 64 conv1 filters, iterative to 50 %: 16 pruned after step 1, 32 after step 2; step 2 keeps a subset of step 1's.
  const kept = row.schedule!.reports.map((r) => r.kept!.conv1);
  expect(kept.map((k) => k.length)).toEqual([48, 32]);
  expect(kept[1].every((j) => kept[0].includes(j))).toBe(true);
  await expect(page.getByTestId('export-pytorch-run-1')).toBeEnabled();
  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pytorch-run-1').click()]);
  await expect(page.getByTestId('pytorch-script')).toContainText('PRUNE_SCHEDULE = "iterative 2"');
  const files = unzipSync(new Uint8Array(readFileSync(await zip.path())));
  const script = new TextDecoder().decode(files['prune_run.py']);
  const literal = /^KEPT_STEPS = (\[[\s\S]*?\n\])$/m.exec(script)![1];
  expect(JSON.parse(literal.replace(/,(\s*[\]}])/g, '$1'))).toEqual(row.schedule!.reports.map((r) => r.kept));
  if (process.env.CI === 'true') expect(torchMissing, 'CI=true needs PyTorch to check the exported script').toBeNull();
  if (torchMissing === null) {
    const dir = mkdtempSync(path.join(tmpdir(), 'pp-schedule-taylor-'));
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
    const run = spawnSync(python, [path.join(dir, 'prune_run.py'), '--data', path.resolve('public/data/cifar10')], { encoding: 'utf8', timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.steps.map((st: { kept: Record<string, number[]> }) => st.kept.conv1)).toEqual(kept);
    expect([out.params, out.macs]).toEqual([row.totalParams, row.macs]);
  } else console.log(`PyTorch run of the scheduled Taylor export skipped: ${torchMissing}`);
  expect(errors).toEqual([]);
});
