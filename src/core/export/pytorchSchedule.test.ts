/**
 * prune_run.py of a SCHEDULED run (issue 22): the script runs the page's schedule. Text checks, then under
 * PyTorch the script without --finetune against the core's pruneScheduledStep chain with no training
 * between steps (each step's kept filters, params, nonzero params, MACs exact; final predictions agree),
 * and one run with --finetune 1 on a tiny training subset that reports every step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChannelStats } from '../data/cifar10';
import { structure } from '../model/graph';
import type { ModelSpec, NetWeights } from '../model/spec';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { randomScores } from '../pruning/importance';
import type { Schedule } from '../pruning/schedule';
import { type ScheduleState, type ScheduledStep, pruneScheduledStep, startSchedule } from '../pruning/scheduled';
import type { PruneSettings } from '../pruning/settings';
import { randomWeights } from '../pruning/testUtil';
import { deriveSeed } from '../random';
import { findPython, runPython, torchOrSkip } from '../io/pythonForTests';
import { EXPORT_FILES, type PytorchExportInput, buildPytorchExport, exportMasks, exportProblem, exportReadme, pruneScript } from './pytorchScript';
import { torchRunFixture } from './pytorchRunForTests';

const STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
const AGP3: Schedule = { kind: 'agp', steps: 3 };

/**
 * Taylor's per-step scores stand-in: the engine scores each step's network on a seeded batch; the script
 * replays the resulting choice, so any seeded scores of the current network's units do here.
 */
function taylorStandIn(spec: ModelSpec, state: ScheduleState, seed: number) {
  return { taylor: Object.fromEntries(structure(spec).groups.map((g, gi) => [g.id, randomScores(state.weights.channels[gi], deriveSeed(seed, `${g.id}.${state.done}`))])) };
}

/** The core's chain: every step of the schedule, no training between. */
function chain(spec: ModelSpec, baseline: NetWeights, settings: PruneSettings, schedule: Schedule): ScheduledStep[] {
  const out: ScheduledStep[] = [];
  let state = startSchedule(spec, baseline);
  for (let t = 0; t < schedule.steps; t++) {
    const step = pruneScheduledStep(spec, state, settings, schedule, settings.method === 'taylor' ? taylorStandIn(spec, state, settings.seed) : {});
    out.push(step);
    state = step.next;
  }
  return out;
}

function inputFor(spec: ModelSpec, settings: PruneSettings, schedule: Schedule, seed = 1): PytorchExportInput {
  const baseline = randomWeights(spec, seed);
  const steps = chain(spec, baseline, settings, schedule);
  return { spec, baseline, settings, schedule, steps: steps.map((st) => st.result), result: steps[steps.length - 1].result, stats: STATS, date: new Date('2026-01-01T00:00:00Z') };
}

