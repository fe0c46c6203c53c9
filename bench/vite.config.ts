/**
 * Bench-only build (bench.html alone), for iterating on kernels without building the app:
 *   BENCH_OUT=/tmp/bench-dist npx vite build --config bench/vite.config.ts
 *   BENCH_DIST=/tmp/bench-dist BENCH_ONLY=train,profile node scripts/bench.mjs   (bench page sections only)
 * Same settings as vite.config.ts otherwise; the default output is outside the repository.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config';

const merged = mergeConfig(
  base,
  defineConfig({
    root: new URL('..', import.meta.url).pathname,
    build: { outDir: process.env.BENCH_OUT ?? join(tmpdir(), 'pruning-playground-bench'), emptyOutDir: true },
  }),
);
merged.build!.rollupOptions = { ...merged.build!.rollupOptions, input: { bench: 'bench.html' } };
export default merged;
