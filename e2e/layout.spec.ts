/**
 * Issue 23, the layout: the views by URL and by tab (back/forward between them), the prune loop on one
 * 1280×800 screen (bounding boxes measured, not a screenshot), a phone's width with nothing cut off,
 * `controls=` hiding parts for a class, `presenter=1`, and the network view's hover and keyboard on
 * ResNet-20 (the stage-1 stream group lights exactly the layers its dependency group lists).
 */
import { type Page, expect, test } from '@playwright/test';
import { structure } from '../src/core/model/graph';
import { resnet20 } from '../src/core/model/zoo';
import { dependencyGroup, describeGroup } from '../src/core/pruning/groups';
import { type ViewId, gotoView, openReady, trackErrors } from './helpers';

const VIEWS: ViewId[] = ['prune', 'data', 'experiments', 'inspect', 'work', 'article'];
const selected = (page: Page, view: ViewId) => expect(page.getByTestId(`tab-${view}`)).toHaveAttribute('aria-selected', 'true');

test('every view opens by its URL and by its tab; back and forward move between views; a bad view= falls back to prune with a notice, losing nothing', async ({ page }) => {
  const errors = trackErrors(page);
  await page.goto('./?conv1=50&mode=remove&view=experiments');
  await selected(page, 'experiments');
  await expect(page.getByTestId('view-experiments')).toBeVisible();
  await expect(page.getByRole('tablist')).toBeVisible();
  await expect(page.getByRole('tab')).toHaveCount(VIEWS.length);
  // Only the open view is in the page: the prune view's panel is hidden and empty.
  await expect(page.getByTestId('view-prune')).toBeHidden();
  await expect(page.getByTestId('slider-conv1')).toHaveCount(0);
  for (const v of VIEWS) {
    await gotoView(page, v);
    await expect(page).toHaveURL(v === 'prune' ? /conv1=50(?!.*view=)/ : new RegExp(`conv1=50.*&view=${v}$`));
  }
  // Back and forward walk the views just visited.
  await page.goBack();
  await selected(page, 'work');
  await page.goBack();
  await selected(page, 'inspect');
  await page.goForward();
  await selected(page, 'work');
  await expect(page.getByTestId('view-work')).toBeVisible();
  // The keyboard: arrows move along the tabs, Enter opens one.
  await page.getByTestId('tab-work').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-article')).toBeFocused();
  await page.keyboard.press('Enter');
  await selected(page, 'article');

  await page.goto('./?conv1=50&mode=remove&view=settings');
  await expect(page.getByTestId('notice').filter({ hasText: 'view=settings is not one of prune, data, experiments, inspect, work, article; showing prune.' })).toBeVisible();
  await selected(page, 'prune');
  await expect(page.getByTestId('detail-conv1')).toHaveText('32 of 64 filters removed · 32 kept'); // the rest of the link holds
  expect(errors).toEqual([]);
});

/** Each element's box lies inside the 1280×800 screen (top, bottom, right edge) and the page is not scrolled. */
async function onFirstScreen(page: Page, ids: string[]): Promise<void> {
  for (const id of ids) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box, id).not.toBeNull();
    expect(box.y, `${id} top`).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height, `${id} bottom`).toBeLessThanOrEqual(800);
    expect(box.x, `${id} left`).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, `${id} right`).toBeLessThanOrEqual(1280);
  }
  expect(await page.evaluate(() => window.scrollY)).toBe(0);
}

/** The loop's parts every model shows (its sliders come on top). */
const LOOP = ['model', 'network-view', 'fig-filters', 'fig-params', 'fig-macs', 'fig-size', 'baseline-acc', 'pruned-acc', 'finetune'];

