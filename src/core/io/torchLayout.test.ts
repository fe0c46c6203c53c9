import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../model/net';
import { BN_EPS, type Channels, type NetSpec, type NetWeights, geometry } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { randomWeights, weightDiff } from '../pruning/testUtil';
import { runPython, torchOrSkip } from './pythonForTests';
import { type SafeTensor, SafetensorsError, decode, encode } from './safetensors';
import {
  NUM_BATCHES_TRACKED, WeightsFileError, fromTorchStateDict, linearTfToTorch, linearTorchToTf, loadWeightsFile, saveWeightsFile,
  tensorFromTorch, tensorToTorch, toTorchStateDict,
} from './torchLayout';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** [model id, channels, spec]: the first two name the test. */
const cases = (...c: [NetSpec, Channels][]): [string, Channels, NetSpec][] => c.map(([s, ch]) => [s.id, ch, s]);
const CASES = cases([simpleCnn, [64]], [simpleCnn, [5]], [simpleCnn, [0]], [convNet3, [16, 32, 64]], [convNet3, [3, 20, 7]], [convNet3, [1, 0, 2]]);

function images(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n, 32, 32, 3], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

function netLogits(spec: NetSpec, w: NetWeights, x: Float32Array, n: number): Float32Array {
  const net = new Net(spec, w);
  const xt = tf.tensor4d(x, [n, 32, 32, 3]);
  const y = net.predict(xt);
  const out = y.dataSync() as Float32Array;
  tf.dispose([xt, y]);
  net.dispose();
  return out;
}

/**
 * An independent forward pass written the PyTorch way, on the state_dict: NCHW activations, conv
 * weight [out, in, kh, kw], BatchNorm with running statistics, max-pool 2×2, NCHW flatten, linear [out, in].
 */
