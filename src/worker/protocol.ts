/**
 * Messages between the page and the engine worker. The worker owns TensorFlow.js, the data on
 * the backend and every model; the page only sends requests and renders replies.
 *
 * One table, `Api`, says for every request type what it carries and what it answers, so
 * `client.request('preview', { settings })` is typed end to end without casts. Type-only imports
 * from core keep this file (and the page that imports it) free of TensorFlow.js.
 */
import type { KernelsChoice, KernelsReport } from '../core/backend/kernels';
import type { HelperDecision } from '../core/backend/wasmSimd/helperTuner';
import type { BackendName, BackendSelection } from '../core/backend/selectBackend';
import type { Cifar10Set } from '../core/data/cifar10';
import type { Criterion } from '../core/experiments/common';
import type { LotteryPoint } from '../core/experiments/lottery';
import type { SensitivityPoint, SensitivityProgress, SensitivityResult } from '../core/experiments/sensitivity';
import type { SweepControl, SweepPoint, SweepProgress, SweepResult, SweepScope } from '../core/experiments/sweep';
import type { ModelId, NetWeights } from '../core/model/spec';
import type { Costs, Mode, PruneSettings } from '../core/pruning';
import type { Schedule } from '../core/pruning/schedule';
import type { Recipe } from '../core/train/recipe';
import type { TaylorBatch } from '../core/pruning/settings';
import type { BatchReport, Evaluation, TrainConfig, TrainOutcome } from '../core/train/trainer';

export type { BackendName, KernelsChoice, KernelsReport };
/** What the engine runs on and why, and whether the custom kernels run (shown in the header). */
/** `helper`: the SIMD helper thread's measured choice (engine.ts, helperTuner.ts), once made. */
export type BackendInfo = BackendSelection & { kernels?: KernelsReport; helper?: HelperDecision; auto?: AutoInfo };

/** backend=auto: where the choice came from and the measured figures (core/backend/autoBackend.ts). */
export interface AutoInfo {
  /** 'rule': nothing measured yet (selectBackend's rule); 'cached': an earlier measurement's choice; 'measured': this session's. */
  source: 'rule' | 'cached' | 'measured';
  /** "wasm 2 threads 1,900 img/s · webgl 54 · webgpu 12" (training images per second), or null. */
  figures: string | null;
  /** A measurement is running (in a worker of its own). */
  measuring: boolean;
  /** ms since the epoch of the figures. */
  measuredAt?: number;
  /** Why the last measurement gave nothing. */
  error?: string;
}

export type DataRole = 'train' | 'test';

/** Which model a request acts on: the trained baseline, or the pruned copy being explored. */
export type ModelRole = 'baseline' | 'pruned';

