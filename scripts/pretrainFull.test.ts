/**
 * scripts/pretrain_full.py (PyTorch): a run interrupted after its first epoch and resumed from the
 * checkpoint ends with exactly the weights, optimizer state and epoch log of a straight run; the
 * exported safetensors loads in the page as that model; another recipe is refused on resume.
 * Runs through the torch-backed mechanism of src/core/io/pythonForTests.ts (skipped with the reason
 * without torch, failing under CI=true).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPython, torchOrSkip } from '../src/core/io/pythonForTests';
import { loadWeightsFile } from '../src/core/io/torchLayout';
import { ensureFullCifar10 } from './cifar10Full.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/pretrain_full.py');

/** Compares two checkpoints tensor by tensor (model, optimizer state, scheduler, log without timings). */
const COMPARE = `
import json, sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
def eq(x, y):
    if isinstance(x, torch.Tensor): return isinstance(y, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y)
    if isinstance(x, dict): return isinstance(y, dict) and x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)): return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
    return x == y
timing = ('trainSeconds', 'wallSeconds', 'cpuSeconds', 'finishedAt')
strip = lambda log: [{k: v for k, v in e.items() if k not in timing} for e in log]
print(json.dumps({
    'model': eq(a['model'], b['model']),
    'optimizer': eq(a['optimizer'], b['optimizer']),
    'momentumBuffers': len(a['optimizer']['state']),
    'scheduler': eq(a['scheduler'], b['scheduler']),
    'epochs': [a['epoch'], b['epoch']],
    'log': eq(strip(a['log']), strip(b['log'])),
    'testAccuracy': [e['testAccuracy'] for e in a['log']],
}))
`;

