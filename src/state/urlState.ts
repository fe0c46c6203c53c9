/**
 * Every shareable setting, declared once in a typed table, serialised to and from the URL.
 * A shared link reproduces the configuration; a bad value is clamped or ignored with a notice.
 */

export type Method = 'random' | 'l1' | 'l2';
export type Mode = 'mask' | 'remove' | 'global';
export type OptimizerName = 'adam' | 'sgd';
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu';

export interface Settings {
  method: Method;
  mode: Mode;
  /** Percent of conv1 filters pruned (of conv1 weights in global mode), 0–100. */
  conv1: number;
  /** Percent of fc1 weights pruned (unstructured), 0–100. */
  fc1: number;
  seed: number;
  /** Baseline training epochs per click. */
  epochs: number;
  /** Fine-tuning epochs after pruning. */
  ftEpochs: number;
  lr: number;
  batch: number;
  opt: OptimizerName;
  backend: BackendChoice;
  /** Train on only the first N training images (0 = all); handy for quick demos and tests. */
  trainSubset: number;
}

type Field =
  | { kind: 'enum'; values: readonly string[]; label: string }
  | { kind: 'int' | 'float'; min: number; max: number; label: string };

export const FIELDS: { [K in keyof Settings]: Field } = {
  method: { kind: 'enum', values: ['random', 'l1', 'l2'], label: 'pruning method' },
  mode: { kind: 'enum', values: ['mask', 'remove', 'global'], label: 'pruning mode' },
  conv1: { kind: 'float', min: 0, max: 100, label: 'conv1 sparsity (%)' },
  fc1: { kind: 'float', min: 0, max: 100, label: 'fc1 sparsity (%)' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, label: 'seed' },
  epochs: { kind: 'int', min: 1, max: 100, label: 'epochs' },
  ftEpochs: { kind: 'int', min: 1, max: 20, label: 'fine-tuning epochs' },
  lr: { kind: 'float', min: 1e-6, max: 1, label: 'learning rate' },
  batch: { kind: 'int', min: 1, max: 1024, label: 'batch size' },
  opt: { kind: 'enum', values: ['adam', 'sgd'], label: 'optimizer' },
  backend: { kind: 'enum', values: ['auto', 'webgl', 'wasm', 'cpu'], label: 'backend' },
  trainSubset: { kind: 'int', min: 0, max: 1_000_000, label: 'training subset' },
};

export const DEFAULT_SETTINGS: Settings = {
  method: 'l1',
  mode: 'mask',
  conv1: 0,
  fc1: 0,
  seed: 42,
  epochs: 1,
  ftEpochs: 1,
  lr: 1e-3,
  batch: 64,
  opt: 'adam',
  backend: 'auto',
  trainSubset: 0,
};

const KEYS = Object.keys(FIELDS) as (keyof Settings)[];

export interface ParsedUrl {
  settings: Settings;
  notices: string[];
}

/** Reads settings from a query string; anything missing keeps its default. */
export function parseSettings(search: string, base: Settings = DEFAULT_SETTINGS): ParsedUrl {
  const params = new URLSearchParams(search);
  const settings: Settings = { ...base };
  const notices: string[] = [];
  const known = new Set<string>(KEYS);
  for (const key of params.keys()) {
    if (!known.has(key)) notices.push(`Unknown URL parameter “${key}” was ignored.`);
  }
  for (const key of KEYS) {
    const raw = params.get(key);
    if (raw === null) continue;
    const field = FIELDS[key];
    const fallback = settings[key];
    if (field.kind === 'enum') {
      if (field.values.includes(raw)) (settings as unknown as Record<string, unknown>)[key] = raw;
      else notices.push(`${key}=${raw} is not one of ${field.values.join(', ')}; using ${fallback}.`);
      continue;
    }
    const value = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) {
      notices.push(`${key}=${raw} is not a number; using ${fallback}.`);
      continue;
    }
    let v = field.kind === 'int' ? Math.round(value) : value;
    if (field.kind === 'int' && v !== value) notices.push(`${key}=${raw} must be a whole number; using ${v}.`);
    if (v < field.min || v > field.max) {
      const clamped = Math.min(field.max, Math.max(field.min, v));
      notices.push(`${key}=${raw} is outside ${field.min}–${field.max}; using ${clamped}.`);
      v = clamped;
    }
    (settings as unknown as Record<string, unknown>)[key] = v;
  }
  return { settings, notices };
}

/** The query string for a settings object (always complete, so links survive default changes). */
export function settingsToQuery(s: Settings): string {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    // Environment knobs appear only when set, so a shared link does not force a backend.
    if ((key === 'backend' && s.backend === 'auto') || (key === 'trainSubset' && s.trainSubset === 0)) continue;
    params.set(key, String(s[key]));
  }
  return params.toString();
}
