/**
 * Every shareable setting, declared once in a typed table, serialised to and from the URL.
 * A shared link reproduces the configuration; a bad value is clamped or ignored with a notice.
 */
import { type Channels, type ModelId, fullChannels, geometry } from '../core/model/spec';
import { DEFAULT_MODEL, MODEL_IDS, specFor } from '../core/model/zoo';
import { DEFAULT_TAYLOR_BATCH, METHODS, MODES, type Method, type Mode } from '../core/pruning/settings';

export type { Method, Mode };
export type OptimizerName = 'adam' | 'sgd';
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu' | 'webgpu';
/** The playground's custom kernels, or stock tfjs (the kill switch, core/backend/kernels.ts). */
export type KernelsChoice = 'custom' | 'stock';
export type BaselineChoice = 'pretrained' | 'scratch';

/** Per-layer sliders, in percent. A model uses the ones it has (the SimpleCNN: conv1 and fc1). */
export const AMOUNT_KEYS = ['conv1', 'conv2', 'conv3', 'fc1'] as const;
export type AmountKey = (typeof AMOUNT_KEYS)[number];

export interface Settings {
  model: ModelId;
  /** Start from the shipped pretrained weights, or from a seeded untrained network. */
  baseline: BaselineChoice;
  method: Method;
  mode: Mode;
  /** Percent of a conv layer's filters pruned (of all conv weights in global mode, on conv1), 0–100. */
  conv1: number;
  conv2: number;
  conv3: number;
  /** Percent of fc1 weights pruned (unstructured), 0–100. */
  fc1: number;
  /** Method 'manual': filters pruned by hand, "3,17,40" (conv1) or "conv1:3,17;conv2:5". */
  manual: string;
  seed: number;
  /** Baseline training epochs per click. */
  epochs: number;
  /** Fine-tuning epochs after pruning. */
  ftEpochs: number;
  lr: number;
  batch: number;
  opt: OptimizerName;
  backend: BackendChoice;
  kernels: KernelsChoice;
  /** Train on only the first N training images (0 = all); handy for quick demos and tests. */
  trainSubset: number;
  /** Method taylor (and Taylor in the experiments): training images scored, and the seed that picks them. */
  taylorBatch: number;
  taylorSeed: number;
}

type Field =
  | { kind: 'enum'; values: readonly string[]; label: string }
  | { kind: 'int' | 'float'; min: number; max: number; label: string }
  | { kind: 'text'; label: string };

export const FIELDS: { [K in keyof Settings]: Field } = {
  model: { kind: 'enum', values: MODEL_IDS, label: 'model' },
  baseline: { kind: 'enum', values: ['pretrained', 'scratch'], label: 'baseline' },
  method: { kind: 'enum', values: METHODS, label: 'pruning method' },
  mode: { kind: 'enum', values: MODES, label: 'pruning mode' },
  conv1: { kind: 'float', min: 0, max: 100, label: 'conv1 sparsity (%)' },
  conv2: { kind: 'float', min: 0, max: 100, label: 'conv2 sparsity (%)' },
  conv3: { kind: 'float', min: 0, max: 100, label: 'conv3 sparsity (%)' },
  fc1: { kind: 'float', min: 0, max: 100, label: 'fc1 sparsity (%)' },
  manual: { kind: 'text', label: 'hand-picked filters' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, label: 'seed' },
  epochs: { kind: 'int', min: 1, max: 100, label: 'epochs' },
  ftEpochs: { kind: 'int', min: 1, max: 20, label: 'fine-tuning epochs' },
  lr: { kind: 'float', min: 1e-6, max: 1, label: 'learning rate' },
  batch: { kind: 'int', min: 1, max: 1024, label: 'batch size' },
  opt: { kind: 'enum', values: ['adam', 'sgd'], label: 'optimizer' },
  backend: { kind: 'enum', values: ['auto', 'webgl', 'wasm', 'cpu', 'webgpu'], label: 'backend' },
  kernels: { kind: 'enum', values: ['custom', 'stock'], label: 'kernels' },
  trainSubset: { kind: 'int', min: 0, max: 1_000_000, label: 'training subset' },
  taylorBatch: { kind: 'int', min: 1, max: 1024, label: 'Taylor batch (training images)' },
  taylorSeed: { kind: 'int', min: 0, max: 2 ** 31 - 1, label: 'Taylor batch seed' },
};

