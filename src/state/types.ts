/**
 * The state layer's vocabulary: the shapes of the page's state, with no behaviour. A leaf: it imports
 * types only (from core and the settings table), so every state module and every component can use
 * it without an import cycle (lint: import-x/no-cycle).
 */
import type { SensitivityPoint, SensitivityProgress, SensitivityResult } from '../core/experiments/sensitivity';
import type { SweepPoint, SweepProgress, SweepResult } from '../core/experiments/sweep';
import type { LotteryPoint } from '../core/experiments/lottery';
import type { LotteryProgress, LotteryResult } from '../worker/protocol';
import type { ModelId, NetWeights } from '../core/model/spec';
import type { Method, Mode } from '../core/pruning/settings';
import type { Evaluation } from '../core/train/trainer';
import type { BackendInfo, DataRole, ModelRole, PreviewReply, ScheduleStepReport } from '../worker/protocol';
import type { Layout } from './layout';
import type { Settings } from './urlState';

export type { Settings };

export interface HistoryRow {
  run: number;
  model: ModelId;
  method: Method;
  mode: Mode;
  /** Slider percentages of the layers the model has (conv1…, fc1). */
  amounts: Record<string, number>;
  /** Method 'manual': the hand-picked filters, as in the URL. */
  manual: string;
  seed: number;
  /** Filters present per conv layer after pruning (remove mode: the smaller network's). */
  channels: number[];
  /** Baseline filter indices kept, per conv layer. */
  keptFilters: Record<string, number[]>;
  totalParams: number;
  nonzeroParams: number;
  /** MACs per image of the architecture that runs (dense kernels). */
  macs: number;
  /** MACs per image counting only nonzero weights (ShrinkBench). */
  nonzeroMacs: number;
  sizeBytes: number;
  baselineAcc: number;
  prunedAcc: number;
  finetunedAcc: number;
  /** Epochs the pruned model has been fine-tuned for in total (fine-tuning again continues it). */
  ftEpochs: number;
  /** Epochs that were asked for, in total; differs from ftEpochs only for a cancelled run. */
  ftPlanned: number;
  cancelled: boolean;
  /** A scheduled run (issue 22): kind and steps, and each step's figures. Absent in rows from before schedules: one-shot. */
  schedule?: { kind: 'iterative' | 'agp'; steps: number; reports: ScheduleStepReport[] };
  /**
   * The honest control: the unpruned baseline fine-tuned with the same epochs, seed, data and recipe.
   * 'pending' while the engine computes it; absent in rows from before controls.
   */
  control?: { status: 'pending' } | { status: 'done'; accuracy: number; epochs: number } | { status: 'failed'; error: string };
  /** Test images each accuracy was measured on (the full data set: 10,000, and the slider preview's 1,000). Absent in rows from before it. */
  testImages?: { baseline: number; pruned: number; finetuned: number };
}

/** A finished (or cancelled) experiment as saved: the result and which baseline it measured. */
export interface ExperimentRecord<R> {
  result: R;
  /** describeOrigin() of the baseline at the time ("pretrained SimpleCNN: 10 epochs, seed 42 …"). */
  baseline: string;
  /** ISO time it ended. */
  finishedAt: string;
}

/**
 * The experiment that runs. `start` is the engine's result as it stood once the baseline was measured
 * (plan, baseline, kept points; null before that), `baseline` describeOrigin() at the start: with the
 * points they make the partial result that is saved while it runs (persistence.ts) and comes back,
 * cancelled, after a closed tab (interruptedExperiment).
 */
export type RunningExperiment =
  | { kind: 'sensitivity'; model: ModelId; mode: Mode; baseline: string; start: SensitivityResult | null; progress: SensitivityProgress | null; points: SensitivityPoint[] }
  | { kind: 'sweep'; model: ModelId; mode: Mode; baseline: string; start: SweepResult | null; progress: SweepProgress | null; points: SweepPoint[] }
  | { kind: 'lottery'; model: ModelId; mode: Mode; baseline: string; start: LotteryResult | null; progress: LotteryProgress | null; points: LotteryPoint[] };

export interface ExperimentsState {
  sensitivity: ExperimentRecord<SensitivityResult> | null;
  sweep: ExperimentRecord<SweepResult> | null;
  /** The lottery ticket (issue 22); absent in records saved before it existed. */
  lottery?: ExperimentRecord<LotteryResult> | null;
  running: RunningExperiment | null;
}

export interface Notice {
  id: number;
  level: 'info' | 'error';
  text: string;
  /** Offers a Retry button that calls this action ('fullData': the full CIFAR-10's download). */
  retry?: 'data' | 'fullData';
}

