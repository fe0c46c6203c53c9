/**
 * Test helper (Node only): the setup the PyTorch export tests share. A temporary folder whose data/ holds
 * the first `testImages` CIFAR-10 test images as test_batch.bin, the page's normalisation (from the
 * loaded training images), the engine's predictions on those images (tfjs cpu), and a runner that unzips
 * an export and runs its prune_run.py there, returning its ONE JSON line and its predictions.
 * Call inside a `describe`, after torchOrSkip: it registers the describe's beforeAll / afterAll.
 */
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { RECORD_BYTES, channelStats, normalisedBatch, parseCifar10 } from '../data/cifar10';
import { Net } from '../model/net';
import type { ModelSpec, NetWeights } from '../model/spec';
import { runPython } from '../io/pythonForTests';
import { EXPORT_FILES, type PytorchExportInput, buildPytorchExportZip } from './pytorchScript';

export const DATA = join(fileURLToPath(new URL('.', import.meta.url)), '../../../public/data/cifar10');

export function torchRunFixture(torch: string, prefix: string, testImages: number) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(dir, 'data');
  const raw = new Uint8Array(readFileSync(join(DATA, 'test_1000.bin'))).subarray(0, testImages * RECORD_BYTES);
  const test = parseCifar10(raw, 'test_batch.bin');
  const stats = channelStats(parseCifar10(new Uint8Array(readFileSync(join(DATA, 'train_5000.bin'))), 'train_5000.bin'));
  let images: tf.Tensor4D | undefined;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'test_batch.bin'), raw);
    images = tf.tensor4d(normalisedBatch(test, stats, null, 0, test.count).images, [test.count, 32, 32, 3]);
  });
  afterAll(() => {
    images?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The engine's predicted class of every test image, 100 at a time. */
  function enginePredictions(spec: ModelSpec, w: NetWeights): Uint8Array {
    const net = new Net(spec, w);
    const out = new Uint8Array(test.count);
    for (let i = 0; i < test.count; i += 100) {
      const n = Math.min(100, test.count - i);
      const p = tf.tidy(() => tf.argMax(net.predict(tf.slice(images!, [i, 0, 0, 0], [n, 32, 32, 3])), 1));
      out.set(p.dataSync(), i);
      p.dispose();
    }
    net.dispose();
    return out;
  }

  /** Unzips the export into its own folder and runs prune_run.py (--data, --predictions, then `extra`). */
  function runExport<J>(name: string, input: PytorchExportInput, extra: string[] = []): { json: J; predictions: Uint8Array } {
    const runDir = join(dir, name.replace(/\W+/g, '_'));
    mkdirSync(runDir);
    for (const [f, bytes] of Object.entries(unzipSync(buildPytorchExportZip(input)))) writeFileSync(join(runDir, f), bytes);
    const predFile = join(runDir, 'predictions.bin');
    const lines = runPython(torch, [join(runDir, EXPORT_FILES.script), '--data', dataDir, '--predictions', predFile, ...extra], { cwd: runDir }).trim().split('\n');
    expect(lines.length).toBe(1); // ONE JSON line
    return { json: JSON.parse(lines[0]) as J, predictions: new Uint8Array(readFileSync(predFile)) };
  }

  /** Runs `body` with the first `images` training images in data/ (for --finetune), removed after. */
  function withTrainingSubset<T>(images: number, body: () => T): T {
    const file = join(dataDir, 'train_small.bin');
    writeFileSync(file, new Uint8Array(readFileSync(join(DATA, 'train_5000.bin'))).subarray(0, images * RECORD_BYTES));
    try {
      return body();
    } finally {
      rmSync(file);
    }
  }

  /** How many of two prediction lists agree. */
  const agreement = (a: Uint8Array, b: Uint8Array) => a.reduce((n, x, i) => n + (x === b[i] ? 1 : 0), 0);

  return { dir, dataDir, test, stats, enginePredictions, runExport, withTrainingSubset, agreement };
}
