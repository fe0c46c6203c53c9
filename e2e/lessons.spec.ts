import AxeBuilder from '@axe-core/playwright';
import { type Page, expect, test } from '@playwright/test';
import { refuseDialogs, trackErrors } from './helpers';

/** The page's state through its test hook (main.tsx). */
type Hook = { __playground: { state: () => { preview: { status: string }; layout: { view: string; hidden: string[] }; settings: { lesson: string; step: number; method: string } } } };
const state = (page: Page) => page.evaluate(() => {
  const s = (window as unknown as Hook).__playground.state();
  return { preview: s.preview.status, layout: s.layout, settings: s.settings };
});

/** The article lesson's accuracy bands (core/lessons/article.ts): the label the page must judge right for a figure. */
function band(percent: number): string {
  if (percent < 15) return 'under 15 % — about chance';
  if (percent < 30) return '15–30 %';
  if (percent < 45) return '30–45 %';
  return '45 % or more';
}

test('a lesson link opens at its step with the lesson’s parts hidden; predict, then reveal the measured figure; next step moves URL and page', async ({ page }) => {
  const errors = trackErrors(page);
  const dialogs: string[] = [];
  refuseDialogs(page, dialogs);
  await page.goto('./?lesson=article&step=5&controls=-train&trainSubset=256');

  // The step as the lesson sets it: L1, mask, half of conv1; the teacher's and the lesson's parts hidden.
  const card = page.getByTestId('lesson');
  await expect(card.getByRole('heading')).toHaveText('Real filter pruning: L1 norm');
  await expect(page.getByTestId('lesson-step')).toHaveText('5');
  await expect(page.getByTestId('slider-conv1')).toHaveValue('50');
  await expect(page.getByTestId('method-l1')).toBeChecked();
  await expect(page.getByTestId('mode-mask')).toBeChecked();
  await expect(page).toHaveURL(/lesson=article&step=5.*controls=-experiments,-schedule,-export,-train/);
  expect((await state(page)).layout.hidden).toEqual(['experiments', 'schedule', 'export', 'train']);
  await expect(page.getByTestId('tab-prune')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('tab-experiments')).toHaveCount(0);
  await expect(page.getByTestId('schedule-controls')).toHaveCount(0);

  // Predict, then reveal: blocked until a choice is made.
  const reveal = page.getByTestId('lesson-reveal');
  await expect(reveal).toBeDisabled();
  await page.getByTestId('lesson-choice-3').check();
  await expect(reveal).toBeEnabled();
  await reveal.click();
  const verdict = page.getByTestId('lesson-verdict');
  await expect(verdict).toBeVisible({ timeout: 120_000 });
  // The figure is the page's own: the pruned accuracy it shows, judged into the band that holds it.
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  const shown = parseFloat(await page.getByTestId('pruned-acc').innerText());
  await expect(verdict).toContainText(`${shown.toFixed(1)} % test accuracy after pruning`);
  await expect(verdict).toContainText(`“${band(shown)}”`);
  await expect(verdict).toContainText(band(shown) === '45 % or more' ? 'Right:' : 'Not quite:');
  await expect(page.getByTestId('lesson-choice-0')).toBeDisabled(); // the prediction is locked once revealed

  // Show where: driver.js highlights the step's target; Esc hands the page back.
  await page.getByTestId('lesson-show').click();
  await expect(page.locator('.driver-active-element')).toHaveAttribute('data-testid', 'pruned-acc');
  await expect(page.getByTestId('lesson')).toBeHidden(); // folded away, off the highlighted part
  await page.keyboard.press('Escape');
  await expect(page.locator('.driver-active-element')).toHaveCount(0);
  await expect(page.getByTestId('lesson')).toBeVisible();
  await expect(page.getByTestId('lesson-verdict')).toContainText(`“${band(shown)}”`); // the prediction survived the fold

  // Next: the URL and the page's state follow; the new step starts with nothing chosen.
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-step')).toHaveText('6');
  await expect(page).toHaveURL(/method=l2&mode=mask&conv1=50&.*lesson=article&step=6/);
  await expect(page.getByTestId('method-l2')).toBeChecked();
  await expect(page.getByTestId('lesson-reveal')).toBeDisabled();
  await expect.poll(async () => (await state(page)).preview).toBe('ready');

  // Previous goes back; a reload keeps the step and what the student set.
  await page.getByTestId('lesson-prev').click();
  await expect(page.getByTestId('lesson-step')).toHaveText('5');
  await expect(page.getByTestId('method-l1')).toBeChecked();
  await page.getByTestId('method-l2').check(); // the student's own change
  await expect(page).toHaveURL(/method=l2&.*lesson=article&step=5/);
  await page.reload();
  await expect(page.getByTestId('lesson-step')).toHaveText('5');
  await expect(page.getByTestId('method-l2')).toBeChecked();
  await expect(page.getByTestId('tab-experiments')).toHaveCount(0);

  // Leaving the lesson gives back what it hid; the teacher's controls=-train stays.
  await page.getByTestId('lesson-leave').click();
  await expect(page.getByTestId('lesson')).toHaveCount(0);
  await expect(page.getByTestId('tab-experiments')).toBeVisible();
  await expect(page.getByTestId('schedule-controls')).toBeVisible();
  await expect(page).toHaveURL(/controls=-train$/);
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
});