/** The prune view's sliders, in page order (their testids). */
const sliderIds = (page: Page) =>
  page.getByTestId('view-prune').locator('input[type="range"][data-testid^="slider-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!));

test('1280×800: the prune loop — model, sliders, the network, counts, accuracy before and after, Fine-tune — is on one screen', async ({ page }) => {
  const errors = trackErrors(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await openReady(page, '?conv1=50&mode=remove');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('network-svg')).toBeVisible();
  await onFirstScreen(page, [...LOOP, 'slider-conv1', 'slider-fc1', 'network-svg']);
  expect(errors).toEqual([]);
});

test('1280×800: ConvNet-3’s prune loop, every slider included, is on one screen', async ({ page }) => {
  const errors = trackErrors(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await openReady(page, '?model=convnet3&conv2=50&mode=remove');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('network-svg')).toBeVisible();
  expect(await sliderIds(page)).toEqual(['slider-allconv', 'slider-conv1', 'slider-conv2', 'slider-conv3', 'slider-fc1']);
  await onFirstScreen(page, [...LOOP, 'slider-allconv', 'slider-conv1', 'slider-conv2', 'slider-conv3', 'slider-fc1', 'network-svg']);
  expect(errors).toEqual([]);
});

/*
 * ResNet-20 has fifteen sliders (two aggregates, twelve channel groups, fc): the rule tested is that the
 * sliders' list is on the first screen, its first slider shows without scrolling, and every other one is
 * brought into view by scrolling the list alone (focusing it, as Tab does, scrolls the list, not the page):
 * then it lies inside the list's box, on the screen, with the page still at the top.
 */
test('1280×800: ResNet-20’s prune loop is on one screen; all fifteen sliders are reached by scrolling their list, not the page', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = trackErrors(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await openReady(page, '?model=resnet20&mode=remove&stream2=50');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
  await expect(page.getByTestId('network-svg')).toBeVisible();
  const ids = await sliderIds(page);
  expect(ids).toHaveLength(15);
  expect([ids[0], ids.at(-1)]).toEqual(['slider-allinner', 'slider-fc']);
  await onFirstScreen(page, [...LOOP, ids[0], 'sliders']);
  const list = (await page.getByTestId('sliders').boundingBox())!;
  const inList = async (id: string) => {
    const box = (await page.getByTestId(id).boundingBox())!;
    return box.y >= list.y && box.y + box.height <= list.y + list.height;
  };
  for (const id of ids) {
    await page.getByTestId(id).focus();
    await expect(page.getByTestId(id)).toBeFocused();
    // The slider's group note shows, the last one's goes, then the list brings the slider into view.
    await expect.poll(() => inList(id), id).toBe(true);
    expect(await page.evaluate(() => window.scrollY), id).toBe(0);
  }
  // The keyboard moves the last one, from inside the list.
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('slider-fc')).toHaveValue('1');
  // The drawing stays readable: scaled to no less than 3/4 (its 9 px labels ≥ 6.75 px), wider ones scroll sideways.
  const scale = await page.getByTestId('network-svg').evaluate((svg) => svg.getBoundingClientRect().height / (svg as SVGSVGElement).viewBox.baseVal.height);
  expect(scale).toBeGreaterThanOrEqual(0.75);
  expect(errors).toEqual([]);
});

