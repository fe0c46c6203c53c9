// ResNet-20's pruning trade-off (issue 21), measured by the page's own method comparison in headless
// Chromium: L1 removal of the blocks' inner channels only, and of inner channels + residual streams, at
// several sparsities; accuracy straight after pruning and after N fine-tuning epochs; the control (the
// unpruned baseline fine-tuned with the same budget and seed) on each chart.
// Writes docs/measurements/tradeoff-resnet20-{inner,all}.json (the page's JSON export),
// docs/tradeoff-resnet20-{inner,all}.png (the page's chart, against MACs) and
// docs/measurements/tradeoff-resnet20.md (the table the README quotes).
//
// Usage: npm run build && npx vite preview --port 4199 &   then
//   node scripts/tradeoff.mjs [--base http://localhost:4199/] [--sparsities 20,40,60] [--epochs 2]
//        [--sparsities-all 10,20,30] (inner + streams removes about 1-(1-s)^2 of the MACs, so it needs lower sparsities)
//        [--subset 0] [--seeds 1] [--criterion l1] [--query data=full] [--scopes inner,all]
// Everything is seeded (the comparison's seeds): a rerun on the same weights gives the same table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.mjs';

const { values: o } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://localhost:4199/' },
    sparsities: { type: 'string', default: '20,40,60' },
    'sparsities-all': { type: 'string' },
    epochs: { type: 'string', default: '2' },
    subset: { type: 'string', default: '0' },
    seeds: { type: 'string', default: '1' },
    criterion: { type: 'string', default: 'l1' },
    query: { type: 'string', default: '' },
    scopes: { type: 'string', default: 'inner,all' },
    out: { type: 'string', default: 'docs' },
  },
});
mkdirSync(`${o.out}/measurements`, { recursive: true });
const browser = await launchChromium();
const results = {};
for (const scope of o.scopes.split(',')) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto(`${o.base}?model=resnet20&mode=remove${o.query ? `&${o.query}` : ''}`);
  await page.getByTestId('pruned-acc').filter({ hasText: '%' }).waitFor({ timeout: 600_000 });
  // data=full: the comparison must start on the full set, not on the subset the page shows while it downloads.
  if (/(^|&)data=full(&|$)/.test(o.query))
    await page.waitForFunction(() => window.__playground?.state?.().data?.test?.count === 10_000 && window.__playground.state().data.train.count === 50_000, null, { timeout: 600_000 });
  // The baseline's line (which weights, how trained) lives in the Train view, read before leaving it.
  const baselineOrigin = await page.getByTestId('baseline-origin').innerText({ timeout: 5_000 }).catch(() => '');
  await page.getByTestId('tab-experiments').click(); // the method comparison lives in the Experiments view
  for (const box of await page.locator('[data-testid^="sweep-criterion-"]').all()) {
    const id = (await box.getAttribute('data-testid')).replace('sweep-criterion-', '');
    if (await box.isEnabled()) await box.setChecked(id === o.criterion);
  }
  await page.getByTestId('sweep-sparsities').fill(scope === 'all' && o['sparsities-all'] ? o['sparsities-all'] : o.sparsities);
  await page.getByTestId('sweep-seeds').fill(o.seeds);
  await page.getByTestId('sweep-epochs').fill(o.epochs);
  await page.getByTestId('sweep-subset').fill(o.subset === '0' ? '' : o.subset);
  await page.getByTestId('sweep-scope').selectOption(scope);
  const t0 = Date.now();
  await page.getByTestId('sweep-run').click();
  await page.getByTestId('sweep-export-json').waitFor({ timeout: 6 * 3_600_000 });
  const seconds = Math.round((Date.now() - t0) / 1000);
  await page.getByTestId('sweep-axis-macs').check();
  await page.mouse.move(0, 0); // no tooltip over the chart in the picture
  await page.getByTestId('sweep-chart').screenshot({ path: `${o.out}/tradeoff-resnet20-${scope}.png` });
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sweep-export-json').click()]);
  const chunks = [];
  for await (const c of await d.createReadStream()) chunks.push(c);
  const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  json.seconds = seconds;
  json.backend = await page.evaluate(() => window.__playground?.state?.().backend?.backend ?? null).catch(() => null);
  json.baselineOrigin = baselineOrigin;
  json.query = o.query; // the fine-tuning recipe (optimiser, learning rate, schedule, augmentation) and data set
  writeFileSync(`${o.out}/measurements/tradeoff-resnet20-${scope}.json`, `${JSON.stringify(json, null, 2)}\n`);
  results[scope] = json;
  console.log(`${scope}: ${json.rows.length} points in ${seconds} s`);
  await page.close();
}
await browser.close();

// The table: MACs removed against accuracy, beside the baseline and the control.
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const lines = [
  `# ResNet-20 pruning trade-off (scripts/tradeoff.mjs, ${new Date().toISOString().slice(0, 10)})`,
  '',
  `Criterion ${o.criterion}, remove mode, ${o.epochs} fine-tuning epoch(s) on ${o.subset === '0' ? 'the whole training set of the page' : `the first ${o.subset} training images`}` +
    `${o.query ? ` (${o.query})` : ''}, seeds ${o.seeds}. CPU: ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), 1-min load ${loadavg()[0].toFixed(1)} at the end.`,
  '',
  '| groups pruned | sparsity | MACs removed | parameters | before fine-tuning | after | baseline | control | after − baseline |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const [scope, r] of Object.entries(results)) {
  const control = r.controls.length ? r.controls.reduce((a, c) => a + c.accuracy, 0) / r.controls.length : NaN;
  for (const row of r.rows)
    lines.push(
      `| ${scope === 'inner' ? 'inner channels' : 'inner + streams'} | ${Math.round(row.sparsity * 100)} % | ${pct(1 - row.macs / r.baseline.macs)} | ${row.params.toLocaleString('en-US')} | ` +
        `${pct(row.accBefore)} | ${pct(row.accAfter)} | ${pct(r.baseline.accuracy)} | ${pct(control)} | ${((row.accAfter - r.baseline.accuracy) * 100).toFixed(1)} pts |`,
    );
}
lines.push('');
for (const [scope, r] of Object.entries(results)) lines.push(`- ${scope}: ${r.seconds} s in the page on ${r.backend ?? 'the auto backend'}.`);
lines.push(`- ${Object.values(results)[0]?.baselineOrigin ?? ''}`);
lines.push('- Accuracies are on the page\'s test set: its 1,000-image subset, or the 10,000 official test images with data=full.');
writeFileSync(`${o.out}/measurements/tradeoff-resnet20.md`, `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
