/**
 * Net.predict of ResNet-20 — every BatchNorm folded into its conv (a ReLU after it into the same
 * kernel, strided convs at their stride), or fused with the add and the ReLU after it (SIMD on wasm)
 * — against a stock-op evaluation pass with nothing folded (graphReference.testUtil.ts), to 1e-5 of
 * the logits, on cpu and wasm: full width, filters removed (a whole group too), filters masked
 * (weights zeroed as by torch.nn.utils.prune), and with the fusion switched off.
 * Without the fix's fusion, the same logits (the test pins the folding); with a broken SIMD add it fails.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { simdKernelStats } from '../backend/wasmSimd';
import { randomWeights } from '../pruning/testUtil';
import { maxRelDiff, referenceEval } from './graphReference.testUtil';
import { Net, setGraphFusion } from './net';
import { tensors } from './spec';
import { resnet20 } from './zoo';

/** Also run with the custom kernels off (vite.config.ts project 'stock-kernels'). */
const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';
const REMOVED = [4, 6, 8, 3, 2, 3, 5, 4, 3, 6, 5, 7];
const GROUP_GONE = [4, 0, 8, 3, 2, 3, 0, 4, 3, 6, 5, 7];

function masked(seed: number) {
  const w = randomWeights(resnet20, seed);
  // Zero every third filter of each conv (its output channel), as a pruning mask does.
  for (const t of tensors(resnet20, w.channels)) {
    if (!t.name.endsWith('.weight') || t.shape.length !== 4) continue;
    const a = w.tensors[t.name];
    const cout = t.shape[3];
    for (let i = 0; i < a.length; i++) if ((i % cout) % 3 === 0) a[i] = 0;
  }
  return w;
}

const cases: Array<[string, () => Net]> = [
  ['full width', () => new Net(resnet20, randomWeights(resnet20, 11))],
  ['filters removed', () => new Net(resnet20, randomWeights(resnet20, 12, REMOVED))],
  ['a whole stream and an inner group removed', () => new Net(resnet20, randomWeights(resnet20, 13, GROUP_GONE))],
  ['filters masked', () => new Net(resnet20, masked(14))],
];

function check(net: Net): number {
  const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const start = tf.memory().numTensors;
  const ours = net.predict(x);
  const ref = referenceEval(net, x);
  const d = maxRelDiff(ours.dataSync(), ref.dataSync());
  tf.dispose([ours, ref]);
  expect(tf.memory().numTensors).toBe(start);
  x.dispose();
  net.dispose();
  return d;
}

describe.each(['cpu', 'wasm'])('ResNet-20 evaluation on %s', (backend) => {
  beforeAll(async () => {
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
  });
  afterAll(async () => {
    setGraphFusion(true);
    await tf.setBackend('cpu');
  });

  test.each(cases)('%s: logits equal the unfolded stock-op pass to 1e-5', (_, make) => {
    const [stats, affine] = [simdKernelStats.batchNorm, simdKernelStats.affine];
    expect(check(make())).toBeLessThan(1e-5);
    expect(simdKernelStats.batchNorm).toBe(stats); // evaluation never computes batch statistics
    // wasm: the BatchNorms before the adds ran as the SIMD kernel (fewer when a stream has no channels)
    if (backend === 'wasm' && !STOCK) expect(simdKernelStats.affine - affine).toBeGreaterThan(0);
  }, 60_000);

  test('with the graph fusion switched off too', () => {
    setGraphFusion(false);
    try {
      expect(check(cases[1][1]())).toBeLessThan(1e-5);
    } finally {
      setGraphFusion(true);
    }
  }, 60_000);
});
