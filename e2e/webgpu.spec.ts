/**
 * WebGPU (issue 24). Headless Chromium has WebGPU only with --enable-unsafe-webgpu, on SwiftShader (a
 * software adapter: slow, so small batches and subsets), and only in a secure context (http://localhost
 * is one). The flag is added for this file only: the other tests run in the browser they always had.
 */
import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from '../scripts/browser.mjs';
import type { KernelsReport } from '../src/core/backend/kernels';
import type { GradientComparison } from '../src/core/backend/gradCheck';
import type { BackendSelection } from '../src/core/backend/selectBackend';
import type { ModelId } from '../src/core/model/spec';
import { historyRows, percent, trackErrors } from './helpers';

/** The part of bench.html's window.bench (bench/main.ts) used here. */
type BenchWindow = Window & {
  bench: {
    init(): Promise<{ selection: BackendSelection & { kernels: KernelsReport } }>;
    gradientCheck(model: ModelId, batch: number): Promise<GradientComparison>;
  };
};

test.use({ launchOptions: { executablePath: chromiumPathOrExit(), args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

test('webgpu training gradients (conv blocks included) = the cpu backend to 1e-4, with the custom kernels installed', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./bench.html?backend=webgpu');
  await expect(page).toHaveTitle('bench ready');
  const init = await page.evaluate(() => (window as unknown as BenchWindow).bench.init());
  expect(init.selection.backend).toBe('webgpu');
  expect(init.selection.renderer).toMatch(/swiftshader/i);
  // The kernels' self-check passed on webgpu (the wasm-only paths stay off there).
  expect(init.selection.kernels.active).toBe('custom');
  expect(init.selection.kernels.selfCheck?.backend).toBe('webgpu');
  for (const model of ['convnet3', 'simplecnn'] as const) {
    const r = await page.evaluate((m) => (window as unknown as BenchWindow).bench.gradientCheck(m, 8), model);
    expect(r.backend).toBe('webgpu');
    expect(r.reference).toBe('cpu');
    console.log(`webgpu ${model}: ${r.entries} gradient entries, largest difference from cpu ${r.maxDiff.toExponential(1)} (${r.worst})`);
    expect(r.maxDiff, `${model}: worst ${r.worst}`).toBeLessThanOrEqual(1e-4);
    expect(r.largest).toBeGreaterThan(1e-3); // real gradients, not zeros
  }
  expect(errors).toEqual([]);
});

test('backend=webgpu: the page runs on WebGPU, prunes ConvNet-3 and fine-tunes it into a history row', async ({ page }) => {
  test.setTimeout(900_000); // SwiftShader WebGPU trains at a few images a second
  const errors = trackErrors(page);
  // openReady, with room for SwiftShader's first shader compilations and 1,000-image evaluations.
  await page.goto('./?backend=webgpu&model=convnet3&baseline=pretrained&trainSubset=64&batch=32&method=l1&mode=remove&conv2=50');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  const t0 = Date.now();
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 300_000 });
  console.log(`webgpu: baseline evaluated after ${Date.now() - t0} ms`);
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('renderer')).toContainText(/swiftshader/i);
  await expect(page.getByRole('combobox', { name: 'TensorFlow.js backend' })).toHaveValue('webgpu');
  await expect(page.getByTestId('fig-filters')).toHaveText('16 · 16 · 64');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 300_000 });
  const pruned = await percent(page, 'pruned-acc');
  expect(pruned).toBeGreaterThan(10);
  console.log(`webgpu: pruned accuracy after ${Date.now() - t0} ms`);
  // helpers' fineTune, with SwiftShader's time: two steps of 32 images, then the 1,000-image evaluation.
  await page.getByTestId('finetune').click();
  await expect(historyRows(page)).toHaveCount(1, { timeout: 600_000 });
  await expect(page.getByTestId('job')).toBeHidden();
  console.log(`webgpu: fine-tuned after ${Date.now() - t0} ms`);
  const cells = historyRows(page).first().locator('td');
  await expect(cells.nth(5)).toHaveText('16 · 16 · 64');
  await expect(cells.nth(9)).toHaveText(`${pruned.toFixed(1)}%`);
  await expect(cells.nth(10)).toHaveText(/^\d+\.\d%$/);
  expect(errors).toEqual([]);
});