/** The KEPT_STEPS = [...] literal of a script, parsed (Python list of dicts of lists -> JSON once trailing commas go). */
function keptStepsLiteral(script: string): Record<string, number[]>[] | null {
  const m = /^KEPT_STEPS = (\[[\s\S]*?\n\])$/m.exec(script);
  return m ? JSON.parse(m[1].replace(/,(\s*[\]}])/g, '$1')) : null;
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

  it('runs every scheduled criterion and ResNet-20, global mode with random weights too (each step\'s draw in masks.safetensors)', () => {
    const random: PruneSettings = { method: 'random', mode: 'mask', seed: 1, amounts: { conv1: 0.5, fc1: 0.4 } };
    const r = inputFor(simpleCnn, random, AGP3);
    expect(exportProblem(r)).toBeNull();
    const py = pruneScript(r);
    expect(keptStepsLiteral(py)).toEqual(r.steps!.map((st) => st.kept));
    expect(py).toContain("(KEPT_STEPS): its seeded random draw (torch's random generator\ndiffers), applied with prune.custom_from_mask; the masks multiply.");
    // fc1's draw, one mask per step, in masks.safetensors.
    expect(Object.keys(buildPytorchExport(r)).sort()).toEqual([EXPORT_FILES.masks, EXPORT_FILES.script, EXPORT_FILES.readme, EXPORT_FILES.weights].sort());
    const taylor = inputFor(convNet3, { method: 'taylor', mode: 'remove', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, fc1: 0 } }, AGP3);
    expect(exportProblem(taylor)).toMatch(/applies the page's kept filters at each step \(KEPT_STEPS\)/);
    expect(keptStepsLiteral(pruneScript(taylor))).toEqual(taylor.steps!.map((st) => st.kept));
    const global = inputFor(convNet3, { method: 'globalStruct', mode: 'mask', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0 } }, AGP3);
    // 16 + 32 + 64 filters at 50 % in AGP 3 steps: 35.2, 48.1, 50 % of 112 = 39.4, 53.9, 56 -> 39, 54, 56 in all after each
    // step; torch ranks them itself (choose_filters) and the page's lists (KEPT_STEPS) check it.
    expect(pruneScript(global)).toMatch(/^STEP_UNITS = \[39, 54, 56\]$/m);
    expect(exportProblem(global)).toBeNull();
    const res = inputFor(resnet20, { method: 'l1', mode: 'remove', seed: 1, amounts: { stream1: 0.5, 'inner2.1': 0.5, fc: 0.2 } }, AGP3);
    expect(keptStepsLiteral(pruneScript(res))).toEqual(res.steps!.map((st) => st.kept));
    expect(exportProblem(res)).toMatch(/kept channels at each step/);
    expect(exportReadme(res)).toContain('(the script runs every step; --finetune E fine-tunes E epochs after each)');
    const globalRandom = inputFor(simpleCnn, { method: 'random', mode: 'global', seed: 1, amounts: { conv1: 0.5, fc1: 0 } }, AGP3);
    expect(exportProblem(globalRandom)).toBeNull();
    expect(pruneScript(globalRandom)).toContain('masks[f"{name}.weight.step{t + 1}"]');
    const masks = exportMasks(globalRandom)!;
    expect(Object.keys(masks).sort()).toEqual(['conv1.weight.step1', 'conv1.weight.step2', 'conv1.weight.step3']);
    // Each step's draw holds the earlier ones (the masks multiply in torch).
    const zeros = (k: string) => Array.from(masks[k].data as Uint8Array).filter((b) => b === 0).length;
    expect(zeros('conv1.weight.step1')).toBeLessThan(zeros('conv1.weight.step3'));
  });

  it('every scheduled mode x method gives valid Python (py_compile), chain and graph models', () => {
    const py = findPython();
    if (!py.any) {
      console.log('skipping py_compile: no python3 found');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'prune-schedule-compile-'));
    try {
      const paths: string[] = [];
      for (const spec of [convNet3, resnet20] as ModelSpec[])
        for (const mode of ['mask', 'remove', 'global'] as const)
          for (const method of ['random', 'l1', 'l2', 'bn', 'taylor', 'globalStruct'] as const) {
            if (mode === 'global' && method !== 'l1' && method !== 'l2' && method !== 'random') continue;
            const st = structure(spec);
            const amounts = { ...Object.fromEntries(st.groups.map((g, i) => [g.id, i % 2 ? 0.25 : 0.5])), [st.output.name]: 0.3 };
            const p = join(dir, `${spec.id}_${mode}_${method}.py`);
            writeFileSync(p, pruneScript(inputFor(spec, { method, mode, seed: 1, amounts }, { kind: 'iterative', steps: 2 })));
            paths.push(p);
          }
      expect(paths.length).toBe(30);
      runPython(py.any, ['-m', 'py_compile', ...paths]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const TEST_IMAGES = 300;
const RESNET_TEST_IMAGES = 100; // the tfjs cpu backend runs ResNet-20 at a few images per second

const CASES: [string, ModelSpec, PruneSettings, Schedule][] = [
  ['convnet3 mask l1 AGP 3', convNet3, { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.75, conv2: 0.5, conv3: 0.6, fc1: 0.5 } }, AGP3],
  ['convnet3 mask bn iterative 3', convNet3, { method: 'bn', mode: 'mask', seed: 2, amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.25, fc1: 0.3 } }, { kind: 'iterative', steps: 3 }],
  ['convnet3 remove l1 AGP 3', convNet3, { method: 'l1', mode: 'remove', seed: 3, amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.6, fc1: 0.4 } }, AGP3],
  ['convnet3 remove bn AGP 4', convNet3, { method: 'bn', mode: 'remove', seed: 4, amounts: { conv1: 0.25, conv2: 0.5, conv3: 0.75, fc1: 0.2 } }, { kind: 'agp', steps: 4 }],
  ['simplecnn remove l2 iterative 2', simpleCnn, { method: 'l2', mode: 'remove', seed: 5, amounts: { conv1: 0.75, fc1: 0.6 } }, { kind: 'iterative', steps: 2 }],
  ['simplecnn mask l2 AGP 3', simpleCnn, { method: 'l2', mode: 'mask', seed: 6, amounts: { conv1: 0.5, fc1: 0.3 } }, AGP3],
  ['convnet3 global l1 AGP 3', convNet3, { method: 'l1', mode: 'global', seed: 7, amounts: { conv1: 0.8, fc1: 0.5 } }, AGP3],
  ['simplecnn global random iterative 3', simpleCnn, { method: 'random', mode: 'global', seed: 14, amounts: { conv1: 0.6, fc1: 0.4 } }, { kind: 'iterative', steps: 3 }],
  // Random and Taylor: the page's per-step choice replayed (KEPT_STEPS; random fc1 draws from masks.safetensors).
  ['convnet3 mask random AGP 3', convNet3, { method: 'random', mode: 'mask', seed: 8, amounts: { conv1: 0.5, conv2: 0.75, conv3: 0.25, fc1: 0.4 } }, AGP3],
  ['convnet3 remove random iterative 3', convNet3, { method: 'random', mode: 'remove', seed: 9, amounts: { conv1: 0.75, conv2: 0.5, conv3: 0.5, fc1: 0.3 } }, { kind: 'iterative', steps: 3 }],
  ['convnet3 mask taylor AGP 3', convNet3, { method: 'taylor', mode: 'mask', seed: 10, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.75, fc1: 0.2 } }, AGP3],
  ['simplecnn remove taylor iterative 2', simpleCnn, { method: 'taylor', mode: 'remove', seed: 11, amounts: { conv1: 0.6, fc1: 0.5 } }, { kind: 'iterative', steps: 2 }],
  // Global structured: torch ranks all layers together at each step itself, checked against the page's lists.
  ['convnet3 mask globalStruct AGP 3', convNet3, { method: 'globalStruct', mode: 'mask', seed: 12, amounts: { conv1: 0.6, conv2: 0.6, conv3: 0.6, fc1: 0.2 } }, AGP3],
  ['convnet3 remove globalStruct iterative 3', convNet3, { method: 'globalStruct', mode: 'remove', seed: 13, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0.3 } }, { kind: 'iterative', steps: 3 }],
];

