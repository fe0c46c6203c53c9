/**
 * ResNet-20 trains on the wasm backend (tfjs-backend-wasm runs under Node): a full step's gradients
 * match the cpu backend's within 1e-4 — stride-2 convs, 1×1 shortcuts and the BatchNorm before the add
 * go through stock tfjs ops, the stride-1 conv blocks through the custom kernels — and a real
 * trainStep keeps numTensors flat.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../backend/kernels';
import { createOptimizer, trainStep } from '../train/trainer';
import { Net } from './net';
import { resnet20 } from './zoo';

const N = 4;
const CHANNELS = [4, 6, 8, 3, 2, 3, 5, 4, 3, 6, 5, 7]; // narrow: Node's cpu conv gradients are slow
const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';

function batch(): { x: tf.Tensor4D; y: tf.Tensor1D } {
  let s = 4242;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return { x: tf.tensor4d(new Float32Array(N * 32 * 32 * 3).map(() => r()), [N, 32, 32, 3]), y: tf.tensor1d(new Int32Array(N).map((_, i) => (i * 3) % 10), 'int32') };
}

function stepGrads(): Float32Array[] {
  const { x, y } = batch();
  const model = Net.create(resnet20, 7, CHANNELS);
  const before = tf.memory().numTensors;
  const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), model.trainLogits(x)) as tf.Scalar, model.trainableVariables);
  const out = model.trainableVariables.map((v) => grads[v.name].dataSync() as Float32Array);
  model.commitBatchStatistics();
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

describe('ResNet-20 on wasm', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await installKernels({ kernels: STOCK ? 'stock' : 'custom', selfCheck: false });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  test('full-step gradients within 1e-4 of the cpu backend; three trainSteps keep numTensors flat', async () => {
    await tf.setBackend('cpu');
    const ref = stepGrads();
    expect(await tf.setBackend('wasm')).toBe(true);
    const got = stepGrads();
    expect(got.length).toBe(ref.length);
    for (let i = 0; i < ref.length; i++) {
      let m = 0;
      for (let j = 0; j < ref[i].length; j++) m = Math.max(m, Math.abs(got[i][j] - ref[i][j]));
      expect(m).toBeLessThan(1e-4);
    }
    const model = Net.create(resnet20, 7, CHANNELS);
    const opt = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, momentum: 0.9 });
    const { x, y } = batch();
    let after1 = 0;
    for (let i = 0; i < 3; i++) {
      const [l, c] = trainStep(model, opt, x, y);
      expect(Number.isFinite((await l.data())[0])).toBe(true);
      tf.dispose([l, c]);
      if (i === 0) after1 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(after1);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }, 120_000);
});
