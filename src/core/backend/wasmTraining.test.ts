/**
 * The wasm backend trains both zoo networks (Net with the simpleCnn and convNet3 specs): gradients
 * of a full training step, and the optimiser updates, match the cpu backend within 1e-4. tfjs-backend-wasm runs under Node (it reads the
 * .wasm binary from node_modules).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NUM_CLASSES } from '../model/spec';
import { Net } from '../model/net';
import type { NetSpec } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { createOptimizer, trainStep } from '../train/trainer';
import { registerFastConv2dGradient, unregisterFastConv2dGradient } from './convGrad';
import { wasmKernelStats } from './wasmKernels';
import { installKernels } from './kernels';
import { fastMatMul, matMulGradStats, registerFastMatMulGradient, unregisterFastMatMulGradient } from './matMulGrad';

const N = 6;
/** The suite also runs with the custom kernels off (vite.config.ts project 'stock-kernels'): tfjs's own, on wasm too. */
const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';
/** Small channel counts: Node's cpu conv gradient is slow. */
const NETS: Array<[NetSpec, number[]]> = [
  [simpleCnn, [8]],
  [convNet3, [4, 6, 8]],
];

function batch(): { x: Float32Array; y: Int32Array } {
  let s = 12345;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = new Float32Array(N * 32 * 32 * 3).map(() => r());
  const y = new Int32Array(N).map((_, i) => (i * 7) % NUM_CLASSES);
  return { x, y };
}

/**
 * Gradients of the training loss (trainer's loss: softmax cross-entropy on oneHot labels).
 * Also checks the gradient computation leaves no tensor behind.
 */
function stepGrads(spec: NetSpec, channels: number[]): Float32Array[] {
  const { x, y } = batch();
  const model = Net.create(spec, 7, channels);
  const xb = tf.tensor4d(x, [N, 32, 32, 3]);
  const yb = tf.tensor1d(y, 'int32');
  const before = tf.memory().numTensors;
  const { grads, value } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(tf.oneHot(yb, NUM_CLASSES), model.trainLogits(xb)) as tf.Scalar,
    model.trainableVariables,
  );
  const out = model.trainableVariables.map((v) => grads[v.name].dataSync() as Float32Array);
  model.commitBatchStatistics();
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xb, yb]);
  model.dispose();
  return out;
}

/**
 * Weights after three real trainStep calls (trainer.ts), plus the last loss and correct count.
 * The optimiser creates its slots on the first step; later steps must not change numTensors.
 */
