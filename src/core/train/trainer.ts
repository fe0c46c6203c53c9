/**
 * Training and evaluation of a network with a hand-written loop (not tf.LayersModel.fit):
 * fit shuffles with Math.random, and a plain loop lets us keep masks applied, report every
 * batch and stop within one batch.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer, FusedMomentumOptimizer } from '../backend/fusedOptimizers';
import { type ChannelStats, type Cifar10Set, normalisedBatch } from '../data/cifar10';
import type { Net } from '../model/net';
import { NUM_CLASSES } from '../model/spec';
import { deriveSeed, mulberry32, shuffledIndices } from '../random';

export type OptimizerName = 'adam' | 'sgd';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  /** Used by SGD only. */
  momentum: number;
  seed: number;
}

/** A data set held on the backend as normalised NHWC float32 plus int32 labels. */
export interface DeviceSet {
  xs: tf.Tensor4D;
  ys: tf.Tensor1D;
  count: number;
}

export function toDevice(set: Cifar10Set, stats: ChannelStats): DeviceSet {
  const { images, labels } = normalisedBatch(set, stats, null, 0, set.count);
  return {
    xs: tf.tensor4d(images, [set.count, 32, 32, 3]),
    ys: tf.tensor1d(labels, 'int32'),
    count: set.count,
  };
}

export function disposeDeviceSet(s: DeviceSet | null | undefined): void {
  if (s) tf.dispose([s.xs, s.ys]);
}

export function createOptimizer(cfg: Pick<TrainConfig, 'optimizer' | 'learningRate' | 'momentum'>): tf.Optimizer {
  // tf.train.adam / tf.train.momentum with the update fused into one kernel per variable on wasm.
  return cfg.optimizer === 'sgd' ? new FusedMomentumOptimizer(cfg.learningRate, cfg.momentum) : new FusedAdamOptimizer(cfg.learningRate, 0.9, 0.999);
}

/**
 * Disposes an optimiser completely: tfjs 4.22's MomentumOptimizer keeps its momentum scalar
 * (`c`) alive after dispose(), one leaked tensor per optimiser.
 */
export function disposeOptimizer(opt: tf.Optimizer): void {
  const c = (opt as unknown as { c?: tf.Tensor }).c;
  opt.dispose();
  if (opt instanceof tf.MomentumOptimizer && c && !c.isDisposed) c.dispose();
}

/**
 * One optimiser step on a batch. Returns [mean cross-entropy loss, number of correct predictions]
 * as scalars (caller disposes); the accuracy comes from the same forward pass, at no extra cost.
 */
export function trainStep(
  model: Net,
  optimizer: tf.Optimizer,
  xb: tf.Tensor4D,
  yb: tf.Tensor1D,
  /** The forward pass in training mode; the benchmark swaps in alternatives to measure them. */
  forward: (x: tf.Tensor4D) => tf.Tensor2D = (x) => model.trainLogits(x),
): [tf.Scalar, tf.Scalar] {
  let logits: tf.Tensor2D | null = null;
  const loss = optimizer.minimize(
    () => {
      logits = tf.keep(forward(xb));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(yb, NUM_CLASSES), logits) as tf.Scalar;
    },
    true,
    model.trainableVariables,
  ) as tf.Scalar;
  model.commitBatchStatistics(); // BatchNorm's running statistics move after the step, as in PyTorch
  const kept = logits as unknown as tf.Tensor2D;
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(kept, 1), yb), 'int32')) as tf.Scalar);
  kept.dispose();
  return [loss, correct];
}

export interface BatchReport {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  /** Images in this batch (the last one of an epoch may be smaller). */
  size: number;
  loss: number;
  /** Accuracy on this training batch (before the step's update). */
  accuracy: number;
  imagesPerSecond: number;
}

export interface TrainCallbacks {
  onBatch?: (r: BatchReport) => void;
  /** Called after each epoch; may evaluate. */
  onEpochEnd?: (epoch: number, meanLoss: number) => Promise<void> | void;
  /** Called after every optimiser step (e.g. to re-apply pruning masks). */
  afterStep?: () => void;
  shouldStop?: () => boolean;
  /** Lets the host process messages (cancel) between batches. */
  yieldEvery?: () => Promise<void>;
}

export interface TrainOutcome {
  cancelled: boolean;
  steps: number;
  images: number;
  seconds: number;
}