// ResNet-20: every step prunes the channel groups (stream = the channels joined by adds; inner = a block's own).
const RESNET_CASES: [string, PruneSettings, Schedule][] = [
  ['resnet20 mask l1 AGP 3 (streams and inner)', { method: 'l1', mode: 'mask', seed: 1, amounts: { stream2: 0.5, stream3: 0.25, 'inner1.2': 0.5, 'inner3.1': 0.75, fc: 0.3 } }, AGP3],
  ['resnet20 remove bn iterative 2 (streams and inner)', { method: 'bn', mode: 'remove', seed: 2, amounts: { stream1: 0.25, stream3: 0.5, 'inner2.2': 0.5, 'inner2.3': 0.75, fc: 0.2 } }, { kind: 'iterative', steps: 2 }],
  ['resnet20 remove random AGP 3', { method: 'random', mode: 'remove', seed: 3, amounts: { stream1: 0.5, 'inner3.3': 0.5, fc: 0.2 } }, AGP3],
  ['resnet20 mask taylor iterative 2', { method: 'taylor', mode: 'mask', seed: 4, amounts: { stream2: 0.5, 'inner1.1': 0.5, fc: 0 } }, { kind: 'iterative', steps: 2 }],
  ['resnet20 remove globalStruct AGP 3', { method: 'globalStruct', mode: 'remove', seed: 5, amounts: { ...Object.fromEntries(structure(resnet20).groups.map((g) => [g.id, 0.4])), fc: 0.1 } }, AGP3],
  ['resnet20 global l1 AGP 3', { method: 'l1', mode: 'global', seed: 6, amounts: { stream1: 0.6, fc: 0.4 } }, AGP3],
  ['resnet20 global random iterative 2', { method: 'random', mode: 'global', seed: 7, amounts: { stream1: 0.5, fc: 0.3 } }, { kind: 'iterative', steps: 2 }],
];

