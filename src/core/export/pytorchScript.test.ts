import { unzipSync } from 'fflate';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChannelStats } from '../data/cifar10';
import type { ModelSpec, NetSpec } from '../model/spec';
import { convNet3, resnet20, simpleCnn } from '../model/zoo';
import { groupsOf } from '../pruning/groups';
import { randomScores } from '../pruning/importance';
import { deriveSeed } from '../random';
import { type PruneScores, prune } from '../pruning/pruner';
import { METHODS, MODES, type PruneSettings, unsupported } from '../pruning/settings';
import { randomWeights, weightDiff } from '../pruning/testUtil';
import { decode } from '../io/safetensors';
import { loadWeightsFile, tensorFromTorch } from '../io/torchLayout';
import { findPython, runPython, torchOrSkip } from '../io/pythonForTests';
import {
  EXPORT_FILES, type PytorchExportInput, buildPytorchExport, buildPytorchExportZip, className, exportProblem, exportReadme as exportReadmeOf, pruneScript, pyFloat,
} from './pytorchScript';
import { torchRunFixture } from './pytorchRunForTests';

const STATS: ChannelStats = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

function amountsFor(spec: NetSpec, conv: number[], fc: number): Record<string, number> {
  const names = spec.layers.filter((l) => l.kind === 'conv').map((l) => l.name);
  return { ...Object.fromEntries(names.map((n, i) => [n, conv[i] ?? conv[0]])), fc1: fc };
}

/** Taylor needs scores from a batch of data (the engine's); for the script's text any seeded scores do. */
function taylorScoresFor(spec: ModelSpec, seed: number): PruneScores {
  return { taylor: Object.fromEntries(groupsOf(spec).map((g) => [g.id, randomScores(g.units, deriveSeed(seed, g.id))])) };
}

function exportInput(spec: NetSpec, settings: PruneSettings, seed = 1): PytorchExportInput {
  const baseline = randomWeights(spec, seed);
  const scores = settings.method === 'taylor' ? taylorScoresFor(spec, seed) : undefined;
  return { spec, baseline, settings, result: prune(spec, baseline, settings, scores), stats: STATS, date: new Date('2026-01-01T00:00:00Z') };
}

/** The KEPT = {...} literal of a script, parsed (Python dict of lists → JSON once trailing commas go). */
function keptLiteral(script: string): Record<string, number[]> | null {
  const m = /^KEPT = (\{[\s\S]*?\})$/m.exec(script);
  return m ? JSON.parse(m[1].replace(/,(\s*[\]}])/g, '$1')) : null;
}

const SPECS = [simpleCnn, convNet3];
const COMBOS: [string, string, string, NetSpec, PruneSettings][] = [];
for (const spec of SPECS)
  for (const mode of MODES)
    for (const method of METHODS) {
      if (unsupported(method, mode, spec.id === 'convnet3')) continue;
      const settings: PruneSettings = {
        method, mode, seed: 7,
        amounts: amountsFor(spec, [0.5, 0.25, 0.75], 0.3),
        ...(method === 'manual' ? { manual: { conv1: [0, 2, 5], conv2: [1], conv3: [] } } : {}),
      };
      COMBOS.push([spec.id, mode, method, spec, settings]);
    }

