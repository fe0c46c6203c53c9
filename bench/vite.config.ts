/**
 * Bench-only build (bench.html alone), for iterating on kernels without building the app:
 *   BENCH_OUT=/tmp/bench-dist npx vite build --config bench/vite.config.ts
 * Same settings as vite.config.ts otherwise.
 */
import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config';

const merged = mergeConfig(
  base,
  defineConfig({
    root: new URL('..', import.meta.url).pathname,
    build: { outDir: process.env.BENCH_OUT ?? 'dist-bench', emptyOutDir: true },
  }),
);
merged.build!.rollupOptions = { ...merged.build!.rollupOptions, input: { bench: 'bench.html' } };
export default merged;
