/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets the WASM backend use its threaded build (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  plugins: [react()],
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
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'], setupFiles: ['src/testSetup.ts'] } },
      // Components rendered against a test store (ui/context.tsx), in jsdom.
      { extends: true, test: { name: 'ui', include: ['src/ui/**/*.test.tsx'], environment: 'jsdom' } },
      {
        extends: true,
        test: {
          name: 'stock-kernels',
          include: ['src/core/backend/wasmTraining.test.ts', 'src/core/backend/convBlock.test.ts', 'src/core/train/trainer.test.ts'],
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