test('the article’s count: predicting that it drops is judged wrong on the figure the page computes', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?lesson=article&step=4&trainSubset=256');
  await expect(page.getByTestId('lesson').getByRole('heading')).toHaveText('The count that never drops');
  expect((await state(page)).layout.view).toBe('article');
  await expect(page.getByTestId('tab-article')).toHaveAttribute('aria-selected', 'true');
  await page.getByTestId('lesson-choice-1').check(); // "fewer"
  await page.getByTestId('lesson-reveal').click();
  const verdict = page.getByTestId('lesson-verdict');
  await expect(verdict).toContainText('Not quite: the page measured 0 fewer in the article’s printed count', { timeout: 120_000 });
  await expect(verdict).toContainText('“the same number as before”');
  await expect(page.getByTestId('gotcha-prints')).toHaveText('657,162');
  expect(errors).toEqual([]);
});

test('a bad lesson or step in a link: a clear notice, the rest of the link kept, the lessons still offered', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?lesson=nope&mode=remove&conv1=30&trainSubset=256');
  await expect(page.getByTestId('notice').filter({ hasText: 'lesson=nope: there is no such lesson' })).toBeVisible();
  await expect(page.getByTestId('slider-conv1')).toHaveValue('30');
  await expect(page.getByTestId('mode-remove')).toBeChecked();
  await expect(page.getByTestId('lesson')).toHaveCount(0);
  // Starting a lesson from the list opens its first step.
  await page.getByTestId('lessons').locator('summary').click();
  await page.getByTestId('lesson-start-structure').click();
  await expect(page.getByTestId('lesson-step')).toHaveText('1');
  await expect(page).toHaveURL(/model=convnet3.*conv2=50.*lesson=structure&step=1/);

  await page.goto('./?lesson=article&step=40&trainSubset=256');
  await expect(page.getByTestId('notice').filter({ hasText: 'step=40: “The article, line by line” has steps 1–8; showing step 8.' })).toBeVisible();
  await expect(page.getByTestId('lesson-step')).toHaveText('8');
  await expect(page.getByTestId('lesson-finish')).toBeVisible();
  expect(errors).toEqual([]);
});

test('axe: a lesson step with its prediction revealed has no serious or critical violations', async ({ page }) => {
  await page.goto('./?lesson=structure&step=1&trainSubset=256');
  await page.getByTestId('lesson-choice-3').check();
  await page.getByTestId('lesson-reveal').click();
  await expect(page.getByTestId('lesson-verdict')).toContainText('“all of them (100 %)”', { timeout: 120_000 }); // masks keep every MAC
  const results = await new AxeBuilder({ page }).include('[data-testid="lesson"]').analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n  ')}`);
  expect(bad.map((v) => `${v.id} (${v.nodes.length})`)).toEqual([]);
});
