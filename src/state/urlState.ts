/**
 * Every shareable setting, declared once in a typed table, serialised to and from the URL.
 * A shared link reproduces the configuration; a bad value is clamped or ignored with a notice.
 */
import { structure } from '../core/model/graph';
import type { Channels, ModelId } from '../core/model/spec';
import { fullChannels } from '../core/model/spec';
import { DEFAULT_MODEL, MODEL_IDS, specFor } from '../core/model/zoo';
import { groupsOf } from '../core/pruning/groups';
import { SCHEDULE_KINDS, type ScheduleKind } from '../core/pruning/schedule';
import { DEFAULT_TAYLOR_BATCH, METHODS, MODES, type Method, type Mode } from '../core/pruning/settings';
import { type Recipe, SCHEDULES, type ScheduleName } from '../core/train/recipe';
import { lessonById } from '../core/lessons';
import { LAYOUT_KEYS, type Layout, layoutToParams } from './layout';
import { lessonLink } from './lessonUrl';

export type { Method, Mode };
export type OptimizerName = 'adam' | 'sgd';
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu' | 'webgpu';
/** The playground's custom kernels, or stock tfjs (the kill switch, core/backend/kernels.ts). */
export type KernelsChoice = 'custom' | 'stock';
export type BaselineChoice = 'pretrained' | 'scratch';
/** The shipped 5,000/1,000-image subset (instant), or the full CIFAR-10 (50,000/10,000, downloaded on demand). */
export type DataChoice = 'subset' | 'full';
export const DATA_CHOICES = ['subset', 'full'] as const;

/**
 * Pruning amounts in percent, one per slider: a key per channel group of the model (groupsOf(spec):
 * a chain model's conv layers conv1…, ResNet-20's stream1…3 and inner1.1…inner3.3) and one for its
 * linear layer (unstructured). The keys are the URL's parameter names, in this order.
 */
export type Amounts = Record<string, number>;
export interface Settings {
  model: ModelId;
  /** Start from the shipped pretrained weights, or from a seeded untrained network. */
  baseline: BaselineChoice;
  method: Method;
  mode: Mode;
  /**
   * Percent pruned per slider (amountKeysOf(model), every one present): a group's units (in global
   * mode the first group's amount is the share of ALL conv weights), the linear layer's weights.
   */
  amounts: Amounts;
  /** Method 'manual': units pruned by hand, "3,17,40" (the first group) or "conv1:3,17;conv2:5" (by group id). */
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
  /** How the fine-tune reaches the sliders' targets: at once, or over `steps` prune → fine-tune steps (issue 22). */
  schedule: ScheduleKind;
  /** Steps of an iterative / AGP schedule (ftEpochs each); ignored by one-shot. */
  steps: number;
  // The training recipe (core/train/recipe.ts); the defaults are the original training, and the URL
  // carries them only when changed (RECIPE_KEYS), so earlier links and figures stay as they were.
  /** Pad-4 random crop + horizontal flip. */
  aug: OnOff;
  /** Nesterov momentum (SGD only). */
  nesterov: OnOff;
  /** Weight decay on conv and linear weights. */
  wd: number;
  sched: ScheduleName;
  /** Warm-up epochs (linear, per step). */
  warmup: number;
  /** Label smoothing ε. */
  ls: number;
  /** Method taylor (and Taylor in the experiments): training images scored, and the seed that picks them. */
  taylorBatch: number;
  taylorSeed: number;
  /** Which CIFAR-10 the page trains and evaluates on (issue 21); in the URL only when 'full'. */
  data: DataChoice;
  /** A guided lesson (core/lessons) by id, '' for none, and its step counted from 1 (issue 23). */
  lesson: string;
  step: number;
}

export type OnOff = 'off' | 'on';
/** Recipe settings: in the URL only when they differ from the default. */
export const RECIPE_KEYS = ['aug', 'nesterov', 'wd', 'sched', 'warmup', 'ls'] as const;

type Field =
  | { kind: 'enum'; values: readonly string[]; label: string }
  | { kind: 'int' | 'float'; min: number; max: number; label: string }
  | { kind: 'text'; label: string }
  /** One number (min–max) per key of amountKeysOf(model); the URL holds each key on its own. */
  | { kind: 'amounts'; min: number; max: number; label: string };

