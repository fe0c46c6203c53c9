/**
 * Messages between the page and the engine worker. The worker owns TensorFlow.js, the data on
 * the backend and every model; the page only sends requests and renders replies.
 */
import type { Cifar10Set } from '../core/data/cifar10';
import type { Costs, PruneSettings } from '../core/pruning';
import type { BatchReport, Evaluation, TrainConfig } from '../core/train/trainer';

export type BackendName = 'webgl' | 'wasm' | 'cpu';

export interface BackendInfo {
  backend: string;
  renderer: string | null;
  reason: string;
  threads?: number;
  simd?: boolean;
}

export type DataRole = 'train' | 'test';

/** Which model a request acts on: the trained baseline, or the pruned copy being explored. */
export type ModelRole = 'baseline' | 'pruned';

export type Request =
  | { type: 'init'; backend: BackendName | null }
  | { type: 'setData'; role: DataRole; set: Cifar10Set }
  | { type: 'train'; role: ModelRole; config: TrainConfig; trainSubset: number }
  | { type: 'cancel' }
  | { type: 'evaluate'; role: ModelRole }
  /** Prunes a fresh copy of the baseline and evaluates it; a newer preview supersedes an older one. */
  | { type: 'preview'; settings: PruneSettings }
  | { type: 'resetBaseline'; seed: number }
  | { type: 'memory' };

export interface PreviewReply {
  settings: PruneSettings;
  costs: Costs;
  evaluation: Evaluation;
  keptFilters: number[];
  /** The baseline's conv1 kernel [3, 3, 3, 64] and which of its weights survive (1), for drawing the filters. */
  conv1: { kernel: Float32Array; kept: Uint8Array };
  /** Milliseconds from receiving the request to the evaluated result. */
  millis: number;
}

export interface MemoryReply {
  numTensors: number;
  numBytes: number;
}

export interface TrainReply {
  cancelled: boolean;
  steps: number;
  images: number;
  seconds: number;
  evaluation: Evaluation;
  /** For the pruned model: counts measured on its weights after training (masked ones must still be zero). */
  measured: Costs | null;
}

/** Replies carry the request id; events (progress) carry none. */
export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; superseded?: boolean };

export type EngineEvent =
  | { type: 'batch'; role: ModelRole; report: BatchReport }
  | { type: 'epoch'; role: ModelRole; epoch: number; trainLoss: number; evaluation: Evaluation };

export type WorkerMessage = Reply | { event: EngineEvent };