type StepJson = { step: number; kept: Record<string, number[]>; params: number; nonzero_params: number; macs: number; nonzero_macs: number; accuracy: number; accuracy_before_finetune?: number };
type RunJson = StepJson & { schedule: string; steps: StepJson[]; finetune_epochs?: number; torch_differs?: Record<string, number[]> };

/** The script's steps against the core's chain: every step's kept units, params, nonzero params, MACs exact. */
function expectSteps(json: RunJson, steps: ScheduledStep[], schedule: Schedule): void {
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
  const final = steps[steps.length - 1].result;
  expect(json.kept).toEqual(final.kept);
  expect(json.nonzero_params).toBe(final.costs.nonzeroParams);
  if (json.torch_differs) expect(json.torch_differs).toEqual({}); // torch's own ranking picked the page's filters at every step
}

describe('prune_run.py of a scheduled run under PyTorch matches the core’s step chain', () => {
  const found = torchOrSkip('the PyTorch scheduled-export run');
  if (found === null) return;
  const fx = torchRunFixture(found, 'prune-schedule-', TEST_IMAGES);

  it.each(CASES)('%s: every step’s kept, params, nonzero params, MACs exact; final predictions agree', (name, spec, settings, schedule) => {
    const baseline = randomWeights(spec, 100 + settings.seed);
    const steps = chain(spec, baseline, settings, schedule);
    const final = steps[steps.length - 1].result;
    const { json, predictions } = fx.runExport<RunJson>(name, { spec, baseline, settings, schedule, steps: steps.map((s) => s.result), result: final, stats: fx.stats });
    const agree = fx.agreement(fx.enginePredictions(spec, final.weights), predictions);
    console.log(`${name}: ${json.steps.map((s) => `step ${s.step} params ${s.params} nonzero ${s.nonzero_params} macs ${s.macs}`).join('; ')} | same prediction on ${agree}/${fx.test.count}`);
    expectSteps(json, steps, schedule);
    expect(agree).toBeGreaterThanOrEqual(fx.test.count - 1);
  }, 300_000);

  it('--finetune 1 fine-tunes after every step and reports each step (L1 remove; random mask replays its draws)', () => {
    for (const settings of [
      { method: 'l1', mode: 'remove', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0.5 } },
      { method: 'random', mode: 'mask', seed: 2, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0.5 } },
    ] as PruneSettings[]) {
      const spec = convNet3;
      const schedule: Schedule = { kind: 'iterative', steps: 2 };
      const baseline = randomWeights(spec, 1);
      const steps = chain(spec, baseline, settings, schedule);
      const { json } = fx.withTrainingSubset(128, () =>
        fx.runExport<RunJson>(`finetune ${settings.method}`, { spec, baseline, settings, schedule, steps: steps.map((s) => s.result), result: steps[1].result, stats: fx.stats }, ['--finetune', '1']),
      );
      console.log(`scheduled finetune ${settings.method}: ${JSON.stringify(json.steps.map((s) => ({ ...s, kept: undefined })))}`);
      expect(json.finetune_epochs).toBe(1);
      expect(json.steps.map((s) => typeof s.accuracy_before_finetune)).toEqual(['number', 'number']);
      // Counts do not depend on which filters torch kept after fine-tuning; fc1's pruned weights stayed zero.
      steps.forEach((s, t) => {
        expect(json.steps[t].params).toBe(s.result.costs.params);
        expect(json.steps[t].macs).toBe(s.result.costs.macs);
        expect(json.steps[t].nonzero_params).toBe(s.result.costs.nonzeroParams);
        if (settings.method === 'random') expect(json.steps[t].kept).toEqual(s.result.kept); // the page's draws, whatever the training
      });
    }
  }, 300_000);
});

