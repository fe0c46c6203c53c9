/**
 * The engine: everything that touches TensorFlow.js. It runs in a dedicated worker (see
 * engine.worker.ts) so training never blocks the page, but has no worker-specific code itself,
 * which keeps it testable.
 */
import * as tf from '@tensorflow/tfjs';
import { type AutoRecord, JobActivity, type MeasuredAuto, autoKey, describeMeasurements, runMeasuredAuto } from '../core/backend/autoBackend';
import { type KernelsChoice, installKernels, kernelsPrecheck } from '../core/backend/kernels';
import { selectBackend } from '../core/backend/selectBackend';
import { setHelpersPaused, simdKernelInfo } from '../core/backend/wasmSimd';
import { type HelperDecision, HelperTuner } from '../core/backend/wasmSimd/helperTuner';
import { type ChannelStats, type Cifar10Set, channelStats, normalisedBatch, takeFirst } from '../core/data/cifar10';
import { Net, type ModelSpec, type NetWeights } from '../core/model/net';
import { type ConvNode, shapes, structure } from '../core/model/graph';
import type { ModelId } from '../core/model/spec';
import { DEFAULT_MODEL, specFor } from '../core/model/zoo';
import { type FinetuneRecipe, type PytorchExportInput, buildPytorchExportZip, exportProblem, pruneScript, replaysSteps, scriptRunsSchedule } from '../core/export/pytorchScript';
import { lnNorms } from '../core/pruning/importance';
import { type PruneResult, type PruneSettings, createMaskApplier, measureCosts, prune } from '../core/pruning';
import type { Schedule } from '../core/pruning/schedule';
import { pruneScheduledStep, startSchedule } from '../core/pruning/scheduled';
import type { PruneScores } from '../core/pruning/pruner';
import { DEFAULT_TAYLOR_BATCH, type TaylorBatch } from '../core/pruning/settings';
import { taylorBatchIndices } from '../core/pruning/taylor';
import { lossWithoutUnit, taylorGroupScores } from '../core/pruning/taylorNet';
import { groupById } from '../core/pruning/groups';
import { randomScores } from '../core/pruning/importance';
import { unitScores } from '../core/pruning/pruner';
import { measureOracle, spearman } from '../core/experiments/oracle';
import { Cancelled } from '../core/experiments/common';
import { deriveSeed } from '../core/random';
import {
  type BatchReport,
  type DeviceSet,
  type Evaluation,
  type ImageSet,
  type TrainConfig,
  createOptimizer,
  disposeDeviceSet,
  disposeOptimizer,
  evaluate,
  toDevice,
  toHost,
  train,
} from '../core/train/trainer';
import type {
  AutoInfo,
  BackendInfo,
  BackendName,
  ControlReply,
  DataRole,
  EngineEvent,
  FilterView,
  MemoryReply,
  ModelRole,
  OracleCriterion,
  OracleReply,
  OracleRequest,
  PreviewReply,
  PytorchExportReply,
  ReplyOf,
  Request,
  RequestType,
  ScheduleStepReport,
  ScheduledReply,
  TaylorInfo,
  TrainReply,
} from './protocol';
import { SUPERSEDED } from './protocol';
import { type ExperimentContext, runMethodSweep, runSensitivityScan } from './experiments';
import { featureMaps, speedLab, testImages } from './inspect';
import { runLotteryExperiment } from './lottery';

/**
 * Training sets larger than this stay bytes on the host and are normalised batch by batch (trainer.ts
 * HostSet): the full CIFAR-10's 50,000 images would be 614 MB as float32 on the backend.
 */
export const HOST_SET_ABOVE = 10_000;

/** Least time between two batch events to the page (ms). */
const BATCH_EVENT_MS = 100;

interface PrunedState {
  model: Net;
  result: PruneResult;
  settings: PruneSettings;
}

/** The measured auto's wiring (engine.worker.ts gives the real one; without it, auto is selectBackend's rule). */
export interface EngineAuto {
  /** Made with the kernels choice the measurement workers must use. */
  make: (kernels: KernelsChoice) => MeasuredAuto;
  userAgent: string;
  /** Runs a job between the engine's requests (the worker's queue): the backend switch. */
  schedule: (job: () => Promise<void>) => void;
}

