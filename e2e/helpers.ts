import { type Page, expect } from '@playwright/test';

/**
 * Collects console errors and page errors so each test can assert there were none. `allow` lists
 * console messages a test provokes on purpose (e.g. Chromium's "Failed to load resource" line for a
 * fetch the test makes fail); page errors (uncaught exceptions) are never allowed.
 */
export function trackErrors(page: Page, allow: RegExp[] = []): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !allow.some((re) => re.test(m.text()))) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Fails the test on any dialog (confirm, alert): only tests that expect one handle it. */
export function refuseDialogs(page: Page, seen: string[]): void {
  page.on('dialog', (d) => {
    seen.push(d.message());
    void d.dismiss();
  });
}

/**
 * Opens the page and waits until both data sets are loaded and the baseline is evaluated (the prune
 * view and the Data view both show the counts and the baseline's accuracy).
 */
export async function openReady(page: Page, query = '?trainSubset=256'): Promise<void> {
  await page.goto(`./${query}`);
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
}

/** An accuracy figure ("18.8%") as a number of percent, once it is shown (not "…" or "evaluating…"). */
export async function percent(page: Page, testId: string): Promise<number> {
  const el = page.getByTestId(testId);
  await expect(el).toHaveText(/^\d+\.\d%$/);
  return parseFloat(await el.innerText());
}

/** Chance on CIFAR-10's 10 balanced classes, in percent; "trained" means clearly above it. */
export const CHANCE = 10;
/** 1 epoch on 256 images gives about 18 % (SimpleCNN 18.8 %, ConvNet-3 17.4 % on wasm); an untrained net ~8–13 %. */
export const TRAINED_ABOVE = CHANCE + 4;

/** The baseline's epochs as the page records them (data-epochs of the origin line). */
export async function baselineEpochs(page: Page): Promise<number> {
  return Number(await page.getByTestId('baseline-origin').getAttribute('data-epochs'));
}

/** The page's views (src/state/layout.ts VIEWS), as the tabs and `view=` name them. */
export type ViewId = 'prune' | 'data' | 'experiments' | 'inspect' | 'work' | 'article';

/** Opens a view by its tab, as a person would, and waits until it shows. */
export async function gotoView(page: Page, view: ViewId): Promise<void> {
  const tab = page.getByTestId(`tab-${view}`);
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId(`view-${view}`)).toBeVisible();
}

/** The view whose tab is selected. */
export async function currentView(page: Page): Promise<ViewId> {
  const id = await page.locator('[role="tab"][aria-selected="true"]').getAttribute('data-testid');
  return id!.replace(/^tab-/, '') as ViewId;
}

/**
 * Presses Train (in the Data & baseline view) and waits for the run to end: the origin records
 * `epochs` more epochs and the accuracy is shown again; then goes back to the view it came from.
 * Returns the new test accuracy in percent.
 */
export async function trainBaseline(page: Page, epochs = 1): Promise<number> {
  const from = await currentView(page);
  await gotoView(page, 'data');
  const before = await baselineEpochs(page);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('baseline-origin')).toHaveAttribute('data-epochs', String(before + epochs), { timeout: 120_000 });
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
  const acc = await percent(page, 'baseline-acc');
  await gotoView(page, from);
  return acc;
}

export const historyRows = (page: Page) => page.getByTestId('history').locator('tbody tr');

/** Presses Fine-tune and waits until its history row is there and the job is gone. */
export async function fineTune(page: Page): Promise<void> {
  const rows = await historyRows(page).count();
  await expect(page.getByTestId('finetune')).toBeEnabled();
  await page.getByTestId('finetune').click();
  await expect(historyRows(page)).toHaveCount(rows + 1, { timeout: 120_000 });
  await expect(page.getByTestId('job')).toBeHidden({ timeout: 120_000 });
}

/** Epochs as the history writes them (describeFineTuning): 2, 1.5, 1.25. */
export function fmtEpochs(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0$/, '');
}

/** The indices of a conv layer's filter tiles that are drawn as pruned. */
export async function prunedTiles(page: Page, layer: string): Promise<number[]> {
  const tiles = page.getByTestId(`filter-grid-${layer}`).locator('button.tile');
  const flags = await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-pruned') === 'true'));
  return flags.flatMap((p, j) => (p ? [j] : []));
}

/** Each filter's L2 norm as its tile's tooltip states it (3 decimals). */
export async function tileNorms(page: Page, layer: string): Promise<number[]> {
  const tiles = page.getByTestId(`filter-grid-${layer}`).locator('button.tile');
  const titles = await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
  return titles.map((t) => {
    const m = /L2 norm (\d+\.\d+)/.exec(t);
    if (!m) throw new Error(`no norm in tile title “${t}”`);
    return Number(m[1]);
  });
}

/** The shipped pretrained baseline's manifest entry for a model, or null when this build ships none. */
export async function shippedPretrained(page: Page, model: string): Promise<{ epochs: number; seed: number; testAccuracy: number } | null> {
  const res = await page.request.get('models/manifest.json');
  if (!res.ok() || !/json/.test(res.headers()['content-type'] ?? '')) return null;
  const manifest = (await res.json()) as { models?: Record<string, { epochs: number; seed: number; testAccuracy: number }> };
  return manifest.models?.[model] ?? null;
}

export async function tensorCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __playground: { tensorCount: () => Promise<number> } }).__playground.tensorCount());
}

/**
 * The engine's tensor count once it is idle: two reads 300 ms apart that agree. Right after a job the
 * page may still run short work of its own (the measured auto backend times backends only while no
 * job runs; a preview), whose tensors come and go.
 */
export async function settledTensorCount(page: Page): Promise<number> {
  let last = await tensorCount(page);
  for (;;) {
    await page.waitForTimeout(300);
    const now = await tensorCount(page);
    if (now === last) return now;
    last = now;
  }
}

/** Writes pending saves to IndexedDB now (they are otherwise coalesced), so another tab sees them. */
export async function flushSaves(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { __playground: { flushSaves: () => Promise<void> } }).__playground.flushSaves());
}

/** Sets a range slider the way a keyboard user would reach a value, firing React's change handler. */
export async function setSlider(page: Page, testId: string, value: number): Promise<void> {
  await page.getByTestId(testId).fill(String(value));
}