test('phone width (390×844): no view overflows sideways, and the model picker fits', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = trackErrors(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await openReady(page, '?conv1=50&mode=remove');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/);
  const picker = (await page.getByTestId('model').boundingBox())!;
  expect(picker.x).toBeGreaterThanOrEqual(0);
  expect(picker.x + picker.width).toBeLessThanOrEqual(390);
  for (const v of VIEWS) {
    await gotoView(page, v);
    await page.waitForTimeout(300); // charts size themselves after a frame (ResizeObserver)
    const wide = await page.evaluate(() => {
      const out: string[] = [];
      const check = (el: Element, name: string) => {
        if (el.scrollWidth > el.clientWidth + 1) out.push(`${name}: ${el.scrollWidth} > ${el.clientWidth}`);
      };
      check(document.documentElement, 'html');
      check(document.body, 'body');
      document.querySelectorAll('.panel, header, [role="tablist"]').forEach((el, i) => check(el, `${el.getAttribute('aria-labelledby') ?? el.className} #${i}`));
      return out;
    });
    expect(wide, `view ${v}`).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test('phone width (390×844): ConvNet-3’s and ResNet-20’s prune view, every slider included, do not overflow sideways; the list does not scroll inside itself there', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = trackErrors(page);
  await page.setViewportSize({ width: 390, height: 844 });
  for (const query of ['?model=convnet3&conv2=50&mode=remove', '?model=resnet20&mode=remove&stream2=50']) {
    await openReady(page, query);
    await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    const wide = await page.evaluate(() =>
      [document.documentElement, document.body, ...document.querySelectorAll('.panel, .slider')].filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => `${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
    );
    expect(wide, query).toEqual([]);
    for (const id of await sliderIds(page)) {
      const box = (await page.getByTestId(id).boundingBox())!;
      expect(box.x + box.width, `${query} ${id} right`).toBeLessThanOrEqual(390);
    }
    const list = await page.getByTestId('sliders').evaluate((el) => ({ cap: (el as HTMLElement).style.maxHeight, scrolls: el.scrollHeight > el.clientHeight + 1 }));
    expect(list, query).toEqual({ cap: '', scrolls: false });
  }
  expect(errors).toEqual([]);
});

test('controls= hides parts for a class; an unknown part is named; presenter=1 sets large type in one column', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page, '?controls=-experiments,-model,-export,-train,-wings&presenter=1');
  await expect(page.getByTestId('notice').filter({ hasText: '“wings” is not a part of the page that can be hidden' })).toBeVisible();
  await expect(page.getByTestId('tab-experiments')).toHaveCount(0);
  await expect(page.getByTestId('tab-data')).toBeVisible();
  await expect(page.getByTestId('model')).toHaveCount(0);
  await expect(page.getByTestId('export-pytorch')).toHaveCount(0);
  await expect(page.getByTestId('slider-conv1')).toBeVisible();
  await gotoView(page, 'data');
  await expect(page.getByTestId('train')).toHaveCount(0); // the baseline training is hidden, the data is not
  await expect(page.locator('section[aria-labelledby="data-h"]')).toBeVisible();
  // The link keeps the hidden parts (and the view).
  await expect(page).toHaveURL(/&view=data&controls=-experiments,-model,-export,-train&presenter=1$/);

  // Presenter: the root font is 22 px (from 16), panels' text follows, and the prune view is one column.
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe('22px');
  await gotoView(page, 'prune');
  const slider = parseFloat(await page.getByTestId('detail-conv1').evaluate((e) => getComputedStyle(e).fontSize));
  expect(slider).toBeGreaterThanOrEqual(19);
  const columns = await page.locator('.prune-grid').evaluate((e) => getComputedStyle(e).gridTemplateColumns.split(' ').length);
  expect(columns).toBe(1);

  // A view hidden by controls= is not opened by its link either.
  await page.goto('./?view=experiments&controls=-experiments');
  await expect(page.getByTestId('notice').filter({ hasText: 'view=experiments is hidden by controls=; showing prune.' })).toBeVisible();
  await selected(page, 'prune');
  expect(errors).toEqual([]);
});

test('ResNet-20 network view: hovering a stage-1 stream channel lights exactly the layers of its dependency group; focus and arrow keys do the same', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = trackErrors(page);
  await openReady(page, '?model=resnet20&mode=remove&inner1.1=50');
  await expect(page.getByTestId('pruned-acc')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
  const st = structure(resnet20);
  const stream1 = st.groups.find((g) => g.id === 'stream1')!;
  // The layers describeGroup lists (its dependency group's members), BatchNorm drawn inside its conv.
  const members = dependencyGroup(resnet20, 'stream1', 1);
  const bns = new Set(st.nodes.filter((n) => n.op === 'batchNorm').map((n) => n.name));
  const expected = [...new Set(members.map((m) => m.layer).filter((l) => !bns.has(l))), ...stream1.adds].sort();
  const lit = () =>
    page.locator('[data-testid^="net-block-"].lit').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace(/^net-block-/, '')).sort());
  const producer = stream1.producers[0];
  expect(await lit()).toEqual([]);
  // Hover again on each poll: the drawing may be laid out anew (elk) under a still pointer, as a person's
  // next small mouse move would re-enter it.
  await expect
    .poll(async () => {
      await page.getByTestId(`stripe-${producer}-3`).hover();
      return lit();
    })
    .toEqual(expected);
  await expect(page.getByTestId('network-group')).toContainText(describeGroup(resnet20, 'stream1', 1));
  // Moving off the drawing puts it out.
  await page.mouse.move(0, 0);
  await expect.poll(lit).toEqual([]);
  // The keyboard: focus a stream-1 layer, the arrow keys move along its channels, the group stays lit.
  const block = page.getByTestId(`net-block-${producer}`);
  await block.focus();
  await expect.poll(lit).toEqual(expected);
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId(`stripe-${producer}-1`)).toHaveAttribute('data-state', 'lit');
  await expect.poll(lit).toEqual(expected);
  expect(errors).toEqual([]);
});