export const DEFAULT_SETTINGS: Settings = {
  model: DEFAULT_MODEL,
  baseline: 'pretrained',
  method: 'l1',
  mode: 'mask',
  conv1: 0,
  conv2: 0,
  conv3: 0,
  fc1: 0,
  manual: '',
  seed: 42,
  epochs: 1,
  ftEpochs: 1,
  lr: 1e-3,
  batch: 64,
  opt: 'adam',
  backend: 'auto',
  kernels: 'custom',
  trainSubset: 0,
  taylorBatch: DEFAULT_TAYLOR_BATCH.batch,
  taylorSeed: DEFAULT_TAYLOR_BATCH.seed,
};

const KEYS = Object.keys(FIELDS) as (keyof Settings)[];

/** The amount sliders a model has: its conv layers and its linear layer. */
export function amountKeysOf(model: ModelId): AmountKey[] {
  const spec = specFor(model);
  return AMOUNT_KEYS.filter((k) => spec.layers.some((l) => l.name === k));
}

/** Hand-picked filters per conv layer, parsed from the `manual` setting (invalid parts reported). */
export function parseManual(text: string, model: ModelId): { manual: Record<string, number[]>; problems: string[] } {
  const spec = specFor(model);
  const convs = geometry(spec, fullChannels(spec)).convs;
  const manual: Record<string, number[]> = {};
  const problems: string[] = [];
  if (text.trim() === '') return { manual, problems };
  for (const part of text.split(';')) {
    const m = /^\s*(?:([a-z]\w*)\s*:)?\s*([\d\s,]*)$/i.exec(part);
    const layer = m ? (m[1] ?? convs[0].name) : null;
    const conv = convs.find((c) => c.name === layer);
    if (!m || !conv) {
      problems.push(`manual=${part}: expected filter numbers like 3,17,40 or conv2:3,17 for a conv layer of ${spec.label}.`);
      continue;
    }
    const set = new Set(manual[conv.name] ?? []);
    for (const tok of m[2].split(',').map((t) => t.trim()).filter(Boolean)) {
      const j = Number(tok);
      if (Number.isInteger(j) && j >= 0 && j < conv.outChannels) set.add(j);
      else problems.push(`manual: ${conv.name} has filters 0–${conv.outChannels - 1}; ${tok} was ignored.`);
    }
    manual[conv.name] = [...set].sort((a, b) => a - b);
  }
  return { manual, problems };
}

/** The `manual` text for hand-picked filters: the first layer's as "3,17,40", others with their name. */
export function formatManual(manual: Record<string, number[]>, model: ModelId): string {
  const first = specFor(model).layers[0].name;
  return Object.entries(manual)
    .filter(([, js]) => js.length > 0)
    .map(([layer, js]) => (layer === first ? js.join(',') : `${layer}:${js.join(',')}`))
    .sort((a, b) => Number(/^[a-z]/i.test(a)) - Number(/^[a-z]/i.test(b)))
    .join(';');
}

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
    const put = (v: unknown) => ((settings as unknown as Record<string, unknown>)[key] = v);
    if (field.kind === 'text') {
      put(raw);
      continue;
    }
    if (field.kind === 'enum') {
      if (field.values.includes(raw)) put(raw);
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
    put(v);
  }
  // Layers the chosen model does not have: say so rather than silently keeping a value that does nothing.
  const has = new Set(amountKeysOf(settings.model));
  for (const k of AMOUNT_KEYS) {
    if (!has.has(k) && params.has(k)) {
      notices.push(`${k}=${params.get(k)} was ignored: ${specFor(settings.model).label} has no ${k}.`);
      settings[k] = 0;
    }
  }
  if (settings.manual) {
    const { manual, problems } = parseManual(settings.manual, settings.model);
    notices.push(...problems);
    settings.manual = formatManual(manual, settings.model);
  }
  return { settings, notices };
}

/** The query string for a settings object (complete for what the model uses, so links survive default changes). */
export function settingsToQuery(s: Settings): string {
  const params = new URLSearchParams();
  const has = new Set<string>(amountKeysOf(s.model));
  for (const key of KEYS) {
    // Environment knobs appear only when set, so a shared link does not force a backend.
    if ((key === 'backend' && s.backend === 'auto') || (key === 'kernels' && s.kernels === 'custom') || (key === 'trainSubset' && s.trainSubset === 0)) continue;
    if ((AMOUNT_KEYS as readonly string[]).includes(key) && !has.has(key)) continue;
    if (key === 'manual' && s.manual === '') continue;
    // The Taylor batch matters to the link only when Taylor ranks the sliders.
    if ((key === 'taylorBatch' || key === 'taylorSeed') && s.method !== 'taylor') continue;
    params.set(key, String(s[key]));
  }
  // URLSearchParams would write the commas of manual=3,17,40 as %2C; keep them readable.
  return params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%3B/g, ';');
}

/** The conv layers' full filter counts for a model (for sliders and figures). */
export const channelsOf = (model: ModelId): Channels => fullChannels(specFor(model));