export class Engine {
  private info: BackendInfo | null = null;
  /** backend=auto with a measured auto: the state of the measurement; null when a backend was asked for. */
  private autoState: { auto: MeasuredAuto; kernels: KernelsChoice; measured: Set<string>; cachedAt: number | null } | null = null;
  private sets: Partial<Record<DataRole, Cifar10Set>> = {};
  private stats: ChannelStats | null = null;
  private test: DeviceSet | null = null;
  /** Training data on the device (or the host, when large), cached per subset size. */
  private trainDevice: { size: number; set: ImageSet } | null = null;
  /** The slider previews' test images when the test set is large (the full 10,000: previews stay on the 1,000); null: the test set. */
  private previewSet: Cifar10Set | null = null;
  private previewDeviceSet: DeviceSet | null = null;
  private spec: ModelSpec = specFor(DEFAULT_MODEL);
  private baseline: Net | null = null;
  private baselineEpochs = 0;
  /** Typed-array copy of the baseline, the input of every prune; refreshed after training. */
  private baselineWeights: NetWeights | null = null;
  private pruned: PrunedState | null = null;
  private prunedEpochs = 0;
  /** Each model's optimiser with the settings it was made for (state carries over between runs). */
  private optimizers: Partial<Record<ModelRole, { optimizer: tf.Optimizer; key: string }>> = {};
  private cancelRequested = false;
  /** The running experiment's abort: 'cancel' fires it (training polls cancelRequested instead). */
  private experimentAbort: AbortController | null = null;
  private latestPreview = 0;
  /** Taylor scores of the current baseline (the object readBaseline gives: a new one after any change) for one batch. */
  private taylorCache: { baseline: NetWeights; key: string; info: TaylorInfo; scores: Record<string, Float64Array> } | null = null;
  /** Whether the SIMD kernels' helper thread pays, per model and batch size: measured in the first training of each (helperTuner.ts). */
  private helperTuners = new Map<string, HelperTuner>();
  /** Bumped whenever the baseline or the training data change: a cached control of an older one is stale. */
  private baselineVersion = 0;
  /** Controls (unpruned fine-tunes), by baseline version, config and subset. */
  private controls = new Map<string, ControlReply>();
  /** The control trains through train('pruned') without drawing on the pruned model's curves. */
  private trainingEventsMuted = false;

  /** Jobs running (training, experiments): the measured auto times backends only while there are none. */
  readonly activity = new JobActivity();

  constructor(
    private readonly emit: (e: EngineEvent) => void,
    private readonly autoWiring: EngineAuto | null = null,
  ) {}

  /** The model the engine holds (the measured auto times it). */
  get modelId(): ModelId {
    return this.spec.id;
  }

  /** Requests that must not wait behind a running job (memory waits, so it reads a settled count). */
  static isJob(r: Request): boolean {
    return r.type === 'train' || r.type === 'sensitivity' || r.type === 'sweep' || r.type === 'speedLab' || r.type === 'scheduledFinetune' || r.type === 'control' || r.type === 'oracle' || r.type === 'lottery';
  }

  static isImmediate(r: Request): boolean {
    return r.type === 'cancel' || r.type === 'measureBackends';
  }

  /**
   * Called as a job (training, experiment) is queued: a Cancel from before belongs to an earlier job.
   * The flag is not cleared when the job starts, so a Cancel that arrives while the job still waits in
   * the queue (behind a preview, say) stops it as soon as it begins.
   */
  noteJobQueued(): void {
    this.cancelRequested = false;
  }

  /** Called as a preview request arrives, so an older queued preview knows it is stale. */
  notePreview(seq: number): void {
    this.latestPreview = seq;
  }

  /** Runs one request; `seq` orders previews (a newer one supersedes an older one). */
  async handle<K extends RequestType>(r: Request & { type: K }, seq: number): Promise<ReplyOf<K>> {
    return (await this.dispatch(r, seq)) as ReplyOf<K>;
  }

  private async dispatch(r: Request, seq: number): Promise<ReplyOf<RequestType>> {
    if (!Engine.isJob(r)) return this.dispatchRequest(r, seq);
    const end = this.activity.start();
    try {
      return await this.dispatchRequest(r, seq);
    } finally {
      end();
    }
  }

  private async dispatchRequest(r: Request, seq: number): Promise<ReplyOf<RequestType>> {
    switch (r.type) {
      case 'init':
        return this.init(r.backend, r.kernels ?? 'custom', r.model);
      case 'measureBackends':
        return this.measureBackends();
      case 'setData':
        return this.setData(r.role, r.set);
      case 'setPreviewData':
        return this.setPreviewData(r.set);
      case 'train':
        return this.train(r.role, r.config, r.trainSubset);
      case 'cancel':
        this.cancelRequested = true;
        this.experimentAbort?.abort();
        return true as const;
      case 'evaluate':
        return this.evaluate(this.model(r.role));
      case 'preview':
        if (seq !== this.latestPreview) throw new SupersededError();
        return this.preview(r.settings, seq);
      case 'resetBaseline':
        this.newBaseline(r.model, r.seed);
        return true as const;
      case 'setBaseline':
        this.setBaseline(r.weights, r.epochs);
        return true as const;
      case 'readBaseline':
        return this.readBaseline();
      case 'memory':
        return this.memory();
      case 'exportPytorch':
        return this.exportPytorch(r.settings, r.finetune, r.measuredAccuracy, r.schedule, r.stepKept);
      case 'sensitivity':
        return this.experiment((ctx) => runSensitivityScan(ctx, r), r.criteria.includes('taylor') ? (r.taylor ?? DEFAULT_TAYLOR_BATCH) : null);
      case 'sweep':
        return this.experiment((ctx) => runMethodSweep(ctx, r), r.criteria.includes('taylor') ? (r.taylor ?? DEFAULT_TAYLOR_BATCH) : null);
      case 'testImages':
        return testImages(this.sets.test, r.count);
      case 'featureMaps':
        return featureMaps(
          { spec: this.spec, stats: this.stats, test: this.sets.test, baseline: this.model('baseline'), pruned: this.pruned && { model: this.pruned.model, result: this.pruned.result, mode: this.pruned.settings.mode } },
          r,
        );
      case 'speedLab':
        return speedLab({ spec: this.spec, baseline: await this.readBaseline(), backend: tf.getBackend(), shouldStop: () => this.cancelRequested }, r);
      case 'scheduledFinetune':
        return this.scheduledFinetune(r.settings, r.schedule, r.config, r.trainSubset);
      case 'control':
        return this.control(r.config, r.trainSubset);
      case 'oracle':
        return this.oracle(r);
      case 'lottery':
        return this.experiment((ctx) => runLotteryExperiment(ctx, r));
    }
  }

