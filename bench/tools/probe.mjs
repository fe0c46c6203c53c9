// Dev tool: node bench/tools/probe.mjs "<bench.html query>" "<JS expression evaluated in the page>"
// Serves dist/ with vite preview on port 4187 (DEV=1: the dev server) and prints the result.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
const server = spawn(process.execPath, (process.env.DEV ? ['node_modules/vite/bin/vite.js','--port','4187','--strictPort'] : ['node_modules/vite/bin/vite.js','preview','--port','4187','--strictPort']), {cwd:'/work/main', stdio:'ignore'});
await new Promise(r=>setTimeout(r,process.env.DEV?6000:2500));
const b = await chromium.launch({ executablePath:'/usr/bin/chromium', args:['--headless=new','--no-sandbox','--enable-unsafe-swiftshader','--use-angle=swiftshader','--disable-background-networking','--disable-component-update','--no-first-run']});
const p = await b.newPage();
p.on('console', m=>console.log('CONSOLE', m.type(), m.text().slice(0,300), JSON.stringify(m.location())));
p.on('pageerror', e=>console.log('PAGEERR', e.stack?.slice(0,500)));
p.on('response', r=>{ if(r.status()>=400) console.log('HTTP', r.status(), r.url()); });
p.on('worker', w=>console.log('WORKER', w.url().slice(0,80)));
await p.goto(`http://localhost:4187/bench.html?${process.argv[2]||''}`);
await p.waitForFunction(() => window.bench != null);
const r = await Promise.race([p.evaluate(() => window.bench.init()), new Promise(r=>setTimeout(()=>r('TIMEOUT'),20000))]);
console.log(JSON.stringify(r).slice(0,800));
if (process.argv[3]) { const t = await p.evaluate(process.argv[3]); console.log(JSON.stringify(t).slice(0,3000)); }
await b.close(); server.kill();
