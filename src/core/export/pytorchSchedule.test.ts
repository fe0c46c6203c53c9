/**
 * prune_run.py of a SCHEDULED run (issue 22): the script runs the page's schedule. Text checks, then under
 * PyTorch the script without --finetune against the core's pruneScheduledStep chain with no training
 * between steps (each step's kept filters, params, nonzero params, MACs exact; final predictions agree),
 * and one run with --finetune 1 on a tiny training subset that reports every step.
 */
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChannelStats, RECORD_BYTES, channelStats, normalisedBatch, parseCifar10 } from '../data/cifar10';
import { Net } from '../model/net';
import type { NetSpec, NetWeights } from '../model/spec';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { prune } from '../pruning/pruner';
import type { Schedule } from '../pruning/schedule';
import { type ScheduledStep, pruneScheduledStep, startSchedule } from '../pruning/scheduled';
import type { PruneSettings } from '../pruning/settings';
import { randomWeights } from '../pruning/testUtil';
import { runPython, torchOrSkip } from '../io/pythonForTests';
import { EXPORT_FILES, type PytorchExportInput, buildPytorchExportZip, exportProblem, exportReadme, pruneScript } from './pytorchScript';

const STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
const AGP3: Schedule = { kind: 'agp', steps: 3 };

/** The core's chain: every step of the schedule, no training between. */
function chain(spec: NetSpec, baseline: NetWeights, settings: PruneSettings, schedule: Schedule): ScheduledStep[] {
  const out: ScheduledStep[] = [];
  let state = startSchedule(spec, baseline);
  for (let t = 0; t < schedule.steps; t++) {
    const step = pruneScheduledStep(spec, state, settings, schedule);
    out.push(step);
    state = step.next;
  }
  return out;
}

function inputFor(spec: NetSpec, settings: PruneSettings, schedule: Schedule, seed = 1): PytorchExportInput {
  const baseline = randomWeights(spec, seed);
  const steps = chain(spec, baseline, settings, schedule);
  return { spec, baseline, settings, schedule, result: steps[steps.length - 1].result, stats: STATS, date: new Date('2026-01-01T00:00:00Z') };
}

describe('prune_run.py of a scheduled run: text', () => {
  it('runs the schedule: per-step filter counts of the ORIGINAL filters, integer amounts, the docstring says so', () => {
    const settings: PruneSettings = { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.75, conv2: 0.5, conv3: 0, fc1: 0.5 } };
    const py = pruneScript(inputFor(convNet3, settings, AGP3));
    // AGP (1 - (1 - t/3)^3): 19/27, 26/27, 1 of the target. conv1 (16 filters) to 75 %: 8.44, 11.56, 12 -> 8, 12, 12
    // pruned in total -> 8, 4, 0 per step; conv2 (32) to 50 %: 11.26, 15.41, 16 -> 11, 15, 16 -> 11, 4, 1; conv3 at 0 absent.
    expect(py).toContain('STEP_FILTERS = [\n    {"conv1": 8, "conv2": 11},\n    {"conv1": 4, "conv2": 4},\n    {"conv1": 0, "conv2": 1},\n]');
    expect(py).toMatch(/^PRUNE_SCHEDULE = "agp 3"/m);
    expect(py).toMatch(/^NESTEROV, WEIGHT_DECAY, SCHEDULE, WARMUP_EPOCHS = False, 0\.0, "constant"/m); // the learning rate's, untouched
    expect(py.match(/^SCHEDULE = /m)).toBeNull();
    expect(py).toMatch(/^STEP_FC = \[0\.3518518518518518, 0\.48148148148148145, 0\.5\]/m);
    expect(py).toContain('prune.ln_structured(getattr(model, name), "weight", amount=n, n=1, dim=0)');
    expect(py).toContain("Runs the page's schedule (AGP 3 steps: 52.8 -> 72.2 -> 75 %)");
    expect(py).not.toMatch(/[^\t\n\r\x20-\x7e]/);
    expect(exportProblem(inputFor(convNet3, settings, AGP3))).toBeNull();
    expect(exportReadme(inputFor(convNet3, settings, AGP3))).toContain('Schedule: AGP 3 steps: 52.8 -> 72.2 -> 75 % (the script runs every step');
  });

  it('one-shot schedules and one-step runs keep the one-shot script', () => {
    const settings: PruneSettings = { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.5, fc1: 0 } };
    const py = pruneScript(inputFor(simpleCnn, settings, { kind: 'oneshot', steps: 1 }));
    expect(py).not.toContain('STEP_FILTERS');
    expect(py).toMatch(/^AMOUNTS = /m);
  });

  it('says precisely when the script prunes in one shot instead: other criteria, ResNet-20', () => {
    const random: PruneSettings = { method: 'random', mode: 'mask', seed: 1, amounts: { conv1: 0.5, fc1: 0 } };
    expect(exportProblem(inputFor(simpleCnn, random, AGP3))).toMatch(/one shot: it does not run the schedule for random yet \(it does for L1, L2 and BatchNorm gamma\)/);
    const baseline = randomWeights(resnet20, 1);
    const r: PruneSettings = { method: 'l1', mode: 'mask', seed: 1, amounts: { stream1: 0.5, fc: 0 } };
    expect(exportProblem({ spec: resnet20, settings: r, schedule: AGP3, result: prune(resnet20, baseline, r) })).toMatch(/does not run the schedule for ResNet-20 yet/);
  });
});