export interface Api {
  /** Starts (or switches) the backend; `kernels: 'stock'` keeps tfjs's own kernels (default 'custom'). */
  init: { req: { backend: BackendName | null; kernels?: KernelsChoice; model?: ModelId }; reply: BackendInfo };
  /**
   * backend=auto: measure every backend again (software GPUs too) and switch to the fastest; answered
   * at once (the measurement runs in its own worker), the figures and any switch arrive as 'backend' events.
   */
  measureBackends: { req: object; reply: BackendInfo };
  setData: { req: { role: DataRole; set: Cifar10Set }; reply: { count: number } };
  /**
   * The images slider previews are evaluated on when they should not be the test set (the full data set:
   * previews stay on the 1,000-image subset, evaluations use the 10,000); null: previews use the test set.
   */
  setPreviewData: { req: { set: Cifar10Set | null }; reply: { count: number | null } };
  train: { req: { role: ModelRole; config: TrainConfig; trainSubset: number }; reply: TrainReply };
  /** Answered at once, even while a job runs: the job stops within one batch. */
  cancel: { req: object; reply: true };
  evaluate: { req: { role: ModelRole }; reply: Evaluation };
  /** Prunes a fresh copy of the baseline and evaluates it; a newer preview supersedes an older one. */
  preview: { req: { settings: PruneSettings }; reply: PreviewReply };
  /** A freshly initialised (seeded) baseline of the given model. */
  resetBaseline: { req: { model: ModelId; seed: number }; reply: true };
  /** A baseline from given weights (pretrained, saved work, an experiment file); `epochs` it was trained for. */
  setBaseline: { req: { weights: NetWeights; epochs: number }; reply: true };
  readBaseline: { req: object; reply: NetWeights };
  /** The setting as a runnable PyTorch script plus weights (zip), pruned from the current baseline. */
  exportPytorch: { req: { settings: PruneSettings; finetune: { optimizer: 'adam' | 'sgd'; learningRate: number; batchSize: number; momentum: number; recipe?: Recipe }; measuredAccuracy?: number; schedule?: Schedule; stepKept?: Record<string, number[]>[] }; reply: PytorchExportReply };
  memory: { req: object; reply: MemoryReply };
  /** Layer sensitivity scan of the baseline (issue 12); progress as 'experiment' events; 'cancel' stops it, keeping the points done. */
  sensitivity: { req: SensitivityRequest; reply: SensitivityResult };
  /** Method comparison over criteria × sparsities × seeds, each fine-tuned; same events and cancel. */
  sweep: { req: SweepRequest; reply: SweepResult };
  /** The first `count` test images (RGB bytes, NHWC) and their labels: the feature maps' strip. */
  testImages: { req: { count: number }; reply: { pixels: Uint8Array; labels: number[] } };
  /** What each filter sees: every conv layer's maps for one image, on the baseline and on the last preview's pruned model. */
  featureMaps: { req: FeatureMapsRequest; reply: FeatureMapsReply };
  /** The speed lab: the masked, removed and an evenly narrowed dense model timed at several batch sizes; 'cancel' stops it. */
  speedLab: { req: SpeedLabRequest; reply: SpeedLabReply };
  /**
   * Scheduled fine-tuning (issue 22): `schedule.steps` prune → fine-tune steps from the baseline to the
   * settings' amounts, `config.epochs` each; a 'scheduleStep' event per step; 'cancel' stops it within one
   * batch (the steps done are kept). The pruned model is the last step's afterwards.
   */
  scheduledFinetune: { req: { settings: PruneSettings; schedule: Schedule; config: TrainConfig; trainSubset: number }; reply: ScheduledReply };
  /**
   * The honest control of a fine-tuned run: a copy of the baseline, unpruned, fine-tuned with the same
   * config (epochs, seed, optimiser) on the same data (a fine-tune at sparsity 0). Cached per baseline,
   * config and data: computed once. No training events (the page's curves stay the pruned model's).
   */
  control: { req: { config: TrainConfig; trainSubset: number }; reply: ControlReply };
  /** Each unit of one channel group removed alone on a seeded training batch (the oracle), against every criterion; 'cancel' stops it. */
  oracle: { req: OracleRequest; reply: OracleReply };
  /**
   * The lottery ticket (issue 22, core/experiments/lottery.ts): iterative magnitude pruning with rewinding
   * against the re-initialised and random-mask controls, from freshly initialised weights; a point per
   * training as 'experiment' events (kind 'lottery'); 'cancel' stops it within one batch, keeping the points done.
   */
  lottery: { req: LotteryRequest; reply: LotteryResult };
}

export interface LotteryRequest {
  /** Pruning rounds after the dense training. */
  rounds: number;
  /** Fraction of each layer's remaining weights pruned per round (0 < p < 1). */
  p: number;
  /** Training epochs of every run (dense and each arm of each round): the same budget for all. */
  epochs: number;
  /** Rewind to the dense run's weights after this many epochs (0: the initial weights). */
  rewindEpoch: number;
  /** Seed of the initial weights and of the training order (the same for every arm). */
  seed: number;
  /** Training images per run (the first n); 0 = all. */
  subset: number;
  /** Batch size, learning rate, optimiser, recipe (its epochs and seed are the request's). */
  config: TrainConfig;
}

export interface LotteryProgress {
  /** Trainings finished, of `total` (1 dense + 3 per round). */
  done: number;
  total: number;
  /** The training under way. */
  round: number;
  arm: LotteryPoint['arm'];
  /** 0..1 over the whole experiment. */
  fraction: number;
  elapsedSeconds: number;
}

export interface LotteryResult {
  model: ModelId;
  rounds: number;
  p: number;
  epochs: number;
  rewindEpoch: number;
  seed: number;
  /** Training images each run saw. */
  images: number;
  /** In order: round 0 (the dense run, the same accuracy for all three arms), then rewind, reinit, randomMask per round. */
  points: LotteryPoint[];
  cancelled: boolean;
  seconds: number;
}

/** One step of a scheduled run: its cumulative sparsity, the network after its prune, accuracy before and after its fine-tuning. */
export interface ScheduleStepReport {
  /** 1-based. */
  step: number;
  of: number;
  /** Cumulative sparsity per amount key (fractions of the original units). */
  sparsities: Record<string, number>;
  /** Measured on the step's pruned weights. */
  costs: Costs;
  /** Right after the step's prune. */
  before: Evaluation;
  /** After its fine-tuning (equals `before` when cancelled before the first batch). */
  after: Evaluation;
  /** Epochs this step fine-tuned (fractional when cancelled). */
  epochs: number;
  cancelled: boolean;
  /** Baseline units kept per group after the step's prune (absent in rows saved before it was recorded): the PyTorch export replays them. */
  kept?: Record<string, number[]>;
}

