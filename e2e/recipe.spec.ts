/**
 * The training recipe (issue 21) as a person uses it: a shared link with a recipe opens with it shown,
 * training runs with it (a seeded untrained SimpleCNN moves off its untrained accuracy, the tensor count
 * stays flat between runs), the accuracy says which test set it is on, and a change in the fields goes
 * to the URL.
 */
import { expect, test } from '@playwright/test';
import { gotoView, openReady, percent, settledTensorCount, trackErrors, trainBaseline } from './helpers';

const RECIPE = 'opt=sgd&lr=0.05&aug=on&nesterov=on&wd=0.0005&sched=cosine&warmup=0.5&ls=0.1';

test('a recipe link: shown in the fields, used by training, changes go to the URL', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, `?baseline=scratch&trainSubset=256&${RECIPE}`);
  await gotoView(page, 'data'); // the recipe is set beside the baseline training
  await expect(page.getByTestId('recipe')).toHaveAttribute('open', '');
  await expect(page.getByTestId('input-aug')).toBeChecked();
  await expect(page.getByTestId('input-nesterov')).toBeChecked();
  await expect(page.getByTestId('input-sched')).toHaveValue('cosine');
  await expect(page.getByTestId('input-wd')).toHaveValue('0.0005');
  await expect(page.getByTestId('input-warmup')).toHaveValue('0.5');
  await expect(page.getByTestId('input-ls')).toHaveValue('0.1');
  // The recipe's fields close the settings; the view (a layout parameter) follows them.
  await expect(page).toHaveURL(new RegExp(`${RECIPE.replace(/^opt=sgd&lr=0.05&/, '').replace(/\./g, '\\.')}&view=data$`));

  const untrained = await percent(page, 'baseline-acc');
  const trained = await trainBaseline(page);
  expect(trained).not.toBe(untrained);
  await expect(page.getByText('after 1 epoch (on 1,000 test images; chance is 10%)')).toBeVisible();
  const tensors = await settledTensorCount(page);
  await trainBaseline(page);
  expect(await settledTensorCount(page)).toBe(tensors);

  await page.getByTestId('input-aug').uncheck();
  await expect(page).not.toHaveURL(/aug=on/);
  await page.getByTestId('input-sched').selectOption('onecycle');
  await expect(page).toHaveURL(/sched=onecycle/);
  expect(errors).toEqual([]);
});
