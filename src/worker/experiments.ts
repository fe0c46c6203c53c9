/**
 * The experiments of issue 12 on the engine's tensors: the framework-free runners in
 * core/experiments with TensorFlow.js compute plugged in. The engine hands over what they need (the
 * spec, the baseline's weights, the test set already on the device, the training data on the device,
 * an abort signal its 'cancel' request fires, and the event sink); nothing here keeps state between
 * requests, and every tensor made here is disposed before the request answers.
 *
 * - Evaluation builds the pruned network as it is: in remove mode that is the physically smaller
 *   network, so the scan speeds up as it prunes. It uses the trainer's evaluate() on the test set
 *   already on the device (no upload per point), the same function the page's preview uses, so a
 *   scan point equals the accuracy the page shows for that single setting.
 * - Fine-tuning trains a fresh copy of the pruned network with its own optimiser and the run's seed,
 *   re-applying the masks after every step (pruned weights stay zero), as the page's fine-tuning does.
 */
import { type Evaluate, type Pause, defaultPause } from '../core/experiments/common';
import { type SensitivityResult, runSensitivity } from '../core/experiments/sensitivity';
import { type FineTune, type SweepResult, runSweep } from '../core/experiments/sweep';
import { Net, type ModelSpec, type NetWeights } from '../core/model/net';
import { createMaskApplier } from '../core/pruning/applyMasks';
import type { PruneScores } from '../core/pruning/pruner';
import { type ImageSet, createOptimizer, disposeOptimizer, evaluate, train } from '../core/train/trainer';
import type { EngineEvent, SensitivityRequest, SweepRequest } from './protocol';

/** What an experiment takes from the engine. */
export interface ExperimentContext {
  spec: ModelSpec;
  /** The unpruned baseline every point starts from. */
  baseline: NetWeights;
  /** The test set (on the device). */
  test: ImageSet;
  /** The first `subset` training images (0 = all): on the device, or on the host when large (trainer.ts HostSet). */
  trainingData: (subset: number) => ImageSet;
  /** Aborted by the engine's 'cancel' request: the runner returns the points done with `cancelled: true`. */
  signal: AbortSignal;
  emit: (e: EngineEvent) => void;
  /** Lets the worker take messages (a cancel) between points and batches. Default setTimeout(0). */
  pause?: Pause;
  /** Scores the engine computed for criteria that need data (Taylor). */
  scores?: PruneScores;
}

class Aborted extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Aborted';
  }
}

/** Test accuracy of `weights`, built as a network of their own shape and disposed after. Stops between chunks once aborted. */
export function evaluator(spec: ModelSpec, test: ImageSet, signal: AbortSignal): Evaluate {
  return async (weights) => {
    const net = new Net(spec, weights);
    try {
      return (
        await evaluate(net, test, () => {
          if (signal.aborted) throw new Aborted();
        })
      ).accuracy;
    } finally {
      net.dispose();
    }
  };
}

/** Fine-tuning of one sweep point: the request's optimiser settings, the run's seed and epochs, masks kept. */
export function fineTuner(ctx: ExperimentContext, req: SweepRequest): FineTune {
  const { spec, test, signal } = ctx;
  const pause = ctx.pause ?? defaultPause;
  return async (pruned, o) => {
    const data = ctx.trainingData(o.subset);
    const net = new Net(spec, pruned.weights);
    const masker = createMaskApplier(net, pruned.masks);
    const optimizer = createOptimizer(req.config);
    const config = { ...req.config, epochs: o.epochs, seed: o.seed };
    const batchesPerEpoch = Math.ceil(data.count / Math.max(1, Math.min(config.batchSize, data.count)));
    try {
      await train(net, optimizer, data, config, {
        afterStep: () => masker.apply(),
        onBatch: (b) => o.onProgress((b.epoch * batchesPerEpoch + b.batch + 1) / (o.epochs * batchesPerEpoch)),
        shouldStop: () => signal.aborted,
        yieldEvery: pause,
      });
      // A fine-tuning cut short is discarded by the runner; do not spend an evaluation on it.
      if (signal.aborted) return { accuracy: NaN };
      return { accuracy: (await evaluate(net, test)).accuracy };
    } finally {
      masker.dispose();
      disposeOptimizer(optimizer);
      net.dispose();
    }
  };
}

/** The layer sensitivity scan; progress and each finished point go out as 'experiment' events. */
export async function runSensitivityScan(ctx: ExperimentContext, req: SensitivityRequest): Promise<SensitivityResult> {
  const testImages = ctx.test.count; // the page says which test set the figures are on
  const result = await runSensitivity({
    spec: ctx.spec,
    baseline: ctx.baseline,
    mode: req.mode,
    criteria: req.criteria,
    randomSeeds: req.randomSeeds,
    fractions: req.fractions,
    layers: req.layers,
    evaluate: evaluator(ctx.spec, ctx.test, ctx.signal),
    scores: ctx.scores,
    signal: ctx.signal,
    pause: ctx.pause,
    onProgress: (progress) => ctx.emit({ type: 'experiment', kind: 'sensitivity', progress }),
    onPoint: (point) => ctx.emit({ type: 'experiment', kind: 'sensitivity', point }),
    onStart: (start) => ctx.emit({ type: 'experiment', kind: 'sensitivity', start: { ...start, testImages } }),
  });
  return { ...result, testImages };
}

/** Minimum milliseconds between two fine-tuning progress events (one per batch would be needlessly many on a fast backend). */
const PROGRESS_EVERY_MS = 100;

/** The method comparison; progress (throttled within a point) and each finished point go out as 'experiment' events. */
export async function runMethodSweep(ctx: ExperimentContext, req: SweepRequest): Promise<SweepResult> {
  let last = -Infinity;
  const testImages = ctx.test.count;
  const result = await runSweep({
    spec: ctx.spec,
    baseline: ctx.baseline,
    mode: req.mode,
    criteria: req.criteria,
    sparsities: req.sparsities,
    seeds: req.seeds,
    epochs: req.epochs,
    subset: req.subset,
    scope: req.scope,
    previous: req.previous,
    controls: true, // every comparison gets its per-seed control (issue 22)
    previousControls: req.previousControls,
    evaluate: evaluator(ctx.spec, ctx.test, ctx.signal),
    fineTune: fineTuner(ctx, req),
    scores: ctx.scores,
    signal: ctx.signal,
    pause: ctx.pause,
    onProgress: (progress) => {
      const now = performance.now();
      // Phase changes and the end always go out; reports within a fine-tuning at most every PROGRESS_EVERY_MS.
      if (progress.phase === 'fineTuning' && progress.pointFraction > 0 && progress.pointFraction < 1 && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      ctx.emit({ type: 'experiment', kind: 'sweep', progress });
    },
    onPoint: (point) => ctx.emit({ type: 'experiment', kind: 'sweep', point }),
    onStart: (start) => ctx.emit({ type: 'experiment', kind: 'sweep', start: { ...start, testImages } }),
  });
  return { ...result, testImages };
}