export interface DataStatus {
  status: 'idle' | 'loading' | 'ready' | 'error';
  loaded: number;
  total: number | null;
  count: number;
  source: string;
  perClass: number[];
}

/** The full CIFAR-10's download (data=full): the subset stays in use until it is 'ready'. */
export interface FullDataStatus {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** Bytes received over all batches, and the total the data set's manifest promises (null before it is read). */
  loaded: number;
  total: number | null;
  /** The batch being fetched. */
  file: string;
  error: string | null;
}

export interface CurvePoint {
  /** Images seen since the curve started, in thousands (x axis). */
  step: number;
  loss?: number;
  trainAcc?: number;
  testAcc?: number;
}

export interface Job {
  /** Which model trains, or 'experiment' while a sensitivity scan or a method comparison runs (experiments.ts). */
  role: ModelRole | 'experiment';
  epochs: number;
  /** Epoch index within this job (0-based). */
  epoch: number;
  /** Absolute epoch number of the first report, to turn report epochs into job epochs. */
  firstEpoch: number | null;
  batch: number;
  batchesPerEpoch: number;
  imagesPerSecond: number;
  cancelling: boolean;
}

/** Where the baseline came from, shown in the page ("pretrained: 10 epochs, seed 42, 47.9 %"). */
export interface BaselineOrigin {
  kind: 'pretrained' | 'scratch' | 'file';
  model: ModelId;
  seed: number;
  /** Epochs trained so far (fractional after a cancelled run). */
  epochs: number;
  /** Of those, epochs trained in this browser (switching model asks before throwing them away). */
  trainedHere: number;
  /** Pretrained: the manifest's test accuracy and backend; file: the file name. */
  detail?: string;
}

/** The baseline as it is saved: enough to restore it exactly after a reload. */
export interface BaselineRecord {
  origin: BaselineOrigin;
  /** Weights after the last completed epoch (null until the first one, or for an untouched seeded start). */
  weights: NetWeights | null;
  curve: CurvePoint[];
  /** Set while training runs; a reload that finds it knows the training was interrupted. */
  trainingUntil: number | null;
}

export interface State {
  settings: Settings;
  notices: Notice[];
  backend: BackendInfo | null;
  engineError: string | null;
  data: Record<DataRole, DataStatus>;
  fullData: FullDataStatus;
  job: Job | null;
  baseline: BaselineRecord;
  baselineEval: Evaluation | null;
  /** The fine-tuning curve of the pruned model (the baseline's lives in its record). */
  prunedCurve: CurvePoint[];
  preview: { status: 'idle' | 'pending' | 'ready' | 'error'; reply: PreviewReply | null; error: string | null };
  finetunedEval: Evaluation | null;
  /** Epochs the current pruned model has been fine-tuned for (fine-tuning again continues it). */
  prunedEpochs: number;
  history: HistoryRow[];
  /** Sensitivity scan and method comparison: the last results (saved) and the one running. */
  experiments: ExperimentsState;
  /** 'off' when IndexedDB is missing, full or failing: the page then works from memory only. */
  persistence: 'pending' | 'on' | 'off';
  /** Whether every change is in IndexedDB ('saved') or some write is still pending ('saving'); 'off' once saving failed. */
  saving: 'saving' | 'saved' | 'off';
  /** The last "Export to PyTorch": its file name, the script shown in the page, and the zip to download. */
  pytorchExport: { name: string; script: string; problem: string | null; zip: Uint8Array; label: string } | null;
  /** The running (or last) scheduled fine-tune's steps, for its step chart. */
  scheduleSteps: ScheduleStepReport[];
  /** Which view shows, what is hidden, presenter type (layout.ts): from the URL, not saved with the work. */
  layout: Layout;
}

/** What survives a reload. */
export type Persisted = Pick<State, 'settings' | 'baseline' | 'history'> & {
  baselineEval: Evaluation | null;
  /** Absent in records saved before the experiments existed. */
  experiments?: Pick<ExperimentsState, 'sensitivity' | 'sweep' | 'lottery'>;
  /** An experiment that was running when the page went away: its points are in `experiments`, marked cancelled. */
  interrupted?: { kind: RunningExperiment['kind']; points: number };
};


/** A shipped pretrained baseline (public/models/), as the loader returns it. */
export interface Pretrained {
  weights: NetWeights;
  seed: number;
  epochs: number;
  /** Test accuracy on test_1000 measured when it was made (the manifest's). */
  testAccuracy: number;
  backend: string;
  /** A full-data baseline's own description ("trained on the full CIFAR-10, 40 epochs, 91.1 % on 10,000 test images"; a run shipped before its end: "8 of 100 epochs"). */
  about?: string;
}
