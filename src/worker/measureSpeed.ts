/**
 * Times the current backend for the measured auto (core/backend/autoBackend.ts): a few training steps
 * and one evaluation batch of a model, with seeded random data (the speed does not depend on the
 * pixels). Runs in a measurement worker (measure.worker.ts), never in the engine: the engine keeps
 * answering the page meanwhile. A warm-up step first (shader compilation, wasm kernel set-up), then
 * steps until `steps` or `budgetMs` — at least one — so a slow software backend stops early.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendSpeed } from '../core/backend/autoBackend';
import { Net } from '../core/model/net';
import type { ModelId } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import { deriveSeed, mulberry32 } from '../core/random';
import { createOptimizer, disposeOptimizer, trainStep } from '../core/train/trainer';

export interface MeasureOptions {
  batch?: number;
  steps?: number;
  evalBatch?: number;
  budgetMs?: number;
}

export async function measureSpeed(model: ModelId, o: MeasureOptions = {}): Promise<BackendSpeed> {
  const { batch = 32, steps = 5, evalBatch = 250, budgetMs = 2000 } = o;
  const rand = mulberry32(deriveSeed(1, 'backend measurement'));
  const images = Math.max(batch, evalBatch);
  const xs = tf.tensor4d(Float32Array.from({ length: images * 32 * 32 * 3 }, () => rand() * 2 - 1), [images, 32, 32, 3]);
  const ys = tf.tensor1d(Int32Array.from({ length: images }, (_, i) => i % 10), 'int32');
  const net = Net.create(specFor(model), 1);
  const optimizer = createOptimizer({ optimizer: 'adam', learningRate: 1e-3, momentum: 0.9 });
  try {
    const xb = xs.slice(0, batch);
    const yb = ys.slice(0, batch);
    const step = async () => {
      const [loss, correct] = trainStep(net, optimizer, xb, yb);
      await loss.data(); // waits for the GPU too
      tf.dispose([loss, correct]);
    };
    await step();
    let done = 0;
    const t0 = performance.now();
    while (done < steps && (done === 0 || performance.now() - t0 < budgetMs)) {
      await step();
      done++;
    }
    const trainImgPerSec = (done * batch * 1000) / (performance.now() - t0);
    tf.dispose([xb, yb]);
    const xe = xs.slice(0, evalBatch);
    const predict = async () => {
      const p = tf.tidy(() => tf.argMax(net.predict(xe), 1));
      await p.data();
      p.dispose();
    };
    await predict();
    const t1 = performance.now();
    await predict();
    const evalImgPerSec = (evalBatch * 1000) / (performance.now() - t1);
    xe.dispose();
    return { trainImgPerSec, evalImgPerSec };
  } finally {
    disposeOptimizer(optimizer);
    net.dispose();
    tf.dispose([xs, ys]);
  }
}
