/**
 * Accessibility (issue 23): axe-core (@axe-core/playwright) on the page as a user first sees it and with
 * each model and a pruned setting (the network view, feature maps and speed lab drawn): no serious or
 * critical violations. Each violation is printed with the nodes it names, so a failure says what to fix.
 */
import AxeBuilder from '@axe-core/playwright';
import { type Page, expect, test } from '@playwright/test';
import { type ViewId, gotoView, openReady } from './helpers';

const PAGES = [
  ['the default page', '?conv1=50'],
  ['ConvNet-3, conv2 removed 50 %', '?model=convnet3&mode=remove&conv2=50'],
  ['ResNet-20, stream 2 removed 50 %', '?model=resnet20&mode=remove&stream2=50'],
] as const;

/** The serious and critical violations axe finds in the page as it is now, each printed with the nodes it names. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n  ')}`);
  return bad.map((v) => `${v.id} (${v.nodes.length})`);
}

for (const [what, query] of PAGES) {
  test(`axe: no serious or critical violations on ${what}`, async ({ page }) => {
    test.setTimeout(180_000);
    await openReady(page, query);
    await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });
}

/** What each view draws once it has settled (so axe sees the charts and maps, not a placeholder). */
const SETTLED: Record<ViewId, string> = {
  prune: 'network-svg',
  data: 'baseline-curve',
  experiments: 'comparison',
  inspect: 'fmaps-conv1',
  work: 'save-experiment',
  article: 'gotcha-prints',
};

// Every view (issue 23), in the normal layout and in the presenter one (larger type can break contrast or overlap).
for (const presenter of [false, true]) {
  test(`axe: every view has no serious or critical violations${presenter ? ' (presenter=1)' : ''}`, async ({ page }) => {
    test.setTimeout(300_000);
    await openReady(page, `?conv1=50${presenter ? '&presenter=1' : ''}`);
    await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    const found: Record<string, string[]> = {};
    for (const view of Object.keys(SETTLED) as ViewId[]) {
      await gotoView(page, view);
      await expect(page.getByTestId(SETTLED[view]).first()).toBeVisible({ timeout: 120_000 });
      found[view] = await seriousViolations(page);
    }
    expect(found).toEqual({ prune: [], data: [], experiments: [], inspect: [], work: [], article: [] });
  });
}
