/** Browser discovery for the e2e tests (scripts/browser.mjs), with fake file systems. */
import { describe, expect, test } from 'vitest';
import { findChromium, fixCommand, noBrowserMessage, osIds, type BrowserProbes } from './browser.mjs';

const PW = '/home/u/.cache/ms-playwright/chromium-1255/chrome-linux64/chrome';

/**
 * A fake machine: `files` are the executables that exist, `working` those whose `--version`
 * runs (default: all of them). Records every path whose version was asked for.
 */
function machine({
  env = {},
  files = [],
  working = files,
  playwright = PW as string | null,
}: {
  env?: Record<string, string | undefined>;
  files?: string[];
  working?: string[];
  playwright?: string | null;
}) {
  const versionAsked: string[] = [];
  const probes: BrowserProbes = {
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env },
    isExecutable: (p) => files.includes(p),
    version: (p) => {
      versionAsked.push(p);
      return working.includes(p) ? `Chromium 1.0 (${p})` : null;
    },
    playwrightPath: () => playwright,
  };
  return { probes, versionAsked };
}

describe('findChromium: order', () => {
  test('CHROMIUM_PATH comes first, even when every other browser is there', () => {
    const { probes } = machine({
      env: { CHROMIUM_PATH: '/opt/chrome/chrome' },
      files: ['/opt/chrome/chrome', PW, '/usr/bin/chromium', '/usr/bin/google-chrome'],
    });
    expect(findChromium(probes)).toMatchObject({ ok: true, path: '/opt/chrome/chrome', source: 'CHROMIUM_PATH' });
  });

  test("then Playwright's Chromium, before the system's", () => {
    const { probes } = machine({ files: [PW, '/usr/bin/chromium', '/usr/bin/google-chrome'] });
    expect(findChromium(probes)).toMatchObject({ ok: true, path: PW, source: "Playwright's Chromium" });
  });

  test('then chromium, chromium-browser, google-chrome, in that order', () => {
    const all = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
    expect(findChromium(machine({ files: all }).probes)).toMatchObject({ ok: true, path: '/usr/bin/chromium' });
    expect(findChromium(machine({ files: all.slice(1) }).probes)).toMatchObject({ ok: true, path: '/usr/bin/chromium-browser' });
    expect(findChromium(machine({ files: all.slice(2) }).probes)).toMatchObject({ ok: true, path: '/usr/bin/google-chrome' });
  });

  test('a system browser is found on PATH before /usr/bin, and in /usr/bin when PATH lacks it', () => {
    const files = ['/usr/local/bin/chromium', '/usr/bin/chromium'];
    expect(findChromium(machine({ files }).probes)).toMatchObject({ ok: true, path: '/usr/local/bin/chromium', source: 'system chromium' });
    const bare = machine({ env: { PATH: '/bin' }, files: ['/usr/bin/chromium'], playwright: null });
    expect(findChromium(bare.probes)).toMatchObject({ ok: true, path: '/usr/bin/chromium' });
  });

  test('a candidate whose --version fails is skipped and the reason kept (snap shim, missing libraries)', () => {
    const { probes, versionAsked } = machine({
      files: [PW, '/usr/bin/chromium-browser', '/usr/bin/google-chrome'],
      working: ['/usr/bin/google-chrome'],
    });
    const r = findChromium(probes);
    expect(r).toMatchObject({ ok: true, path: '/usr/bin/google-chrome', source: 'system google-chrome' });
    expect(versionAsked).toEqual([PW, '/usr/bin/chromium-browser', '/usr/bin/google-chrome']);
    expect(r.tried.join('\n')).toMatch(/Playwright's Chromium at .*chrome: `--version` fails/);
    expect(r.tried.join('\n')).toMatch(/system chromium-browser at \/usr\/bin\/chromium-browser: `--version` fails/);
  });

  test('CHROMIUM_PATH may be a bare command name, looked up on PATH', () => {
    const { probes } = machine({ env: { CHROMIUM_PATH: 'google-chrome' }, files: ['/usr/bin/google-chrome', PW] });
    expect(findChromium(probes)).toMatchObject({ ok: true, path: '/usr/bin/google-chrome', source: 'CHROMIUM_PATH' });
  });
});

describe('findChromium: CHROMIUM_PATH that does not work', () => {
  test('/nowhere fails and never falls back, though other browsers are there', () => {
    const { probes, versionAsked } = machine({
      env: { CHROMIUM_PATH: '/nowhere' },
      files: [PW, '/usr/bin/chromium'],
    });
    const r = findChromium(probes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.explicit).toBe(true);
    expect(r.tried).toEqual(['CHROMIUM_PATH=/nowhere: no executable file there']);
    // The others are only looked at to suggest one in the message.
    expect(r.alternative).toEqual({ path: PW, version: `Chromium 1.0 (${PW})` });
    expect(versionAsked).not.toContain('/nowhere');
  });

  test('a file that exists but whose --version fails is refused the same way', () => {
    const { probes } = machine({ env: { CHROMIUM_PATH: '/opt/broken' }, files: ['/opt/broken', '/usr/bin/chromium'], working: ['/usr/bin/chromium'] });
    const r = findChromium(probes);
    expect(r).toMatchObject({ ok: false, explicit: true, tried: ['CHROMIUM_PATH=/opt/broken: `/opt/broken --version` fails'] });
    expect(r).toMatchObject({ alternative: { path: '/usr/bin/chromium' } });
  });

  test('no alternative when there is nothing else', () => {
    const r = findChromium(machine({ env: { CHROMIUM_PATH: '/nowhere' }, playwright: null }).probes);
    expect(r).toEqual({ ok: false, explicit: true, tried: ['CHROMIUM_PATH=/nowhere: no executable file there'] });
  });
});

describe('findChromium: nothing there', () => {
  test('fails, not explicit, listing every place looked at', () => {
    const r = findChromium(machine({ files: [] }).probes);
    expect(r).toEqual({
      ok: false,
      explicit: false,
      tried: [
        'CHROMIUM_PATH: not set',
        `Playwright's Chromium: not installed (${PW})`,
        'chromium: not on PATH or in /usr/bin',
        'chromium-browser: not on PATH or in /usr/bin',
        'google-chrome: not on PATH or in /usr/bin',
        'google-chrome-stable: not on PATH or in /usr/bin',
      ],
    });
  });

  test('without playwright-core installed it says so', () => {
    const r = findChromium(machine({ playwright: null }).probes);
    expect(r.ok).toBe(false);
    expect(r.tried).toContain("Playwright's Chromium: playwright-core not found");
  });
});

describe('noBrowserMessage', () => {
  test('CHROMIUM_PATH=/nowhere: one message naming the path, no fallback, and the command that works', () => {
    const r = findChromium(machine({ env: { CHROMIUM_PATH: '/nowhere' }, files: ['/usr/bin/chromium'], playwright: null }).probes);
    if (r.ok) throw new Error('expected a failure');
    const msg = noBrowserMessage(r);
    expect(msg.split('\n')[0]).toBe('No browser for the end-to-end tests: CHROMIUM_PATH=/nowhere: no executable file there.');
    expect(msg).toMatch(/do not fall back to another/);
    expect(msg).toContain('\n  CHROMIUM_PATH=/usr/bin/chromium npm test\n');
    expect(msg).not.toMatch(/\n\s+at /); // no stack trace
  });

  test('CHROMIUM_PATH=/nowhere and nothing else: unset it and npm test finds or installs one', () => {
    const r = findChromium(machine({ env: { CHROMIUM_PATH: '/nowhere' }, playwright: null }).probes);
    if (r.ok) throw new Error('expected a failure');
    const msg = noBrowserMessage(r);
    expect(msg).toContain('\n  unset CHROMIUM_PATH && npm test\n');
    expect(msg).toMatch(/finds or installs a browser/);
  });

  test('nothing found: what was looked at, what installing tried, and the one fix command', () => {
    const r = findChromium(machine({ playwright: null }).probes);
    if (r.ok) throw new Error('expected a failure');
    const msg = noBrowserMessage(
      r,
      ['npx playwright install chromium: exit 1: Error: getaddrinfo ENOTFOUND cdn.playwright.dev'],
      'apt-get update && apt-get install -y chromium',
    );
    const lines = msg.split('\n');
    expect(lines[0]).toBe('No browser for the end-to-end tests. Looked for:');
    for (const t of r.tried) expect(lines).toContain(`  - ${t}`);
    expect(lines).toContain('Tried to install one:');
    expect(lines).toContain('  - npx playwright install chromium: exit 1: Error: getaddrinfo ENOTFOUND cdn.playwright.dev');
    expect(lines.slice(-3)).toEqual([
      'Fix, then run npm test again:',
      '  apt-get update && apt-get install -y chromium',
      '(or use a Chromium or Chrome you have: CHROMIUM_PATH=/path/to/chrome npm test)',
    ]);
  });
});

describe('fixCommand and osIds', () => {
  test('Debian: its own chromium package, with sudo unless root', () => {
    expect(fixCommand({ ids: ['debian'], root: true })).toBe('apt-get update && apt-get install -y chromium');
    expect(fixCommand({ ids: ['debian'], root: false })).toBe('sudo apt-get update && sudo apt-get install -y chromium');
  });

  test("Ubuntu (chromium is a snap shim there): Playwright's Chromium with its libraries; elsewhere Playwright's", () => {
    expect(fixCommand({ ids: ['ubuntu', 'debian'], root: true })).toBe('npx playwright install --with-deps chromium');
    expect(fixCommand({ ids: ['fedora'], root: false })).toBe('npx playwright install chromium');
    expect(fixCommand({ ids: [], root: false })).toBe('npx playwright install chromium');
  });

  test('osIds reads ID and ID_LIKE, quoted or not; [] when /etc/os-release is missing', () => {
    expect(osIds(() => 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n')).toEqual(['ubuntu', 'debian']);
    expect(osIds(() => 'ID="linuxmint"\nID_LIKE="ubuntu debian"\n')).toEqual(['linuxmint', 'ubuntu', 'debian']);
    expect(osIds(() => 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n')).toEqual(['debian']);
    expect(
      osIds(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual([]);
  });
});
