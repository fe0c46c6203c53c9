import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimpleCNN, initialWeights, parameterCount } from './simpleCnn';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SimpleCNN', () => {
  it('has the article’s 657,162 parameters', () => {
    expect(parameterCount(64)).toBe(657_162);
    const m = SimpleCNN.create(1);
    expect(m.variables.reduce((a, v) => a + v.size, 0)).toBe(657_162);
    m.dispose();
  });

  it('holds exactly its four variables, and frees them on dispose', () => {
    const before = tf.memory().numTensors;
    const m = SimpleCNN.create(1, 4);
    expect(tf.memory().numTensors).toBe(before + 4);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps [n,32,32,3] images to [n,10] logits without leaking tensors', () => {
    const m = SimpleCNN.create(1);
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = m.predict(x);
    expect(y.shape).toEqual([2, 10]);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('initialises deterministically from the seed, within PyTorch’s bounds', () => {
    const a = initialWeights(7);
    const b = initialWeights(7);
    const c = initialWeights(8);
    expect(a.fc1Kernel).toEqual(b.fc1Kernel);
    expect(a.conv1Kernel[0]).not.toBe(c.conv1Kernel[0]);
    const bound = 1 / Math.sqrt(27);
    expect(Math.max(...a.conv1Kernel.map(Math.abs))).toBeLessThanOrEqual(bound);
  });
});
