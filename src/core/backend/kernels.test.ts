/**
 * installKernels: the version guard, the kill switch, the start-up self-check (and a broken kernel it
 * must catch), and that "stock" really is tfjs's own kernels and gradients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { Net } from '../model/net';
import { convNet3, simpleCnn } from '../model/zoo';
import { createOptimizer, trainStep } from '../train/trainer';
import { convGradStats } from './convGrad';
import { KERNELS_WRITTEN_FOR, type KernelsReport, installKernels, kernelsInstalled, tfjsVersions, uninstallKernels } from './kernels';
import { matMulGradStats } from './matMulGrad';
import { wasmKernelStats } from './wasmKernels';

/** Kernel names of one seeded training step (gather + trainStep, as trainer.train does a batch). */
async function stepKernels(spec: typeof simpleCnn, channels: number[]): Promise<string[]> {
  const model = Net.create(spec, 3, channels);
  const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, momentum: 0.9 });
  const xs = tf.randomUniform([6, 32, 32, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
  const ys = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
  const idx = tf.tensor1d([5, 3, 1, 0], 'int32');
  const step = () =>
    tf.tidy(() => {
      const [l, c] = trainStep(model, optimizer, tf.gather(xs, idx), tf.gather(ys, idx));
      return [l, c];
    });
  tf.dispose(step()); // the optimiser makes its slots on the first step
  const before = tf.memory().numTensors;
  const info = await tf.profile(() => {
    tf.dispose(step());
  });
  model.commitBatchStatistics();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xs, ys, idx]);
  optimizer.dispose();
  model.dispose();
  return [...new Set(info.kernels.map((k) => k.name))];
}

const custom = (names: string[]) => names.filter((n) => n.startsWith('Playground'));