  /**
   * Starts the backend, then installs the custom kernels on it (or keeps stock tfjs: switched off,
   * another tfjs version, or their self-check failed — the reply says which). The backend's tfjs
   * start-up fixes follow the same version and switch.
   */
  private async init(requested: BackendName | null, kernels: KernelsChoice, model?: ModelId): Promise<BackendInfo> {
    // backend=auto: start on the cached measured choice (never measure here: the first preview must not wait).
    this.autoState = null;
    let auto: AutoInfo | undefined;
    let start = requested;
    let record: AutoRecord | null = null;
    if (requested === null && this.autoWiring) {
      const m = model ?? this.spec.id;
      const measuredAuto = this.autoWiring.make(kernels);
      ({ backend: start, record } = await measuredAuto.initialChoice(this.autoKey(m)));
      this.autoState = { auto: measuredAuto, kernels, measured: new Set(), cachedAt: record?.measuredAt ?? null };
      auto = { source: record ? 'cached' : 'rule', figures: record ? describeMeasurements(record) : null, measuring: false, ...(record ? { measuredAt: record.measuredAt } : {}) };
    }
    return this.start(start, kernels, auto, record ? `the fastest measured in this browser before (${describeMeasurements(record)})` : null);
  }

  private async start(backend: BackendName | null, kernels: KernelsChoice, auto?: AutoInfo, why?: string | null): Promise<BackendInfo> {
    const selection = await selectBackend(backend, { tfjsPatches: kernelsPrecheck({ kernels }) === null });
    const report = await installKernels({ kernels });
    // The SIMD kernels' helper thread counts as a thread too.
    const threads = selection.threads !== undefined ? Math.max(selection.threads, report.threads ?? 1) : undefined;
    // "requested webgl (WebGL renderer is software: …)" → "WebGL renderer is software: …" after the auto reason.
    const detail = selection.reason.replace(/^requested \w+ ?/, '').replace(/^\((.*)\)$/, '$1');
    const reason = why && selection.backend === backend ? (detail ? `auto: ${why}; ${detail}` : `auto: ${why}`) : selection.reason;
    this.info = { ...selection, reason, ...(threads !== undefined ? { threads } : {}), kernels: report, ...(auto ? { auto } : {}) };
    return this.info;
  }

  private autoKey(model: ModelId): string {
    return autoKey(this.autoWiring?.userAgent ?? '', model, tf.version_core);
  }

  private setAuto(patch: Partial<AutoInfo>): void {
    if (!this.info?.auto) return;
    this.info = { ...this.info, auto: { ...this.info.auto, ...patch } };
    this.emit({ type: 'backend', info: this.info });
  }

  /**
   * backend=auto: after a preview has been answered, measure (or read the cached figures) once per model
   * and session, then switch between requests when another backend is faster. `force`: the page's
   * re-measure (software GPUs timed too).
   */
  private autoMeasure(force: boolean): Promise<AutoRecord | null> {
    const state = this.autoState;
    if (!state || !this.autoWiring) return Promise.resolve(null);
    const model = this.spec.id;
    const key = this.autoKey(model);
    if (!force && state.measured.has(key)) return Promise.resolve(null);
    state.measured.add(key);
    this.setAuto({ measuring: true });
    const schedule = this.autoWiring.schedule;
    return runMeasuredAuto(state.auto, {
      key,
      force,
      // A macrotask later: the preview's reply has been posted by then.
      firstPreview: new Promise((r) => setTimeout(r, 0)),
      current: () => this.info?.backend ?? null,
      onRecord: (record) =>
        this.setAuto({ source: record.measuredAt === state.cachedAt ? 'cached' : 'measured', figures: describeMeasurements(record), measuredAt: record.measuredAt, measuring: false, error: undefined }),
      switchTo: (backend, record) =>
        new Promise<void>((resolve) =>
          schedule(async () => {
            try {
              // Only while auto still holds and the model is the one measured.
              if (this.autoState !== state || this.spec.id !== model) return;
              const cached = record.measuredAt === state.cachedAt;
              const info = await this.start(backend, state.kernels, { ...this.info!.auto!, source: cached ? 'cached' : 'measured' }, `${cached ? 'the fastest measured in this browser before' : 'measured fastest here'} (${describeMeasurements(record)})`);
              this.emit({ type: 'backend', info });
            } catch (e) {
              this.setAuto({ error: `switching to ${backend} failed: ${e instanceof Error ? e.message : String(e)}` });
            } finally {
              resolve();
            }
          }),
        ),
    })
      .then((record) => {
        if (!record) this.setAuto({ measuring: false, error: 'no backend could be measured' });
        return record;
      })
      .catch((e) => {
        this.setAuto({ measuring: false, error: e instanceof Error ? e.message : String(e) });
        return null;
      });
  }

