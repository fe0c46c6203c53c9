// Dev tool: serve a bench-only build and evaluate an expression in bench.html.
//   BENCH_OUT=/tmp/bench-dist npx vite build --config bench/vite.config.ts
//   node bench/tools/run.mjs /tmp/bench-dist "backend=wasm" "window.bench.profile({model:'convnet3',batch:64,warmup:3})"
import { spawn } from 'node:child_process';
import { launchChromium } from '../../scripts/chromium.mjs';

const [dir, query, expr] = process.argv.slice(2);
const port = Number(process.env.PORT || 4187);
const server = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--config', 'bench/vite.config.ts', '--outDir', dir, '--port', String(port), '--strictPort'], { cwd: new URL('../..', import.meta.url).pathname, stdio: 'ignore' });
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://localhost:${port}/bench.html`)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const b = await launchChromium();
  const p = await b.newPage();
  p.on('console', (m) => m.type() === 'error' && console.error('CONSOLE', m.text().slice(0, 300)));
  p.on('pageerror', (e) => console.error('PAGEERR', e.stack?.slice(0, 500)));
  await p.goto(`http://localhost:${port}/bench.html?${query || ''}`);
  await p.waitForFunction(() => window.bench != null);
  const info = await p.evaluate(() => window.bench.init());
  console.error(JSON.stringify(info.selection));
  if (expr) console.log(JSON.stringify(await p.evaluate(expr), null, 1));
  await b.close();
} finally {
  server.kill();
}
