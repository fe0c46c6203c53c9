import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPathOrExit } from './scripts/browser.mjs';

/**
 * The browser: CHROMIUM_PATH, else Playwright's Chromium, else chromium / chromium-browser /
 * google-chrome (scripts/browser.mjs). `npm run test:e2e` installs one first when there is none
 * (scripts/ensure-browser.mjs); run directly, a missing browser stops `playwright test` here,
 * once, with what to do — not with one launch error per test.
 */
const CHROMIUM_PATH = chromiumPathOrExit();

/** Port and build folder are overridable so several checkouts or agents can run e2e side by side. */
const PORT = Number(process.env.E2E_PORT || 4173);
const DIST = process.env.E2E_DIST || 'dist';

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}/`,
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    permissions: ['clipboard-read', 'clipboard-write'],
    trace: 'off',
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
