/**
 * The lottery ticket on the engine's tensors: core/experiments/lottery.ts with TensorFlow.js training
 * plugged in. Every run (the dense one and each arm of each round) trains a fresh network from its
 * start weights with its own optimiser, the request's config, the same seed and epoch numbering from 0
 * (so every arm sees the same batches in the same order), re-applying its masks after every step, and
 * is evaluated on the test set on the device. Every tensor made here is disposed before the run returns.
 */
import { defaultPause } from '../core/experiments/common';
import { type LotteryPoint, lotteryTrainings, runLottery } from '../core/experiments/lottery';
import { Net, type NetWeights } from '../core/model/net';
import { createMaskApplier } from '../core/pruning/applyMasks';
import { createOptimizer, disposeOptimizer, evaluate, train } from '../core/train/trainer';
import type { ExperimentContext } from './experiments';
import type { LotteryProgress, LotteryRequest, LotteryResult } from './protocol';

/** Least time between two progress events within a training (ms). */
const PROGRESS_EVERY_MS = 250;

/** Says what is wrong with a request, or null (the page checks the same before sending). */
export function lotteryProblem(r: LotteryRequest): string | null {
  if (!(Number.isInteger(r.rounds) && r.rounds >= 1 && r.rounds <= 20)) return 'Rounds: a whole number from 1 to 20.';
  if (!(r.p > 0 && r.p < 1)) return 'Pruned per round: a percentage above 0 and below 100.';
  if (!(Number.isInteger(r.epochs) && r.epochs >= 1)) return 'Epochs per round: a whole number, at least 1.';
  if (!(Number.isInteger(r.rewindEpoch) && r.rewindEpoch >= 0 && r.rewindEpoch < r.epochs)) return `Rewind point: a whole number of epochs from 0 to ${r.epochs - 1} (less than the epochs per round).`;
  if (!(Number.isInteger(r.subset) && r.subset >= 0)) return 'Training subset: a whole number of images (0 = all).';
  return null;
}

export async function runLotteryExperiment(ctx: ExperimentContext, r: LotteryRequest): Promise<LotteryResult> {
  const problem = lotteryProblem(r);
  if (problem) throw new Error(problem);
  const { spec, test, signal } = ctx;
  const pause = ctx.pause ?? defaultPause;
  const data = ctx.trainingData(r.subset);
  const t0 = performance.now();
  const total = lotteryTrainings(r.rounds);
  let done = 0;
  let sentAt = -Infinity;
  const points: LotteryPoint[] = [];
  const result = (cancelled: boolean): LotteryResult => ({
    model: spec.id,
    rounds: r.rounds,
    p: r.p,
    epochs: r.epochs,
    rewindEpoch: r.rewindEpoch,
    seed: r.seed,
    images: data.count,
    points: [...points],
    cancelled,
    seconds: (performance.now() - t0) / 1000,
  });
  const progress = (p: Omit<LotteryProgress, 'total' | 'elapsedSeconds'>, force: boolean) => {
    const now = performance.now();
    if (!force && now - sentAt < PROGRESS_EVERY_MS) return;
    sentAt = now;
    ctx.emit({ type: 'experiment', kind: 'lottery', progress: { ...p, total, elapsedSeconds: (now - t0) / 1000 } });
  };
  ctx.emit({ type: 'experiment', kind: 'lottery', start: result(false) });
  const batchesPerEpoch = Math.ceil(data.count / Math.max(1, Math.min(r.config.batchSize, data.count)));
  await runLottery({
    spec,
    initSeed: r.seed,
    p: r.p,
    rounds: r.rounds,
    epochs: r.epochs,
    seed: r.seed,
    rewindEpoch: r.rewindEpoch,
    signal,
    onPoint: (point) => {
      points.push(point);
      ctx.emit({ type: 'experiment', kind: 'lottery', point });
    },
    train: async (run) => {
      progress({ done, round: run.round, arm: run.arm, fraction: done / total }, true);
      const net = new Net(spec, run.start);
      const masker = createMaskApplier(net, run.masks);
      const optimizer = createOptimizer(r.config);
      let early: NetWeights | undefined;
      try {
        await train(
          net,
          optimizer,
          data,
          { ...r.config, epochs: run.epochs, seed: run.seed },
          {
            afterStep: () => masker.apply(),
            onBatch: (b) => progress({ done, round: run.round, arm: run.arm, fraction: (done + (b.epoch * batchesPerEpoch + b.batch + 1) / (run.epochs * batchesPerEpoch)) / total }, false),
            onEpochEnd: async (epoch) => {
              if (run.saveAtEpoch !== undefined && epoch + 1 === run.saveAtEpoch) early = await net.readWeights();
            },
            shouldStop: () => signal.aborted,
            yieldEvery: pause,
          },
        );
        // A run cut short is dropped by runLottery: no evaluation for it.
        const accuracy = signal.aborted ? NaN : (await evaluate(net, test)).accuracy;
        const weights = signal.aborted ? run.start : await net.readWeights();
        done++;
        return { weights, accuracy, ...(early ? { early } : {}) };
      } finally {
        masker.dispose();
        disposeOptimizer(optimizer);
        net.dispose();
      }
    },
  });
  progress({ done, round: r.rounds, arm: 'randomMask', fraction: done / total }, true);
  return result(signal.aborted);
}
