/**
 * The baselines pretrained on the full CIFAR-10 (public/models/manifest.json entries with dataset
 * cifar10-full, made by scripts/pretrain_full.py in PyTorch): the page's engine, given the shipped
 * weights, gets the accuracy the manifest states (PyTorch's) to 0.1 point, on the 10,000 test images
 * and on the shipped 1,000; and the page's normalisation of the full training set is the manifest's.
 * Entries for a model the page's zoo does not have (yet) are listed and left out.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path, { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKernels } from '../backend/kernels';
import { runPython, torchOrSkip } from '../io/pythonForTests';
import { DEFAULT_CACHE_DIR, ensureFullCifar10 } from '../../../scripts/cifar10Full.mjs';
import { loadWeightsFile } from '../io/torchLayout';
import { Net } from '../model/net';
import { MODELS } from '../model/zoo';
import { evaluate, toDevice, disposeDeviceSet } from '../train/trainer';
import { type ChannelStats, type Cifar10Set, channelStats, concatSets, parseCifar10 } from './cifar10';

const MODELS_DIR = new URL('../../../public/models/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', MODELS_DIR), 'utf8')) as {
  models: Record<string, { model: string; dataset?: string; file: string; testAccuracy: number; testImages: number; testAccuracy1000: number; normalization: ChannelStats }>;
};
const full = Object.entries(manifest.models).filter(([, e]) => e.dataset === 'cifar10-full');
const inZoo = full.filter(([, e]) => e.model in MODELS);
/** The page's accuracy on the 10,000 test images per manifest key, as measured below (the torch check compares with it). */
const pageAccuracy = new Map<string, number>();

/**
 * PyTorch, run now on the shipped safetensors (not the figure the manifest recorded): each model as
 * scripts/pretrain_full.py builds it, the page's tensor names mapped back to its modules, evaluated on the
 * 10,000 test images with the manifest's normalisation. argv: root, data folder, models folder, keys.
 */
const TORCH_EVAL = `
import json, os, sys
import numpy as np, torch
sys.path.insert(0, os.path.join(sys.argv[1], 'scripts'))
import pretrain_full as pf
torch.set_num_threads(1)
data_dir, models_dir = sys.argv[2], sys.argv[3]
manifest = json.load(open(os.path.join(models_dir, 'manifest.json')))
x, y = pf.read_batches(data_dir, ['test_batch.bin'])
out = {}
for key in sys.argv[4:]:
    e = manifest['models'][key]
    raw = open(os.path.join(models_dir, e['file']), 'rb').read()
    n = int.from_bytes(raw[:8], 'little')
    header, body = json.loads(raw[8:8 + n]), raw[8 + n:]
    inverse = {v: k for k, v in pf.MODELS[e['model']][1].items()}
    state = {}
    for name, h in header.items():
        if name == '__metadata__': continue
        a, b = h['data_offsets']
        prefix, _, rest = name.rpartition('.')
        state[f'{inverse.get(prefix, prefix)}.{rest}'] = torch.from_numpy(np.frombuffer(body[a:b], dtype={'F32': np.float32, 'I64': np.int64}[h['dtype']]).reshape(h['shape']).copy())
    model = pf.build_model(e['model'])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith('num_batches_tracked') for k in missing), (missing, unexpected)
    acc, _ = pf.evaluate(model, x, y, pf.normaliser(e['normalization']['mean'], e['normalization']['std']))
    out[key] = {'accuracy': acc, 'images': len(x)}
print(json.dumps(out))
`;

describe('baselines pretrained on the full CIFAR-10', () => {
  let train: Cifar10Set;
  let test: Cifar10Set;
  let test1000: Cifar10Set;

  beforeAll(async () => {
    // wasm, as the page runs here (the cpu backend needs minutes for 11,000 images).
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await installKernels({ kernels: process.env.PLAYGROUND_KERNELS === 'stock' ? 'stock' : 'custom', selfCheck: false });
    expect(await tf.setBackend('wasm')).toBe(true);
    const m = ensureFullCifar10();
    const read = (name: string) => parseCifar10(new Uint8Array(readFileSync(join(DEFAULT_CACHE_DIR, name))), name);
    train = concatSets(m.files.filter((f) => f.split === 'train').map((f) => read(f.name)));
    test = read('test_batch.bin');
    test1000 = parseCifar10(new Uint8Array(readFileSync(new URL('../../../public/data/cifar10/test_1000.bin', import.meta.url))), 'test_1000.bin');
    const skipped = full.filter(([, e]) => !(e.model in MODELS)).map(([k]) => k);
    if (skipped.length) console.log(`full-data baselines for models the page lacks, not checked: ${skipped.join(', ')}`);
  }, 300_000); // reading and parsing 184 MB of batches takes more than the default 10 s on a loaded machine

  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('ships at least the ConvNet-3 and the SimpleCNN', () => {
    expect(inZoo.map(([k]) => k)).toContain('convnet3-full');
    expect(inZoo.map(([k]) => k)).toContain('simplecnn-full');
  });

  it.each(inZoo)('%s: the page normalises the full training set as the manifest says', (_, entry) => {
    const stats = channelStats(train);
    for (let c = 0; c < 3; c++) {
      expect(stats.mean[c]).toBeCloseTo(entry.normalization.mean[c], 9);
      expect(stats.std[c]).toBeCloseTo(entry.normalization.std[c], 9);
    }
  });

  it.each(inZoo)("%s: the page's accuracy equals PyTorch's (the manifest's) to 0.1 point", async (key, entry) => {
    const { spec, weights } = loadWeightsFile(new Uint8Array(readFileSync(new URL(entry.file, MODELS_DIR))), entry.model as keyof typeof MODELS);
    const net = new Net(spec, weights);
    const stats = channelStats(train);
    for (const [set, expected] of [
      [test, entry.testAccuracy],
      [test1000, entry.testAccuracy1000],
    ] as const) {
      const device = toDevice(set, stats);
      try {
        const { accuracy } = await evaluate(net, device);
        if (set === test) pageAccuracy.set(key, accuracy);
        expect(Math.abs(accuracy - expected), `${set.source}: page ${accuracy}, PyTorch ${expected}`).toBeLessThanOrEqual(0.001);
      } finally {
        disposeDeviceSet(device);
      }
    }
    expect(entry.testImages).toBe(10000);
    net.dispose();
  }, 600_000); // 11,000 images through ResNet-20 (0.45 TMAC) on a shared CPU may take minutes
});

describe('the shipped full-data baselines: the page = PyTorch run now on the same safetensors (10,000 test images)', () => {
  const py = torchOrSkip('PyTorch on the shipped full-data baselines');
  if (!py) return;
  let torchAccuracy: Record<string, { accuracy: number; images: number }>;

  beforeAll(() => {
    ensureFullCifar10();
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    torchAccuracy = JSON.parse(runPython(py, ['-c', TORCH_EVAL, root, DEFAULT_CACHE_DIR, fileURLToPath(MODELS_DIR), ...inZoo.map(([k]) => k)], { timeoutMs: 900_000 }));
  }, 900_000);

  it.each(inZoo)('%s: within 0.1 point', (key) => {
    const page = pageAccuracy.get(key);
    expect(page, 'the page measured it above (run the whole file)').toBeDefined();
    expect(torchAccuracy[key].images).toBe(10000);
    expect(Math.abs(page! - torchAccuracy[key].accuracy), `page ${page}, PyTorch ${torchAccuracy[key].accuracy}`).toBeLessThanOrEqual(0.001);
  });
});
