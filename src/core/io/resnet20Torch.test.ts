/**
 * ResNet-20 side by side with PyTorch: the same weights give the same logits (layout, stride-2 padding,
 * 1×1 shortcuts, BatchNorm before the add, global pooling), and pruned settings give the parameter and
 * MAC counts PyTorch counts on a model it slices itself from the full state_dict through the groups.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import type { NetWeights } from '../model/spec';
import { resnet20 } from '../model/zoo';
import { prune, type PruneSettings } from '../pruning/pruner';
import { randomWeights } from '../pruning/testUtil';
import { runPython, torchOrSkip } from './pythonForTests';
import { decode } from './safetensors';
import { fromTorchStateDict, saveWeightsFile, toTorchStateDict } from './torchLayout';
import { weightDiff } from '../pruning/testUtil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 3;

function images(seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([N, 32, 32, 3], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

function engineLogits(w: NetWeights, x: Float32Array): Float32Array {
  const net = new Net(resnet20, w);
  const xt = tf.tensor4d(x, [N, 32, 32, 3]);
  const y = net.predict(xt);
  const out = y.dataSync() as Float32Array;
  tf.dispose([xt, y]);
  net.dispose();
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** The settings whose counts the report lists (remove mode, L1). */
const RESNET_SETTINGS: Record<string, Record<string, number>> = {
  full: {},
  'all inner 50 %': Object.fromEntries([1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => [`inner${s}.${b}`, 0.5]))),
  'stream 2 at 50 %': { stream2: 0.5 },
  'all streams 50 %': { stream1: 0.5, stream2: 0.5, stream3: 0.5 },
  'everything 30 %': Object.fromEntries(['stream1', 'stream2', 'stream3', ...[1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => `inner${s}.${b}`))].map((k) => [k, 0.3])),
  'stream 3 at 90 %, inner 3.x at 75 %': { stream3: 0.9, 'inner3.1': 0.75, 'inner3.2': 0.75, 'inner3.3': 0.75 },
};

describe('ResNet-20 state_dict', () => {
  it('PyTorch names and shapes; a pruned network round-trips, its group sizes read from the shapes', () => {
    const w = prune(resnet20, randomWeights(resnet20, 1), { method: 'l1', mode: 'remove', amounts: { stream2: 0.5, 'inner3.1': 0.25 }, seed: 1 }).weights;
    const sd = toTorchStateDict(resnet20, w);
    expect(sd['layers.3.shortcut.0.weight'].shape).toEqual([16, 16, 1, 1]);
    expect(sd['layers.6.conv1.weight'].shape).toEqual([48, 16, 3, 3]);
    expect(sd['layers.6.shortcut.1.num_batches_tracked'].dtype).toBe('I64');
    expect(sd['fc.weight'].shape).toEqual([10, 64]);
    const back = fromTorchStateDict(resnet20, decode(saveWeightsFile(resnet20, w)).tensors);
    expect(weightDiff(back, w)).toEqual([]);
    const bad: typeof sd = { ...sd, 'layers.4.conv1.weight': { dtype: 'F32', shape: [32, 17, 3, 3], data: new Float32Array(32 * 17 * 9) } };
    expect(() => fromTorchStateDict(resnet20, bad)).toThrow("layers.4.conv1.weight has shape [32, 17, 3, 3], expected [32, 16, 3, 3] (layers.4.conv1 takes stage 2's 16 stream channels as input)");
  });
});