function torchStyleLogits(spec: NetSpec, sd: Record<string, SafeTensor>, nhwc: Float32Array, n: number): Float64Array {
  const g = geometry(spec, spec.layers.filter((l) => l.kind === 'conv').map((l) => sd[`${l.name}.weight`].shape[0]));
  const logits = new Float64Array(n * g.linear.outFeatures);
  for (let img = 0; img < n; img++) {
    let s = spec.input.size;
    let c = spec.input.channels;
    let act = new Float64Array(c * s * s); // NCHW
    for (let h = 0; h < s; h++) for (let w = 0; w < s; w++) for (let ch = 0; ch < c; ch++) act[ch * s * s + h * s + w] = nhwc[((img * s + h) * s + w) * c + ch];
    for (const conv of g.convs) {
      const W = sd[`${conv.name}.weight`].data as Float32Array;
      const b = conv.bias ? (sd[`${conv.name}.bias`].data as Float32Array) : null;
      const k = conv.kernel;
      const pad = (k - 1) / 2;
      const o = conv.outChannels;
      let y = new Float64Array(o * s * s);
      for (let oc = 0; oc < o; oc++)
        for (let h = 0; h < s; h++)
          for (let w = 0; w < s; w++) {
            let acc = b ? b[oc] : 0;
            for (let ic = 0; ic < c; ic++)
              for (let dy = 0; dy < k; dy++)
                for (let dx = 0; dx < k; dx++) {
                  const yy = h + dy - pad, xx = w + dx - pad;
                  if (yy >= 0 && yy < s && xx >= 0 && xx < s) acc += W[((oc * c + ic) * k + dy) * k + dx] * act[ic * s * s + yy * s + xx];
                }
            y[oc * s * s + h * s + w] = acc;
          }
      if (conv.batchNorm) {
        const get = (k2: string) => sd[`${conv.batchNorm}.${k2}`].data as Float32Array;
        const [gm, bt, mu, v] = [get('weight'), get('bias'), get('running_mean'), get('running_var')];
        for (let oc = 0; oc < o; oc++) for (let i = 0; i < s * s; i++) y[oc * s * s + i] = ((y[oc * s * s + i] - mu[oc]) / Math.sqrt(v[oc] + BN_EPS)) * gm[oc] + bt[oc];
      }
      for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i]);
      if (conv.pool) {
        const t = s >> 1;
        const p = new Float64Array(o * t * t);
        for (let oc = 0; oc < o; oc++)
          for (let h = 0; h < t; h++)
            for (let w = 0; w < t; w++) {
              const at = (yy: number, xx: number) => y[oc * s * s + yy * s + xx];
              p[oc * t * t + h * t + w] = Math.max(at(2 * h, 2 * w), at(2 * h, 2 * w + 1), at(2 * h + 1, 2 * w), at(2 * h + 1, 2 * w + 1));
            }
        y = p;
        s = t;
      }
      act = y;
      c = o;
    }
    const W = sd[`${g.linear.name}.weight`].data as Float32Array;
    const b = sd[`${g.linear.name}.bias`].data as Float32Array;
    const inF = act.length;
    for (let o = 0; o < g.linear.outFeatures; o++) {
      let acc = b[o];
      for (let i = 0; i < inF; i++) acc += W[o * inF + i] * act[i];
      logits[img * g.linear.outFeatures + o] = acc;
    }
  }
  return logits;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('toTorchStateDict / fromTorchStateDict', () => {
  it.each(CASES)('%s with channels %j: PyTorch names, order and shapes; round trip is bit-exact', (_id, ch, spec) => {
    const w = randomWeights(spec, 11, ch);
    const sd = toTorchStateDict(spec, w);
    if (spec.id === 'simplecnn') {
      expect(Object.keys(sd)).toEqual(['conv1.weight', 'conv1.bias', 'fc1.weight', 'fc1.bias']);
      expect(sd['conv1.weight'].shape).toEqual([ch[0], 3, 3, 3]);
      expect(sd['fc1.weight'].shape).toEqual([10, ch[0] * 1024]);
    } else {
      expect(Object.keys(sd).slice(0, 8)).toEqual([
        'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'conv2.weight', 'bn2.weight',
      ]);
      expect(sd['conv2.weight'].shape).toEqual([ch[1], ch[0], 3, 3]);
      expect(sd['fc1.weight'].shape).toEqual([10, ch[2] * 16]);
      expect(sd['bn3.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(NUM_BATCHES_TRACKED) });
    }
    const back = fromTorchStateDict(spec, sd);
    expect(back.channels).toEqual(ch);
    expect(weightDiff(back, w)).toEqual([]);
    // Through the file format as well.
    const loaded = loadWeightsFile(saveWeightsFile(spec, w, { epochs: '3' }), spec.id);
    expect(loaded.spec).toBe(spec);
    expect(weightDiff(loaded.weights, w)).toEqual([]);
    expect(loaded.metadata).toEqual({ epochs: '3', format: 'pt', model: spec.id, channels: JSON.stringify(ch) });
  });

  it.each(cases([simpleCnn, [64]], [simpleCnn, [3]], [convNet3, [16, 32, 64]], [convNet3, [5, 9, 4]]))('%s %j: a PyTorch-style NCHW forward pass on the state_dict gives the engine’s logits', (_id, ch, spec) => {
    const w = randomWeights(spec, 5, ch);
    const x = images(2, 9);
    const engine = netLogits(spec, w, x, 2);
    const sd = toTorchStateDict(spec, w);
    expect(maxAbsDiff(torchStyleLogits(spec, sd, x, 2), engine)).toBeLessThan(1e-4);
    // converted → back: the engine's logits are identical, bit for bit
    expect([...netLogits(spec, fromTorchStateDict(spec, sd), x, 2)]).toEqual([...engine]);
  });

  it('reorders fc1 from the NHWC flatten (h·S + w)·C + c to the NCHW flatten c·S·S + h·S + w', () => {
    // S = 4, C = 2, O = 3: value = tfjs flat index, so each torch entry names where it came from.
    const tfKernel = Float32Array.from({ length: 16 * 2 * 3 }, (_, i) => i);
    const torchKernel = linearTfToTorch(tfKernel, 16, 2, 3);
    // torch [o=1][c=1, h=2, w=3] = column 1·16 + 2·4 + 3 = 27 → flat 1·32 + 27 = 59;
    // tfjs row (2·4 + 3)·2 + 1 = 23, column o = 1 → flat 23·3 + 1 = 70.
    expect(torchKernel[59]).toBe(70);
    expect(torchKernel[0]).toBe(0); // o=0, c=0, pixel 0
    expect(torchKernel[1]).toBe(6); // o=0, c=0, pixel 1 → tfjs row 1·2 + 0 = 2 → 6
    expect(torchKernel[16]).toBe(3); // o=0, c=1, pixel 0 → tfjs row 1 → 3
    expect(torchKernel[2 * 32 + 31]).toBe((15 * 2 + 1) * 3 + 2); // last entry ↔ last entry
    for (let o = 0; o < 3; o++)
      for (let c = 0; c < 2; c++)
        for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) expect(torchKernel[o * 32 + c * 16 + h * 4 + w]).toBe(((h * 4 + w) * 2 + c) * 3 + o);
    expect([...linearTorchToTf(torchKernel, 16, 2, 3)]).toEqual([...tfKernel]);
    // The same through the spec: SimpleCNN with 2 filters, S = 32.
    const big = Float32Array.from({ length: 2048 * 10 }, (_, i) => i);
    const t = tensorToTorch(simpleCnn, [2], 'fc1.weight', big);
    expect(t.shape).toEqual([10, 2048]);
    expect(t.data[7 * 2048 + 1 * 1024 + 5 * 32 + 9]).toBe(((5 * 32 + 9) * 2 + 1) * 10 + 7);
    // Masks convert the same way (Uint8Array in, Uint8Array out).
    const mask = Uint8Array.from({ length: 2048 * 10 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const tm = tensorToTorch(simpleCnn, [2], 'fc1.weight', mask).data;
    expect(tm).toBeInstanceOf(Uint8Array);
    expect([...tensorFromTorch(simpleCnn, [2], 'fc1.weight', tm)]).toEqual([...mask]);
  });

  it('explains a missing tensor, a wrong shape or dtype, an unexpected tensor and another model', () => {
    const sd = () => toTorchStateDict(convNet3, randomWeights(convNet3, 1, [4, 6, 8]));
    const err = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(WeightsFileError);
      expect(f).toThrow(re);
    };
    const noBn = sd();
    delete noBn['bn2.running_var'];
    err(() => fromTorchStateDict(convNet3, noBn), /missing tensor bn2\.running_var \(expected shape \[6\]\)/);
    const noConv = sd();
    delete noConv['conv3.weight'];
    err(() => fromTorchStateDict(convNet3, noConv), /missing tensor conv3\.weight/);
    const badIn = sd();
    badIn['conv2.weight'] = { dtype: 'F32', shape: [6, 5, 3, 3], data: new Float32Array(270) };
    err(() => fromTorchStateDict(convNet3, badIn), /conv2\.weight has shape \[6, 5, 3, 3\], expected \[6, 4, 3, 3\] \(conv2 takes conv1's 4 filters/);
    const badFc = sd();
    badFc['fc1.weight'] = { dtype: 'F32', shape: [10, 100], data: new Float32Array(1000) };
    err(() => fromTorchStateDict(convNet3, badFc), /fc1\.weight has shape \[10, 100\], expected \[10, 128\] \(8 channels × 4 × 4 inputs/);
    const tooMany = sd();
    tooMany['conv1.weight'] = { dtype: 'F32', shape: [17, 3, 3, 3], data: new Float32Array(17 * 27) };
    err(() => fromTorchStateDict(convNet3, tooMany), /17 filters; ConvNet-3's conv1 has at most 16/);
    const wrongType = sd();
    wrongType['bn1.weight'] = { dtype: 'I64', shape: [4], data: new BigInt64Array(4) };
    err(() => fromTorchStateDict(convNet3, wrongType), /bn1\.weight is I64; expected float32/);
    const extra = sd();
    extra['conv4.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    err(() => fromTorchStateDict(convNet3, extra), /unexpected tensor conv4\.weight/);
    err(() => fromTorchStateDict(simpleCnn, sd()), /holds a ConvNet-3 \(convnet3\) state_dict, not a SimpleCNN/);
    err(() => fromTorchStateDict(convNet3, toTorchStateDict(simpleCnn, randomWeights(simpleCnn, 1, [2]))), /holds a SimpleCNN \(simplecnn\) state_dict, not a ConvNet-3/);
    // num_batches_tracked is optional (PyTorch-saved files have it; hand-made ones may not)
    const noCounter = sd();
    delete noCounter['bn1.num_batches_tracked'];
    expect(fromTorchStateDict(convNet3, noCounter).channels).toEqual([4, 6, 8]);
  });

  it('loadWeightsFile: recognises the model without metadata, refuses the wrong one, reports broken files', () => {
    const w = randomWeights(convNet3, 2, [2, 3, 4]);
    const bare = encode(toTorchStateDict(convNet3, w)); // as safetensors.torch.save_file(model.state_dict()) would write
    expect(loadWeightsFile(bare).spec).toBe(convNet3);
    expect(weightDiff(loadWeightsFile(bare, 'convnet3').weights, w)).toEqual([]);
    expect(() => loadWeightsFile(bare, 'simplecnn')).toThrow(/holds a ConvNet-3 \(convnet3\), not a SimpleCNN \(simplecnn\)/);
    const tagged = saveWeightsFile(convNet3, w);
    expect(() => loadWeightsFile(tagged, 'simplecnn')).toThrow(/holds a ConvNet-3/);
    expect(() => loadWeightsFile(encode({ x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }))).toThrow(/match none of the playground's models/);
    expect(() => loadWeightsFile(encode({}, { model: 'resnet50' }))).toThrow(/"resnet50" that the playground does not have/);
    expect(() => loadWeightsFile(tagged.subarray(0, 100))).toThrow(SafetensorsError);
    expect(decode(tagged).metadata.model).toBe('convnet3');
  });
});

describe('state_dict against PyTorch', () => {
  const found = torchOrSkip('the PyTorch load_state_dict check');
  const dir = mkdtempSync(join(tmpdir(), 'torchlayout-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (found === null) return;
  const torch: string = found; // narrowed for the closures below
  // Hand-written nn.Modules, as a PyTorch user would write them; strict loading checks names and shapes.
  const script = `
import json, sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
path, model_id, channels, images, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
class SimpleCNN(nn.Module):
    def __init__(self, c):
        super().__init__(); self.conv1 = nn.Conv2d(3, c[0], 3, padding=1); self.fc1 = nn.Linear(c[0] * 32 * 32, 10)
    def forward(self, x): return self.fc1(torch.flatten(F.relu(self.conv1(x)), 1))
class ConvNet3(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, c[0], 3, padding=1, bias=False), nn.BatchNorm2d(c[0])
        self.conv2, self.bn2 = nn.Conv2d(c[0], c[1], 3, padding=1, bias=False), nn.BatchNorm2d(c[1])
        self.conv3, self.bn3 = nn.Conv2d(c[1], c[2], 3, padding=1, bias=False), nn.BatchNorm2d(c[2])
        self.fc1 = nn.Linear(c[2] * 4 * 4, 10)
    def forward(self, x):
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)): x = F.max_pool2d(F.relu(bn(conv(x))), 2)
        return self.fc1(torch.flatten(x, 1))
data = open(path, "rb").read(); h = int.from_bytes(data[:8], "little"); header = json.loads(data[8:8 + h]); header.pop("__metadata__", None)
sd = {k: torch.from_numpy(np.frombuffer(data[8 + h + t["data_offsets"][0]:8 + h + t["data_offsets"][1]], dtype={"F32": np.float32, "I64": np.int64}[t["dtype"]]).reshape(t["shape"]).copy()) for k, t in header.items()}
model = {"simplecnn": SimpleCNN, "convnet3": ConvNet3}[model_id](channels)
model.load_state_dict(sd, strict=True)
model.eval()
x = torch.from_numpy(np.fromfile(images, dtype=np.float32).reshape(n, 32, 32, 3)).permute(0, 3, 1, 2)
with torch.no_grad(): print(json.dumps(model(x).flatten().tolist()))
`;
  it.each(cases([simpleCnn, [64]], [simpleCnn, [7]], [convNet3, [16, 32, 64]], [convNet3, [4, 9, 3]]))('%s %j loads with strict=True and gives the engine’s logits', (_id, ch, spec) => {
    const w = randomWeights(spec, 3, ch);
    const x = images(3, 4);
    const file = join(dir, `${spec.id}-${ch.join('-')}.safetensors`);
    const xs = join(dir, 'x.bin');
    writeFileSync(file, saveWeightsFile(spec, w));
    writeFileSync(xs, new Uint8Array(x.buffer));
    const torchLogits = JSON.parse(runPython(torch, ['-c', script, file, spec.id, JSON.stringify(ch), xs, '3'])) as number[];
    expect(maxAbsDiff(torchLogits, netLogits(spec, w, x, 3))).toBeLessThan(1e-4);
  });
});
