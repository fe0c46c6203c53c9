// Runs before `playwright test` (npm run test:e2e): makes sure there is a Chromium to drive.
// Finds one (scripts/browser.mjs: CHROMIUM_PATH, Playwright's, chromium / chromium-browser /
// google-chrome), else installs one — `npx playwright install chromium`, then, as root on
// Debian/Ubuntu, `apt-get install -y chromium` — else stops with one message saying what it
// tried and the command that fixes it. playwright.config.ts then finds the same browser.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import { findChromium, noBrowserMessage, osIds } from './browser.mjs';

/** Room for the ~170 MB download on a slow line; with no network it fails within seconds. */
const PLAYWRIGHT_TIMEOUT_MS = 5 * 60_000;
const APT_TIMEOUT_MS = 15 * 60_000;

function found(r) {
  console.log(`e2e browser: ${r.path} (${r.version}; ${r.source})`);
  process.exit(0);
}

function fail(r, attempts) {
  console.error(`\n${noBrowserMessage(r, attempts)}\n`);
  process.exit(1);
}

/** Runs a command quietly; returns null on success, else a one-line reason. */
function run(cmd, args, timeout, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error?.code === 'ETIMEDOUT') return `timed out after ${Math.round(timeout / 1000)} s`;
  if (r.error) return r.error.message;
  if (r.status === 0) return null;
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => stripVTControlCharacters(l).trim())
    .filter((l) => l && !l.startsWith('at '));
  // The root cause (no network, a proxy, permissions) says more than "Failed to install browsers".
  const why =
    lines.find((l) => /\b(E[A-Z]{4,}|getaddrinfo|certificate|proxy|permission denied|no space|status code \d+)\b/i.test(l)) ??
    lines.find((l) => /error|fail|unable|could not/i.test(l)) ??
    lines.at(-1) ??
    '';
  return `exit ${r.status ?? r.signal}${why ? `: ${why.slice(0, 200)}` : ''}`;
}

let r = findChromium();
if (r.ok) found(r);
if (r.explicit) fail(r, []); // CHROMIUM_PATH names a browser that is not there: never swap in another

const attempts = [];
console.log(`No Chromium found: installing one with \`npx playwright install chromium\` (at most ${PLAYWRIGHT_TIMEOUT_MS / 60_000} min)…`);
// The project's own Playwright CLI, run by this Node (no npx lookup; the version matches the tests').
const playwrightCli = createRequire(import.meta.url).resolve('@playwright/test/cli');
const pwErr = run(process.execPath, [playwrightCli, 'install', 'chromium'], PLAYWRIGHT_TIMEOUT_MS);
attempts.push(`npx playwright install chromium: ${pwErr ?? 'installed, but it does not start'}`);
if (!pwErr) {
  r = findChromium();
  if (r.ok) found(r);
}

const ids = osIds();
const debianLike = ids.includes('debian') || ids.includes('ubuntu');
if (debianLike && process.getuid?.() === 0) {
  console.log('Installing Debian\'s Chromium: `apt-get update && apt-get install -y chromium`…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptErr =
    run('apt-get', ['update', '-qq'], APT_TIMEOUT_MS, env) ??
    run('apt-get', ['install', '-y', '-qq', 'chromium'], APT_TIMEOUT_MS, env);
  attempts.push(`apt-get update && apt-get install -y chromium: ${aptErr ?? 'installed, but it does not start'}`);
  if (!aptErr) {
    r = findChromium();
    if (r.ok) found(r);
  }
} else if (debianLike) {
  attempts.push('apt-get install -y chromium: skipped (needs root)');
}

fail(r, attempts);
