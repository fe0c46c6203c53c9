/**
 * Experiment files: one .zip a teacher hands out and every student opens to the same numbers.
 *   baseline.safetensors — the baseline's weights (PyTorch names and layout; PyTorch reads it too)
 *   experiment.json      — settings (as the share link's query), where the baseline came from, its
 *                          training curve and accuracy, the runs history, the experiments' results
 * Zipped with fflate (a well-kept zip library; no hand-written container format).
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { loadWeightsFile, saveWeightsFile } from '../core/io/torchLayout';
import type { NetWeights } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import type { Evaluation } from '../core/train/trainer';
import type { HistoryRow } from './history';
import type { BaselineOrigin, CurvePoint } from './store';
import { type Settings, parseSettings, settingsToQuery } from './urlState';

export const EXPERIMENT_FORMAT = 'pruning-playground-experiment';
export const EXPERIMENT_VERSION = 1;
/** Far above any real experiment (a SimpleCNN baseline is 2.6 MB): a bigger file is not one of ours. */
export const EXPERIMENT_MAX_BYTES = 100 * 1024 * 1024;

export interface Experiment {
  settings: Settings;
  origin: BaselineOrigin;
  weights: NetWeights;
  curve: CurvePoint[];
  baselineEval: Evaluation | null;
  history: HistoryRow[];
  /** Results of the sensitivity scan and the method comparison, when the page has them. */
  experiments?: unknown;
}

interface ExperimentJson {
  format: typeof EXPERIMENT_FORMAT;
  version: number;
  savedAt: string;
  /** The share link's query string: settings stay readable and go through the same validation. */
  settings: string;
  origin: BaselineOrigin;
  curve: CurvePoint[];
  baselineEval: Evaluation | null;
  history: HistoryRow[];
  experiments?: unknown;
}

export class ExperimentFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}. Nothing was changed.`);
    this.name = 'ExperimentFileError';
  }
}

export function encodeExperiment(e: Experiment, savedAt = new Date()): Uint8Array {
  const json: ExperimentJson = {
    format: EXPERIMENT_FORMAT,
    version: EXPERIMENT_VERSION,
    savedAt: savedAt.toISOString(),
    settings: settingsToQuery(e.settings),
    origin: e.origin,
    curve: e.curve,
    baselineEval: e.baselineEval,
    history: e.history,
    experiments: e.experiments,
  };
  const weights = saveWeightsFile(specFor(e.weights.model), e.weights, { origin: JSON.stringify(e.origin) });
  // The weights barely compress (float32 noise): stored, so saving is instant.
  return zipSync({ 'experiment.json': strToU8(JSON.stringify(json, null, 1)), 'baseline.safetensors': [weights, { level: 0 }] });
}

export function experimentFileName(e: Pick<Experiment, 'settings'>, at = new Date()): string {
  return `pruning-experiment-${e.settings.model}-${at.toISOString().slice(0, 16).replace(/[:T]/g, '-')}.zip`;
}

/** Reads an experiment file; every problem becomes an ExperimentFileError naming the file. */
export function decodeExperiment(bytes: Uint8Array, fileName: string): { experiment: Experiment; notices: string[] } {
  const fail = (problem: string): never => {
    throw new ExperimentFileError(fileName, problem);
  };
  if (bytes.length === 0) fail('the file is empty');
  if (bytes.length > EXPERIMENT_MAX_BYTES) fail(`the file is ${(bytes.length / 2 ** 20).toFixed(0)} MiB, more than an experiment can be (${EXPERIMENT_MAX_BYTES / 2 ** 20} MiB)`);
  // "PK\x03\x04": every zip starts with a local file header.
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) fail('this is not an experiment file (not a .zip saved by "Save experiment")');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    return fail(`the zip is damaged or truncated (${e instanceof Error ? e.message : String(e)})`);
  }
  const jsonBytes = files['experiment.json'];
  if (!jsonBytes) return fail('the zip holds no experiment.json: it was not saved by the playground');
  let json: ExperimentJson;
  try {
    json = JSON.parse(strFromU8(jsonBytes)) as ExperimentJson;
  } catch {
    return fail('experiment.json is not valid JSON (damaged file?)');
  }
  if (json?.format !== EXPERIMENT_FORMAT) fail('experiment.json is not a Pruning Playground experiment');
  if (json.version !== EXPERIMENT_VERSION) fail(`it was saved by a version of the playground this one cannot read (format version ${json.version})`);
  if (typeof json.settings !== 'string' || !json.origin || !Array.isArray(json.history) || !Array.isArray(json.curve)) fail('experiment.json lacks the settings, the baseline or the history');
  const weightsBytes = files['baseline.safetensors'];
  if (!weightsBytes) fail('the zip holds no baseline.safetensors');
  const { settings, notices } = parseSettings(json.settings);
  let weights: NetWeights;
  try {
    weights = loadWeightsFile(weightsBytes, settings.model).weights;
  } catch (e) {
    return fail(`baseline.safetensors: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    experiment: { settings, origin: { ...json.origin, kind: 'file', detail: fileName, trainedHere: 0 }, weights, curve: json.curve, baselineEval: json.baselineEval ?? null, history: json.history, experiments: json.experiments },
    notices,
  };
}