/**
 * Trains for cfg.epochs over `train`, shuffling with a seeded stream per epoch.
 * `epochOffset` keeps shuffles different when training continues.
 */
export async function train(
  model: Net,
  optimizer: tf.Optimizer,
  train: DeviceSet,
  cfg: TrainConfig,
  cb: TrainCallbacks = {},
  epochOffset = 0,
): Promise<TrainOutcome> {
  const batchSize = Math.max(1, Math.min(cfg.batchSize, train.count));
  const batchesPerEpoch = Math.ceil(train.count / batchSize);
  const t0 = performance.now();
  let steps = 0;
  let images = 0;
  for (let e = 0; e < cfg.epochs; e++) {
    const epoch = epochOffset + e;
    const order = shuffledIndices(train.count, mulberry32(deriveSeed(cfg.seed, `epoch${epoch}`)));
    const orderT = tf.tensor1d(order, 'int32');
    let lossSum = 0;
    let seen = 0;
    try {
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (cb.shouldStop?.()) return { cancelled: true, steps, images, seconds: (performance.now() - t0) / 1000 };
        const start = b * batchSize;
        const n = Math.min(batchSize, train.count - start);
        const tb = performance.now();
        const [lossT, correctT] = tf.tidy(() => {
          const idx = orderT.slice(start, n);
          return trainStep(model, optimizer, tf.gather(train.xs, idx), tf.gather(train.ys, idx));
        });
        cb.afterStep?.();
        const [lossA, correctA] = await Promise.all([lossT.data(), correctT.data()]);
        tf.dispose([lossT, correctT]);
        const loss = lossA[0];
        steps++;
        images += n;
        lossSum += loss * n;
        seen += n;
        cb.onBatch?.({
          epoch,
          batch: b,
          batchesPerEpoch,
          size: n,
          loss,
          accuracy: correctA[0] / n,
          imagesPerSecond: (n * 1000) / (performance.now() - tb),
        });
        if (cb.yieldEvery) await cb.yieldEvery();
      }
    } finally {
      orderT.dispose();
    }
    await cb.onEpochEnd?.(epoch, lossSum / Math.max(1, seen));
  }
  return { cancelled: false, steps, images, seconds: (performance.now() - t0) / 1000 };
}

export interface Evaluation {
  accuracy: number;
  loss: number;
  perClass: number[];
  count: number;
  /** Counts [true class][predicted class], row-major (NUM_CLASSES²); absent in evaluations saved before it existed. */
  confusion?: number[];
}

/**
 * Accuracy, mean loss and per-class accuracy over a device set, in chunks to bound memory.
 * `abortIfStale` is checked between chunks, so a superseded evaluation stops early (it throws).
 */
export async function evaluate(model: Net, set: DeviceSet, abortIfStale?: () => void, chunk = 250): Promise<Evaluation> {
  const n = set.count;
  const correct = new Array<number>(NUM_CLASSES).fill(0);
  const total = new Array<number>(NUM_CLASSES).fill(0);
  const confusion = new Array<number>(NUM_CLASSES * NUM_CLASSES).fill(0);
  let lossSum = 0;
  for (let start = 0; start < n; start += chunk) {
    abortIfStale?.();
    const m = Math.min(chunk, n - start);
    const [predT, labelT, lossT] = tf.tidy(() => {
      const x = set.xs.slice([start, 0, 0, 0], [m, 32, 32, 3]);
      const y = set.ys.slice(start, m);
      const logits = model.predict(x);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, NUM_CLASSES), logits, undefined, undefined, tf.Reduction.SUM);
      return [tf.argMax(logits, 1), y.clone(), loss];
    });
    const [pred, label, loss] = await Promise.all([predT.data(), labelT.data(), lossT.data()]);
    tf.dispose([predT, labelT, lossT]);
    lossSum += loss[0];
    for (let i = 0; i < m; i++) {
      total[label[i]]++;
      confusion[label[i] * NUM_CLASSES + pred[i]]++;
      if (pred[i] === label[i]) correct[label[i]]++;
    }
  }
  const right = correct.reduce((a, b) => a + b, 0);
  return {
    accuracy: right / Math.max(1, n),
    loss: lossSum / Math.max(1, n),
    perClass: correct.map((c, i) => (total[i] ? c / total[i] : 0)),
    count: n,
    confusion,
  };
}
