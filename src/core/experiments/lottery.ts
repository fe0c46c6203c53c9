/**
 * The lottery ticket (Frankle & Carbin 2019): iterative magnitude pruning — train, prune p % of each
 * layer's remaining weights by |w| (unstructured, per layer), REWIND the survivors to their initial (or
 * epoch-k) values, train again with the same budget — against two controls with the same seeds and
 * budget: the same mask with freshly drawn weights (re-initialised), and a random mask of the same
 * per-layer sparsity rewound to the same weights. Framework-free: the caller injects training.
 *
 * The worker runs it (worker/lottery.ts, the 'lottery' request); the page draws it (ui/LotteryPanel.tsx).
 */
import { initialWeights } from '../model/init';
import { type ModelSpec, type NetWeights, tensors } from '../model/spec';
import { fraction } from '../pruning/amount';
import { applyMask, countKept, l1UnstructuredMask, randomUnstructuredMask } from '../pruning/masks';
import { deriveSeed } from '../random';

export type LotteryArm = 'rewind' | 'reinit' | 'randomMask';
export const LOTTERY_ARMS: readonly LotteryArm[] = ['rewind', 'reinit', 'randomMask'];

/** Masks by tensor name (1 = kept): the weights of every conv and linear layer. */
export type Masks = Record<string, Uint8Array>;

/** The tensors IMP prunes: every conv and linear weight (biases and BatchNorm stay, as in the paper). */
export const prunableTensors = (spec: ModelSpec, w: NetWeights): string[] => tensors(spec, w.channels).filter((t) => t.role === 'weight').map((t) => t.name);

/** One IMP round's masks: p of each layer's REMAINING weights go, smallest |w| of the trained weights first. */
export function magnitudeRound(spec: ModelSpec, trained: NetWeights, prior: Masks | null, p: number): Masks {
  return Object.fromEntries(prunableTensors(spec, trained).map((n) => [n, l1UnstructuredMask(trained.tensors[n], fraction(p), prior?.[n] ?? null)]));
}

/** Random masks with each layer's kept count equal to `like`'s (the random-mask control). */
export function randomMasksLike(like: Masks, seed: number): Masks {
  return Object.fromEntries(
    Object.entries(like).map(([n, m]) => [n, randomUnstructuredMask(m.length, fraction(1 - countKept(m) / m.length), deriveSeed(seed, `lottery.${n}`))]),
  );
}

/** The rewind weights with the masks applied: every kept weight exactly its saved value, pruned ones 0. Fresh arrays. */
export function rewind(saved: NetWeights, masks: Masks): NetWeights {
  return {
    model: saved.model,
    channels: [...saved.channels],
    tensors: Object.fromEntries(Object.entries(saved.tensors).map(([n, a]) => [n, masks[n] ? applyMask(a, masks[n]) : a.slice()])),
  };
}

/** Fraction of the prunable weights that are masked. */
export function sparsityOf(masks: Masks): number {
  let kept = 0;
  let all = 0;
  for (const m of Object.values(masks)) {
    kept += countKept(m);
    all += m.length;
  }
  return all ? 1 - kept / all : 0;
}

export interface TrainRun {
  arm: LotteryArm;
  round: number;
  /** Starting weights (masked) and masks re-applied after each step. */
  start: NetWeights;
  masks: Masks;
  /** The same for every arm of a round: training order and any randomness. */
  seed: number;
  epochs: number;
  /** The dense run (round 0) when rewinding late: return the weights after this many epochs as `early`. */
  saveAtEpoch?: number;
}

export interface LotteryOptions {
  spec: ModelSpec;
  /** Seed of the initial weights (initialWeights(spec, initSeed)). */
  initSeed: number;
  /** Fraction of each layer's remaining weights pruned per round (the paper: 0.2 conv … here one p). */
  p: number;
  rounds: number;
  epochs: number;
  seed: number;
  /** Rewind to the weights after this many epochs of the dense run (0: the initial weights, the original paper). */
  rewindEpoch?: number;
  /** Trains and returns the trained weights and test accuracy (and `early`, when asked by saveAtEpoch). */
  train: (run: TrainRun) => Promise<{ weights: NetWeights; accuracy: number; early?: NetWeights }>;
  /** Once aborted, the run cut short is dropped and the points done so far are returned. */
  signal?: AbortSignal;
  /** Each point as it is measured (the page draws the chart as it grows). */
  onPoint?: (p: LotteryPoint) => void;
}

/** Trainings a lottery run does: the dense one, then the three arms per round. */
export const lotteryTrainings = (rounds: number): number => 1 + rounds * LOTTERY_ARMS.length;

export interface LotteryPoint {
  arm: LotteryArm;
  round: number;
  sparsity: number;
  accuracy: number;
}

/**
 * Round 0 trains the dense network; each later round derives the mask from the rewind arm's trained
 * weights (the ticket), then trains all three arms from their starts with the same seed and epochs.
 */
export async function runLottery(o: LotteryOptions): Promise<LotteryPoint[]> {
  const init = initialWeights(o.spec, o.initSeed);
  const none: Masks = {};
  const dense = await o.train({ arm: 'rewind', round: 0, start: init, masks: none, seed: o.seed, epochs: o.epochs, ...(o.rewindEpoch ? { saveAtEpoch: o.rewindEpoch } : {}) });
  if (o.signal?.aborted) return [];
  if (o.rewindEpoch && !dense.early) throw new Error(`rewinding to epoch ${o.rewindEpoch} needs the dense run's weights after that epoch`);
  const saved = o.rewindEpoch ? dense.early! : init;
  const points: LotteryPoint[] = LOTTERY_ARMS.map((arm) => ({ arm, round: 0, sparsity: 0, accuracy: dense.accuracy }));
  points.forEach((p) => o.onPoint?.(p));
  let trained = dense.weights;
  let masks: Masks | null = null;
  for (let round = 1; round <= o.rounds; round++) {
    if (o.signal?.aborted) break;
    masks = magnitudeRound(o.spec, trained, masks, o.p);
    const starts: Record<LotteryArm, { start: NetWeights; masks: Masks }> = {
      rewind: { start: rewind(saved, masks), masks },
      reinit: { start: rewind(initialWeights(o.spec, deriveSeed(o.initSeed, `lottery.reinit.${round}`)), masks), masks },
      randomMask: (() => {
        const m = randomMasksLike(masks, deriveSeed(o.seed, `lottery.random.${round}`));
        return { start: rewind(saved, m), masks: m };
      })(),
    };
    for (const arm of LOTTERY_ARMS) {
      const r = await o.train({ arm, round, start: starts[arm].start, masks: starts[arm].masks, seed: o.seed, epochs: o.epochs });
      if (o.signal?.aborted) return points;
      const point: LotteryPoint = { arm, round, sparsity: sparsityOf(starts[arm].masks), accuracy: r.accuracy };
      points.push(point);
      o.onPoint?.(point);
      if (arm === 'rewind') trained = r.weights;
    }
  }
  return points;
}
