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
import { augmentBatch, blankPixel, drawAugment } from './augment';
import { DEFAULT_RECIPE, type Recipe, decayedTensorNames, learningRateAt, warmupSteps } from './recipe';

export type OptimizerName = 'adam' | 'sgd';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  /** Used by SGD only. */
  momentum: number;
  seed: number;
  /** Augmentation, Nesterov, weight decay, schedule, label smoothing; absent = DEFAULT_RECIPE (none of them). */
  recipe?: Recipe;
}

/** A data set held on the backend as normalised NHWC float32 plus int32 labels. */
export interface DeviceSet {
  xs: tf.Tensor4D;
  ys: tf.Tensor1D;
  count: number;
  /** The normalised value of a 0 byte per channel: augmentation's zero padding. */
  blank?: readonly number[];
}

export function toDevice(set: Cifar10Set, stats: ChannelStats): DeviceSet {
  const { images, labels } = normalisedBatch(set, stats, null, 0, set.count);
  return {
    xs: tf.tensor4d(images, [set.count, 32, 32, 3]),
    ys: tf.tensor1d(labels, 'int32'),
    count: set.count,
    blank: blankPixel(stats),
  };
}

/**
 * A data set kept as its bytes in memory (uint8, 3 KB per image) and normalised batch by batch as it is
 * used: the full CIFAR-10's 50,000 training images are 150 MB so, against 614 MB as float32 on the
 * backend. The values are those toDevice would hold (normalisedBatch's table, per record), so training
 * and evaluation give the same numbers either way (trainer.test.ts).
 */
export interface HostSet {
  host: Cifar10Set;
  stats: ChannelStats;
  count: number;
  blank: readonly number[];
}

/** What training and evaluation read: on the backend (small sets) or on the host (the full training set). */
export type ImageSet = DeviceSet | HostSet;

export function toHost(set: Cifar10Set, stats: ChannelStats): HostSet {
  return { host: set, stats, count: set.count, blank: blankPixel(stats) };
}

const isHost = (s: ImageSet): s is HostSet => 'host' in s;

/**
 * Records order[start … start + n) (`order` null: start … start + n) as tensors [n, 32, 32, 3] and [n]
 * (the caller disposes them, or runs inside tf.tidy). `orderT` is `order` on the backend (device sets gather with it).
 */
function batchOf(set: ImageSet, order: Int32Array | null, orderT: tf.Tensor1D | null, start: number, n: number): [tf.Tensor4D, tf.Tensor1D] {
  if (isHost(set)) {
    const { images, labels } = normalisedBatch(set.host, set.stats, order, start, n);
    return [tf.tensor4d(images, [n, 32, 32, 3]), tf.tensor1d(labels, 'int32')];
  }
  if (!orderT) return [set.xs.slice([start, 0, 0, 0], [n, 32, 32, 3]), set.ys.slice(start, n)];
  return tf.tidy(() => {
    const idx = orderT.slice(start, n);
    return [tf.gather(set.xs, idx), tf.gather(set.ys, idx)];
  });
}

export function disposeDeviceSet(s: ImageSet | null | undefined): void {
  if (s && !isHost(s)) tf.dispose([s.xs, s.ys]);
}

export function createOptimizer(cfg: Pick<TrainConfig, 'optimizer' | 'learningRate' | 'momentum' | 'recipe'>): tf.Optimizer {
  // tf.train.adam / tf.train.momentum with the update fused into one kernel per variable on wasm
  // (Nesterov runs tfjs's own update: the same formula as PyTorch's SGD(nesterov=True)).
  return cfg.optimizer === 'sgd'
    ? new FusedMomentumOptimizer(cfg.learningRate, cfg.momentum, cfg.recipe?.nesterov ?? false)
    : new FusedAdamOptimizer(cfg.learningRate, 0.9, 0.999);
}

/** Sets the learning rate the next step uses (the schedule's, per step). */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  if (opt instanceof tf.SGDOptimizer || opt instanceof FusedAdamOptimizer) opt.setLearningRate(lr);
  else throw new Error(`cannot set the learning rate of ${opt.getClassName()}`);
}

/** What a step does beyond the plain gradient step. */
export interface StepOptions {
  /** Weight decay: `rate` × weight added to the gradient of these variables (their tf names). */
  decay?: { rate: number; variables: ReadonlySet<string> };
  labelSmoothing?: number;
}