async function afterSteps(spec: NetSpec, channels: number[], opt: 'adam' | 'sgd', lr: number): Promise<{ weights: Float32Array[]; loss: number; correct: number }> {
  const { x, y } = batch();
  const model = Net.create(spec, 7, channels);
  const optimizer = createOptimizer({ optimizer: opt, learningRate: lr, momentum: 0.9 });
  const xb = tf.tensor4d(x, [N, 32, 32, 3]);
  const yb = tf.tensor1d(y, 'int32');
  let loss = 0;
  let correct = 0;
  let after1 = 0;
  for (let i = 0; i < 3; i++) {
    const [l, c] = trainStep(model, optimizer, xb, yb);
    loss = (await l.data())[0];
    correct = (await c.data())[0];
    tf.dispose([l, c]);
    if (i === 0) after1 = tf.memory().numTensors;
  }
  expect(tf.memory().numTensors).toBe(after1);
  const w = await model.readWeights();
  tf.dispose([xb, yb]);
  optimizer.dispose();
  model.dispose();
  // Every tensor, running statistics included.
  return { weights: Object.keys(w.tensors).sort().map((k) => w.tensors[k]), loss, correct };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm training matches cpu', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    // Again now that the wasm package registered its kernels (the setup file ran before): its Identity and GatherV2 get replaced.
    await installKernels({ kernels: STOCK ? 'stock' : 'custom', selfCheck: false });
  });
  afterAll(async () => {
    unregisterFastConv2dGradient();
    await tf.setBackend('cpu');
  });

  for (const [spec, channels] of NETS)
  for (const fast of STOCK ? [false] : [true, false]) {
    test(`${spec.id}: full step gradients within 1e-4 (${fast ? 'fast' : 'stock'} Conv2D and matMul gradients)`, async () => {
      if (fast) {
        registerFastConv2dGradient();
        registerFastMatMulGradient();
      } else {
        unregisterFastConv2dGradient();
        unregisterFastMatMulGradient();
      }
      await tf.setBackend('cpu');
      const ref = stepGrads(spec, channels);
      expect(await tf.setBackend('wasm')).toBe(true);
      expect(tf.getBackend()).toBe('wasm');
      const mmFast = matMulGradStats.fast;
      const got = stepGrads(spec, channels);
      expect(matMulGradStats.fast > mmFast).toBe(fast);
      for (let i = 0; i < ref.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-4);
    });
  }

  test.skipIf(STOCK)('on wasm the 3×3 convs of a training step run as the Winograd kernels (forward, input and filter gradients)', async () => {
    registerFastConv2dGradient();
    registerFastMatMulGradient();
    await tf.setBackend('wasm');
    for (const [spec, channels] of NETS) {
      const info = await tf.profile(() => {
        stepGrads(spec, channels);
      });
      const calls = (name: string) => info.kernels.filter((k) => k.name === name).length;
      const convs = spec.layers.filter((l) => l.kind === 'conv').length;
      // Forward for every conv (and the ReLU-fused one of SimpleCNN), input gradients for all but the first.
      expect(calls('PlaygroundSimdConv3x3')).toBe(convs + convs - 1);
      expect(calls('PlaygroundSimdWinogradFilterGrad')).toBe(convs);
    }
  });

  for (const [spec, channels] of NETS)
  for (const [opt, lr] of [['sgd', 0.01], ['adam', 1e-3]] as const) {
    test(`${spec.id}: three trainStep updates with ${opt} match (weights within 1e-4)`, async () => {
      if (!STOCK) {
        registerFastConv2dGradient();
        registerFastMatMulGradient();
      }
      await tf.setBackend('cpu');
      const ref = await afterSteps(spec, channels, opt, lr);
      await tf.setBackend('wasm');
      const got = await afterSteps(spec, channels, opt, lr);
      expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-4);
      expect(got.correct).toBe(ref.correct);
      for (let i = 0; i < ref.weights.length; i++) expect(maxAbsDiff(got.weights[i], ref.weights[i])).toBeLessThan(1e-4);
    });
  }

  test.skipIf(STOCK)('fast matMul gradient: all transpose combinations match cpu', async () => {
    registerFastMatMulGradient();
    const run = () => {
      const res: Float32Array[] = [];
      for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        // Shapes where either rewrite wins: a is [5, 300] or [300, 5], b is [300, 4] or [4, 300].
        const a = tf.randomUniform(tA ? [300, 5] : [5, 300], -1, 1, 'float32', 21) as tf.Tensor2D;
        const b = tf.randomUniform(tB ? [4, 300] : [300, 4], -1, 1, 'float32', 22) as tf.Tensor2D;
        const r = tf.randomUniform([5, 4], -1, 1, 'float32', 23);
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), r)))([a, b]);
        const direct = fastMatMul(a, b, tA, tB);
        const ref = tf.matMul(a, b, tA, tB);
        res.push(da.dataSync() as Float32Array, db.dataSync() as Float32Array, tf.sub(direct, ref).abs().max().dataSync() as Float32Array);
        tf.dispose([a, b, r, da, db, direct, ref]);
      }
      return res;
    };
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    const before = matMulGradStats.fast;
    const got = run();
    expect(matMulGradStats.fast).toBeGreaterThan(before);
    for (let i = 0; i < ref.length; i++) {
      if (i % 3 === 2) expect(got[i][0]).toBeLessThan(1e-4); // fastMatMul == matMul
      else expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-4);
    }
  });

  test('evaluation on wasm (BatchNorm folded, conv + ReLU + pool in one Winograd kernel) gives the cpu logits', async () => {
    const { x } = batch();
    const logits = (spec: NetSpec, channels: number[]) => {
      const model = Net.create(spec, 7, channels);
      const out = tf.tidy(() => model.predict(tf.tensor4d(x, [N, 32, 32, 3])).dataSync() as Float32Array);
      model.dispose();
      return out;
    };
    for (const [spec, channels] of NETS) {
      await tf.setBackend('cpu');
      const ref = logits(spec, channels);
      await tf.setBackend('wasm');
      const info = await tf.profile(() => {
        logits(spec, channels);
      });
      expect(maxAbsDiff(logits(spec, channels), ref)).toBeLessThan(1e-4);
      const pools = spec.layers.filter((l) => l.kind === 'conv' && l.pool).length;
      expect(info.kernels.filter((k) => k.name === 'PlaygroundSimdConv3x3').length).toBe(STOCK ? 0 : spec.layers.length - 1);
      expect(info.kernels.filter((k) => k.name === 'MaxPool').length).toBe(STOCK ? pools : 0);
      expect(pools).toBe(spec.id === 'convnet3' ? 3 : 0);
    }
  });

  test.skipIf(STOCK)('wasm Identity (tf.clone) shares the buffer by reference: no copy, and each handle outlives the other', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } };
    const before = tf.memory().numTensors;
    const a = tf.tensor([1, 2, 3, 4]);
    const b = tf.clone(a);
    expect(backend.dataIdMap.get(b.dataId).memoryOffset).toBe(backend.dataIdMap.get(a.dataId).memoryOffset);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    const c = tf.add(b, 1); // the shared buffer is still allocated: a new output does not land on it
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    tf.dispose([b, c]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test.skipIf(STOCK)('wasm GatherV2 by rows equals cpu: float32 and int32, 1-D and 4-D, repeated indices; other cases and bad indices go to the stock kernel', async () => {
    const cases = () => {
      const x = tf.randomUniform([7, 3, 2, 5], -1, 1, 'float32', 5);
      const labels = tf.tensor1d([3, 1, 4, 1, 5, 9, 2], 'int32');
      const idx = tf.tensor1d([6, 0, 3, 3, 1], 'int32');
      const out = [
        tf.gather(x, idx),
        tf.gather(labels, idx),
        tf.gather(x, tf.tensor2d([[1, 2], [2, 1]], [2, 2], 'int32')), // rank-2 indices: [2, 2, 3, 2, 5]
        tf.gather(x, tf.tensor1d([1, 0], 'int32'), 2), // another axis: stock kernel
        tf.gather(x, tf.tensor1d([], 'int32')),
      ];
      const got = out.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
      tf.dispose([x, labels, idx, ...out]);
      return got;
    };
    await tf.setBackend('cpu');
    const ref = cases();
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const fast = wasmKernelStats.rowGather;
    const got = tf.tidy(cases);
    expect(got).toEqual(ref);
    expect(wasmKernelStats.rowGather - fast).toBe(4); // all but the other axis
    expect(tf.memory().numTensors).toBe(before);
    // Out of range: the row path must not read outside x (the stock kernel decides what happens).
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => tf.tidy(() => tf.gather(x, tf.tensor1d([0, 2], 'int32')).dataSync())).toThrow();
    x.dispose();
  });

  test.skipIf(STOCK)("wasm Slice reading its input in place equals cpu: ResNet-20's even-pixel slice, partial inner and outer axes, size -1, int32, bool, empty; strings go to the stock kernel", async () => {
    const cases = () => {
      const x = tf.randomUniform([4, 6, 8, 5], -1, 1, 'float32', 7);
      const pairs = tf.reshape(x, [4 * 3, 2, 4, 10]); // net.ts evenPixels: [N·H/2, 2, W/2, 2·C]
      const ints = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4], 'int32');
      const out = [
        tf.slice(pairs, [0, 0, 0, 0], [12, 1, 4, 5]),
        tf.slice(x, [1, 2, 3, 1], [2, 3, 4, 3]), // every axis partial: runs of 3
        tf.slice(x, [1, 0, 0, 0], [2, -1, -1, -1]), // one contiguous run
        tf.slice(x, [0, 1, 0, 0], [-1, 4, -1, -1]), // whole inner block, partial axis 1
        tf.slice(tf.reshape(x, [4, 240]), [1, 64], [3, 100]), // runs ≥ 64: typed-array copies
        tf.slice(ints, [1, 1], [2, 2]),
        tf.slice(x, [0, 0, 0, 0], [2, 0, 8, 5]),
        tf.slice(tf.tensor1d([1, 2, 3, 4, 5]), 3, 2),
        tf.slice(tf.tensor1d([1, 0, 1, 1, 0, 0, 1], 'bool'), [1], [-1]), // bool: a byte per element
      ];
      const got = out.map((t) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync()) }));
      const str = tf.slice(tf.tensor1d(['a', 'b', 'c']), 1, 2);
      got.push({ shape: str.shape, dtype: str.dtype, data: str.dataSync() as unknown as number[] });
      tf.dispose([x, pairs, ints, str, ...out]);
      return got;
    };
    await tf.setBackend('cpu');
    const ref = cases();
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const fast = wasmKernelStats.heapSlice;
    const got = tf.tidy(cases);
    expect(got).toEqual(ref);
    expect(wasmKernelStats.heapSlice - fast).toBe(9); // all but the strings
    expect(tf.memory().numTensors).toBe(before);
  });

  test('wasm Conv2DBackpropFilter kernel (stride 2, same/valid, NHWC) matches cpu', async () => {
    const run = () => {
      const x = tf.randomUniform([2, 9, 8, 3], -1, 1, 'float32', 11) as tf.Tensor4D;
      const res: Float32Array[] = [];
      for (const pad of ['same', 'valid'] as const) {
        for (const stride of [1, 2] as const) {
          const y = tf.conv2d(x, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, stride, pad);
          const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 12) as tf.Tensor4D;
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            strides: stride,
            pad,
            dataFormat: 'NHWC',
            filterShape: [3, 3, 3, 5],
          }) as tf.Tensor;
          res.push(dw.dataSync() as Float32Array);
          tf.dispose([y, dy, dw]);
        }
      }
      x.dispose();
      return res;
    };
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    const got = run();
    for (let i = 0; i < ref.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-4);
  });
});