const here = fileURLToPath(new URL('.', import.meta.url));
const DATA = join(here, '../../../public/data/cifar10');
const TEST_IMAGES = 300;

const CASES: [string, NetSpec, PruneSettings, Schedule][] = [
  ['convnet3 mask l1 AGP 3', convNet3, { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.75, conv2: 0.5, conv3: 0.6, fc1: 0.5 } }, AGP3],
  ['convnet3 mask bn iterative 3', convNet3, { method: 'bn', mode: 'mask', seed: 2, amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.25, fc1: 0.3 } }, { kind: 'iterative', steps: 3 }],
  ['convnet3 remove l1 AGP 3', convNet3, { method: 'l1', mode: 'remove', seed: 3, amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.6, fc1: 0.4 } }, AGP3],
  ['convnet3 remove bn AGP 4', convNet3, { method: 'bn', mode: 'remove', seed: 4, amounts: { conv1: 0.25, conv2: 0.5, conv3: 0.75, fc1: 0.2 } }, { kind: 'agp', steps: 4 }],
  ['simplecnn remove l2 iterative 2', simpleCnn, { method: 'l2', mode: 'remove', seed: 5, amounts: { conv1: 0.75, fc1: 0.6 } }, { kind: 'iterative', steps: 2 }],
  ['simplecnn mask l2 AGP 3', simpleCnn, { method: 'l2', mode: 'mask', seed: 6, amounts: { conv1: 0.5, fc1: 0.3 } }, AGP3],
  ['convnet3 global l1 AGP 3', convNet3, { method: 'l1', mode: 'global', seed: 7, amounts: { conv1: 0.8, fc1: 0.5 } }, AGP3],
];