export const FIELDS: { [K in keyof Settings]: Field } = {
  model: { kind: 'enum', values: MODEL_IDS, label: 'model' },
  baseline: { kind: 'enum', values: ['pretrained', 'scratch'], label: 'baseline' },
  method: { kind: 'enum', values: METHODS, label: 'pruning method' },
  mode: { kind: 'enum', values: MODES, label: 'pruning mode' },
  amounts: { kind: 'amounts', min: 0, max: 100, label: 'sparsity (%)' },
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
  schedule: { kind: 'enum', values: SCHEDULE_KINDS, label: 'pruning schedule' },
  steps: { kind: 'int', min: 2, max: 10, label: 'schedule steps' },
  aug: { kind: 'enum', values: ['off', 'on'], label: 'augmentation' },
  nesterov: { kind: 'enum', values: ['off', 'on'], label: 'Nesterov momentum' },
  wd: { kind: 'float', min: 0, max: 0.1, label: 'weight decay' },
  sched: { kind: 'enum', values: SCHEDULES, label: 'learning-rate schedule' },
  warmup: { kind: 'float', min: 0, max: 100, label: 'warm-up epochs' },
  ls: { kind: 'float', min: 0, max: 0.5, label: 'label smoothing' },
  taylorBatch: { kind: 'int', min: 1, max: 1024, label: 'Taylor batch (training images)' },
  taylorSeed: { kind: 'int', min: 0, max: 2 ** 31 - 1, label: 'Taylor batch seed' },
  data: { kind: 'enum', values: DATA_CHOICES, label: 'data set' },
  lesson: { kind: 'text', label: 'lesson' },
  step: { kind: 'int', min: 1, max: 99, label: 'lesson step' },
};

export const DEFAULT_SETTINGS: Settings = {
  model: DEFAULT_MODEL,
  baseline: 'pretrained',
  method: 'l1',
  mode: 'mask',
  amounts: zeroAmounts(DEFAULT_MODEL),
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
  schedule: 'oneshot',
  steps: 3,
  aug: 'off',
  nesterov: 'off',
  wd: 0,
  sched: 'constant',
  warmup: 0,
  ls: 0,
  taylorBatch: DEFAULT_TAYLOR_BATCH.batch,
  taylorSeed: DEFAULT_TAYLOR_BATCH.seed,
  data: 'subset',
  lesson: '',
  step: 1,
};

const KEYS = Object.keys(FIELDS) as (keyof Settings)[];

/** The amount sliders a model has, in URL order: its channel groups, then its linear layer. */
export function amountKeysOf(model: ModelId): string[] {
  const spec = specFor(model);
  return [...groupsOf(spec).map((g) => g.id), structure(spec).output.name];
}

/** Every slider of the model at 0. */
export function zeroAmounts(model: ModelId): Amounts {
  return Object.fromEntries(amountKeysOf(model).map((k) => [k, 0]));
}

/** The model's sliders, each from `amounts` (0 when missing); keys the model lacks are dropped. */
export function amountsFor(model: ModelId, amounts: Readonly<Record<string, unknown>>): Amounts {
  return Object.fromEntries(
    amountKeysOf(model).map((k) => {
      const v = amounts[k];
      return [k, typeof v === 'number' && Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : 0];
    }),
  );
}

/** Every amount key of every model (a key of another model gets "has no …", anything else "unknown"). */
const ALL_AMOUNT_KEYS = new Set(MODEL_IDS.flatMap(amountKeysOf));

/**
 * Settings saved before amounts were keyed by group (conv1…fc1 as fields of their own) read as
 * today's: the old fields move into `amounts`. Anything else passes through.
 */
export function migrateSettings(saved: Settings | (Omit<Settings, 'amounts'> & Record<string, unknown>)): Settings {
  const s = saved as Record<string, unknown>;
  const model = (MODEL_IDS as readonly unknown[]).includes(s.model) ? (s.model as ModelId) : DEFAULT_MODEL;
  const legacy = Object.fromEntries(Object.entries(s).filter(([k]) => ALL_AMOUNT_KEYS.has(k) && !(k in FIELDS)));
  const amounts = s.amounts && typeof s.amounts === 'object' ? (s.amounts as Record<string, unknown>) : legacy;
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(s).filter(([k]) => k in FIELDS)) };
  out.model = model;
  out.amounts = amountsFor(model, amounts);
  return out as unknown as Settings;
}