  /** The page's "re-measure": answered at once; figures and any switch follow as 'backend' events. */
  private measureBackends(): BackendInfo {
    if (!this.info) throw new Error('The backend has not started.');
    if (!this.autoState) throw new Error('Re-measuring is for backend=auto: choose auto (fastest) first.');
    void this.autoMeasure(true);
    return this.info;
  }

  private setData(role: DataRole, set: Cifar10Set): { count: number } {
    this.sets[role] = set;
    this.baselineVersion++;
    if (role === 'train') {
      // Normalisation statistics come from the training set; the test set reuses them.
      this.stats = channelStats(set);
      disposeDeviceSet(this.trainDevice?.set);
      this.trainDevice = null;
      disposeDeviceSet(this.test);
      this.test = null;
      disposeDeviceSet(this.previewDeviceSet); // normalised with the old statistics
      this.previewDeviceSet = null;
    } else {
      disposeDeviceSet(this.test);
      this.test = null;
    }
    return { count: set.count };
  }

  private setPreviewData(set: Cifar10Set | null): { count: number | null } {
    this.previewSet = set;
    disposeDeviceSet(this.previewDeviceSet);
    this.previewDeviceSet = null;
    return { count: set?.count ?? null };
  }

  /** What slider previews are evaluated on: the preview set when one is given, else the test set. */
  private previewDevice(): DeviceSet {
    if (!this.previewSet) return this.testDevice();
    if (!this.stats) throw new Error('Load training and test data first.');
    this.previewDeviceSet ??= toDevice(this.previewSet, this.stats);
    return this.previewDeviceSet;
  }

  private testDevice(): DeviceSet {
    if (!this.test) {
      if (!this.sets.test || !this.stats) throw new Error('Load training and test data first.');
      this.test = toDevice(this.sets.test, this.stats);
    }
    return this.test;
  }

  private trainingDevice(subset: number): ImageSet {
    const set = this.sets.train;
    if (!set || !this.stats) throw new Error('Load training data first.');
    const size = subset > 0 ? Math.min(subset, set.count) : set.count;
    if (this.trainDevice?.size !== size) {
      disposeDeviceSet(this.trainDevice?.set);
      const first = takeFirst(set, size);
      this.trainDevice = { size, set: size > HOST_SET_ABOVE ? toHost(first, this.stats) : toDevice(first, this.stats) };
    }
    return this.trainDevice.set;
  }

  private newBaseline(model: ModelId, seed: number): void {
    this.replaceBaseline(Net.create(specFor(model), seed), 0);
  }

  /** Starts from given weights (a pretrained or saved baseline); `epochs` it was trained for. */
  private setBaseline(weights: NetWeights, epochs: number): void {
    this.replaceBaseline(new Net(specFor(weights.model), weights), epochs);
  }

  private replaceBaseline(net: Net, epochs: number): void {
    this.dropPruned();
    this.baseline?.dispose();
    this.dropOptimizer('baseline');
    this.spec = net.spec;
    this.baseline = net;
    this.baselineEpochs = epochs;
    this.baselineWeights = null;
    this.baselineVersion++;
  }

  private async readBaseline(): Promise<NetWeights> {
    if (!this.baseline) throw new Error('No baseline model yet.');
    this.baselineWeights ??= await this.baseline.readWeights();
    return this.baselineWeights;
  }