describe('prune_run.py of a scheduled run under PyTorch matches the core’s step chain', () => {
  const found = torchOrSkip('the PyTorch scheduled-export run');
  if (found === null) return;
  const torch: string = found;
  const dir = mkdtempSync(join(tmpdir(), 'prune-schedule-'));
  const dataDir = join(dir, 'data');
  const raw = new Uint8Array(readFileSync(join(DATA, 'test_1000.bin'))).subarray(0, TEST_IMAGES * RECORD_BYTES);
  const test = parseCifar10(raw, 'test_batch.bin');
  const stats = channelStats(parseCifar10(new Uint8Array(readFileSync(join(DATA, 'train_5000.bin'))), 'train_5000.bin'));
  let images: tf.Tensor4D;
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

  function enginePredictions(spec: NetSpec, w: NetWeights): Uint8Array {
    const net = new Net(spec, w);
    const out = new Uint8Array(test.count);
    for (let i = 0; i < test.count; i += 100) {
      const n = Math.min(100, test.count - i);
      const p = tf.tidy(() => tf.argMax(net.predict(tf.slice(images, [i, 0, 0, 0], [n, 32, 32, 3])), 1));
      out.set(p.dataSync(), i);
      p.dispose();
    }
    net.dispose();
    return out;
  }

  type StepJson = { step: number; kept: Record<string, number[]>; params: number; nonzero_params: number; macs: number; nonzero_macs: number; accuracy: number; accuracy_before_finetune?: number };
  function runExport(name: string, input: PytorchExportInput, extra: string[] = []) {
    const runDir = join(dir, name.replace(/\W+/g, '_'));
    mkdirSync(runDir);
    for (const [f, bytes] of Object.entries(unzipSync(buildPytorchExportZip(input)))) writeFileSync(join(runDir, f), bytes);
    const predFile = join(runDir, 'predictions.bin');
    const lines = runPython(torch, [join(runDir, EXPORT_FILES.script), '--data', dataDir, '--predictions', predFile, ...extra], { cwd: runDir }).trim().split('\n');
    expect(lines.length).toBe(1);
    const json = JSON.parse(lines[0]) as StepJson & { schedule: string; steps: StepJson[]; finetune_epochs?: number };
    return { json, predictions: new Uint8Array(readFileSync(predFile)) };
  }

  it.each(CASES)('%s: every step’s kept, params, nonzero params, MACs exact; final predictions agree', (name, spec, settings, schedule) => {
    const baseline = randomWeights(spec, 100 + settings.seed);
    const steps = chain(spec, baseline, settings, schedule);
    const final = steps[steps.length - 1].result;
    const { json, predictions } = runExport(name, { spec, baseline, settings, schedule, result: final, stats });
    const engine = enginePredictions(spec, final.weights);
    let agree = 0;
    for (let i = 0; i < test.count; i++) agree += engine[i] === predictions[i] ? 1 : 0;
    console.log(`${name}: ${json.steps.map((s) => `step ${s.step} params ${s.params} nonzero ${s.nonzero_params} macs ${s.macs}`).join('; ')} | same prediction on ${agree}/${test.count}`);
    expect(json.schedule).toBe(`${schedule.kind} ${schedule.steps}`);
    expect(json.steps.length).toBe(schedule.steps);
    steps.forEach((s, t) => {
      const j = json.steps[t];
      expect(j.step).toBe(t + 1);
      expect(j.kept).toEqual(s.result.kept);
      expect([j.params, j.nonzero_params, j.macs, j.nonzero_macs]).toEqual([s.result.costs.params, s.result.costs.nonzeroParams, s.result.costs.macs, s.result.costs.nonzeroMacs]);
    });
    // The steps really compose: the last step prunes more than the first.
    expect(json.steps[schedule.steps - 1].nonzero_params).toBeLessThan(json.steps[0].nonzero_params);
    expect(json.kept).toEqual(final.kept);
    expect(json.nonzero_params).toBe(final.costs.nonzeroParams);
    expect(agree).toBeGreaterThanOrEqual(test.count - 1);
  }, 300_000);

  it('--finetune 1 fine-tunes after every step and reports each step', () => {
    const spec = convNet3;
    const settings: PruneSettings = { method: 'l1', mode: 'remove', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0.5 } };
    const schedule: Schedule = { kind: 'iterative', steps: 2 };
    const baseline = randomWeights(spec, 1);
    const steps = chain(spec, baseline, settings, schedule);
    writeFileSync(join(dataDir, 'train_small.bin'), new Uint8Array(readFileSync(join(DATA, 'train_5000.bin'))).subarray(0, 128 * RECORD_BYTES));
    try {
      const { json } = runExport('finetune', { spec, baseline, settings, schedule, result: steps[1].result, stats }, ['--finetune', '1']);
      console.log(`scheduled finetune: ${JSON.stringify(json.steps.map((s) => ({ ...s, kept: undefined })))}`);
      expect(json.finetune_epochs).toBe(1);
      expect(json.steps.map((s) => typeof s.accuracy_before_finetune)).toEqual(['number', 'number']);
      // Counts do not depend on which filters torch kept after fine-tuning; fc1's pruned weights stayed zero.
      steps.forEach((s, t) => {
        expect(json.steps[t].params).toBe(s.result.costs.params);
        expect(json.steps[t].macs).toBe(s.result.costs.macs);
        expect(json.steps[t].nonzero_params).toBe(s.result.costs.nonzeroParams);
      });
    } finally {
      rmSync(join(dataDir, 'train_small.bin'));
    }
  }, 300_000);
});
