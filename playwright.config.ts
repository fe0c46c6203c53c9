import { readFileSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/** Debian's Chromium by default; CHROMIUM_PATH points the tests at another build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** The flags known to give WebGL (SwiftShader) in headless Chromium here; shared with scripts/. */
export const CHROMIUM_ARGS: string[] = JSON.parse(readFileSync(new URL('./e2e/chromium-args.json', import.meta.url), 'utf8'));

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