describe('prune_run.py of a scheduled ResNet-20 run under PyTorch matches the core’s step chain', () => {
  const found = torchOrSkip('the PyTorch scheduled ResNet-20 export run');
  if (found === null) return;
  const fx = torchRunFixture(found, 'prune-schedule-resnet-', RESNET_TEST_IMAGES);

  it.each(RESNET_CASES)('%s: every step’s kept, params, nonzero params, MACs exact; final predictions agree', (name, settings, schedule) => {
    const baseline = randomWeights(resnet20, 100 + settings.seed);
    const steps = chain(resnet20, baseline, settings, schedule);
    const final = steps[steps.length - 1].result;
    const { json, predictions } = fx.runExport<RunJson>(name, { spec: resnet20, baseline, settings, schedule, steps: steps.map((s) => s.result), result: final, stats: fx.stats });
    const agree = fx.agreement(fx.enginePredictions(resnet20, final.weights), predictions);
    console.log(`${name}: ${json.steps.map((s) => `step ${s.step} params ${s.params} nonzero ${s.nonzero_params} macs ${s.macs}`).join('; ')} | same prediction on ${agree}/${fx.test.count}`);
    expectSteps(json, steps, schedule);
    expect(agree).toBeGreaterThanOrEqual(fx.test.count - 1);
  }, 600_000);

  it('--finetune 1 runs between the steps of a ResNet-20 remove-mode schedule (a tiny subset)', () => {
    const settings: PruneSettings = { method: 'l1', mode: 'remove', seed: 7, amounts: { stream2: 0.5, 'inner1.1': 0.5, fc: 0.3 } };
    const schedule: Schedule = { kind: 'iterative', steps: 2 };
    const baseline = randomWeights(resnet20, 7);
    const steps = chain(resnet20, baseline, settings, schedule);
    const { json } = fx.withTrainingSubset(64, () =>
      fx.runExport<RunJson>('resnet finetune', { spec: resnet20, baseline, settings, schedule, steps: steps.map((s) => s.result), result: steps[1].result, stats: fx.stats }, ['--finetune', '1']),
    );
    console.log(`scheduled ResNet-20 finetune: ${JSON.stringify(json.steps.map((s) => ({ ...s, kept: undefined })))}`);
    expect(json.finetune_epochs).toBe(1);
    steps.forEach((s, t) => {
      expect(json.steps[t].kept).toEqual(s.result.kept); // the page's channels at each step
      expect([json.steps[t].params, json.steps[t].macs, json.steps[t].nonzero_params]).toEqual([s.result.costs.params, s.result.costs.macs, s.result.costs.nonzeroParams]);
    });
  }, 600_000);
});