export interface ScheduledReply extends TrainReply {
  schedule: ScheduleStepReport[];
  /** Baseline units kept per group by the last step done. */
  kept: Record<string, number[]>;
}

export interface ControlReply {
  evaluation: Evaluation;
  /** Epochs the control trained (fractional when cancelled: then it is not cached). */
  epochs: number;
  cancelled: boolean;
  /** Answered from the cache, not trained again. */
  cached: boolean;
}

/** A test image by index, or the user's own, already scaled to 32×32 (RGB bytes, NHWC). */
export type FeatureMapsRequest = { testIndex: number } | { pixels: Uint8Array };

export interface LayerMapsView {
  layer: string;
  /** The node shown (the conv's BatchNorm, or the ReLU after it). */
  shown: string;
  size: number;
  /** Baseline unit index of each channel (remove mode: only the kept ones). */
  units: number[];
  /** [size, size, units.length] NHWC. */
  maps: Float32Array;
}

export interface ModelMapsView {
  role: ModelRole;
  /** Softmax over the classes. */
  probs: number[];
  layers: LayerMapsView[];
}

export interface FeatureMapsReply {
  /** The test image's label, or null for the user's own. */
  label: number | null;
  /** The pruned model's mode (null: nothing pruned yet, only the baseline). */
  mode: Mode | null;
  models: ModelMapsView[];
}

export interface SpeedLabRequest {
  settings: PruneSettings;
  batches: number[];
  /** Timed runs per batch size (the median is reported), after `warmup` untimed ones. */
  runs: number;
  warmup: number;
}

export interface SpeedRow {
  model: 'masked' | 'removed' | 'dense';
  channels: number[];
  params: number;
  /** Dense MACs per image (what the kernels compute). */
  macs: number;
  /** MACs per image with nonzero weights (what a sparse kernel could skip to). */
  nonzeroMacs: number;
  /** Median milliseconds per batch, one per batch size; null where cancelled before it was timed. */
  ms: (number | null)[];
}

export interface SpeedLabReply {
  backend: string;
  batches: number[];
  runs: number;
  rows: SpeedRow[];
  cancelled: boolean;
}

export interface OracleRequest {
  /** Channel group id (groupsOf(spec)). */
  group: string;
  /** The fixed batch: training images and the seed that picks them (as Taylor's). */
  batch: number;
  seed: number;
  /** The seed of the Random criterion's draw (the page's seed setting; default 0). */
  randomSeed?: number;
}

export type OracleCriterion = 'l1' | 'l2' | 'bn' | 'taylor' | 'random';

export interface OracleReply {
  group: string;
  units: number;
  /** Loss increase per unit removed alone (the oracle). */
  delta: number[];
  baseLoss: number;
  /** Wall time of the oracle (units evaluations), ms. */
  millis: number;
  /** Spearman ρ of each criterion's scores against the oracle (NaN when undefined, e.g. a constant score). */
  criteria: { criterion: OracleCriterion; rho: number }[];
  images: number;
}

export interface SensitivityRequest {
  mode: Mode;
  criteria: Criterion[];
  /** Seeds Random is averaged over. */
  randomSeeds: number[];
  /** Default 0–95 % in steps of 5 %. */
  fractions?: number[];
  /** Default every layer the mode can scan. */
  layers?: string[];
  /** Criterion 'taylor': the batch it scores on (default DEFAULT_TAYLOR_BATCH). */
  taylor?: TaylorBatch;
}

export interface SweepRequest {
  mode: Mode;
  criteria: Criterion[];
  sparsities: number[];
  seeds: number[];
  /** Fine-tuning epochs per point (0: accuracy straight after pruning only). */
  epochs: number;
  /** Training images per fine-tuning (the first n); 0 = all. */
  subset: number;
  /** Which groups are pruned (ResNet-20: 'inner' leaves the residual streams); default 'all'. */
  scope?: SweepScope;
  /** Batch size, learning rate, optimiser of the fine-tuning (its epochs and seed are the sweep's). */
  config: TrainConfig;
  /** Points of an earlier, cancelled sweep of the same baseline: kept, not run again. */
  previous?: SweepPoint[];
  /** Its controls (issue 22): kept, not run again. */
  previousControls?: SweepControl[];
  /** Criterion 'taylor': the batch it scores on (default DEFAULT_TAYLOR_BATCH). */
  taylor?: TaylorBatch;
}

/** Which training images the Taylor scores came from, and what scoring them cost (the page says so). */
export interface TaylorInfo {
  batch: number;
  seed: number;
  /** Indices into the loaded training set, in the order scored. */
  indices: number[];
  /** Training images loaded (the batch is drawn from these). */
  of: number;
  /** Mean cross-entropy of the baseline on the batch. */
  loss: number;
  /** Scoring time (forward + backward to the gates); 0 when it came from the cache. */
  millis: number;
  cached: boolean;
}

