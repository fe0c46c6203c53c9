import { type Page, expect } from '@playwright/test';

/** Collects console errors and page errors so each test can assert there were none. */
export function trackErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Opens the page and waits until both data sets are loaded and the baseline is evaluated. */
export async function openReady(page: Page, query = '?trainSubset=256'): Promise<void> {
  await page.goto(`./${query}`);
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  await expect(page.getByTestId('baseline-acc')).toHaveText(/%$/);
}

export async function tensorCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __playground: { tensorCount: () => Promise<number> } }).__playground.tensorCount());
}

/** Sets a range slider the way a keyboard user would reach a value, firing React's change handler. */
export async function setSlider(page: Page, testId: string, value: number): Promise<void> {
  await page.getByTestId(testId).fill(String(value));
}
