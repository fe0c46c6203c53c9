/**
 * conv3x3Stride2 (ResNet-20's downsampling 3×3 convs, PyTorch padding 1, stride 2, with their own
 * gradient at the output resolution) against tf.conv2d at stride 2 differentiated by stock tfjs on the
 * cpu backend: value, ∂x and ∂W, on ResNet-20's shapes (b4) and odd channel counts, on cpu (the
 * output-resolution gradients from tfjs ops) and wasm (the direct SIMD kernels of strided3x3.ts; with them
 * switched off or under 4 channels, XNNPACK forward and Winograd SIMD gradients), to 1e-4 relative to
 * max(1, the reference's largest magnitude) — the scale of a sum of products' rounding error (F(4×4, 3×3)'s is
 * ~5e-6 of it). With the custom kernels off (project
 * 'stock-kernels') it declines and the network reads the stride-1 conv at the even pixels.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { conv3x3Stride2, convBlockStats, setStride2Direct } from './convBlock';
import { batchMomentsStats } from './wasmSimd';
import { Net } from '../model/net';
import { specFor } from '../model/zoo';
import { relDiff } from './wasmSimd/relDiff';

const STOCK = process.env.PLAYGROUND_KERNELS === 'stock';
const PAD: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** [value, ∂x, ∂W] of sum(r · conv(x, W)). */
function run(ours: boolean, [n, size, inC, outC]: [number, number, number, number]): Float32Array[] {
  return tf.tidy(() => {
    const x = rand([n, size, size, inC], 1) as tf.Tensor4D;
    const w = rand([3, 3, inC, outC], 2) as tf.Tensor4D;
    const r = rand([n, size / 2, size / 2, outC], 3);
    const f = (xx: tf.Tensor, ww: tf.Tensor) => (ours ? conv3x3Stride2(xx as tf.Tensor4D, ww as tf.Tensor4D)! : tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, PAD));
    const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(f(xx, ww), r)))([x, w]);
    return [f(x, w), ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** max |a − b| relative to max(1, the reference's largest magnitude). */
const maxRel = (a: Float32Array, b: Float32Array) => relDiff(a, b, 1);

// [batch, input side, in, out]: ResNet-20's two downsampling convs, odd channel counts, the smallest map.
const cases: Array<[string, [number, number, number, number]]> = [
  ['stage 2 (32×32, 16 → 32)', [4, 32, 16, 32]],
  ['stage 3 (16×16, 32 → 64)', [4, 16, 32, 64]],
  ['odd channels (8×8, 5 → 7)', [3, 8, 5, 7]],
  ['2×2 map, one channel in', [2, 2, 1, 3]],
];

describe.each([
  ['cpu', true],
  ['wasm', true],
  ['wasm', false],
])('conv3x3Stride2 on %s (direct SIMD kernels on: %s)', (backend, direct) => {
  beforeAll(() => setStride2Direct(direct));
  afterAll(async () => {
    setStride2Direct(true);
    await tf.setBackend('cpu');
  });

  test.each(cases)('%s: value, ∂x and ∂W equal tf.conv2d at stride 2 with stock autodiff on cpu', async (_, shape) => {
    await tf.setBackend('cpu');
    if (STOCK) {
      const [x, w] = [rand([1, 4, 4, 2], 1) as tf.Tensor4D, rand([3, 3, 2, 2], 2) as tf.Tensor4D];
      expect(conv3x3Stride2(x, w)).toBeNull();
      tf.dispose([x, w]);
      return;
    }
    const ref = run(false, shape);
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
    const start = tf.memory().numTensors;
    let got: Float32Array[] = [];
    const kernels = (await tf.profile(() => void (got = run(true, shape)))).kernelNames;
    expect(tf.memory().numTensors).toBe(start);
    // wasm: the direct kernels alone (≥ 4 channels each way), else the gradients through the Winograd SIMD kernels; elsewhere no stride-1 conv at all.
    const [, , inC, outC] = shape;
    if (backend === 'wasm' && direct && inC >= 4 && outC >= 4) expect(kernels.filter((k) => /Conv|Winograd/.test(k))).toEqual(['PlaygroundSimdConv3x3Stride2']);
    else if (backend === 'wasm') expect(kernels).toEqual(expect.arrayContaining(['Conv2D', 'PlaygroundSimdConv3x3', 'PlaygroundSimdWinogradFilterGrad']));
    else expect(kernels.filter((k) => k.startsWith('PlaygroundSimd'))).toEqual([]);
    const names = ['value', '∂x', '∂W'];
    for (let i = 0; i < ref.length; i++) expect(maxRel(got[i], ref[i]), names[i]).toBeLessThan(1e-4);
    expect(Math.max(...ref[1].map(Math.abs))).toBeGreaterThan(0.1); // not vacuous
  }, 60_000);

  // With the custom kernels off, on wasm only: stock tfjs's cpu gradients of ResNet-20 take minutes.
  test.skipIf(STOCK && backend === 'cpu')("ResNet-20's training step takes the stride-2 path twice (its two downsampling 3×3 convs), and on wasm the 1×1 shortcut kernels twice and 16 BatchNorms their statistics from the conv's sums", async () => {
    if (backend === 'wasm') setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    expect(await tf.setBackend(backend)).toBe(true);
    const net = Net.create(specFor('resnet20'), 1);
    const before = convBlockStats.stride2;
    const directBefore = convBlockStats.stride2Direct;
    const pointwiseBefore = convBlockStats.pointwiseStride2;
    const sumsBefore = batchMomentsStats.fromConv;
    tf.tidy(() => {
      const x = rand([2, 32, 32, 3], 4) as tf.Tensor4D;
      tf.variableGrads(() => tf.sum(net.trainLogits(x)) as tf.Scalar, net.trainableVariables);
    });
    net.commitBatchStatistics();
    net.dispose();
    expect(convBlockStats.stride2 - before).toBe(STOCK ? 0 : 2);
    expect(convBlockStats.stride2Direct - directBefore).toBe(STOCK || backend === 'cpu' || !direct ? 0 : 2);
    expect(convBlockStats.pointwiseStride2 - pointwiseBefore).toBe(STOCK || backend === 'cpu' ? 0 : 2);
    // and the BatchNorms after its 16 stride-1 3×3 convs in the blocks take their statistics from the conv's sums
    expect(batchMomentsStats.fromConv - sumsBefore).toBe(STOCK || backend === 'cpu' ? 0 : 16);
  }, 60_000);
});