/** Hand-picked units per channel group, parsed from the `manual` setting (invalid parts reported). */
export function parseManual(text: string, model: ModelId): { manual: Record<string, number[]>; problems: string[] } {
  const spec = specFor(model);
  const groups = structure(spec).groups;
  const manual: Record<string, number[]> = {};
  const problems: string[] = [];
  if (text.trim() === '') return { manual, problems };
  for (const part of text.split(';')) {
    const m = /^\s*(?:([a-z][\w.]*)\s*:)?\s*([\d\s,]*)$/i.exec(part);
    const id = m ? (m[1] ?? groups[0].id) : null;
    const g = groups.find((x) => x.id === id);
    if (!m || !g) {
      const example = groups[Math.min(1, groups.length - 1)].id;
      const what = groups[0].kind === 'layer' ? 'a conv layer' : 'a channel group';
      problems.push(`manual=${part}: expected filter numbers like 3,17,40 or ${example}:3,17 for ${what} of ${spec.label}.`);
      continue;
    }
    const set = new Set(manual[g.id] ?? []);
    for (const tok of m[2].split(',').map((t) => t.trim()).filter(Boolean)) {
      const j = Number(tok);
      if (Number.isInteger(j) && j >= 0 && j < g.units) set.add(j);
      else problems.push(`manual: ${g.id} has ${g.unitName} 0–${g.units - 1}; ${tok} was ignored.`);
    }
    manual[g.id] = [...set].sort((a, b) => a - b);
  }
  return { manual, problems };
}

/** The `manual` text for hand-picked units: the first group's as "3,17,40", others with their id. */
export function formatManual(manual: Record<string, number[]>, model: ModelId): string {
  const first = structure(specFor(model)).groups[0].id;
  return Object.entries(manual)
    .filter(([, js]) => js.length > 0)
    .map(([group, js]) => (group === first ? js.join(',') : `${group}:${js.join(',')}`))
    .sort((a, b) => Number(/^[a-z]/i.test(a)) - Number(/^[a-z]/i.test(b)))
    .join(';');
}

export interface ParsedUrl {
  settings: Settings;
  notices: string[];
}

type NumberField = { kind: 'int' | 'float' | 'amounts'; min: number; max: number };

/** A number from the URL, rounded and clamped as its field says; undefined (with a notice) when it is none. */
function readNumber(key: string, raw: string, field: NumberField, fallback: unknown, notices: string[]): number | undefined {
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value)) {
    notices.push(`${key}=${raw} is not a number; using ${String(fallback)}.`);
    return undefined;
  }
  let v = field.kind === 'int' ? Math.round(value) : value;
  if (field.kind === 'int' && v !== value) notices.push(`${key}=${raw} must be a whole number; using ${v}.`);
  if (v < field.min || v > field.max) {
    const clamped = Math.min(field.max, Math.max(field.min, v));
    notices.push(`${key}=${raw} is outside ${field.min}–${field.max}; using ${clamped}.`);
    v = clamped;
  }
  return v;
}

/** The pruning settings a lesson step starts from: its defaults, whatever the student set before (the rest stays). */
const STEP_RESETS = ['method', 'mode', 'manual', 'schedule', 'steps', 'ftEpochs'] as const;
function stepBase(s: Settings): Settings {
  const reset = Object.fromEntries(STEP_RESETS.map((k) => [k, DEFAULT_SETTINGS[k]]));
  return { ...s, ...reset, amounts: zeroAmounts(s.model) };
}

/**
 * The settings step `n` (from 1) of a lesson sets, from the current ones: the step's state over the
 * pruning settings at their defaults; the environment and the training recipe stay.
 */
export function lessonStepSettings(current: Settings, lesson: string, n: number): ParsedUrl {
  const params = new URLSearchParams({ lesson, step: String(n) });
  const parsed = parseSettings(params.toString(), current);
  const l = parsed.settings.lesson;
  if (l === '') return parsed;
  const state = new URLSearchParams(lessonById(l)!.steps[parsed.settings.step - 1].state);
  state.set('lesson', l);
  state.set('step', String(parsed.settings.step));
  const out = parseSettings(state.toString(), stepBase(current));
  return { settings: out.settings, notices: [...parsed.notices, ...out.notices] };
}

