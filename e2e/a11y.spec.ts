/**
 * Accessibility (issue 23): axe-core (@axe-core/playwright) on the page as a user first sees it and with
 * each model and a pruned setting (the network view, feature maps and speed lab drawn): no serious or
 * critical violations. Each violation is printed with the nodes it names, so a failure says what to fix.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { openReady } from './helpers';

const PAGES = [
  ['the default page', '?conv1=50'],
  ['ConvNet-3, conv2 removed 50 %', '?model=convnet3&mode=remove&conv2=50'],
  ['ResNet-20, stream 2 removed 50 %', '?model=resnet20&mode=remove&stream2=50'],
] as const;

for (const [what, query] of PAGES) {
  test(`axe: no serious or critical violations on ${what}`, async ({ page }) => {
    test.setTimeout(180_000);
    await openReady(page, query);
    await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of bad) console.log(`${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n  ')}`);
    expect(bad.map((v) => `${v.id} (${v.nodes.length})`)).toEqual([]);
  });
}
