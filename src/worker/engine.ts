/**
 * The engine: everything that touches TensorFlow.js. It runs in a dedicated worker (see
 * engine.worker.ts) so training never blocks the page, but has no worker-specific code itself,
 * which keeps it testable.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend/selectBackend';
import { type ChannelStats, type Cifar10Set, channelStats, takeFirst } from '../core/data/cifar10';
import { SimpleCNN, type SimpleCnnWeights } from '../core/model/simpleCnn';
import { type PruneResult, type PruneSettings, createMaskApplier, measureCosts, prune } from '../core/pruning';
import {
  type DeviceSet,
  type Evaluation,
  type TrainConfig,
  createOptimizer,
  disposeDeviceSet,
  disposeOptimizer,
  evaluate,
  toDevice,
  train,
} from '../core/train/trainer';
import type {
  BackendInfo,
  BackendName,
  DataRole,
  EngineEvent,
  MemoryReply,
  ModelRole,
  PreviewReply,
  Request,
  TrainReply,
} from './protocol';

interface PrunedState {
  model: SimpleCNN;
  result: PruneResult;
  settings: PruneSettings;
}

export class Engine {
  private info: BackendInfo | null = null;
  private sets: Partial<Record<DataRole, Cifar10Set>> = {};
  private stats: ChannelStats | null = null;
  private test: DeviceSet | null = null;
  /** Training data on the device, cached per subset size. */
  private trainDevice: { size: number; set: DeviceSet } | null = null;
  private baseline: SimpleCNN | null = null;
  private baselineEpochs = 0;
  /** Typed-array copy of the baseline, the input of every prune; refreshed after training. */
  private baselineWeights: SimpleCnnWeights | null = null;
  private pruned: PrunedState | null = null;
  private prunedEpochs = 0;
  /** Each model's optimiser with the settings it was made for (state carries over between runs). */
  private optimizers: Partial<Record<ModelRole, { optimizer: tf.Optimizer; key: string }>> = {};
  private cancelRequested = false;
  private latestPreview = 0;

  constructor(private readonly emit: (e: EngineEvent) => void) {}

  /** Requests that must not wait behind a running job (memory waits, so it reads a settled count). */
  static isImmediate(r: Request): boolean {
    return r.type === 'cancel';
  }

  /** Called as a preview request arrives, so an older queued preview knows it is stale. */
  notePreview(seq: number): void {
    this.latestPreview = seq;
  }

  async handle(r: Request, seq: number): Promise<unknown> {
    switch (r.type) {
      case 'init':
        return this.init(r.backend);
      case 'setData':
        return this.setData(r.role, r.set);
      case 'train':
        return this.train(r.role, r.config, r.trainSubset);
      case 'cancel':
        this.cancelRequested = true;
        return true;
      case 'evaluate':
        return this.evaluate(this.model(r.role));
      case 'preview':
        if (seq !== this.latestPreview) throw new SupersededError();
        return this.preview(r.settings, seq);
      case 'resetBaseline':
        this.newBaseline(r.seed);
        return true;
      case 'memory':
        return this.memory();
    }
  }

  private async init(requested: BackendName | null): Promise<BackendInfo> {
    this.info = await selectBackend(requested);
    return this.info;
  }

  private setData(role: DataRole, set: Cifar10Set): { count: number } {
    this.sets[role] = set;
    if (role === 'train') {
      // Normalisation statistics come from the training set; the test set reuses them.
      this.stats = channelStats(set);
      disposeDeviceSet(this.trainDevice?.set);
      this.trainDevice = null;
      disposeDeviceSet(this.test);
      this.test = null;
    } else {
      disposeDeviceSet(this.test);
      this.test = null;
    }
    return { count: set.count };
  }

  private testDevice(): DeviceSet {
    if (!this.test) {
      if (!this.sets.test || !this.stats) throw new Error('Load training and test data first.');
      this.test = toDevice(this.sets.test, this.stats);
    }
    return this.test;
  }

  private trainingDevice(subset: number): DeviceSet {
    const set = this.sets.train;
    if (!set || !this.stats) throw new Error('Load training data first.');
    const size = subset > 0 ? Math.min(subset, set.count) : set.count;
    if (this.trainDevice?.size !== size) {
      disposeDeviceSet(this.trainDevice?.set);
      this.trainDevice = { size, set: toDevice(takeFirst(set, size), this.stats) };
    }
    return this.trainDevice.set;
  }

  private newBaseline(seed: number): void {
    this.dropPruned();
    this.baseline?.dispose();
    this.dropOptimizer('baseline');
    this.baseline = SimpleCNN.create(seed);
    this.baselineEpochs = 0;
    this.baselineWeights = null;
  }

  private model(role: ModelRole): SimpleCNN {
    if (role === 'pruned') {
      if (!this.pruned) throw new Error('Nothing is pruned yet: move a slider first.');
      return this.pruned.model;
    }
    if (!this.baseline) throw new Error('No baseline model yet.');
    return this.baseline;
  }

  private dropPruned(): void {
    this.pruned?.model.dispose();
    this.pruned = null;
    this.prunedEpochs = 0;
    this.dropOptimizer('pruned');
  }

  private dropOptimizer(role: ModelRole): void {
    const o = this.optimizers[role];
    if (o) disposeOptimizer(o.optimizer);
    delete this.optimizers[role];
  }

  /** The role's optimiser, made afresh when its settings change; otherwise training continues with its state. */
  private optimizerFor(role: ModelRole, config: TrainConfig): tf.Optimizer {
    const key = `${config.optimizer}:${config.learningRate}:${config.momentum}`;
    if (this.optimizers[role]?.key !== key) {
      this.dropOptimizer(role);
      this.optimizers[role] = { optimizer: createOptimizer(config), key };
    }
    return this.optimizers[role]!.optimizer;
  }

  private async train(role: ModelRole, config: TrainConfig, subset: number): Promise<TrainReply> {
    const model = this.model(role);
    const data = this.trainingDevice(subset);
    const test = this.testDevice();
    if (role === 'baseline') {
      // Pruned previews derive from the baseline; training it makes them stale.
      this.dropPruned();
      this.baselineWeights = null;
    }
    const optimizer = this.optimizerFor(role, config);
    // Pruned weights stay zero while fine-tuning: the masks are re-applied after every step.
    const masker = role === 'pruned' ? createMaskApplier(model, this.pruned!.result.masks) : null;
    this.cancelRequested = false;
    const offset = role === 'baseline' ? this.baselineEpochs : this.prunedEpochs;
    let lastEpochEval: Evaluation | null = null;
    const outcome = await train(
      model,
      optimizer,
      data,
      config,
      {
        onBatch: (report) => this.emit({ type: 'batch', role, report }),
        onEpochEnd: async (epoch, trainLoss) => {
          const evaluation = await evaluate(model, test);
          lastEpochEval = evaluation;
          this.emit({ type: 'epoch', role, epoch, trainLoss, evaluation });
        },
        afterStep: masker ? () => masker.apply() : undefined,
        shouldStop: () => this.cancelRequested,
        yieldEvery: () => new Promise((r) => setTimeout(r, 0)),
      },
      offset,
    ).finally(() => masker?.dispose());
    const epochsDone = outcome.cancelled ? Math.floor(outcome.steps / Math.ceil(data.count / config.batchSize)) : config.epochs;
    if (role === 'baseline') this.baselineEpochs += epochsDone;
    else this.prunedEpochs += epochsDone;
    // The last epoch's evaluation already describes the final weights unless the run was cancelled.
    const evaluation = (!outcome.cancelled && lastEpochEval) || (await evaluate(model, test));
    const measured = role === 'pruned' ? measureCosts(await model.readWeights()) : null;
    return { ...outcome, evaluation, measured };
  }

  private async evaluate(model: SimpleCNN): Promise<Evaluation> {
    return evaluate(model, this.testDevice());
  }

  private async preview(settings: PruneSettings, seq: number): Promise<PreviewReply> {
    const t0 = performance.now();
    if (!this.baseline) throw new Error('No baseline model yet.');
    if (!this.baselineWeights) this.baselineWeights = await this.baseline.readWeights();
    if (seq !== this.latestPreview) throw new SupersededError();
    const result = prune(this.baselineWeights, settings);
    this.dropPruned();
    this.pruned = { model: new SimpleCNN(result.weights), result, settings };
    const evaluation = await evaluate(this.pruned.model, this.testDevice(), () => {
      if (seq !== this.latestPreview) throw new SupersededError();
    });
    return {
      settings,
      costs: result.costs,
      evaluation,
      keptFilters: result.keptFilters,
      conv1: { kernel: this.baselineWeights.conv1Kernel, kept: conv1Survivors(result, settings, this.baselineWeights.filters) },
      millis: performance.now() - t0,
    };
  }

  private memory(): MemoryReply {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }
}

export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer request');
    this.name = 'SupersededError';
  }
}

/** Which baseline conv1 weights survive, in the baseline's layout (removal leaves no mask, only kept filters). */
function conv1Survivors(result: PruneResult, settings: PruneSettings, filters: number): Uint8Array {
  if (settings.mode !== 'remove' && result.masks.conv1Kernel) return result.masks.conv1Kernel;
  const kept = new Uint8Array(filters);
  for (const c of result.keptFilters) kept[c] = 1;
  const out = new Uint8Array(27 * filters);
  for (let i = 0; i < out.length; i++) out[i] = kept[i % filters];
  return out;
}
