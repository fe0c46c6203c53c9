import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Net } from '../model/net';
import { evaluate } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('evaluate: confusion matrix', () => {
  it('counts [true][predicted] on a known tiny case (over chunks), consistent with accuracy and per-class', async () => {
    // Six images whose "model" answers a fixed class per image (the image's first pixel value).
    const labels = [0, 0, 1, 2, 2, 2];
    const answers = [0, 3, 1, 2, 0, 0];
    const xs = tf.tensor4d(
      answers.flatMap((a) => Array.from({ length: 32 * 32 * 3 }, () => a)),
      [6, 32, 32, 3],
    );
    const ys = tf.tensor1d(labels, 'int32');
    const model = { predict: (x: tf.Tensor4D) => tf.oneHot(tf.cast(tf.reshape(tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1]), 'int32'), 10).mul(5) } as unknown as Net;
    const ev = await evaluate(model, { xs, ys, count: 6 }, undefined, 4);
    const c = ev.confusion!;
    expect(c).toHaveLength(100);
    const at = (t: number, p: number) => c[t * 10 + p];
    expect([at(0, 0), at(0, 3), at(1, 1), at(2, 2), at(2, 0)]).toEqual([1, 1, 1, 1, 2]);
    expect(c.reduce((a, b) => a + b, 0)).toBe(6);
    expect(ev.accuracy).toBeCloseTo(3 / 6);
    expect(ev.perClass.slice(0, 3)).toEqual([0.5, 1, 1 / 3]);
    tf.dispose([xs, ys]);
  });
});