/** The tf names of the model's variables weight decay applies to (conv and linear weights). */
export function decayedVariableNames(model: Net): Set<string> {
  return new Set(decayedTensorNames(model.spec, model.channels).map((n) => model.variable(n).name));
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
  opts: StepOptions = {},
): [tf.Scalar, tf.Scalar] {
  let logits: tf.Tensor2D | null = null;
  const smoothing = opts.labelSmoothing ?? 0;
  const lossFn = () => {
    logits = tf.keep(forward(xb));
    return tf.losses.softmaxCrossEntropy(tf.oneHot(yb, NUM_CLASSES), logits, undefined, smoothing) as tf.Scalar;
  };
  let loss: tf.Scalar;
  const decay = opts.decay;
  if (decay && decay.rate > 0) {
    // PyTorch's SGD/Adam weight_decay: gradient + rate × weight, before the optimiser's own update.
    const { value, grads } = optimizer.computeGradients(lossFn, model.trainableVariables);
    const decayed: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) {
      decayed[name] = decay.variables.has(name) ? tf.add(g, tf.mul(tf.engine().registeredVariables[name], decay.rate)) : g;
    }
    optimizer.applyGradients(decayed);
    tf.dispose([...Object.values(grads), ...Object.values(decayed)]);
    loss = value;
  } else {
    loss = optimizer.minimize(lossFn, true, model.trainableVariables) as tf.Scalar;
  }
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
  /** The learning rate this step used (the schedule's). */
  learningRate: number;
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
  train: ImageSet,
  cfg: TrainConfig,
  cb: TrainCallbacks = {},
  epochOffset = 0,
): Promise<TrainOutcome> {
  const batchSize = Math.max(1, Math.min(cfg.batchSize, train.count));
  const batchesPerEpoch = Math.ceil(train.count / batchSize);
  const recipe = cfg.recipe ?? DEFAULT_RECIPE;
  const totalSteps = cfg.epochs * batchesPerEpoch;
  const warmup = warmupSteps(recipe.warmupEpochs, batchesPerEpoch);
  const scheduled = recipe.schedule !== 'constant' || warmup > 0;
  const stepOpts: StepOptions = {
    labelSmoothing: recipe.labelSmoothing,
    decay: recipe.weightDecay > 0 ? { rate: recipe.weightDecay, variables: decayedVariableNames(model) } : undefined,
  };
  if (recipe.augment && !train.blank) throw new Error('augmentation needs the data set\'s normalisation (toDevice)');
  const t0 = performance.now();
  let steps = 0;
  let images = 0;
  for (let e = 0; e < cfg.epochs; e++) {
    const epoch = epochOffset + e;
    const order = shuffledIndices(train.count, mulberry32(deriveSeed(cfg.seed, `epoch${epoch}`)));
    // The augmentation's own stream per epoch: the same seed gives the same crops and flips.
    const augRand = recipe.augment ? mulberry32(deriveSeed(cfg.seed, `augment${epoch}`)) : null;
    const orderT = isHost(train) ? null : tf.tensor1d(order, 'int32');
    let lossSum = 0;
    let seen = 0;
    try {
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (cb.shouldStop?.()) {
          if (scheduled) setLearningRate(optimizer, cfg.learningRate);
          return { cancelled: true, steps, images, seconds: (performance.now() - t0) / 1000 };
        }
        const start = b * batchSize;
        const n = Math.min(batchSize, train.count - start);
        const tb = performance.now();
        const lr = scheduled ? learningRateAt(recipe.schedule, cfg.learningRate, e * batchesPerEpoch + b, totalSteps, warmup) : cfg.learningRate;
        if (scheduled) setLearningRate(optimizer, lr);
        const draws = augRand ? drawAugment(n, augRand) : null;
        const [lossT, correctT] = tf.tidy(() => {
          const [xb, yb] = batchOf(train, order, orderT, start, n);
          const x = draws ? augmentBatch(xb, train.blank!, draws) : xb;
          return trainStep(model, optimizer, x, yb, undefined, stepOpts);
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
          learningRate: lr,
        });
        if (cb.yieldEvery) await cb.yieldEvery();
      }
    } finally {
      orderT?.dispose();
    }
    await cb.onEpochEnd?.(epoch, lossSum / Math.max(1, seen));
  }
  if (scheduled) setLearningRate(optimizer, cfg.learningRate); // a later run starts from its own schedule
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
export async function evaluate(model: Net, set: ImageSet, abortIfStale?: () => void, chunk = 250): Promise<Evaluation> {
  const n = set.count;
  const correct = new Array<number>(NUM_CLASSES).fill(0);
  const total = new Array<number>(NUM_CLASSES).fill(0);
  const confusion = new Array<number>(NUM_CLASSES * NUM_CLASSES).fill(0);
  let lossSum = 0;
  for (let start = 0; start < n; start += chunk) {
    abortIfStale?.();
    const m = Math.min(chunk, n - start);
    const [predT, labelT, lossT] = tf.tidy(() => {
      const [x, y] = batchOf(set, null, null, start, m);
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
