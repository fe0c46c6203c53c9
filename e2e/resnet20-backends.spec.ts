/**
 * ResNet-20 trains on every backend (issue 20): a full training step's gradients — stride-2 convs, 1×1
 * shortcuts, the BatchNorm before the add, the add and global average pooling — on WebGL and WebGPU
 * equal the cpu backend's to 1e-4 (wasm: src/core/model/netGraphWasm.test.ts). Both are SwiftShader
 * here (software, slow): batch 2. WebGPU needs --enable-unsafe-webgpu, added for this file only.
 */
import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from '../scripts/browser.mjs';
import type { GradientComparison } from '../src/core/backend/gradCheck';
import type { BackendSelection } from '../src/core/backend/selectBackend';
import type { ModelId } from '../src/core/model/spec';
import { trackErrors } from './helpers';

type BenchWindow = Window & {
  bench: {
    init(): Promise<{ selection: BackendSelection }>;
    gradientCheck(model: ModelId, batch: number): Promise<GradientComparison>;
  };
};

test.use({ launchOptions: { executablePath: chromiumPathOrExit(), args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

for (const backend of ['webgl', 'webgpu'] as const) {
  test(`ResNet-20 training gradients on ${backend} = the cpu backend to 1e-4`, async ({ page }) => {
    test.setTimeout(600_000);
    const errors = trackErrors(page);
    await page.goto(`./bench.html?backend=${backend}`);
    await expect(page).toHaveTitle('bench ready');
    const init = await page.evaluate(() => (window as unknown as BenchWindow).bench.init());
    expect(init.selection.backend).toBe(backend);
    const r = await page.evaluate(() => (window as unknown as BenchWindow).bench.gradientCheck('resnet20', 2));
    console.log(`${backend} resnet20: ${r.entries} gradient entries, largest difference from cpu ${r.maxDiff.toExponential(1)} (${r.worst})`);
    expect(r.backend).toBe(backend);
    expect(r.entries).toBe(272_474 + 1); // every parameter's gradient and the loss
    expect(r.maxDiff, `worst ${r.worst}`).toBeLessThanOrEqual(1e-4);
    expect(r.largest).toBeGreaterThan(1e-3); // real gradients, not zeros
    expect(errors).toEqual([]);
  });
}
