/** The gradient comparison the WebGPU e2e relies on: it finds a difference, and wasm = cpu under Node. */
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GRADIENT_TOLERANCE, compareGradients, maxRelativeDifference, trainingGradients } from './gradCheck';

beforeAll(async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('cpu');
});

describe('maxRelativeDifference', () => {
  const ref = new Map([
    ['loss', Float32Array.of(2.3)],
    ['∂w', Float32Array.of(0.5, -3, 0)],
  ]);
  test('relative to max(1, |reference|), with where', () => {
    const got = new Map([
      ['loss', Float32Array.of(2.3)],
      ['∂w', Float32Array.of(0.5, -3.003, 2e-5)],
    ]);
    const d = maxRelativeDifference(got, ref);
    expect(d.maxDiff).toBeCloseTo(0.001, 6);
    expect(d.worst).toBe('∂w[1]');
    expect(d.entries).toBe(4);
    expect(d.largest).toBe(3);
  });
  test('NaN is the largest difference; a missing or mis-sized array throws', () => {
    expect(maxRelativeDifference(new Map([['loss', Float32Array.of(2.3)], ['∂w', Float32Array.of(NaN, -3, 0)]]), ref).maxDiff).toBe(Infinity);
    expect(() => maxRelativeDifference(new Map([['loss', Float32Array.of(2.3)], ['∂v', Float32Array.of(0, 0, 0)]]), ref)).toThrow(/∂w: missing/);
    expect(() => maxRelativeDifference(new Map([['loss', Float32Array.of(2.3)], ['∂w', Float32Array.of(0, 0)]]), ref)).toThrow(/2 entries against 3/);
  });
});

describe('training gradients across backends', () => {
  test('every trainable variable of ConvNet-3, seeded: the same twice, tensors released', async () => {
    const before = tf.memory().numTensors;
    const a = await trainingGradients('convnet3', 3, 4, [4, 6, 8]);
    const b = await trainingGradients('convnet3', 3, 4, [4, 6, 8]);
    expect(tf.memory().numTensors).toBe(before);
    expect([...a.keys()]).toEqual(['loss', '∂conv1.weight', '∂bn1.weight', '∂bn1.bias', '∂conv2.weight', '∂bn2.weight', '∂bn2.bias', '∂conv3.weight', '∂bn3.weight', '∂bn3.bias', '∂fc1.weight', '∂fc1.bias']);
    expect(maxRelativeDifference(a, b).maxDiff).toBe(0);
    expect(maxRelativeDifference(a, b).largest).toBeGreaterThan(1e-3);
    // Another seed gives other gradients: the comparison is not vacuous.
    expect(maxRelativeDifference(await trainingGradients('convnet3', 4, 4, [4, 6, 8]), a).maxDiff).toBeGreaterThan(1e-3);
  });

  test.each(['simplecnn', 'convnet3'] as const)('%s on wasm = cpu to 1e-4, and the active backend is restored', async (model) => {
    const r = await compareGradients('wasm', model, { batch: 4, channels: model === 'simplecnn' ? [8] : [4, 6, 8] });
    expect(r.maxDiff).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
    expect(r.entries).toBeGreaterThan(1000);
    expect(tf.getBackend()).toBe('cpu');
  });
});