export type RequestType = keyof Api;
export type RequestOf<K extends RequestType> = { type: K } & Api[K]['req'];
export type ReplyOf<K extends RequestType> = Api[K]['reply'];
export type Request = { [K in RequestType]: RequestOf<K> }[RequestType];

export interface PreviewReply {
  settings: PruneSettings;
  costs: Costs;
  evaluation: Evaluation;
  /** Baseline filter indices that survive, per conv layer. */
  kept: Record<string, number[]>;
  /** Per conv layer, for drawing the filters. */
  filters: FilterView[];
  /** Milliseconds from receiving the request to the evaluated result. */
  millis: number;
  /** Where those milliseconds went (the bench prints it beside the slider row): reading the baseline (and Taylor scores), pruning the weights, making the pruned network on the backend, evaluating it, drawing the filters. */
  split?: { baseline: number; prune: number; upload: number; evaluate: number; filters: number };
  /** Method 'taylor': the batch the scores came from. */
  taylor?: TaylorInfo;
  /** Method 'globalStruct': units the global ranking asked for and pruned (fewer when the floor binds). */
  global?: { requested: number; pruned: number };
}

export interface FilterView {
  /** The channel group's id (a chain model's: its conv layer's name), as in PruneSettings.amounts and manual. */
  layer: string;
  /** A coupled group's caption words ("residual stream of stage 2", "stream channels"); absent for a chain model's layer. */
  group?: { label: string; unitName: string; kind: 'stream' | 'inner' };
  /** The baseline kernel's tfjs shape [kh, kw, in, out] (a group's: its first producer's). */
  shape: number[];
  /** L2 norm of each of the baseline's filters (a group's unit: the sum over the convs writing into it). */
  norms: Float32Array;
  /** 1 where the filter keeps at least one weight. */
  alive: Uint8Array;
  /** First layer only: its RGB kernel and which weights survive (global mode prunes single weights), for colour tiles. */
  rgb?: { kernel: Float32Array; kept: Uint8Array };
}

export interface PytorchExportReply {
  zip: Uint8Array;
  script: string;
  /** Why PyTorch cannot reproduce this setting (a layer with no filters left), or null. */
  problem: string | null;
  /** What the page computed for this setting, for the comparison with the script's output. */
  kept: Record<string, number[]>;
  costs: Costs;
}

export interface MemoryReply {
  numTensors: number;
  numBytes: number;
}

export interface TrainReply extends TrainOutcome {
  /** Epochs this request completed (fractional when cancelled mid-epoch: steps / batches per epoch). */
  epochsDone: number;
  /** The model's epochs so far, over all requests (fractional after a cancel). */
  totalEpochs: number;
  evaluation: Evaluation;
  /** For the pruned model: counts measured on its weights after training (masked ones must still be zero). */
  measured: Costs | null;
  /** The backend line again when training changed it (the SIMD helper thread's measured choice). */
  backend?: BackendInfo;
}

/** The one name for a request dropped because a newer one replaced it (previews). */
export const SUPERSEDED = 'superseded by a newer request';

/** Replies carry the request id; events (progress) carry none. */
export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; superseded?: boolean };

export type EngineEvent =
  /** backend=auto: new figures, or the engine switched to the measured fastest backend. */
  | { type: 'backend'; info: BackendInfo }
  /** The batches since the last event (the engine sends at most ~10 a second). */
  | { type: 'batch'; role: ModelRole; reports: BatchReport[] }
  /** For the baseline it carries the weights after the epoch: what a reload restores if the tab dies mid-training. */
  | { type: 'epoch'; role: ModelRole; epoch: number; trainLoss: number; evaluation: Evaluation; weights?: NetWeights }
  /** A scheduled fine-tune's step is done (its fine-tuning too). */
  | { type: 'scheduleStep'; report: ScheduleStepReport }
  | ExperimentEvent;

/**
 * A running experiment's progress (current point, ETA) and, as each finishes, its point; `start`, once the
 * baseline is measured, is the result as it stands then (plan, baseline, kept points): with the points
 * that follow it makes the partial result the page saves while the experiment runs.
 */
export type ExperimentEvent =
  | { type: 'experiment'; kind: 'sensitivity'; progress?: SensitivityProgress; point?: SensitivityPoint; start?: SensitivityResult }
  | { type: 'experiment'; kind: 'sweep'; progress?: SweepProgress; point?: SweepPoint; start?: SweepResult }
  | { type: 'experiment'; kind: 'lottery'; progress?: LotteryProgress; point?: LotteryPoint; start?: LotteryResult };

export type WorkerMessage = Reply | { event: EngineEvent };