/** Reads settings from a query string; anything missing keeps its default. */
export function parseSettings(search: string, base: Settings = DEFAULT_SETTINGS): ParsedUrl {
  const notices: string[] = [];
  // A teacher's lesson link (lesson= and step= only) opens the step as its lesson sets it (lessonUrl.ts).
  const { params, stepApplies } = lessonLink(new URLSearchParams(search), notices);
  if (stepApplies) base = stepBase(base);
  const settings: Settings = { ...base, amounts: { ...base.amounts } };
  // The layout's parameters (view, controls, presenter: layout.ts) are read by parseLayout.
  const known = new Set<string>([...KEYS, ...LAYOUT_KEYS]);
  // The model decides which amount keys exist, so it is read first.
  const modelRaw = params.get('model');
  const model = modelRaw !== null && (MODEL_IDS as readonly string[]).includes(modelRaw) ? (modelRaw as ModelId) : settings.model;
  const amountKeys = amountKeysOf(model);
  for (const key of params.keys()) {
    if (!known.has(key) && !ALL_AMOUNT_KEYS.has(key)) notices.push(`Unknown URL parameter “${key}” was ignored.`);
  }
  for (const key of KEYS) {
    const field = FIELDS[key];
    const put = (v: unknown) => ((settings as unknown as Record<string, unknown>)[key] = v);
    if (field.kind === 'amounts') {
      const amounts = model === base.model ? amountsFor(model, base.amounts) : zeroAmounts(model);
      for (const k of amountKeys) {
        const raw = params.get(k);
        if (raw === null) continue;
        const v = readNumber(k, raw, field, amounts[k], notices);
        if (v !== undefined) amounts[k] = v;
      }
      settings.amounts = amounts;
      continue;
    }
    const raw = params.get(key);
    if (raw === null) continue;
    const fallback = settings[key];
    if (field.kind === 'text') {
      put(raw);
      continue;
    }
    if (field.kind === 'enum') {
      if (field.values.includes(raw)) put(raw);
      else notices.push(`${key}=${raw} is not one of ${field.values.join(', ')}; using ${String(fallback)}.`);
      continue;
    }
    const v = readNumber(key, raw, field, fallback, notices);
    if (v !== undefined) put(v);
  }
  // Sliders the chosen model does not have: say so rather than silently keeping a value that does nothing.
  const has = new Set(amountKeys);
  for (const k of params.keys()) {
    if (ALL_AMOUNT_KEYS.has(k) && !has.has(k) && !known.has(k)) notices.push(`${k}=${params.get(k)} was ignored: ${specFor(settings.model).label} has no ${k}.`);
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
  for (const key of KEYS) {
    // Environment knobs appear only when set, so a shared link does not force a backend.
    if ((key === 'backend' && s.backend === 'auto') || (key === 'kernels' && s.kernels === 'custom') || (key === 'trainSubset' && s.trainSubset === 0)) continue;
    // The subset (the default) writes nothing, so links from before the full data set stay as they were.
    if (key === 'data' && s.data === 'subset') continue;
    if (key === 'manual' && s.manual === '') continue;
    if ((key === 'lesson' || key === 'step') && s.lesson === '') continue;
    if (FIELDS[key].kind === 'amounts') {
      for (const k of amountKeysOf(s.model)) params.set(k, String(s.amounts[k] ?? 0));
      continue;
    }
    // One-shot (the default) writes neither, so links from before schedules stay as they were.
    if ((key === 'schedule' || key === 'steps') && s.schedule === 'oneshot') continue;
    if ((RECIPE_KEYS as readonly string[]).includes(key) && s[key] === DEFAULT_SETTINGS[key]) continue;
    // The Taylor batch matters to the link only when Taylor ranks the sliders.
    if ((key === 'taylorBatch' || key === 'taylorSeed') && s.method !== 'taylor') continue;
    params.set(key, String(s[key]));
  }
  // URLSearchParams would write the commas of manual=3,17,40 as %2C; keep them readable.
  return params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%3B/g, ';');
}

/** The address bar's query: the settings, then the layout's parameters that differ from the default. */
export function pageQuery(s: Settings, layout: Layout): string {
  const extra = new URLSearchParams(layoutToParams(layout)).toString().replace(/%2C/g, ',');
  const settings = settingsToQuery(s);
  return extra === '' ? settings : settings === '' ? extra : `${settings}&${extra}`;
}

/** The channel groups' full unit counts for a model (for sliders and figures). */
export const channelsOf = (model: ModelId): Channels => fullChannels(specFor(model));

/** The training recipe the settings ask for. */
export function recipeOf(s: Settings): Recipe {
  return {
    augment: s.aug === 'on',
    nesterov: s.opt === 'sgd' && s.nesterov === 'on',
    weightDecay: s.wd,
    schedule: s.sched,
    warmupEpochs: s.warmup,
    labelSmoothing: s.ls,
  };
}