describe('prune_run.py text', () => {
  it('covers every model × mode × method the page allows (32: Taylor and global structured in mask and remove mode)', () => {
    expect(COMBOS.length).toBe(32);
  });

  it.each(COMBOS)('%s %s %s: the calls a PyTorch user would write, and the page’s choice', (_id, mode, method, spec, settings) => {
    const input = exportInput(spec, settings);
    const py = pruneScript(input);
    expect(py).toMatch(new RegExp(`^MODEL, MODE, METHOD, SEED = "${spec.id}", "${mode}", "${method}", 7$`, 'm'));
    expect(py).toContain(`class ${className(spec)}(nn.Module):`);
    expect(py).toContain(`model.load_state_dict(load_safetensors(args.weights), strict=True)`);
    expect(py).toMatch(/^FC_AMOUNT = 0\.3 /m);
    expect(py).not.toMatch(/[^\t\n\r\x20-\x7e]/); // ASCII only
    expect(py).not.toMatch(/\t/);
    const kept = keptLiteral(py);
    if (mode === 'global') {
      expect(kept).toBeNull();
      expect(py).toMatch(/^GLOBAL_AMOUNT = 0\.5 /m);
      expect(py).toContain(spec.id === 'convnet3' ? 'parameters = [(model.conv1, "weight"), (model.conv2, "weight"), (model.conv3, "weight")]' : 'parameters = [(model.conv1, "weight")]');
      if (method === 'random') {
        expect(py).toContain('pruning_method=prune.RandomUnstructured'); // shown, in the docstring
        expect(py).toContain('prune.custom_from_mask(getattr(model, name), "weight", masks[f"{name}.weight"].float())');
      } else expect(py).toContain('    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=GLOBAL_AMOUNT)');
    } else {
      expect(kept).toEqual(input.result.kept);
      if (mode === 'mask' && (method === 'l1' || method === 'l2'))
        expect(py).toContain(`prune.ln_structured(conv, "weight", amount=amount, n=${method === 'l1' ? 1 : 2}, dim=0)`);
      if (mode === 'mask' && method !== 'l1' && method !== 'l2') expect(py).toContain('prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))');
      if (method === 'random' && mode === 'mask') expect(py).toContain('prune.random_structured(conv, "weight"');
      if (mode === 'remove') {
        expect(py).toContain('def slim(model, kept):');
        expect(py).toContain('return slim(model, kept), kept');
        expect(py).not.toContain('prune.ln_structured(');
      }
      if (method === 'l1' || method === 'l2' || method === 'bn') {
        expect(py).toContain('check_choice(name, ');
        expect(py).toMatch(/^AMOUNTS = \{"conv1": 0\.5/m);
      }
    }
    if (method === 'random') {
      expect(py).toContain('prune.custom_from_mask(model.fc1, "weight", mask.float())');
      expect(py).toContain('prune.random_unstructured(model.fc1, "weight", amount=FC_AMOUNT)'); // shown in a comment
    } else expect(py).toContain('    prune.l1_unstructured(model.fc1, "weight", amount=FC_AMOUNT)');
    if (spec.id === 'convnet3') expect(py).toContain('self.bn2 = nn.BatchNorm2d(channels[1])');
    else expect(py).toContain('self.fc1 = nn.Linear(channels[0] * 32 * 32, 10)');
  });

  it('every generated script is valid Python (py_compile)', () => {
    const py = findPython();
    if (!py.any) {
      console.log('skipping py_compile: no python3 found');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'prune-run-compile-'));
    try {
      const paths = COMBOS.map(([id, mode, method, spec, settings]) => {
        const p = join(dir, `${id}_${mode}_${method}.py`);
        writeFileSync(p, pruneScript(exportInput(spec, settings)));
        return p;
      });
      runPython(py.any, ['-m', 'py_compile', ...paths]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes amounts as Python floats: amount=1 would be a COUNT of one filter in torch', () => {
    expect(pyFloat(1)).toBe('1.0');
    expect(pyFloat(0)).toBe('0.0');
    expect(pyFloat(0.3)).toBe('0.3');
    expect(pyFloat(1e-7)).toBe('1e-7');
    const py = pruneScript(exportInput(convNet3, { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 1, conv2: 0, fc1: 1 } }));
    expect(py).toMatch(/^AMOUNTS = \{"conv1": 1\.0\}/m); // conv2 prunes nothing: left out
    expect(py).toMatch(/^FC_AMOUNT = 1\.0 /m);
  });

  it('writes the recipe, the normalisation and the page’s figures', () => {
    const input = { ...exportInput(convNet3, { method: 'l2', mode: 'remove', seed: 3, amounts: { conv1: 0.5, fc1: 0.2 } }), finetune: { learningRate: 5e-4, batchSize: 32 }, measured: { accuracy: 0.5123, testImages: 1000 } };
    const py = pruneScript(input);
    expect(py).toContain('OPTIMIZER, LR, BATCH, MOMENTUM = "adam", 0.0005, 32, 0.9');
    expect(py).toContain('MEAN = (0.4914, 0.4822, 0.4465)');
    expect(py).toContain(`params ${input.result.costs.params.toLocaleString('en-US')}, nonzero params ${input.result.costs.nonzeroParams.toLocaleString('en-US')}`);
    expect(py).toContain('accuracy 51.23 % on its 1,000 test images');
    expect(py).toContain('scores = w.flatten(1).norm(p=2, dim=1)');
  });
});

describe('the export zip', () => {
  it('holds baseline.safetensors (the baseline, exactly), prune_run.py and README.txt', () => {
    const input = exportInput(convNet3, { method: 'bn', mode: 'mask', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, fc1: 0.1 } });
    const zip = unzipSync(buildPytorchExportZip({ ...input, metadata: { epochs: '4' } }));
    expect(Object.keys(zip).sort()).toEqual([EXPORT_FILES.readme, EXPORT_FILES.weights, EXPORT_FILES.script].sort());
    const loaded = loadWeightsFile(zip[EXPORT_FILES.weights], 'convnet3');
    expect(weightDiff(loaded.weights, input.baseline)).toEqual([]);
    expect(loaded.metadata.epochs).toBe('4');
    expect(new TextDecoder().decode(zip[EXPORT_FILES.script])).toBe(pruneScript(input));
    const readme = new TextDecoder().decode(zip[EXPORT_FILES.readme]);
    expect(readme).toContain('mask mode, BatchNorm gamma; conv1 50 %, conv2 50 %, conv3 0 %; fc1 10 % of its weights');
    expect(readme).toContain(`nonzero params ${input.result.costs.nonzeroParams.toLocaleString('en-US')}`);
    expect(readme).not.toMatch(/[^\t\n\r\x20-\x7e]/);
  });

  it('adds masks.safetensors, in PyTorch layout, exactly when the page drew random weights', () => {
    const g = exportInput(simpleCnn, { method: 'random', mode: 'global', seed: 5, amounts: { conv1: 0.4, fc1: 0.2 } });
    const files = buildPytorchExport(g);
    const masks = decode(files[EXPORT_FILES.masks]).tensors;
    expect(Object.keys(masks)).toEqual(['conv1.weight', 'fc1.weight']);
    expect(masks['conv1.weight'].shape).toEqual([64, 3, 3, 3]);
    expect(masks['fc1.weight'].shape).toEqual([10, 65536]);
    for (const name of ['conv1.weight', 'fc1.weight'])
      expect(Buffer.compare(tensorFromTorch(simpleCnn, [64], name, masks[name].data as Uint8Array), g.result.masks[name])).toBe(0);
    // remove mode: fc1's mask is the smaller network's
    const r = exportInput(convNet3, { method: 'random', mode: 'remove', seed: 5, amounts: { conv3: 0.5, fc1: 0.2 } });
    const rm = decode(buildPytorchExport(r)[EXPORT_FILES.masks]).tensors;
    expect(Object.keys(rm)).toEqual(['fc1.weight']);
    expect(rm['fc1.weight'].shape).toEqual([10, 32 * 16]);
    // nothing random to store: no masks file
    expect(buildPytorchExport(exportInput(convNet3, { method: 'random', mode: 'mask', seed: 5, amounts: { conv1: 0.5, fc1: 0 } }))[EXPORT_FILES.masks]).toBeUndefined();
    expect(buildPytorchExport(exportInput(convNet3, { method: 'l1', mode: 'global', seed: 5, amounts: { conv1: 0.5, fc1: 0.5 } }))[EXPORT_FILES.masks]).toBeUndefined();
  });

  it('says when PyTorch cannot follow: every filter of a layer removed', () => {
    const input = exportInput(convNet3, { method: 'l1', mode: 'remove', seed: 1, amounts: { conv2: 1, fc1: 0 } });
    expect(exportProblem(input)).toMatch(/^conv2: every filter removed/);
    expect(exportProblem(exportInput(convNet3, { method: 'l1', mode: 'mask', seed: 1, amounts: { conv2: 1, fc1: 0 } }))).toBeNull();
    expect(new TextDecoder().decode(buildPytorchExport(input)[EXPORT_FILES.readme])).toContain('Note: conv2: every filter removed');
  });

  it('refuses settings the page refuses', () => {
    expect(() => pruneScript({ ...exportInput(simpleCnn, { method: 'l1', mode: 'mask', seed: 1, amounts: {} }), settings: { method: 'bn', mode: 'mask', seed: 1, amounts: {} } })).toThrow(/BatchNorm/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Fidelity: the exported script, run by PyTorch, against the engine.

const TEST_IMAGES = 500; // 1 image = 0.2 points; the tfjs cpu backend needs ~1 s per 100 SimpleCNN images

const FIDELITY: [string, NetSpec, PruneSettings][] = [
  ['simplecnn mask l1', simpleCnn, { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.5, fc1: 0.3 } }],
  ['simplecnn remove l2', simpleCnn, { method: 'l2', mode: 'remove', seed: 2, amounts: { conv1: 0.25, fc1: 0.5 } }],
  ['simplecnn global random', simpleCnn, { method: 'random', mode: 'global', seed: 3, amounts: { conv1: 0.6, fc1: 0.2 } }],
  ['simplecnn global l1', simpleCnn, { method: 'l1', mode: 'global', seed: 3, amounts: { conv1: 0.7, fc1: 0.9 } }],
  ['simplecnn remove random', simpleCnn, { method: 'random', mode: 'remove', seed: 4, amounts: { conv1: 0.5, fc1: 0.5 } }],
  ['convnet3 mask bn', convNet3, { method: 'bn', mode: 'mask', seed: 5, amounts: { conv1: 0.25, conv2: 0.5, conv3: 0.5, fc1: 0.2 } }],
  ['convnet3 mask l2', convNet3, { method: 'l2', mode: 'mask', seed: 6, amounts: { conv1: 0.5, conv2: 0.3, conv3: 0.6, fc1: 0 } }],
  ['convnet3 mask random', convNet3, { method: 'random', mode: 'mask', seed: 7, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.25, fc1: 0.4 } }],
  ['convnet3 remove l1', convNet3, { method: 'l1', mode: 'remove', seed: 8, amounts: { conv1: 0.5, conv2: 0.25, conv3: 0.75, fc1: 0.4 } }],
  ['convnet3 remove bn', convNet3, { method: 'bn', mode: 'remove', seed: 9, amounts: { conv1: 0.25, conv2: 0.5, conv3: 0.5, fc1: 0.1 } }],
  ['convnet3 remove manual', convNet3, { method: 'manual', mode: 'remove', seed: 10, amounts: { fc1: 0.3 }, manual: { conv1: [0, 3, 15], conv2: [31], conv3: [5, 6, 7, 8] } }],
  ['convnet3 global l1', convNet3, { method: 'l1', mode: 'global', seed: 11, amounts: { conv1: 0.5, fc1: 0.3 } }],
  ['convnet3 global random', convNet3, { method: 'random', mode: 'global', seed: 12, amounts: { conv1: 0.8, fc1: 0.5 } }],
  // Global structured: torch ranks all layers together itself (choose_filters); Taylor: the page's choice (KEPT) applied.
  ['convnet3 mask globalStruct', convNet3, { method: 'globalStruct', mode: 'mask', seed: 13, amounts: { conv1: 0.6, conv2: 0.6, conv3: 0.6, fc1: 0.2 } }],
  ['convnet3 remove globalStruct', convNet3, { method: 'globalStruct', mode: 'remove', seed: 14, amounts: { conv1: 0.3, conv2: 0.3, conv3: 0.3, fc1: 0.3 } }],
  ['simplecnn remove globalStruct', simpleCnn, { method: 'globalStruct', mode: 'remove', seed: 15, amounts: { conv1: 0.95, fc1: 0.1 } }],
  ['convnet3 mask taylor', convNet3, { method: 'taylor', mode: 'mask', seed: 16, amounts: { conv1: 0.5, conv2: 0.25, conv3: 0.75, fc1: 0.3 } }],
  ['convnet3 remove taylor', convNet3, { method: 'taylor', mode: 'remove', seed: 17, amounts: { conv1: 0.5, conv2: 0.25, conv3: 0.75, fc1: 0.3 } }],
];

describe('prune_run.py under PyTorch matches the engine', () => {
  const found = torchOrSkip('the PyTorch fidelity run');
  if (found === null) return;
  type Json = Record<string, unknown> & { kept: Record<string, number[]>; accuracy: number };
  const fx = torchRunFixture(found, 'prune-run-', TEST_IMAGES);
  const { test, stats, enginePredictions } = fx;
  const runExport = (name: string, input: PytorchExportInput, extra: string[] = []) => fx.runExport<Json>(name, input, extra);

  it.each(FIDELITY)('%s: kept, params, nonzero params, MACs exact; accuracy within 0.2 points', (name, spec, settings) => {
    const baseline = randomWeights(spec, 100 + settings.seed);
    const result = prune(spec, baseline, settings, settings.method === 'taylor' ? taylorScoresFor(spec, settings.seed) : undefined);
    if (settings.method === 'globalStruct') expect(result.global!.pruned).toBeGreaterThan(0);
    const predictions = enginePredictions(spec, result.weights);
    let right = 0;
    for (let i = 0; i < test.count; i++) right += predictions[i] === test.labels[i] ? 1 : 0;
    const accuracy = (100 * right) / test.count;

    const { json, predictions: torchPredictions } = runExport(name, { spec, baseline, settings, result, stats });
    let agree = 0;
    for (let i = 0; i < test.count; i++) agree += predictions[i] === torchPredictions[i] ? 1 : 0;
    console.log(
      `${name}: torch ${JSON.stringify({ ...json, kept: Object.fromEntries(Object.entries(json.kept as Record<string, number[]>).map(([k, v]) => [k, v.length])) })}` +
        ` | engine params ${result.costs.params} nonzero ${result.costs.nonzeroParams} macs ${result.costs.macs} nonzero_macs ${result.costs.nonzeroMacs}` +
        ` accuracy ${accuracy.toFixed(2)} | same prediction on ${agree}/${test.count}`,
    );
    expect(json.model).toBe(spec.id);
    expect(json.mode).toBe(settings.mode);
    expect(json.method).toBe(settings.method);
    expect(json.kept).toEqual(result.kept);
    expect(json.params).toBe(result.costs.params);
    expect(json.nonzero_params).toBe(result.costs.nonzeroParams);
    expect(json.macs).toBe(result.costs.macs);
    expect(json.nonzero_macs).toBe(result.costs.nonzeroMacs);
    expect(json.test_images).toBe(test.count);
    expect(Math.abs(json.accuracy - accuracy)).toBeLessThanOrEqual(0.2 + 1e-9);
    expect(agree).toBeGreaterThanOrEqual(test.count - 1);
    if ('torch_differs' in json) expect(json.torch_differs).toEqual({}); // torch's own ranking picked the page's filters
  }, 300_000);

  it('stops with a clear message when a layer lost every filter (no Conv2d with 0 filters in PyTorch)', () => {
    const settings: PruneSettings = { method: 'l1', mode: 'remove', seed: 1, amounts: { conv2: 1, fc1: 0 } };
    const baseline = randomWeights(convNet3, 1);
    expect(() => runExport('empty layer', { spec: convNet3, baseline, settings, result: prune(convNet3, baseline, settings), stats })).toThrow(
      /conv2: every filter removed; PyTorch cannot build a Conv2d with no filters/,
    );
  }, 300_000);

  it('--finetune trains with the recipe and keeps pruned weights pruned', () => {
    const spec = convNet3;
    const settings: PruneSettings = { method: 'l1', mode: 'mask', seed: 1, amounts: { conv1: 0.5, conv2: 0.5, conv3: 0.5, fc1: 0.5 } };
    const baseline = randomWeights(spec, 1);
    const result = prune(spec, baseline, settings);
    fx.withTrainingSubset(256, () => {
      const { json } = runExport('finetune', { spec, baseline, settings, result, stats, finetune: { learningRate: 1e-3 } }, ['--finetune', '1']);
      console.log(`finetune: ${JSON.stringify({ ...json, kept: undefined })}`);
      expect(json.finetune_epochs).toBe(1);
      expect(typeof json.accuracy_before_finetune).toBe('number');
      expect(json.kept).toEqual(result.kept);
      // Masked weights stayed zero; the others moved but (almost surely) none landed on exactly 0.
      expect(json.nonzero_params).toBe(result.costs.nonzeroParams);
      expect(json.params).toBe(result.costs.params);
    });
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------------
// Graph models: ResNet-20's script (module generated from the graph, pruning through the groups).

const RESNET_FIDELITY: [string, PruneSettings][] = [
  ['resnet20 remove l1 (streams and inner)', { method: 'l1', mode: 'remove', seed: 1, amounts: { stream2: 0.5, stream3: 0.25, 'inner1.2': 0.25, 'inner3.1': 0.5, fc: 0.3 } }],
  ['resnet20 remove bn', { method: 'bn', mode: 'remove', seed: 2, amounts: { stream1: 0.25, 'inner2.2': 0.5, 'inner2.3': 0.75, fc: 0.1 } }],
  ['resnet20 remove random', { method: 'random', mode: 'remove', seed: 3, amounts: { stream1: 0.5, 'inner3.3': 0.5, fc: 0.2 } }],
  ['resnet20 mask l2', { method: 'l2', mode: 'mask', seed: 4, amounts: { stream3: 0.5, 'inner1.1': 0.5, fc: 0.2 } }],
  ['resnet20 mask manual', { method: 'manual', mode: 'mask', seed: 5, amounts: {}, manual: { stream2: [0, 5, 31], 'inner1.3': [2] } }],
  ['resnet20 global l1', { method: 'l1', mode: 'global', seed: 6, amounts: { stream1: 0.5, fc: 0.4 } }],
];
const RESNET_TEST_IMAGES = 100; // the tfjs cpu backend runs ResNet-20 at a few images per second

describe('prune_run.py for ResNet-20 (a graph model)', () => {
  const input = (s: PruneSettings, seed = 1): PytorchExportInput => {
    const baseline = randomWeights(resnet20, seed);
    const scores = s.method === 'taylor' ? taylorScoresFor(resnet20, seed) : undefined;
    return { spec: resnet20, baseline, settings: s, result: prune(resnet20, baseline, s, scores), stats: STATS, date: new Date('2026-01-01T00:00:00Z') };
  };

  it('writes the module from the graph (PyTorch names, stride-2 and 1×1 shortcuts) and the page’s choice per group', () => {
    const i = input(RESNET_FIDELITY[0][1]);
    const py = pruneScript(i);
    expect(py).toContain('class ResNet20(nn.Module):');
    expect(py).toContain('self._add("layers.3.conv1", nn.Conv2d(c["stream1"], c["inner2.1"], 3, stride=2, padding=1, bias=False))');
    expect(py).toContain('self._add("layers.3.shortcut.0", nn.Conv2d(c["stream1"], c["stream2"], 1, stride=2, padding=0, bias=False))');
    expect(py).toContain('self._add("fc", nn.Linear(c["stream3"], 10))');
    expect(py).toContain('layers_3_add = layers_3_bn2 + layers_3_shortcut_1');
    expect(py).toContain('return m("fc")(flatten)');
    expect(keptLiteral(py)).toEqual(i.result.kept);
    expect(py).not.toMatch(/[^\t\n\r\x20-\x7e]/);
    const readme = exportReadmeOf(i);
    expect(readme).toContain('Kept:     stream1 16/16, stream2 16/32, stream3 48/64, inner1.1 16/16');
  });

  it('every mode × method gives valid Python (py_compile)', () => {
    const py = findPython();
    if (!py.any) {
      console.log('skipping py_compile: no python3 found');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'prune-run-resnet-'));
    try {
      const paths: string[] = [];
      for (const mode of MODES)
        for (const method of METHODS) {
          if (unsupported(method, mode, true)) continue;
          const p = join(dir, `${mode}_${method}.py`);
          writeFileSync(p, pruneScript(input({ method, mode, seed: 1, amounts: { stream1: 0.5, 'inner2.1': 0.25, fc: 0.2 }, manual: { stream3: [1, 2] } })));
          paths.push(p);
        }
      expect(paths.length).toBe(17); // 13 before Taylor and global structured (mask, remove)
      runPython(py.any, ['-m', 'py_compile', ...paths]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const found = torchOrSkip('the ResNet-20 PyTorch fidelity run');
  if (found === null) return;
  const fx = torchRunFixture(found, 'prune-run-resnet-', RESNET_TEST_IMAGES);

  it.each(RESNET_FIDELITY)('%s: kept, params, nonzero params, MACs exact; same predictions', (name, settings) => {
    const baseline = randomWeights(resnet20, 100 + settings.seed);
    const result = prune(resnet20, baseline, settings);
    const predictions = fx.enginePredictions(resnet20, result.weights);
    const { json, predictions: torchPredictions } = fx.runExport<Record<string, unknown>>(name, { spec: resnet20, baseline, settings, result, stats: fx.stats });
    const agree = fx.agreement(predictions, torchPredictions);
    console.log(
      `${name}: torch params ${json.params} nonzero ${json.nonzero_params} macs ${json.macs} nonzero_macs ${json.nonzero_macs} | engine params ${result.costs.params} nonzero ${result.costs.nonzeroParams} macs ${result.costs.macs} nonzero_macs ${result.costs.nonzeroMacs} | same prediction on ${agree}/${fx.test.count}`,
    );
    expect(json.kept).toEqual(result.kept);
    expect([json.params, json.nonzero_params, json.macs, json.nonzero_macs]).toEqual([result.costs.params, result.costs.nonzeroParams, result.costs.macs, result.costs.nonzeroMacs]);
    expect(agree).toBeGreaterThanOrEqual(fx.test.count - 1);
    if ('torch_differs' in json) expect(json.torch_differs).toEqual({});
  }, 300_000);
});