describe('ResNet-20 beside PyTorch', () => {
  const found = torchOrSkip('the ResNet-20 PyTorch check');
  const dir = mkdtempSync(join(tmpdir(), 'resnet20-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (found === null) return;
  const torch: string = found;
  // ResNet-20 as a PyTorch user writes it (option-B shortcuts), with widths as arguments so a pruned
  // model can be built; PyTorch slices the FULL state_dict itself from the kept indices of each group.
  const script = `
import json, sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
path, kept_json, images, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
class Block(nn.Module):
    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = nn.Conv2d(mid, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 else nn.Sequential()
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))
class ResNet20(nn.Module):
    def __init__(self, streams=(16, 32, 64), inner=(16,) * 3 + (32,) * 3 + (64,) * 3):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, streams[0], 3, 1, 1, bias=False), nn.BatchNorm2d(streams[0])
        blocks, cin = [], streams[0]
        for i in range(9):
            blocks.append(Block(cin, inner[i], streams[i // 3], 2 if i in (3, 6) else 1)); cin = streams[i // 3]
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(streams[2], 10)
    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
data = open(path, "rb").read(); h = int.from_bytes(data[:8], "little"); header = json.loads(data[8:8 + h]); header.pop("__metadata__", None)
sd = {k: torch.from_numpy(np.frombuffer(data[8 + h + t["data_offsets"][0]:8 + h + t["data_offsets"][1]], dtype={"F32": np.float32, "I64": np.int64}[t["dtype"]]).reshape(t["shape"]).copy()) for k, t in header.items()}
kept = json.loads(kept_json)
S = lambda s: kept["stream%d" % (s + 1)]
I = lambda i: kept["inner%d.%d" % (i // 3 + 1, i % 3 + 1)]
def groups_of(name):
    """(group of dim 0, group of dim 1) of a tensor, from ResNet-20's structure."""
    p = name.split(".")
    if p[0] in ("conv1", "bn1"): return S(0), None
    if p[0] == "fc": return None, (S(2) if p[1] == "weight" else None)
    i = int(p[1]); stream, instream = S(i // 3), S(max(i - 1, 0) // 3)
    m = ".".join(p[2:4]) if p[2] == "shortcut" else p[2]
    return {"conv1": (I(i), instream), "bn1": (I(i), None), "conv2": (stream, I(i)), "bn2": (stream, None),
            "shortcut.0": (stream, instream), "shortcut.1": (stream, None)}[m]
sliced = {}
for k, v in sd.items():
    if k.endswith("num_batches_tracked"): sliced[k] = v; continue
    d0, d1 = groups_of(k)
    if d0 is not None: v = v.index_select(0, torch.tensor(d0, dtype=torch.long))
    if d1 is not None and v.dim() > 1: v = v.index_select(1, torch.tensor(d1, dtype=torch.long))
    sliced[k] = v
model = ResNet20(tuple(len(S(s)) for s in range(3)), tuple(len(I(i)) for i in range(9)))
model.load_state_dict(sliced, strict=True)
model.eval()
macs = [0]
def count(m, inp, out):
    if isinstance(m, nn.Conv2d): macs[0] += out[0].numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.Linear): macs[0] += m.in_features * m.out_features
for m in model.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)): m.register_forward_hook(count)
x = torch.from_numpy(np.fromfile(images, dtype=np.float32).reshape(n, 32, 32, 3)).permute(0, 3, 1, 2)
with torch.no_grad(): y = model(x)
print(json.dumps({"logits": y.flatten().tolist(), "params": sum(p.numel() for p in model.parameters()), "macs": macs[0]}))  # per image: out[0] is one image's output
`;
  const w = randomWeights(resnet20, 4);
  const file = join(dir, 'resnet20.safetensors');
  const xs = join(dir, 'x.bin');
  const x = images(5);
  writeFileSync(file, saveWeightsFile(resnet20, w));
  writeFileSync(xs, new Uint8Array(x.buffer));

  it.each(Object.entries(RESNET_SETTINGS))('%s: PyTorch slices the same network — same logits (1e-4), parameters and MACs', (label, amounts) => {
    const s: PruneSettings = { method: 'l1', mode: 'remove', amounts, seed: 1 };
    const r = prune(resnet20, w, s);
    const out = JSON.parse(runPython(torch, ['-c', script, file, JSON.stringify(r.kept), xs, String(N)])) as { logits: number[]; params: number; macs: number };
    console.log(`ResNet-20 ${label}: engine ${r.costs.params} params, ${r.costs.macs} MACs | PyTorch ${out.params} params, ${out.macs} MACs`);
    expect([r.costs.params, r.costs.macs]).toEqual([out.params, out.macs]);
    expect(maxAbsDiff(out.logits, engineLogits(r.weights, x))).toBeLessThan(1e-4);
  }, 120_000);
});
