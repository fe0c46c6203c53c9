/**
 * prune_run.py's --finetune uses the page's training recipe: under PyTorch, the exported script's learning
 * rate at every step equals the page's schedule, its weight-decay group holds exactly the tensors the
 * page decays (conv/linear weights; not BatchNorm, not biases — also for masked weight_orig), and its
 * crop + flip gives the page's augmented images bit for bit for the same offsets and flips.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChannelStats } from '../data/cifar10';
import type { NetSpec } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { prune } from '../pruning/pruner';
import type { PruneSettings } from '../pruning/settings';
import { randomWeights } from '../pruning/testUtil';
import { runPython, torchOrSkip } from '../io/pythonForTests';
import { augmentArray, blankPixel, drawAugment } from '../train/augment';
import { DEFAULT_RECIPE, type Recipe, decayedTensorNames, learningRateAt, warmupSteps } from '../train/recipe';
import { mulberry32 } from '../random';
import { EXPORT_FILES, type FinetuneRecipe, buildPytorchExport, className, exportReadme, pruneScript } from './pytorchScript';

const STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

function input(spec: NetSpec, settings: PruneSettings, finetune: Partial<FinetuneRecipe>) {
  const baseline = randomWeights(spec, 1);
  return { spec, baseline, settings, result: prune(spec, baseline, settings), stats: STATS, finetune, date: new Date('2026-01-01T00:00:00Z') };
}

const RECIPE: Recipe = { augment: true, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', warmupEpochs: 1.5, labelSmoothing: 0.1 };
const MASK: PruneSettings = { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.5, conv2: 0.25, fc1: 0.3 } };

describe('prune_run.py writes the recipe', () => {
  it('as constants, and in the README', () => {
    const i = input(convNet3, MASK, { optimizer: 'sgd', learningRate: 0.05, recipe: RECIPE });
    const script = pruneScript(i);
    expect(script).toContain('NESTEROV, WEIGHT_DECAY, SCHEDULE, WARMUP_EPOCHS = True, 0.0005, "cosine", 1.5');
    expect(script).toContain('AUGMENT, LABEL_SMOOTHING = True, 0.1');
    expect(exportReadme(i)).toContain('SGD momentum 0.9 Nesterov, learning rate 0.05, batch 64, cosine schedule, 1.5 warm-up epochs, weight decay 0.0005 on conv/linear weights, pad-4 crop + flip augmentation, label smoothing 0.1');
    // The default recipe: none of it, Nesterov off even when asked with Adam.
    const plain = pruneScript(input(convNet3, MASK, { recipe: { ...DEFAULT_RECIPE, nesterov: true } }));
    expect(plain).toContain('NESTEROV, WEIGHT_DECAY, SCHEDULE, WARMUP_EPOCHS = False, 0.0, "constant", 0.0');
    expect(plain).toContain('AUGMENT, LABEL_SMOOTHING = False, 0.0');
  });
});

describe('prune_run.py --finetune under PyTorch follows the page’s recipe', () => {
  const found = torchOrSkip('the exported recipe against torch');
  if (found === null) return;
  const py: string = found;
  const dir = mkdtempSync(join(tmpdir(), 'prune-recipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the export for `spec` and runs `body` with the script imported as module `m` and `model` built. */
  function withScript(name: string, spec: NetSpec, finetune: Partial<FinetuneRecipe>, body: string, stdin = ''): unknown {
    const runDir = join(dir, name);
    rmSync(runDir, { recursive: true, force: true });
    const files = buildPytorchExport(input(spec, MASK, finetune));
    mkdirSync(runDir, { recursive: true });
    for (const [f, bytes] of Object.entries(files)) writeFileSync(join(runDir, f), bytes);
    const code = [
      'import importlib.util, json, sys, torch',
      `spec = importlib.util.spec_from_file_location("prune_run", ${JSON.stringify(join(runDir, EXPORT_FILES.script))})`,
      'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
      `model = m.${className(spec)}(channels=m.BASELINE_CHANNELS)`,
      'model.load_state_dict(m.load_safetensors(m.os.path.join(m.HERE, "baseline.safetensors")), strict=True)',
      'model, kept = m.prune_model(model)',
      `m.prune_fc1(model)`,
      body,
    ].join('\n');
    return JSON.parse(runPython(py, ['-c', code], { cwd: runDir, input: stdin }));
  }

  const LR_BODY = [
    'steps, epochs = 7, 3',
    'opt, sched = m.make_optimizer(model, steps, epochs)',
    'lrs = []',
    'for s in range(steps * epochs):',
    '    lrs.append(opt.param_groups[0]["lr"])',
    '    assert all(g["lr"] == lrs[-1] for g in opt.param_groups)',
    '    opt.step(); sched.step()',
    'print(json.dumps({"lrs": lrs, "nesterov": opt.defaults.get("nesterov", None)}))',
  ].join('\n');

  for (const [schedule, warmupEpochs, optimizer] of [
    ['cosine', 1.5, 'sgd'],
    ['onecycle', 0, 'adam'],
    ['onecycle', 1, 'sgd'],
    ['constant', 2, 'sgd'],
  ] as const) {
    it(`${schedule}, ${warmupEpochs} warm-up epochs, ${optimizer}: the learning rate of every step is the page’s`, () => {
      const r: Recipe = { ...RECIPE, schedule, warmupEpochs };
      const got = withScript(`lr-${schedule}-${warmupEpochs}`, convNet3, { optimizer, learningRate: 0.08, recipe: r }, LR_BODY) as { lrs: number[]; nesterov: boolean | null };
      const total = 21;
      const want = Array.from({ length: total }, (_, s) => learningRateAt(schedule, 0.08, s, total, warmupSteps(warmupEpochs, 7)));
      expect(got.lrs.length).toBe(total);
      got.lrs.forEach((v, s) => expect(Math.abs(v - want[s])).toBeLessThan(1e-12));
      if (optimizer === 'sgd') expect(got.nesterov).toBe(true);
    }, 120_000);
  }

  for (const spec of [convNet3, simpleCnn]) {
    it(`${spec.id}: the weight-decay group is exactly the tensors the page decays (masked weight_orig included)`, () => {
      const body = [
        'names = {id(p): n.replace("_orig", "") for n, p in model.named_parameters()}',
        'groups = m.param_groups(model)',
        'print(json.dumps([[names[id(p)] for p in g["params"]] + [g["weight_decay"]] for g in groups]))',
      ].join('\n');
      const [decay, noDecay] = withScript(`wd-${spec.id}`, spec, { optimizer: 'sgd', recipe: RECIPE }, body) as [Array<string | number>, Array<string | number>];
      expect(decay.pop()).toBe(5e-4);
      expect(noDecay.pop()).toBe(0);
      expect([...decay].sort()).toEqual([...decayedTensorNames(spec)].sort());
      expect(noDecay.some((n) => String(n).startsWith('bn') || String(n).endsWith('.bias'))).toBe(true);
      expect(noDecay.filter((n) => decayedTensorNames(spec).includes(String(n)))).toEqual([]);
    }, 120_000);
  }

  it('finetune() runs with the whole recipe (augmentation, Nesterov, decay, cosine, smoothing) and pruned weights stay pruned', () => {
    const body = [
      'torch.manual_seed(0)',
      'x, y = torch.randn(40, 3, 32, 32), torch.randint(0, 10, (40,))',
      'zeros = lambda: int((model.conv1.weight == 0).sum())',
      'before, w0 = zeros(), model.conv1.weight_orig.detach().clone()',
      'm.BATCH = 16',
      'm.finetune(model, x, y, 2)',
      'print(json.dumps({"before": before, "after": zeros(), "moved": bool((model.conv1.weight_orig != w0).any())}))',
    ].join('\n');
    const r = withScript('finetune', convNet3, { optimizer: 'sgd', learningRate: 0.05, recipe: RECIPE }, body) as { before: number; after: number; moved: boolean };
    expect(r.before).toBeGreaterThan(0);
    expect(r.after).toBe(r.before);
    expect(r.moved).toBe(true);
  }, 120_000);

  it('crop_flip gives the page’s augmented images exactly, for the same offsets and flips', () => {
    const n = 6;
    const images = new Float32Array(n * 32 * 32 * 3).map((_, i) => Math.fround(Math.sin(i) * 2));
    const d = drawAugment(n, mulberry32(5));
    const body = [
      'd = json.loads(sys.stdin.read())',
      'x = torch.tensor(d["x"], dtype=torch.float32).view(-1, 32, 32, 3).permute(0, 3, 1, 2).contiguous()',
      'out = m.crop_flip(x, torch.tensor(d["dy"]), torch.tensor(d["dx"]), torch.tensor(d["flip"]).bool())',
      'print(json.dumps(out.permute(0, 2, 3, 1).reshape(-1).tolist()))',
    ].join('\n');
    const stdin = JSON.stringify({ x: Array.from(images), dy: Array.from(d.dy), dx: Array.from(d.dx), flip: Array.from(d.flip) });
    const torchOut = withScript('augment', convNet3, { recipe: RECIPE }, body, stdin) as number[];
    expect(torchOut).toEqual(Array.from(augmentArray(images, n, blankPixel(STATS), d)));
  }, 120_000);
});