describe('installKernels', () => {
  beforeAll(async () => {
    setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await installKernels({ selfCheck: false });
    await tf.setBackend('cpu');
  });

  test(`version guard: another tfjs than ${KERNELS_WRITTEN_FOR} gets the stock kernels, and says why`, async () => {
    await installKernels({ selfCheck: false });
    expect(kernelsInstalled()).toBe(true);
    const r = await installKernels({ tfjsVersion: { ...tfjsVersions(), 'tfjs-core': '4.23.0' } });
    expect(r).toMatchObject({ active: 'stock', requested: 'custom', reason: 'version' });
    expect(r.notice).toContain('tfjs-core 4.23.0');
    expect(r.notice).toContain(KERNELS_WRITTEN_FOR);
    expect(kernelsInstalled()).toBe(false);
    expect(tf.getKernel('PlaygroundConvSame', 'cpu')).toBeUndefined();
    // The version actually installed passes the guard.
    expect((await installKernels({ selfCheck: false })).active).toBe('custom');
    const wasm = await installKernels({ tfjsVersion: { ...tfjsVersions(), 'tfjs-backend-wasm': '5.0.0' }, selfCheck: false });
    expect(wasm.reason).toBe('version');
    expect(wasm.notice).toContain('tfjs-backend-wasm 5.0.0');
  });

  test('kill switch: kernels=stock installs nothing of ours but the Conv2DBackpropFilter wasm lacks', async () => {
    await installKernels({ selfCheck: false });
    const r = await installKernels({ kernels: 'stock' });
    expect(r).toMatchObject({ active: 'stock', requested: 'stock', reason: null });
    expect(r.notice).toContain('kernels=stock');
    expect(r.installed).toEqual(['Conv2DBackpropFilter (wasm lacks it; from tfjs ops)']);
    expect(kernelsInstalled()).toBe(false);
  });

  test('uninstalling puts back the very stock kernels and gradients the install replaced', async () => {
    await tf.setBackend('wasm');
    uninstallKernels();
    const stock = ['Identity', 'GatherV2', 'Slice'].map((k) => tf.getKernel(k, 'wasm'));
    const grads = ['Conv2D', 'BatchMatMul'].map((k) => tf.getGradient(k));
    await installKernels({ selfCheck: false });
    expect(tf.getKernel('Identity', 'wasm')).not.toBe(stock[0]);
    expect(tf.getGradient('Conv2D')).not.toBe(grads[0]);
    uninstallKernels();
    expect(['Identity', 'GatherV2', 'Slice'].map((k) => tf.getKernel(k, 'wasm'))).toEqual(stock);
    expect(['Identity', 'GatherV2', 'Slice'].map((k) => tf.getKernel(k, 'wasm')?.kernelFunc)).toEqual(stock.map((c) => c?.kernelFunc));
    expect(['Conv2D', 'BatchMatMul'].map((k) => tf.getGradient(k))).toEqual(grads);
    await tf.setBackend('cpu');
  });

  for (const backend of ['cpu', 'wasm']) {
    test(`with the kernels off a training step runs only tfjs's own kernels and gradients (${backend})`, async () => {
      await tf.setBackend(backend);
      await installKernels({ kernels: 'stock' });
      const stats = [convGradStats.fast, matMulGradStats.fast, wasmKernelStats.rowGather, wasmKernelStats.heapSlice];
      for (const [spec, channels] of [[simpleCnn, [8]], [convNet3, [4, 6, 8]]] as const) {
        const names = await stepKernels(spec, [...channels]);
        expect(custom(names)).toEqual([]);
        expect(names).toContain(spec === convNet3 ? 'FusedBatchNorm' : 'Conv2D');
        // Every kernel is tfjs's: registered for this backend by tfjs itself (none replaced, none added but the one wasm lacks).
        for (const n of names.filter((k) => !k.endsWith('__op'))) expect(tf.getKernel(n, backend), n).toBeDefined(); // __op: a customGrad op's name
      }
      // No custom gradient, gather or optimiser ran.
      expect([convGradStats.fast, matMulGradStats.fast, wasmKernelStats.rowGather, wasmKernelStats.heapSlice]).toEqual(stats);
      // The same step with the custom kernels does run them (so the check above can fail).
      await installKernels({ selfCheck: false });
      expect(custom(await stepKernels(convNet3, [4, 6, 8])).length).toBeGreaterThan(0);
      await tf.setBackend('cpu');
    });
  }

  for (const backend of ['cpu', 'wasm']) {
    test(`the self-check passes on ${backend} (custom = stock to 1e-4), leaves no tensor behind, and runs once per backend`, async () => {
      await tf.setBackend(backend);
      uninstallKernels();
      const before = tf.memory().numTensors;
      const r = await installKernels();
      expect(tf.memory().numTensors).toBe(before);
      expect(r.active).toBe('custom');
      expect(r.selfCheck).toMatchObject({ backend, passed: true });
      expect(r.selfCheck!.maxDiff).toBeLessThan(1e-4);
      expect(r.installed).toContain(backend === 'wasm' ? 'PlaygroundSimdConv3x3' : 'PlaygroundBatchNormRelu');
      const again = await installKernels();
      expect(again.selfCheck).toBe(r.selfCheck); // cached: a switch back does not check again
      await tf.setBackend('cpu');
    });
  }

  /** Adds `by` to a kernel's first output: a subtly wrong kernel (tfjs ops inside a kernel are not taped). */
  const off = (target: string, by: number) => (name: string, k: tf.KernelFunc): tf.KernelFunc =>
    name !== target
      ? k
      : (args) => {
          const out = k(args);
          const [first, ...rest] = (Array.isArray(out) ? out : [out]) as tf.TensorInfo[];
          const t = first instanceof tf.Tensor ? first : tf.engine().makeTensorFromTensorInfo(first);
          const wrong = tf.add(t, by);
          t.dispose();
          return Array.isArray(out) ? [wrong, ...rest] : wrong;
        };

  const broken: Array<[string, string, (name: string, k: tf.KernelFunc) => tf.KernelFunc]> = [
    ['cpu', 'the BatchNorm + ReLU block forward off by 1e-2', off('PlaygroundBatchNormRelu', 1e-2)],
    ['wasm', 'the SIMD BatchNorm backward off by 1e-2', off('PlaygroundSimdBatchNormReluGrad', 1e-2)],
    ['wasm', 'the Winograd conv throwing', (name, k) => (name === 'PlaygroundSimdConv3x3' ? () => { throw new Error('broken on purpose'); } : k)],
    ['wasm', 'the SIMD dense (evaluation) off by 1e-2', off('PlaygroundSimdDense', 1e-2)],
  ];
  for (const [backend, what, wrapKernel] of broken) {
    test(`a deliberately broken kernel (${what}, ${backend}) fails the self-check: stock kernels and a notice`, async () => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const r: KernelsReport = await installKernels({ wrapKernel });
      expect(r).toMatchObject({ active: 'stock', requested: 'custom', reason: 'self-check' });
      expect(r.selfCheck?.passed).toBe(false);
      expect(r.notice).toContain(`self-check on ${backend}`);
      if (what.includes('throwing')) expect(r.notice).toContain('broken on purpose');
      else expect(r.selfCheck!.maxDiff).toBeGreaterThan(1e-4);
      expect(kernelsInstalled()).toBe(false);
      expect(tf.getKernel('PlaygroundSimdConv3x3', 'wasm')).toBeUndefined();
      // A throwing kernel may strand its inputs' wrappers; a wrong value must not.
      if (!what.includes('throwing')) expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('cpu');
    });
  }
});