describe('scripts/pretrain_full.py', () => {
  const py = torchOrSkip('the resumable pretraining (scripts/pretrain_full.py)');
  if (!py) return;
  const tmp = mkdtempSync(join(tmpdir(), 'pretrain-full-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // A tiny run on the real converted data: 2 epochs of 320 images, evaluated on 200 test images.
  const args = (out: string) => [SCRIPT, '--model', 'convnet3', '--epochs', '2', '--train-subset', '320', '--test-subset', '200', '--batch', '64', '--warmup', '0.5', '--out', join(tmp, out), '--models-dir', join(tmp, out, 'models')];

  it('2 epochs straight = 1 epoch, interrupted, then resumed for 1: identical weights, optimizer, scheduler and log', () => {
    ensureFullCifar10(); // the cache the script reads (converted once, then reused)
    runPython(py, args('straight'), { cwd: ROOT, timeoutMs: 600_000 });
    runPython(py, [...args('resumed'), '--stop-after', '1'], { cwd: ROOT, timeoutMs: 600_000 });
    expect(readFileSync(join(tmp, 'resumed', 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(tmp, 'resumed', 'models', 'convnet3-full.safetensors'))).toBe(false); // not finished: no export
    runPython(py, args('resumed'), { cwd: ROOT, timeoutMs: 600_000 });

    const cmp = JSON.parse(runPython(py, ['-c', COMPARE, join(tmp, 'straight', 'latest.pt'), join(tmp, 'resumed', 'latest.pt')]));
    expect(cmp).toMatchObject({ model: true, optimizer: true, scheduler: true, log: true, epochs: [2, 2] });
    expect(cmp.momentumBuffers).toBeGreaterThan(0);
    expect(readFileSync(join(tmp, 'resumed', 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    // The exported weights are the same bytes, and load in the page as a ConvNet-3.
    const a = readFileSync(join(tmp, 'straight', 'models', 'convnet3-full.safetensors'));
    const b = readFileSync(join(tmp, 'resumed', 'models', 'convnet3-full.safetensors'));
    expect(Buffer.compare(a, b)).toBe(0);
    const loaded = loadWeightsFile(new Uint8Array(a), 'convnet3');
    expect(loaded.spec.id).toBe('convnet3');
    expect(loaded.metadata).toMatchObject({ model: 'convnet3', dataset: 'cifar10-full', epochs: '2' });
    const manifest = JSON.parse(readFileSync(join(tmp, 'resumed', 'models', 'manifest.json'), 'utf8'));
    const entry = manifest.models['convnet3-full'];
    expect(entry).toMatchObject({ model: 'convnet3', dataset: 'cifar10-full', file: 'convnet3-full.safetensors', epochs: 2, testImages: 200, testAccuracy: cmp.testAccuracy[1] });
    expect(entry.recipe).toMatchObject({ optimizer: 'sgd', nesterov: true, momentum: 0.9, weightDecay: 5e-4, batchSize: 64 });
    expect(entry.testAccuracy1000).toBeGreaterThan(0);
  });

  it('--replan resumes with another length: the learning rate goes on from where it was, cosine to 0 at the new end', () => {
    ensureFullCifar10();
    runPython(py, [...args('replan'), '--stop-after', '1'], { cwd: ROOT, timeoutMs: 600_000 });
    const longer = args('replan').map((a) => (a === '2' ? '3' : a));
    expect(() => runPython(py, longer, { cwd: ROOT })).toThrow(/another recipe/); // not without --replan
    runPython(py, [...longer, '--replan', '--stop-after', '1'], { cwd: ROOT, timeoutMs: 600_000 });
    runPython(py, longer, { cwd: ROOT, timeoutMs: 600_000 }); // a re-planned run resumes with its new length, no flag
    const log = readFileSync(join(tmp, 'replan', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const manifest = JSON.parse(readFileSync(join(tmp, 'replan', 'models', 'manifest.json'), 'utf8'));
    const { recipe } = manifest.models['convnet3-full'];
    expect(recipe).toMatchObject({ epochs: 3, replan: { afterEpoch: 1, fromEpochs: 2 } });
    expect(manifest.models['convnet3-full']).toMatchObject({ epochs: 3, completed: true });
    // 5 steps per epoch (320 / 64), warm-up round(2.5) = 2 steps: after epoch 1 the 2-epoch cosine stood at
    // 0.5 (1 + cos(pi (5 - 2) / (10 - 2))); the re-planned one starts there and ends at 0 after step 15.
    const f0 = 0.5 * (1 + Math.cos((Math.PI * 3) / 8));
    expect(recipe.replan.factor).toBeCloseTo(f0, 6);
    const lrAt = (s: number) => 0.1 * f0 * 0.5 * (1 + Math.cos((Math.PI * (s - 5)) / 10));
    // each log entry's lr is the one used by the epoch's last step (steps 10 and 15, counted from 1)
    expect(log[1].lr).toBeCloseTo(lrAt(9), 6);
    expect(log[2].lr).toBeCloseTo(lrAt(14), 6);
  });

  it('a second --replan keeps the first plan\'s record (the recipe says how the run was re-planned, both times)', () => {
    ensureFullCifar10();
    runPython(py, [...args('replan2'), '--stop-after', '1'], { cwd: ROOT, timeoutMs: 600_000 });
    const withEpochs = (n: string) => args('replan2').map((a) => (a === '2' ? n : a));
    runPython(py, [...withEpochs('3'), '--replan', '--stop-after', '1'], { cwd: ROOT, timeoutMs: 600_000 });
    runPython(py, [...withEpochs('4'), '--replan'], { cwd: ROOT, timeoutMs: 600_000 });
    const log = readFileSync(join(tmp, 'replan2', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    const { recipe } = JSON.parse(readFileSync(join(tmp, 'replan2', 'models', 'manifest.json'), 'utf8')).models['convnet3-full'];
    expect(recipe).toMatchObject({ epochs: 4, replan: { afterEpoch: 2, fromEpochs: 3, earlier: { afterEpoch: 1, fromEpochs: 2 } } });
    expect(recipe.schedule).toMatch(/re-planned after epoch 2 from 3 to 4 epochs/);
  });

  it('refuses to resume a checkpoint with another recipe, saying how to start over', () => {
    expect(() => runPython(py, [...args('straight').map((a) => (a === '0.5' ? '1' : a))], { cwd: ROOT })).toThrow(/was made with another recipe[\s\S]*--fresh/);
  });
});
