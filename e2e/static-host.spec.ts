import { createReadStream, existsSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { openReady, trackErrors } from './helpers';

/** openReady for an absolute URL (another server than the configured one). */
async function openReadyAt(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('train-count')).toHaveText('5,000 images');
  await expect(page.getByTestId('test-count')).toHaveText('1,000 images');
  await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
}

/**
 * A GitHub-Pages-style host: the production build from a plain static server that sends no COOP/COEP
 * headers. coi-serviceworker (injected by vite.config.ts) must make the page cross-origin isolated so
 * wasm gets its threaded build. Hand-written server (node:http, a few lines) rather than a dependency:
 * the test needs exactly "files, a content type, no other headers", and a way to hide one file.
 */
const DIST = path.resolve(process.env.E2E_DIST || 'dist');
const STATIC_PORT = Number(process.env.E2E_STATIC_PORT || 4195);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface StaticHost {
  server: Server;
  base: string;
  /** Requests for the page itself (index.html): one per document load, reloads included. */
  pageLoads: () => number;
}

/** Serves DIST with only a Content-Type; `hide` answers 404 for that file (the control without the service worker). */
async function staticServer(port: number, hide?: string): Promise<StaticHost> {
  let pageLoads = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let file = path.join(DIST, decodeURIComponent(url.pathname));
    if (!file.startsWith(DIST)) file = DIST;
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (file === path.join(DIST, 'index.html')) pageLoads++;
    if (!existsSync(file) || (hide && path.basename(file) === hide)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return { server, base: `http://localhost:${(server.address() as AddressInfo).port}/`, pageLoads: () => pageLoads };
}

/** How the current document was loaded: 'navigate', or 'reload' after the service worker's reload. */
const navigationType = (page: Page) => page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).type);

const isolated = (page: Page) => page.evaluate(() => crossOriginIsolated);

test.describe('a static host without COOP/COEP headers', () => {
  let host: StaticHost | undefined;
  test.afterEach(async () => {
    host?.server.closeAllConnections();
    await new Promise((r) => host?.server.close(r));
    host = undefined;
  });

  test('the service worker makes the page cross-origin isolated: wasm on 2 threads, one reload, none on the next visit', async ({ page }) => {
    host = await staticServer(STATIC_PORT);
    const { base } = host;
    const errors = trackErrors(page);
    const first = await page.goto(`${base}?trainSubset=256&backend=wasm`);
    expect(first?.headers()['cross-origin-opener-policy']).toBeUndefined(); // really header-less
    await expect.poll(() => isolated(page).catch(() => false), { timeout: 30_000 }).toBe(true);
    await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
    await expect(page.getByTestId('backend')).toHaveText('wasm');
    // The 2-core machine this runs on: XNNPACK's pool and the SIMD kernels' helper use both.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await expect(page.getByTestId('backend-box')).toContainText(`${Math.min(2, cores)} thread${cores > 1 ? 's' : ''}`);
    await expect(page.getByTestId('backend-reason')).toContainText('threads (cross-origin isolated)');
    // The first visit registers the service worker and reloads once.
    expect(await navigationType(page)).toBe('reload');
    expect(host.pageLoads()).toBe(2);
    // Controlled from the start now: isolated at once, no reload.
    await openReadyAt(page, `${base}?trainSubset=256&backend=wasm`);
    expect(await isolated(page)).toBe(true);
    expect(await navigationType(page)).toBe('navigate');
    expect(host.pageLoads()).toBe(3);
    // The library's two reload triggers can both fire on a slow first visit (seen once in CI: 3 loads);
    // the page's window.coi hook (vite.config.ts) reloads once however often it is asked.
    const loadsBefore = host.pageLoads();
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(() => {
        const coi = (window as unknown as { coi?: { doReload: () => void } }).coi;
        if (!coi) throw new Error('window.coi is not set: coi-serviceworker reloads as often as it is asked');
        coi.doReload();
        coi.doReload();
      }),
    ]);
    await expect(page.getByTestId('baseline-acc')).toHaveText(/^\d+\.\d%$/);
    expect(host.pageLoads()).toBe(loadsBefore + 1);
    expect(errors).toEqual([]);
  });

  test('control: the same host without the service worker file runs wasm on 1 thread', async ({ page }) => {
    host = await staticServer(STATIC_PORT, 'coi-serviceworker.js');
    await openReadyAt(page, `${host.base}?trainSubset=256&backend=wasm`);
    expect(await isolated(page)).toBe(false);
    await expect(page.getByTestId('backend-box')).toContainText('1 thread');
    await expect(page.getByTestId('backend-reason')).toContainText('page not cross-origin isolated');
  });
});

test('a page the server already isolates (vite preview sends COOP/COEP) registers no service worker and never reloads', async ({ page }) => {
  const errors = trackErrors(page);
  await openReady(page);
  expect(await isolated(page)).toBe(true);
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
  expect(await navigationType(page)).toBe('navigate');
  expect(errors).toEqual([]);
});
