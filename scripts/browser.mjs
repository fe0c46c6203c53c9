// Finds the Chromium that the end-to-end tests, the bench and the screenshot scripts drive.
// Synchronous and side-effect free (it only looks and runs `<browser> --version`), so
// playwright.config.ts can call it at load time; scripts/ensure-browser.mjs adds the installing.
//
// Order:
//   1. CHROMIUM_PATH — when set it must work; there is no silent fallback to another browser.
//   2. The Chromium Playwright has installed (`npx playwright install chromium`).
//   3. chromium, chromium-browser (Debian / Ubuntu), then google-chrome, google-chrome-stable:
//      on PATH or in /usr/bin.
// A candidate counts only if `<path> --version` runs: that rejects Ubuntu's snap shim without the
// snap, and a Playwright download whose system libraries are missing.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** System browser names, in the order they are tried. */
export const SYSTEM_BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The probes findChromium uses; tests inject fakes. */
export function systemProbes() {
  return {
    env: process.env,
    isExecutable(p) {
      try {
        if (!statSync(p).isFile()) return false;
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    /** First line of `<p> --version`, or null when it does not run. */
    version(p) {
      try {
        const out = execFileSync(p, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
        return out.trim().split('\n')[0] || p;
      } catch {
        return null;
      }
    },
    /** Where Playwright puts (or would put) its Chromium; null when playwright-core is not installed. */
    playwrightPath() {
      try {
        const require = createRequire(import.meta.url);
        return require('playwright-core').chromium.executablePath() || null;
      } catch {
        return null;
      }
    },
  };
}

/** The folders searched for a command name: PATH, then /usr/bin (some minimal PATHs lack it). */
function searchDirs(env) {
  return [...new Set([...(env.PATH || '').split(path.delimiter).filter(Boolean), '/usr/bin'])];
}

/**
 * @returns {{ ok: true, path: string, version: string, source: string, tried: string[] }
 *         | { ok: false, explicit: boolean, tried: string[], alternative?: { path: string, version: string } }}
 * `tried` lists every place looked at and why it did not do, for the error message. When
 * CHROMIUM_PATH is set but unusable the result is a failure even if another browser exists;
 * that browser is only named as `alternative`, for the message.
 */
export function findChromium(probes = systemProbes()) {
  const { env, isExecutable, version } = probes;
  const tried = [];

  const explicit = env.CHROMIUM_PATH;
  if (explicit) {
    // A bare name (CHROMIUM_PATH=chromium) is looked up like a command.
    const resolved = explicit.includes('/')
      ? explicit
      : (searchDirs(env).map((d) => path.join(d, explicit)).find((p) => isExecutable(p)) ?? explicit);
    let why = null;
    let v = null;
    if (!isExecutable(resolved)) why = 'no executable file there';
    else if ((v = version(resolved)) == null) why = `\`${resolved} --version\` fails`;
    if (why == null) return { ok: true, path: resolved, version: v, source: 'CHROMIUM_PATH', tried };
    tried.push(`CHROMIUM_PATH=${explicit}: ${why}`);
    const other = findChromium({ ...probes, env: { ...env, CHROMIUM_PATH: undefined } });
    const alternative = other.ok ? { path: other.path, version: other.version } : undefined;
    return { ok: false, explicit: true, tried, ...(alternative ? { alternative } : {}) };
  }
  tried.push('CHROMIUM_PATH: not set');

  /** The result for a browser that is there, or null (and the reason in `tried`) when it does not start. */
  const tryRun = (p, source) => {
    const v = version(p);
    if (v != null) return { ok: true, path: p, version: v, source, tried };
    tried.push(`${source} at ${p}: \`--version\` fails (missing system libraries or a snap shim?)`);
    return null;
  };

  const pw = probes.playwrightPath();
  if (!pw) tried.push("Playwright's Chromium: playwright-core not found");
  else if (!isExecutable(pw)) tried.push(`Playwright's Chromium: not installed (${pw})`);
  else {
    const r = tryRun(pw, "Playwright's Chromium");
    if (r) return r;
  }

  const dirs = searchDirs(env);
  for (const name of SYSTEM_BROWSERS) {
    const found = dirs.map((d) => path.join(d, name)).find((p) => isExecutable(p));
    if (!found) {
      tried.push(`${name}: not on PATH or in /usr/bin`);
      continue;
    }
    const r = tryRun(found, `system ${name}`);
    if (r) return r;
  }
  return { ok: false, explicit: false, tried };
}

/** ID and ID_LIKE of /etc/os-release, e.g. ['ubuntu', 'debian']; [] when unknown. */
export function osIds(readOsRelease = () => readFileSync('/etc/os-release', 'utf8')) {
  try {
    const text = readOsRelease();
    const field = (k) => (text.match(new RegExp(`^${k}=["']?([^"'\\n]*)`, 'm'))?.[1] ?? '').split(/\s+/);
    return [...field('ID'), ...field('ID_LIKE')].filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The one command that gets a browser on this machine: Debian's own package on Debian; on
 * Ubuntu (whose chromium package is a snap shim) and other Debian derivatives Playwright's
 * Chromium with its system libraries; elsewhere Playwright's Chromium.
 */
export function fixCommand({ ids = osIds(), root = process.getuid?.() === 0 } = {}) {
  const sudo = root ? '' : 'sudo ';
  if (ids[0] === 'debian') return `${sudo}apt-get update && ${sudo}apt-get install -y chromium`;
  if (ids.includes('ubuntu') || ids.includes('debian')) return 'npx playwright install --with-deps chromium';
  return 'npx playwright install chromium';
}

/**
 * The single message printed when no browser can be used.
 * @param {{ explicit: boolean, tried: string[], alternative?: { path: string, version: string } }} result from findChromium
 * @param {string[]} [attempts] what installing tried, one line each
 * @param {string} [fix] the command that installs a browser (fixCommand())
 */
export function noBrowserMessage(result, attempts = [], fix = fixCommand()) {
  if (result.explicit) {
    const alt = result.alternative;
    return [
      `No browser for the end-to-end tests: ${result.tried.join('; ')}.`,
      'While CHROMIUM_PATH is set the tests use that browser or none; they do not fall back to another.',
      'Fix:',
      ...(alt
        ? [
            `  CHROMIUM_PATH=${alt.path} npm test`,
            `(${alt.version.replace(/ built on .*/, '')} is installed there; or unset CHROMIUM_PATH and npm test finds one.)`,
          ]
        : ['  unset CHROMIUM_PATH && npm test', '(npm test then finds or installs a browser; or point CHROMIUM_PATH at a Chromium or Chrome.)']),
    ].join('\n');
  }
  return [
    'No browser for the end-to-end tests. Looked for:',
    ...result.tried.map((t) => `  - ${t}`),
    ...(attempts.length ? ['Tried to install one:', ...attempts.map((t) => `  - ${t}`)] : []),
    'Fix, then run npm test again:',
    `  ${fix}`,
    '(or use a Chromium or Chrome you have: CHROMIUM_PATH=/path/to/chrome npm test)',
  ].join('\n');
}

/**
 * For playwright.config.ts and scripts/chromium.mjs: the browser's path, or the one message on
 * stderr and exit 1. (Thrown instead, Playwright would print it once per config load, wrapped in
 * brackets or under a stack trace.)
 */
export function chromiumPathOrExit(probes) {
  const r = findChromium(probes);
  if (r.ok) return r.path;
  process.stderr.write(`\n${noBrowserMessage(r)}\n\n`);
  process.exit(1);
}

/** Chromium flags shared by the e2e tests and the scripts (WebGL through SwiftShader, no sandbox). */
export const CHROMIUM_ARGS = JSON.parse(readFileSync(new URL('../e2e/chromium-args.json', import.meta.url), 'utf8'));
