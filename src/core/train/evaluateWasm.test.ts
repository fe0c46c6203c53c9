/**
 * evaluate() on the wasm backend reads its chunks without copying the whole set out of the wasm heap
 * (tfjs-backend-wasm's Slice kernel does that; the custom kernels replace it, tested against cpu in wasmTraining.test.ts:
 * backend/wasmKernels.ts heapSlice), and gives what one pass over the whole set gives: the same
 * predictions, so the same accuracy, per-class figures and confusion, and the loss to float noise.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../backend/kernels';
import { Net } from '../model/net';
import { NUM_CLASSES } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { randomWeights } from '../pruning/testUtil';
import { type DeviceSet, evaluate } from './trainer';

const N = 40;
let set: DeviceSet;

beforeAll(async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  // Again now that the wasm package is imported: its stock kernels are replaced only once they are registered.
  await installKernels({ kernels: 'custom', selfCheck: false });
  expect(await tf.setBackend('wasm')).toBe(true);
  set = {
    xs: tf.randomNormal([N, 32, 32, 3], 0, 1, 'float32', 21) as tf.Tensor4D,
    ys: tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 7) % NUM_CLASSES), 'int32'),
    count: N,
  };
});

afterAll(async () => {
  tf.dispose([set.xs, set.ys]);
  await tf.setBackend('cpu');
});

/** The ids of the tensors the backend copied out whole (readSync with no range) while `f` ran. */
async function wholeReads(f: () => Promise<unknown>): Promise<Set<object>> {
  const backend = tf.backend() as unknown as { readSync: (dataId: object, start?: number, end?: number) => unknown };
  const original = backend.readSync;
  const read = new Set<object>();
  backend.readSync = function (dataId, start, end) {
    if (start == null && end == null) read.add(dataId);
    return original.call(this, dataId, start, end);
  };
  try {
    await f();
  } finally {
    backend.readSync = original;
  }
  return read;
}

describe('slices and evaluation on wasm', () => {
  test.each([
    ['SimpleCNN', simpleCnn],
    ['ConvNet-3', convNet3],
  ] as const)('%s: evaluate’s chunks never copy the set out of the heap; the figures of one whole pass', async (_, spec) => {
    const net = new Net(spec, randomWeights(spec, 5));
    const before = tf.memory().numTensors;
    let chunked!: Awaited<ReturnType<typeof evaluate>>;
    const read = await wholeReads(async () => {
      chunked = await evaluate(net, set, undefined, 16); // chunks of 16, 16, 8
    });
    expect(read.has(set.xs.dataId)).toBe(false);
    expect(read.has(set.ys.dataId)).toBe(false);
    expect(tf.memory().numTensors).toBe(before);

    // One pass over all 40 images, nothing sliced.
    const logits = net.predict(set.xs);
    const pred = Array.from(tf.tidy(() => tf.argMax(logits, 1)).dataSync());
    const loss = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(set.ys, NUM_CLASSES), logits)).dataSync()[0];
    logits.dispose();
    const labels = Array.from(set.ys.dataSync());
    const confusion = new Array<number>(NUM_CLASSES * NUM_CLASSES).fill(0);
    labels.forEach((l, i) => confusion[l * NUM_CLASSES + pred[i]]++);
    expect(chunked.confusion).toEqual(confusion);
    expect(chunked.accuracy).toBe(labels.filter((l, i) => pred[i] === l).length / N);
    expect(chunked.loss).toBeCloseTo(loss, 5);
    net.dispose();
  }, 60_000);
});