  private model(role: ModelRole): Net {
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
    const key = `${config.optimizer}:${config.learningRate}:${config.momentum}:${config.recipe?.nesterov ?? false}`;
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
      this.baselineVersion++;
    }
    const optimizer = this.optimizerFor(role, config);
    // Pruned weights stay zero while fine-tuning: the masks are re-applied after every step.
    const masker = role === 'pruned' ? createMaskApplier(model, this.pruned!.result.masks) : null;
    const offset = role === 'baseline' ? this.baselineEpochs : this.prunedEpochs;
    let lastEpochEval: Evaluation | null = null;
    // Batch reports go to the page at most every BATCH_EVENT_MS: at thousands of images a second a
    // chart update per batch kept the page's main thread busy (long tasks of 200+ ms, bench).
    let reports: BatchReport[] = [];
    let sentAt = 0;
    const flush = () => {
      if (reports.length && !this.trainingEventsMuted) this.emit({ type: 'batch', role, reports });
      reports = [];
      sentAt = performance.now();
    };
    // The helper thread's measured choice (wasm with the custom kernels and a helper only).
    const tunerKey = `${this.spec.id} b${config.batchSize}`;
    const tuner = (simdKernelInfo()?.threads ?? 1) > 1 ? this.helperTunerFor(tunerKey) : null;
    setHelpersPaused(tuner ? !tuner.wantHelper() : false);
    const outcome = await train(
      model,
      optimizer,
      data,
      config,
      {
        onBatch: (report) => {
          if (tuner && report.size === config.batchSize) {
            const decided = tuner.decision;
            tuner.record((report.size * 1000) / report.imagesPerSecond);
            setHelpersPaused(!tuner.wantHelper());
            if (!decided && tuner.decision) this.noteHelperDecision(tunerKey, tuner.decision);
          }
          reports.push(report);
          if (performance.now() - sentAt >= BATCH_EVENT_MS) flush();
        },
        onEpochEnd: async (epoch, trainLoss) => {
          flush();
          const evaluation = await evaluate(model, test);
          lastEpochEval = evaluation;
          const weights = role === 'baseline' ? await model.readWeights() : undefined;
          if (!this.trainingEventsMuted) this.emit({ type: 'epoch', role, epoch, trainLoss, evaluation, weights });
        },
        afterStep: masker ? () => masker.apply() : undefined,
        shouldStop: () => this.cancelRequested,
        yieldEvery: () => new Promise((r) => setTimeout(r, 0)),
      },
      Math.ceil(offset), // integer epoch numbers seed the shuffles, also after a cancelled (fractional) run
    ).finally(() => {
      flush();
      masker?.dispose();
      // Other work (evaluation, pruning previews, scans) keeps the decided setting, or the helper when undecided.
      setHelpersPaused(tuner?.decision ? !tuner.decision.helper : false);
    });
    // A cancelled run reports the epochs it really did, as a fraction (never "0 epochs" for a model that trained).
    const batchesPerEpoch = Math.ceil(data.count / config.batchSize);
    const epochsDone = outcome.cancelled ? Math.round((outcome.steps / batchesPerEpoch) * 100) / 100 : config.epochs;
    if (role === 'baseline') this.baselineEpochs += epochsDone;
    else this.prunedEpochs += epochsDone;
    const totalEpochs = role === 'baseline' ? this.baselineEpochs : this.prunedEpochs;
    // The last epoch's evaluation already describes the final weights unless the run was cancelled.
    const evaluation = (!outcome.cancelled && lastEpochEval) || (await evaluate(model, test));
    const measured = role === 'pruned' ? measureCosts(this.spec, await model.readWeights()) : null;
    return { ...outcome, epochsDone, totalEpochs, evaluation, measured, ...(tuner?.decision && this.info ? { backend: this.info } : {}) };
  }

  /**
   * k prune → fine-tune steps (core/pruning/scheduled.ts): each step prunes the previous step's fine-tuned
   * network and fine-tunes it for `config.epochs` with a fresh optimiser (a new network each step: remove
   * mode changes its shapes); the epochs number on across steps, so the shuffles are those of one
   * fine-tune of steps × epochs (the control's).
   */
  private async scheduledFinetune(settings: PruneSettings, schedule: Schedule, config: TrainConfig, subset: number): Promise<ScheduledReply> {
    const baseline = await this.readBaseline();
    const test = this.testDevice();
    this.trainingDevice(subset); // data missing: said before anything is pruned
    this.dropPruned();
    let state = startSchedule(this.spec, baseline);
    const steps: ScheduleStepReport[] = [];
    let last: TrainReply | null = null;
    let epochsDone = 0;
    for (let t = 0; t < schedule.steps; t++) {
      // Taylor re-scores the current (fine-tuned) network before each step, on the same seeded batch.
      const scores: PruneScores = settings.method === 'taylor' ? { taylor: await this.taylorScoresOn(state.weights, settings.taylor) } : {};
      const step = pruneScheduledStep(this.spec, state, settings, schedule, scores);
      const epochsBefore = this.prunedEpochs;
      this.dropPruned();
      this.prunedEpochs = epochsBefore;
      this.pruned = { model: new Net(this.spec, step.result.weights), result: step.result, settings: { ...settings, amounts: step.sparsities } };
      const before = await evaluate(this.pruned.model, test);
      last = await this.train('pruned', config, subset);
      epochsDone += last.epochsDone;
      state = { ...step.next, weights: await this.pruned.model.readWeights() };
      const report: ScheduleStepReport = {
        step: t + 1,
        of: schedule.steps,
        sparsities: step.sparsities,
        costs: last.measured ?? step.result.costs,
        before,
        after: last.evaluation,
        epochs: last.epochsDone,
        cancelled: last.cancelled,
        kept: step.result.kept,
      };
      steps.push(report);
      this.emit({ type: 'scheduleStep', report });
      if (last.cancelled) break;
    }
    return { ...last!, epochsDone, schedule: steps, kept: this.pruned!.result.kept };
  }

  /**
   * The control: the baseline, unpruned, fine-tuned exactly as a pruned model would be at sparsity 0
   * (same config, data, epoch numbering from 0, fresh optimiser). The pruned model and its optimiser are
   * set aside meanwhile and put back after.
   */
  private async control(config: TrainConfig, subset: number): Promise<ControlReply> {
    const baseline = await this.readBaseline();
    const key = `${this.baselineVersion}|${subset}|${JSON.stringify(config)}`;
    const hit = this.controls.get(key);
    if (hit) return { ...hit, cached: true };
    const saved = { pruned: this.pruned, epochs: this.prunedEpochs, optimizer: this.optimizers.pruned };
    delete this.optimizers.pruned;
    const settings: PruneSettings = { method: 'l1', mode: 'mask', amounts: {}, seed: config.seed };
    this.pruned = { model: new Net(this.spec, baseline), result: prune(this.spec, baseline, settings), settings };
    this.prunedEpochs = 0;
    this.trainingEventsMuted = true;
    try {
      const r = await this.train('pruned', config, subset);
      const reply: ControlReply = { evaluation: r.evaluation, epochs: r.epochsDone, cancelled: r.cancelled, cached: false };
      if (!r.cancelled) this.controls.set(key, reply);
      return reply;
    } finally {
      this.trainingEventsMuted = false;
      this.pruned.model.dispose();
      this.dropOptimizer('pruned');
      this.pruned = saved.pruned;
      this.prunedEpochs = saved.epochs;
      if (saved.optimizer) this.optimizers.pruned = saved.optimizer;
    }
  }

  private helperTunerFor(key: string): HelperTuner {
    let t = this.helperTuners.get(key);
    if (!t) this.helperTuners.set(key, (t = new HelperTuner()));
    return t;
  }

  /** The backend line (BackendInfo.reason) says what was measured and chosen. */
  private noteHelperDecision(key: string, d: HelperDecision): void {
    if (!this.info) return;
    const note = `SIMD helper thread ${d.helper ? 'on' : 'off'} for ${key} (measured: ${d.withMs.toFixed(1)} ms per step with it, ${d.withoutMs.toFixed(1)} ms without).`;
    this.info = { ...this.info, reason: `${this.info.reason.replace(/ SIMD helper thread .*$/, '')} ${note}`, helper: d };
  }

  private async evaluate(model: Net): Promise<Evaluation> {
    return evaluate(model, this.testDevice());
  }

  private async preview(settings: PruneSettings, seq: number): Promise<PreviewReply> {
    const t0 = performance.now();
    if (!this.baseline) throw new Error('No baseline model yet.');
    const baseline = await this.readBaseline();
    if (seq !== this.latestPreview) throw new SupersededError();
    const taylor = settings.method === 'taylor' ? await this.taylorScores(settings.taylor) : null;
    if (seq !== this.latestPreview) throw new SupersededError();
    const t1 = performance.now();
    const result = prune(this.spec, baseline, settings, taylor ? { taylor: taylor.scores } : {});
    const t2 = performance.now();
    this.dropPruned();
    this.pruned = { model: new Net(this.spec, result.weights), result, settings };
    const t3 = performance.now();
    const evaluation = await evaluate(this.pruned.model, this.previewDevice(), () => {
      if (seq !== this.latestPreview) throw new SupersededError();
    });
    const t4 = performance.now();
    const filters = filterViews(this.spec, baseline, result, settings);
    const t5 = performance.now();
    void this.autoMeasure(false); // backend=auto: once per model, after this reply (never before the first preview)
    return {
      settings,
      costs: result.costs,
      evaluation,
      kept: result.kept,
      filters,
      millis: t5 - t0,
      split: { baseline: t1 - t0, prune: t2 - t1, upload: t3 - t2, evaluate: t4 - t3, filters: t5 - t4 },
      ...(taylor ? { taylor: taylor.info } : {}),
      ...(result.global ? { global: result.global } : {}),
    };
  }

  /**
   * Taylor scores of every channel group of the baseline on a seeded batch of the loaded training
   * images (core/pruning/taylorNet.ts), computed once per (baseline, batch size, batch seed, data).
   */
  private async taylorScores(batch: TaylorBatch = DEFAULT_TAYLOR_BATCH): Promise<{ info: TaylorInfo; scores: Record<string, Float64Array> }> {
    const baseline = await this.readBaseline();
    const set = this.sets.train;
    if (!set || !this.stats) throw new Error('Taylor scores need training images: load the training data first.');
    const key = `${batch.batch}|${batch.seed}|${set.count}|${this.stats.mean.join()}`;
    const c = this.taylorCache;
    if (c && c.baseline === baseline && c.key === key) return { info: { ...c.info, millis: 0, cached: true }, scores: c.scores };
    const t0 = performance.now();
    const indices = taylorBatchIndices(set.count, batch.batch, batch.seed);
    const { images, labels } = normalisedBatch(set, this.stats, indices, 0, indices.length);
    const x = tf.tensor4d(images, [indices.length, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    try {
      const { loss, scores } = taylorGroupScores(this.model('baseline'), x, y);
      const info: TaylorInfo = { batch: batch.batch, seed: batch.seed, indices, of: set.count, loss, millis: performance.now() - t0, cached: false };
      this.taylorCache = { baseline, key, info, scores };
      return { info, scores };
    } finally {
      tf.dispose([x, y]);
    }
  }

  /**
   * The oracle of one channel group (core/experiments/oracle.ts): each unit switched off alone at every
   * producer (= removed, core/model/gated.ts) and the loss measured on a seeded batch of training images,
   * then Spearman's ρ of each criterion's scores against it. Taylor is scored on the same batch.
   */
  private async oracle(r: OracleRequest): Promise<OracleReply> {
    const baseline = await this.readBaseline();
    const set = this.sets.train;
    if (!set || !this.stats) throw new Error('The oracle measures the loss on training images: load the training data first.');
    const group = groupById(this.spec, r.group);
    const net = this.model('baseline');
    const indices = taylorBatchIndices(set.count, r.batch, r.seed);
    const { images, labels } = normalisedBatch(set, this.stats, indices, 0, indices.length);
    const x = tf.tensor4d(images, [indices.length, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    const abort = new AbortController();
    this.experimentAbort = abort;
    if (this.cancelRequested) abort.abort();
    try {
      const baseLoss = lossWithoutUnit(net, x, y, group.id, null);
      const { delta, ms } = await measureOracle({
        units: group.units,
        baseLoss,
        lossWithout: async (u) => lossWithoutUnit(net, x, y, group.id, u),
        signal: abort.signal,
      });
      const scores: Record<OracleCriterion, ArrayLike<number> | null> = {
        l1: unitScores(this.spec, group, baseline, 'l1'),
        l2: unitScores(this.spec, group, baseline, 'l2'),
        bn: group.batchNorms.length ? unitScores(this.spec, group, baseline, 'bn') : null,
        taylor: taylorGroupScores(net, x, y).scores[group.id],
        random: randomScores(group.units, deriveSeed(r.randomSeed ?? 0, `prune.${group.id}`)), // the sliders' seeded draw
      };
      const criteria = (Object.keys(scores) as OracleCriterion[]).filter((c) => scores[c]).map((c) => ({ criterion: c, rho: spearman(scores[c]!, delta) }));
      return { group: group.id, units: group.units, delta: Array.from(delta), baseLoss, millis: ms, criteria, images: indices.length };
    } catch (e) {
      if (e instanceof Cancelled) throw new Error('Oracle cancelled.', { cause: e });
      throw e;
    } finally {
      if (this.experimentAbort === abort) this.experimentAbort = null;
      tf.dispose([x, y]);
    }
  }

  /** Runs an experiment (worker/experiments.ts) on the baseline with an abort that 'cancel' fires. */
  private async experiment<T>(run: (ctx: ExperimentContext) => Promise<T>, taylor?: TaylorBatch | null): Promise<T> {
    const baseline = await this.readBaseline();
    const scores: PruneScores = taylor !== null && taylor !== undefined ? { taylor: (await this.taylorScores(taylor)).scores } : {};
    const test = this.testDevice();
    const abort = new AbortController();
    this.experimentAbort = abort;
    if (this.cancelRequested) abort.abort(); // Cancel pressed while this experiment was still queued
    try {
      return await run({ spec: this.spec, baseline, test, trainingData: (n) => this.trainingDevice(n), signal: abort.signal, emit: this.emit, scores });
    } finally {
      if (this.experimentAbort === abort) this.experimentAbort = null;
    }
  }

  /**
   * The core's step chain of a schedule with no training between steps: what prune_run.py runs without
   * --finetune. Taylor scores each step's network on the seeded batch, as a scheduled run does.
   */
  private async scheduleChain(baseline: NetWeights, settings: PruneSettings, schedule: Schedule): Promise<PruneResult[]> {
    const out: PruneResult[] = [];
    let state = startSchedule(this.spec, baseline);
    for (let t = 0; t < schedule.steps; t++) {
      const scores: PruneScores = settings.method === 'taylor' ? { taylor: await this.taylorScoresOn(state.weights, settings.taylor) } : {};
      const step = pruneScheduledStep(this.spec, state, settings, schedule, scores);
      out.push(step.result);
      state = step.next;
    }
    return out;
  }

  /** Taylor scores of any network of this model (a scheduled step's) on the seeded batch; not cached. */
  private async taylorScoresOn(weights: NetWeights, batch: TaylorBatch = DEFAULT_TAYLOR_BATCH): Promise<Record<string, Float64Array>> {
    const set = this.sets.train;
    if (!set || !this.stats) throw new Error('Taylor scores need training images: load the training data first.');
    const indices = taylorBatchIndices(set.count, batch.batch, batch.seed);
    const { images, labels } = normalisedBatch(set, this.stats, indices, 0, indices.length);
    const x = tf.tensor4d(images, [indices.length, 32, 32, 3]);
    const y = tf.tensor1d(labels, 'int32');
    const net = new Net(this.spec, weights);
    try {
      return taylorGroupScores(net, x, y).scores;
    } finally {
      net.dispose();
      tf.dispose([x, y]);
    }
  }

  /**
   * `stepKept`: a scheduled history row's kept units after each step (its run fine-tuned between steps):
   * the script replays those where it replays the page's choice; figures are the step chain's (same counts).
   */
  private async exportPytorch(settings: PruneSettings, finetune: Partial<FinetuneRecipe>, measuredAccuracy?: number, schedule?: Schedule, stepKept?: Record<string, number[]>[]): Promise<PytorchExportReply> {
    const baseline = await this.readBaseline();
    if (!this.stats) throw new Error('Load the training data first: the script normalises images with its statistics.');
    let result: PruneResult;
    let steps: PruneResult[] | undefined;
    if (schedule && schedule.steps > 1 && scriptRunsSchedule(settings.method, settings.mode)) {
      // The script runs the schedule: its figures are the last step's (counts as the page's run; no training between here).
      steps = await this.scheduleChain(baseline, settings, schedule);
      // A run's own choices (fine-tuned between steps) where the script replays the page's choice.
      if (stepKept && stepKept.length === steps.length && replaysSteps({ spec: this.spec, settings })) steps = steps.map((st, t) => ({ ...st, kept: stepKept[t] }));
      result = steps[steps.length - 1];
    } else {
      const taylor = settings.method === 'taylor' ? await this.taylorScores(settings.taylor) : null;
      result = prune(this.spec, baseline, settings, taylor ? { taylor: taylor.scores } : {});
    }
    const input: PytorchExportInput = {
      spec: this.spec,
      baseline,
      settings,
      schedule,
      steps,
      result,
      stats: this.stats,
      finetune,
      measured: measuredAccuracy === undefined ? undefined : { accuracy: measuredAccuracy, testImages: this.sets.test?.count },
      metadata: { epochs: String(this.baselineEpochs) },
    };
    return { zip: buildPytorchExportZip(input), script: pruneScript(input), problem: exportProblem(input), kept: result.kept, costs: result.costs };
  }

  private memory(): MemoryReply {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }
}

export class SupersededError extends Error {
  constructor() {
    super(SUPERSEDED);
    this.name = 'SupersededError';
  }
}

/**
 * What the filter grids draw, per channel group of the baseline (a chain model's: per conv layer):
 * each unit's L2 norm (a coupled group's: summed over the convs writing into it) and whether any of its
 * weights survive; for a group written by the first conv (RGB filters, drawable as colour tiles) also
 * that conv's kernel and which of its weights survive (global mode prunes single weights).
 */
function filterViews(spec: ModelSpec, baseline: NetWeights, result: PruneResult, settings: PruneSettings): FilterView[] {
  const st = structure(spec);
  const sh = shapes(st, baseline.channels);
  const shapeOf = (conv: string) => {
    const k = (st.byName.get(conv)!.node as ConvNode).kernel;
    return [k, k, sh.get(conv)!.inChannels, sh.get(conv)!.channels];
  };
  return st.groups.map((g, gi) => {
    const units = baseline.channels[gi];
    const norms = new Float32Array(units);
    for (const p of g.producers) lnNorms(baseline.tensors[`${p}.weight`], shapeOf(p), 3, 2).forEach((x, j) => (norms[j] += x));
    const alive = new Uint8Array(units);
    for (const j of result.kept[g.id]) alive[j] = 1;
    const view: FilterView = { layer: g.id, shape: shapeOf(g.producers[0]), norms, alive };
    if (g.kind !== 'layer') view.group = { label: g.label, unitName: g.unitName, kind: g.kind };
    const rgbConv = g.producers.find((p) => st.byName.get(p)!.inputs[0] === 'input');
    if (rgbConv) {
      const kernel = baseline.tensors[`${rgbConv}.weight`];
      const mask = settings.mode === 'global' ? result.masks[`${rgbConv}.weight`] : undefined;
      view.rgb = { kernel, kept: mask ?? Uint8Array.from(kernel, (_, k) => alive[k % units]) };
      view.shape = shapeOf(rgbConv);
    }
    return view;
  });
}
