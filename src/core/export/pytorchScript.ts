/**
 * "Run this in PyTorch" (issue 13): a zip with the page's baseline as a PyTorch state_dict
 * (baseline.safetensors), a plain PyTorch script that prunes it the way the page did (prune_run.py)
 * and a README. The script is generated for one setting only, so it reads like something a person
 * would write for that experiment: the model class written out, torch.nn.utils.prune calls, a
 * Torch-Pruning-style slicing function for remove mode. It prints one JSON line whose params,
 * nonzero_params and MACs equal the page's figures exactly, and whose accuracy equals the page's
 * on the same test images (floating-point order aside).
 *
 * Where torch cannot repeat the page's choice, the choice is written into the export:
 *   - random filters / BatchNorm gamma / hand-picked filters: the kept filter lists (torch's RNG differs;
 *     torch has no gamma criterion), applied with prune.custom_from_mask;
 *   - random single weights (fc1, global mode): the masks, in masks.safetensors (too long to print);
 *   - L1/L2 filter norms: torch ranks by itself (prune.ln_structured) and the script checks that it
 *     kept the page's filters; torch sums norms in float32 and the page in float64, so two filters
 *     whose norms differ only in the last bits could swap, and the page's list then wins (reported).
 * No TensorFlow.js here: the page's main thread can build the zip.
 */
import { strToU8, zipSync } from 'fflate';
import type { ChannelStats } from '../data/cifar10';
import { type GraphStructure, isGraphSpec, shapes, structure } from '../model/graph';
import { type ConvInfo, type ModelSpec, type NetSpec, type NetWeights, geometry, hasBatchNorm } from '../model/spec';
import { prunedFilterCount } from '../pruning/costs';
import type { PruneResult } from '../pruning/pruner';
import { GLOBAL_STRUCT_MIN_KEEP, type PruneSettings, unsupported } from '../pruning/settings';
import { type SafeTensor, encode } from '../io/safetensors';
import { saveWeightsFile, tensorToTorch } from '../io/torchLayout';
import { DEFAULT_RECIPE, type Recipe } from '../train/recipe';
import { type Schedule, describeSchedule, scheduleCounts, scheduleSparsities } from '../pruning/schedule';

/** How --finetune trains: the page's fine-tuning recipe. */
export interface FinetuneRecipe {
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  batchSize: number;
  /** SGD only. */
  momentum: number;
  /** Augmentation, Nesterov, weight decay, schedule, label smoothing (core/train/recipe.ts). */
  recipe: Recipe;
}

export const DEFAULT_FINETUNE: FinetuneRecipe = { optimizer: 'adam', learningRate: 1e-3, batchSize: 64, momentum: 0.9, recipe: DEFAULT_RECIPE };

export interface PytorchExportInput {
  spec: ModelSpec;
  /** The baseline the page pruned (tfjs layouts). */
  baseline: NetWeights;
  settings: PruneSettings;
  /** What prune(spec, baseline, settings) returned. */
  result: Pick<PruneResult, 'kept' | 'masks' | 'costs'>;
  /** The normalisation the page used (mean and std of its training images, 0-1 scale). */
  stats: ChannelStats;
  /** Recipe for --finetune; missing fields from DEFAULT_FINETUNE. */
  finetune?: Partial<FinetuneRecipe>;
  /** The page's own evaluation of the pruned network (accuracy as a fraction 0..1), quoted in the script and README. */
  measured?: { accuracy?: number; testImages?: number };
  /** Extra string metadata for baseline.safetensors (e.g. training epochs, baseline accuracy). */
  metadata?: Record<string, string>;
  /** Timestamp of the files in the zip (default: now). */
  date?: Date;
  /** The run's schedule (issue 22); missing or one step: one shot. */
  schedule?: Schedule;
  /**
   * A scheduled run's steps, in order (core/pruning/scheduled.ts): each step's kept units (baseline indices),
   * masks (current layout) and costs. The script replays the choices torch cannot make itself: random and
   * Taylor filters, every step of a graph model, random fc1 draws. Needed when `schedule` has several steps.
   */
  steps?: Pick<PruneResult, 'kept' | 'masks' | 'costs'>[];
}

export const EXPORT_FILES = { weights: 'baseline.safetensors', masks: 'masks.safetensors', script: 'prune_run.py', readme: 'README.txt' } as const;

const METHOD_LABEL: Record<PruneSettings['method'], string> = {
  l1: 'L1 norm',
  l2: 'L2 norm',
  random: 'random',
  bn: 'BatchNorm gamma',
  manual: 'hand-picked filters',
  taylor: 'first-order Taylor',
  globalStruct: 'global structured (L1, mean-normalised)',
};

/** "params …, nonzero params …, MACs …, nonzero MACs …" and the measured accuracy, for the script's docstring and the README. */
function measuredLines(input: Pick<PytorchExportInput, 'result' | 'measured'>, indent: string, sep: string): string[] {
  const c = input.result.costs;
  const lines = [`${indent}params ${fmt(c.params)}${sep}nonzero params ${fmt(c.nonzeroParams)}${sep}MACs ${fmt(c.macs)}${sep}nonzero MACs ${fmt(c.nonzeroMacs)}`];
  const m = input.measured;
  if (m?.accuracy !== undefined) lines.push(`${indent}accuracy ${pct(m.accuracy)} %${m.testImages ? ` on its ${fmt(m.testImages)} test images` : ''}`);
  return lines;
}

/**
 * Why the exported script cannot reproduce this setting, or null. Today: remove mode with every filter
 * of a layer removed (PyTorch cannot build a Conv2d with no filters; the page treats the layer as
 * outputting nothing). The export still builds; the script stops with this message.
 */
export function exportProblem(input: Pick<PytorchExportInput, 'spec' | 'settings' | 'result' | 'schedule'>): string | null {
  const oneShot = scheduleOneShotReason(input);
  if (oneShot) return oneShot;
  const empty = input.settings.mode === 'remove' ? Object.entries(input.result.kept).filter(([, k]) => k.length === 0).map(([n]) => n) : [];
  if (empty.length) return `${empty.join(', ')}: every filter removed. PyTorch cannot build a Conv2d with no filters, so this setting has no PyTorch equivalent.`;
  // Not problems but limits, said where the export is shown: where the script applies the page's choice instead of ranking.
  if (isScheduled(input) && isGraphSpec(input.spec) && input.settings.mode !== 'global')
    return "The script applies the page's kept channels at each step (KEPT_STEPS): it does not rank a ResNet's channel groups itself.";
  if (isScheduled(input) && input.settings.method === 'taylor')
    return "The script applies the page's kept filters at each step (KEPT_STEPS): Taylor scores come from a seeded batch of the page's loaded training images and their gradients, which the script does not recompute.";
  // Global structured is ranked by the chain script itself (choose_filters); a graph model's script and Taylor carry the page's choice.
  if (input.settings.method === 'taylor')
    return "The script applies the page's kept filters (KEPT): Taylor scores come from a seeded batch of the page's loaded training images and their gradients, which the script does not recompute.";
  if (input.settings.method === 'globalStruct' && isGraphSpec(input.spec))
    return `The script applies the page's kept filters (KEPT) but does not yet rank by ${METHOD_LABEL[input.settings.method]} itself.`;
  return null;
}

/** The masks the script cannot compute itself (seeded random single weights), PyTorch layout, 1 = kept; null when none. */
export function exportMasks(input: PytorchExportInput): Record<string, SafeTensor> | null {
  const { spec, baseline, settings, result } = input;
  if (settings.method !== 'random') return null;
  const out: Record<string, SafeTensor> = {};
  if (runsSchedule(input)) {
    // Each step's draw of the linear layer (all its weights pruned so far), in that step's network's layout.
    const fc = `${structure(spec).output.name}.weight`;
    const convs = settings.mode === 'global' ? structure(spec).nodes.filter((n) => n.op === 'conv').map((n) => `${n.name}.weight`) : [];
    stepsOf(input).forEach((step, t) => {
      // Global mode: every conv weight's draw so far too (mask mode: the baseline's layout).
      for (const w of convs) {
        const m = step.masks[w];
        if (!m) continue;
        const x = tensorToTorch(spec, baseline.channels, w, m);
        out[`${w}.step${t + 1}`] = { dtype: 'U8', shape: x.shape, data: x.data };
      }
      const m = step.masks[fc];
      if (!m) return;
      const x = tensorToTorch(spec, step.costs.channels, fc, m);
      out[`${fc}.step${t + 1}`] = { dtype: 'U8', shape: x.shape, data: x.data };
    });
    return Object.keys(out).length ? out : null;
  }
  const add = (name: string, channels: number[]) => {
    const m = result.masks[name];
    if (m) {
      const t = tensorToTorch(spec, channels, name, m);
      out[name] = { dtype: 'U8', shape: t.shape, data: t.data };
    }
  };
  const st = structure(spec);
  if (settings.mode === 'global') for (const n of st.nodes) if (n.op === 'conv') add(`${n.name}.weight`, baseline.channels);
  add(`${st.output.name}.weight`, result.costs.channels);
  return Object.keys(out).length ? out : null;
}

/** Every file of the export, by name. */
export function buildPytorchExport(input: PytorchExportInput): Record<string, Uint8Array> {
  check(input);
  const files: Record<string, Uint8Array> = {
    [EXPORT_FILES.weights]: saveWeightsFile(input.spec, input.baseline, { ...input.metadata, exported_by: 'Pruning Playground', role: 'baseline (before pruning)' }),
  };
  const masks = exportMasks(input);
  if (masks) files[EXPORT_FILES.masks] = encode(masks, { format: 'pt', content: 'pruning masks, PyTorch layout, 1 = kept' });
  files[EXPORT_FILES.script] = strToU8(pruneScript(input));
  files[EXPORT_FILES.readme] = strToU8(exportReadme(input));
  return files;
}

/** The export as one zip (baseline.safetensors, prune_run.py, README.txt, and masks.safetensors when needed). */
export function buildPytorchExportZip(input: PytorchExportInput): Uint8Array {
  const files = buildPytorchExport(input);
  const mtime = input.date ?? new Date();
  // Weights barely compress; text does. Level 6 is fflate's default trade-off.
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: k.endsWith('.safetensors') ? 1 : 6 }]])), { mtime });
}

// ---------------------------------------------------------------------------------------------------
// The script

/** prune_run.py for this setting. */
export function pruneScript(input: PytorchExportInput): string {
  check(input);
  if (isGraphSpec(input.spec)) return runsSchedule(input) ? scheduledGraphPruneScript(input) : graphPruneScript(input);
  if (runsSchedule(input)) return scheduledPruneScript(input);
  const { baseline, settings: s, result, stats } = input;
  const spec = input.spec as NetSpec;
  const recipe = { ...DEFAULT_FINETUNE, ...input.finetune };
  const g = geometry(spec, baseline.channels);
  const fc = g.linear.name;
  const cls = className(spec);
  const masks = exportMasks(input);
  const fcMasked = s.method === 'random' ? !!masks?.[`${fc}.weight`] : (s.amounts[fc] ?? 0) > 0;
  const kept = Object.fromEntries(g.convs.map((c) => [c.name, [...result.kept[c.name]]]));
  const pruned = (c: ConvInfo) => prunedFilterCount(s, c.name, c.outChannels) > 0;
  const ranked = s.mode !== 'global' && (s.method === 'l1' || s.method === 'l2' || s.method === 'bn' || s.method === 'globalStruct'); // torch ranks, the page checks
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);

  push(
    ...scriptHeader(input, [
      'Loads the page\'s baseline (baseline.safetensors, a PyTorch state_dict), prunes it as the page did,',
      'evaluates it on CIFAR-10 and prints ONE JSON line: model, mode, method, kept (filters per conv layer,',
      'baseline indices), params, nonzero_params, macs, nonzero_macs, accuracy (percent).',
    ]),
    ...chainConstants(baseline, g, stats, recipe),
  );

  // Settings constants, only those this setting uses.
  if (s.mode === 'global') {
    push(`GLOBAL_AMOUNT = ${pyFloat(s.amounts[g.convs[0]?.name ?? ''] ?? 0)}  # fraction of ALL conv weights, ranked together`);
  } else {
    if (s.method === 'globalStruct')
      push(
        `GLOBAL_TARGET = ${pyFloat(s.amounts[g.convs[0]?.name ?? ''] ?? 0)}  # fraction of ALL conv filters, ranked together`,
        `MIN_KEEP = ${pyFloat(GLOBAL_STRUCT_MIN_KEEP)}  # each layer keeps at least this fraction of its filters (at least one)`,
      );
    else if (s.method !== 'manual' && s.method !== 'random')
      push(`AMOUNTS = ${pyDict(Object.fromEntries(g.convs.filter(pruned).map((c) => [c.name, pyFloat(s.amounts[c.name] ?? 0)])))}  # fraction of each layer's filters`);
    else if (s.method === 'random')
      push(`# The page's amounts: ${g.convs.map((c) => `${c.name} ${pyFloat(s.amounts[c.name] ?? 0)}`).join(', ')} of the filters, drawn with seed ${s.seed}.`);
    push(
      `# The page's choice: filters kept in each conv layer (baseline indices).`,
      `KEPT = ${pyDictOfLists(kept)}`,
    );
  }
  push(`FC_AMOUNT = ${pyFloat(s.amounts[fc] ?? 0)}  # fraction of ${fc}'s weights pruned (unstructured)`);
  if (masks) push(`MASKS_FILE = os.path.join(HERE, ${py(EXPORT_FILES.masks)})`);
  push('', '');

  // The model, written out.
  push(...modelClass(spec, cls), '', '');
  push(...LOAD_SAFETENSORS, '', '');

  // Pruning helpers.
  push(
    ...KEPT_FILTERS,
    '',
    '',
  );
  if (s.mode === 'mask')
    push(
      'def filter_mask(weight, keep):',
      '    """A mask for a conv weight [out, in, kh, kw]: 1 for every weight of the kept filters, 0 elsewhere."""',
      '    mask = torch.zeros_like(weight)',
      '    mask[keep] = 1',
      '    return mask',
      '',
      '',
    );
  if (ranked)
    push(
      'TORCH_DIFFERS = {}  # layers where torch\'s own ranking kept other filters than the page (near-equal scores)',
      '',
      '',
      'def check_choice(name, torch_keep):',
      '    """The page\'s filters for `name`, after comparing them with torch\'s choice. torch ranks in float32 and the',
      '    page in float64, so two filters whose scores differ in the last bits may swap: the page\'s list then wins."""',
      '    torch_keep = sorted(torch_keep)',
      '    if torch_keep != KEPT[name]:',
      '        TORCH_DIFFERS[name] = torch_keep',
      '        print(f"note: {name}: torch would keep {torch_keep}, the page kept {KEPT[name]}; using the page\'s", file=sys.stderr)',
      '    return KEPT[name]',
      '',
      '',
    );
  if (s.method === 'globalStruct') push(...chooseFiltersGlobal(), '', '');
  else if (s.mode === 'remove' && ranked) push(...chooseFilters(s.method as 'l1' | 'l2' | 'bn'), '', '');
  if (s.mode === 'remove') push(...slimFunction(spec, cls, fc), '', '');
  push(...pruneModel(s, g.convs.map((c) => c.name), masks !== null), '', '');
  push(...pruneFc(s, fc, fcMasked), '', '');
  push(...COUNTING, '', '');
  push(...DATA_AND_TRAINING, '', '');
  push(...mainFunction(cls, fc, ranked));
  return L.join('\n') + '\n';
}

function modelClass(spec: NetSpec, cls: string): string[] {
  const g = geometry(spec);
  const ch = (i: number) => `channels[${i}]`;
  const init: string[] = [];
  const fwd: string[] = [];
  g.convs.forEach((c, i) => {
    const inC = i === 0 ? String(spec.input.channels) : ch(i - 1);
    const args = [inC, ch(i), String(c.kernel), `padding=${(c.kernel - 1) / 2}`, ...(c.bias ? [] : ['bias=False'])];
    init.push(`        self.${c.name} = nn.Conv2d(${args.join(', ')})`);
    let e = `self.${c.name}(x)`;
    if (c.batchNorm) {
      init.push(`        self.${c.batchNorm} = nn.BatchNorm2d(${ch(i)})  # eps 1e-5, momentum 0.1, as the page`);
      e = `self.${c.batchNorm}(${e})`;
    }
    e = `F.relu(${e})`;
    if (c.pool) e = `F.max_pool2d(${e}, 2)`;
    fwd.push(`        x = ${e}`);
  });
  const f = g.linear;
  const last = g.convs.length ? ch(g.convs.length - 1) : String(spec.input.channels);
  init.push(`        self.${f.name} = nn.Linear(${last} * ${f.flattenOf.size} * ${f.flattenOf.size}, ${f.outFeatures})`);
  return [
    `class ${cls}(nn.Module):`,
    `    """${ascii(spec.summary)}.`,
    '    `channels`: filters of each conv layer; a network with filters removed is the same class, smaller."""',
    '',
    `    def __init__(self, channels=${pyTuple(fullChannelsOf(spec))}):`,
    '        super().__init__()',
    ...init,
    '',
    '    def forward(self, x):',
    ...fwd,
    `        x = torch.flatten(x, 1)  # NCHW flatten: ${f.name}'s input c*S*S + h*S + w`,
    `        return self.${f.name}(x)`,
  ];
}

const LOAD_SAFETENSORS = [
  'def load_safetensors(path):',
  '    """{name: tensor} from a .safetensors file; uses the safetensors package when it is installed."""',
  '    try:',
  '        from safetensors.torch import load_file',
  '        return load_file(path)',
  '    except ImportError:',
  '        pass',
  '    # The format: 8-byte little-endian header length, JSON header, then raw little-endian tensor data.',
  '    data = open(path, "rb").read()',
  '    n = int.from_bytes(data[:8], "little")',
  '    header = json.loads(data[8:8 + n])',
  '    header.pop("__metadata__", None)',
  '    dtypes = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}',
  '    tensors = {}',
  '    for name, t in header.items():',
  '        begin, end = t["data_offsets"]',
  '        array = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=dtypes[t["dtype"]])',
  '        tensors[name] = torch.from_numpy(array.reshape(t["shape"]).copy())',
  '    return tensors',
];

/** What a scheduled script prints (the docstring lines of the chain and the graph scripts). */
const PRINTS_STEPS_JSON = [
  "Prints ONE JSON line: model, mode, method, schedule, steps (each step's kept, params, nonzero_params, macs,",
  'nonzero_macs, accuracy), then the final kept, params, nonzero_params, macs, nonzero_macs, accuracy (percent).',
];
/** kept_filters(conv): a masked conv's filters with a weight left (both chain scripts). */
const KEPT_FILTERS = [
  'def kept_filters(conv):',
  '    """Output filters (dim 0) with at least one weight left unmasked."""',
  '    mask = conv.weight_mask if hasattr(conv, "weight_mask") else torch.ones_like(conv.weight)',
  '    return torch.nonzero(mask.flatten(1).sum(1) > 0).flatten().tolist()',
];
/**
 * The global-structured ranking's Python, shared by the one-shot (choose_filters) and the scheduled script
 * (choose_filters per step): each filter's L1 norm over its layer's mean (float64), all layers in one order;
 * then the `requested` smallest taken, each layer capped by MIN_KEEP; then, per layer, which filters went.
 */
const GLOBAL_SCORES = [
  '    scores = []',
  '    for name, _ in CONVS:',
  '        s = getattr(model, name).weight.detach().double().flatten(1).abs().sum(1)',
  '        mean = s.mean().item()',
  '        scores.append((s / mean if mean > 0 else s).tolist())',
  '    entries = sorted((x, -g, -u) for g, layer in enumerate(scores) for u, x in enumerate(layer))',
];
const GLOBAL_TAKE = [
  '    caps = [len(layer) - min(len(layer), max(1, math.ceil(MIN_KEEP * len(layer) - 1e-9))) for layer in scores]',
  '    taken = [0] * len(scores)',
  '    pruned = 0',
  '    for _, g, _ in entries:',
  '        if pruned == requested:',
  '            break',
  '        if taken[-g] < caps[-g]:',
  '            taken[-g] += 1',
  '            pruned += 1',
];
/** Inside `for g, (name, _) in enumerate(CONVS):` — `gone`: the filters of layer g the ranking took. */
const GLOBAL_GONE = [
  '        order = sorted(range(len(scores[g])), key=lambda j: (scores[g][j], -j))  # lowest first; ties: higher index',
  '        gone = set(order[:taken[g]])',
];

/**
 * Global structured (core/pruning/globalRanking.ts) in torch: the page's ranking written out — each filter's
 * L1 norm over its layer's mean, all layers sorted together, the floor per layer — checked against KEPT.
 */
function chooseFiltersGlobal(): string[] {
  return [
    'def choose_filters(model):',
    '    """Global structured: every conv layer\'s filters ranked together by their L1 norm divided by the mean L1 norm',
    '    of their layer (Torch-Pruning\'s default group normalisation); the smallest GLOBAL_TARGET of all filters go,',
    '    but each layer keeps at least MIN_KEEP of its filters (at least one), so none is emptied. Ties: the later',
    '    layer, then the higher filter index, go first. Scores in float64, as the page."""',
    ...GLOBAL_SCORES,
    '    requested = round(GLOBAL_TARGET * len(entries))  # torch\'s count: Python\'s round, half to even',
    ...GLOBAL_TAKE,
    '    kept = {}',
    '    for g, (name, _) in enumerate(CONVS):',
    ...GLOBAL_GONE,
    '        kept[name] = check_choice(name, [j for j in range(len(scores[g])) if j not in gone])',
    '    return kept',
  ];
}

/** remove mode, ranked methods: torch's ranking of each layer's filters (what ln_structured would keep). */
function chooseFilters(method: 'l1' | 'l2' | 'bn'): string[] {
  const score =
    method === 'bn'
      ? ['        scores = getattr(model, bn).weight.detach().abs()  # Network Slimming: |gamma| of the filter\'s BatchNorm channel']
      : [`        scores = w.flatten(1).norm(p=${method === 'l1' ? 1 : 2}, dim=1)  # ${method.toUpperCase()} norm of each filter, as prune.ln_structured ranks`];
  return [
    'def choose_filters(model):',
    '    """Filters to keep in each conv layer: the highest-scoring ones, as many as the amount leaves."""',
    '    kept = {}',
    '    for name, bn in CONVS:',
    '        w = getattr(model, name).weight.detach()',
    '        n_keep = len(w) - round(AMOUNTS.get(name, 0.0) * len(w))  # torch\'s count: Python\'s round, half to even',
    ...score,
    '        kept[name] = check_choice(name, torch.topk(scores, n_keep).indices.tolist())',
    '    return kept',
  ];
}

/** Torch-Pruning in ~20 lines: the smaller network keeping `kept` filters. */
function slimFunction(spec: NetSpec, cls: string, fc: string): string[] {
  const hasBias = spec.layers.some((l) => l.kind === 'conv' && l.bias);
  const hasBn = hasBatchNorm(spec);
  return [
    'def slim(model, kept):',
    '    """The smaller network keeping the `kept` filters (baseline indices) of each conv layer, Torch-Pruning style:',
    `    a removed filter takes with it its conv weights${hasBias ? ' and bias' : ''}${hasBn ? ', its BatchNorm channel (gamma, beta, running' : ''}`,
    `    ${hasBn ? 'mean and variance) ' : ''}and the matching input channel of the next layer: for ${fc}, that channel's S*S`,
    '    columns (PyTorch flattens NCHW: column c*S*S + h*S + w)."""',
    '    old, new = model.state_dict(), {}',
    '    prev = None  # kept input channels: the previous layer\'s kept filters (None: the image)',
    '    for name, bn in CONVS:',
    '        keep = torch.tensor(kept[name], dtype=torch.long)',
    '        w = old[f"{name}.weight"][keep]  # [out, in, kh, kw]: the kept filters',
    '        new[f"{name}.weight"] = w if prev is None else w[:, prev]  # ... and their kept input channels',
    ...(hasBias ? ['        if f"{name}.bias" in old:', '            new[f"{name}.bias"] = old[f"{name}.bias"][keep]'] : []),
    ...(hasBn
      ? [
          '        if bn:',
          '            for k in ("weight", "bias", "running_mean", "running_var"):',
          '                new[f"{bn}.{k}"] = old[f"{bn}.{k}"][keep]',
          '            new[f"{bn}.num_batches_tracked"] = old[f"{bn}.num_batches_tracked"]',
        ]
      : []),
    '        prev = keep',
    '    pixels = FLATTEN_SIZE * FLATTEN_SIZE',
    `    columns = (prev[:, None] * pixels + torch.arange(pixels)).flatten()  # channel c -> columns c*S*S ... c*S*S + S*S - 1`,
    `    new["${fc}.weight"] = old["${fc}.weight"][:, columns]`,
    `    new["${fc}.bias"] = old["${fc}.bias"]`,
    `    small = ${cls}(channels=[len(kept[name]) for name, _ in CONVS])`,
    '    small.load_state_dict(new, strict=True)',
    '    return small',
  ];
}

function pruneModel(s: PruneSettings, convs: string[], hasMaskFile: boolean): string[] {
  // def prune_model(model): with a docstring of `doc` lines.
  const head = (doc: string[]) => {
    const lines = ['def prune_model(model):', `    """${doc[0]}`, ...doc.slice(1).map((d) => `    ${d}`)];
    lines[lines.length - 1] += '"""';
    return lines;
  };
  const reportMasked = '    return model, {name: kept_filters(getattr(model, name)) for name, _ in CONVS}';
  if (s.mode === 'global') {
    const targets = `[${convs.map((n) => `(model.${n}, "weight")`).join(', ')}]`;
    if (s.method === 'random')
      return [
        ...head([
          'Global mode with random weights: GLOBAL_AMOUNT of all conv weights, drawn together. In torch that is',
          `    parameters = ${targets}`,
          '    prune.global_unstructured(parameters, pruning_method=prune.RandomUnstructured, amount=GLOBAL_AMOUNT)',
          'but torch\'s random generator is not the page\'s, so the page\'s draw is applied from masks.safetensors.',
        ]),
        ...(hasMaskFile
          ? [
              '    masks = load_safetensors(MASKS_FILE)',
              '    for name, _ in CONVS:',
              '        if f"{name}.weight" in masks:',
              '            prune.custom_from_mask(getattr(model, name), "weight", masks[f"{name}.weight"].float())',
            ]
          : ['    pass  # amount 0: nothing drawn']),
        reportMasked,
      ];
    return [
      ...head([
        'Global mode (the article\'s): every conv weight ranked together by |w| and the smallest GLOBAL_AMOUNT of',
        `them masked${s.method === 'l2' ? ' (the L2 norm of a single weight is |w| too)' : ''}. A filter counts as pruned only`,
        'when all its weights are.',
      ]),
      `    parameters = ${targets}`,
      '    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=GLOBAL_AMOUNT)',
      reportMasked,
    ];
  }
  if (s.mode === 'remove') {
    const choice =
      s.method === 'random'
        ? ['    kept = KEPT  # the page\'s seeded random draw (torch\'s random generator differs)']
        : s.method === 'manual'
          ? ['    kept = KEPT  # picked by hand on the page']
          : s.method === 'taylor'
            ? ['    kept = KEPT  # the page\'s Taylor ranking: its scores need the page\'s seeded training batch and gradients']
            : ['    kept = choose_filters(model)'];
    return [
      ...head([
        'Remove mode: choose the filters as the page did, then build the smaller network without the others.',
      ]),
      ...choice,
      '    empty = [name for name, keep in kept.items() if not keep]',
      '    if empty:',
      '        sys.exit(f"{\', \'.join(empty)}: every filter removed; PyTorch cannot build a Conv2d with no filters "',
      '                 "(the page treats such a layer as outputting nothing)")',
      '    return slim(model, kept), kept',
    ];
  }
  // mask mode
  const maskNote = 'Only the weight is masked, as in torch: a masked filter\'s bias or BatchNorm beta still reaches the next layer.';
  if (s.method === 'l1' || s.method === 'l2') {
    const n = s.method === 'l1' ? 1 : 2;
    return [
      ...head([
        `Mask mode, ${s.method.toUpperCase()} norm: prune.ln_structured on each conv weight, dim 0 = output filters.`,
        maskNote,
      ]),
      '    for name, amount in AMOUNTS.items():',
      '        conv = getattr(model, name)',
      `        prune.ln_structured(conv, "weight", amount=amount, n=${n}, dim=0)`,
      '        keep = check_choice(name, kept_filters(conv))',
      '        if keep != kept_filters(conv):  # a near-tie went the other way in float32: the page\'s filters win',
      '            conv.weight_mask.copy_(filter_mask(conv.weight, keep))',
      '            conv.weight = conv.weight_orig * conv.weight_mask',
      reportMasked,
    ];
  }
  const why =
    s.method === 'random'
      ? [
          'Mask mode, random filters. In torch: prune.random_structured(conv, "weight", amount=..., dim=0), but torch\'s',
          'random generator is not the page\'s, so the page\'s draw (KEPT) is applied with prune.custom_from_mask.',
        ]
      : s.method === 'manual'
        ? ['Mask mode, filters picked by hand on the page (KEPT), applied with prune.custom_from_mask.']
        : s.method === 'taylor'
          ? [
              'Mask mode, first-order Taylor (Molchanov et al. 2019): the page scored each filter by |sum of activation x gradient|',
              'on a seeded batch of its loaded training images; the script applies the page\'s choice (KEPT) with prune.custom_from_mask.',
            ]
          : s.method === 'globalStruct'
            ? ['Mask mode, global structured: choose_filters() ranks every layer\'s filters together; prune.custom_from_mask applies it.']
            : [
            'Mask mode, BatchNorm gamma (Network Slimming): keep the filters whose BatchNorm channel has the largest |gamma|.',
            'torch.nn.utils.prune has no such criterion: rank here, then apply the mask with prune.custom_from_mask.',
          ];
  return [
    ...head([...why, maskNote]),
    ...(s.method === 'globalStruct' ? ['    chosen = choose_filters(model)'] : []),
    '    for name, bn in CONVS:',
    ...(s.method === 'globalStruct'
      ? ['        conv = getattr(model, name)', '        keep = chosen[name]', '        if len(keep) == conv.out_channels:', '            continue  # nothing pruned in this layer']
      : s.method === 'bn'
      ? [
          '        if name not in AMOUNTS:',
          '            continue',
          '        conv = getattr(model, name)',
          '        gamma = getattr(model, bn).weight.detach().abs()',
          '        n_keep = len(gamma) - round(AMOUNTS[name] * len(gamma))  # torch\'s count: Python\'s round, half to even',
          '        keep = check_choice(name, torch.topk(gamma, n_keep).indices.tolist())',
        ]
      : [
          '        conv = getattr(model, name)',
          '        keep = KEPT[name]',
          '        if len(keep) == conv.out_channels:',
          '            continue  # nothing pruned in this layer',
        ]),
    '        prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
    reportMasked,
  ];
}

function pruneFc(s: PruneSettings, fc: string, masked: boolean): string[] {
  const doc = `    """${fc} (its outputs are the classes, so it is never structurally pruned): FC_AMOUNT of its weights, unstructured."""`;
  if (!masked) return [`def prune_${fc}(model):`, doc, `    pass  # amount 0: ${fc} is not pruned`];
  if (s.method === 'random')
    return [
      `def prune_${fc}(model):`,
      doc,
      `    # In torch: prune.random_unstructured(model.${fc}, "weight", amount=FC_AMOUNT). Its random generator is not`,
      `    # the page's, so the page's draw is applied from masks.safetensors ([out, in], PyTorch's column order).`,
      `    mask = load_safetensors(MASKS_FILE)["${fc}.weight"]`,
      `    prune.custom_from_mask(model.${fc}, "weight", mask.float())`,
    ];
  return [`def prune_${fc}(model):`, doc.replace('unstructured."""', 'smallest |w| first."""'), `    prune.l1_unstructured(model.${fc}, "weight", amount=FC_AMOUNT)`];
}

const COUNTING = [
  'def count_params(model):',
  '    """(parameters, nonzero parameters) as PyTorch holds them. After torch.nn.utils.prune a layer\'s parameter is',
  '    weight_orig (never zeroed: what parameters_to_vector(model.parameters()) counts) and the forward pass uses',
  '    weight_orig * weight_mask, so nonzeros are counted on that product. BatchNorm\'s running statistics are buffers."""',
  '    total = nonzero = 0',
  '    for module in model.modules():',
  '        for name, p in module.named_parameters(recurse=False):',
  '            if name.endswith("_orig"):',
  '                p = p * getattr(module, name[:-len("_orig")] + "_mask")',
  '            total += p.numel()',
  '            nonzero += int(torch.count_nonzero(p))',
  '    return total, nonzero',
  '',
  '',
  'def count_macs(model):',
  '    """Multiply-accumulates per image, as the page counts them: conv k*k*in*out per output pixel, linear in*out',
  '    (biases and BatchNorm are additions). Nonzero MACs count only the weights left unmasked (as ShrinkBench)."""',
  '    macs = nonzero = 0',
  '',
  '    def hook(m, inputs, out):',
  '        nonlocal macs, nonzero',
  '        positions = out.shape[2] * out.shape[3] if out.dim() == 4 else 1',
  '        macs += m.weight.numel() * positions',
  '        nonzero += int(torch.count_nonzero(m.weight)) * positions',
  '',
  '    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]',
  '    model.eval()',
  '    with torch.no_grad():',
  '        model(torch.zeros(1, 3, 32, 32))',
  '    for h in handles:',
  '        h.remove()',
  '    return macs, nonzero',
];

const DATA_AND_TRAINING = [
  'def find(folder, patterns):',
  '    """Files of the first pattern that matches in `folder` (or its cifar-10-batches-bin subfolder)."""',
  '    for base in (folder, os.path.join(folder, "cifar-10-batches-bin")):',
  '        for pattern in patterns:',
  '            paths = sorted(glob.glob(os.path.join(base, pattern)))',
  '            if paths:',
  '                return paths',
  '    sys.exit(f"no {\' or \'.join(patterns)} in {folder}: pass --data with the folder of the CIFAR-10 binary batches")',
  '',
  '',
  'def load_cifar(paths):',
  '    """CIFAR-10 binary batches -> (normalised float32 images [N, 3, 32, 32], int64 labels). Each record is',
  '    3073 bytes: the label, then the red, green and blue 32x32 planes."""',
  '    raw = []',
  '    for p in paths:',
  '        b = np.fromfile(p, dtype=np.uint8)',
  '        if b.size % 3073:',
  '            sys.exit(f"{p}: {b.size} bytes is not a whole number of 3073-byte CIFAR-10 records")',
  '        raw.append(b.reshape(-1, 3073))',
  '    raw = np.concatenate(raw)',
  '    pixels = raw[:, 1:].reshape(-1, 3, 32, 32)',
  '    # byte -> value tables computed as the page does (float64, then float32), so inputs match bit for bit',
  '    table = ((np.arange(256)[None, :] / 255 - np.array(MEAN)[:, None]) / np.array(STD)[:, None]).astype(np.float32)',
  '    x = np.stack([table[c][pixels[:, c]] for c in range(3)], axis=1)',
  '    return torch.from_numpy(x), torch.from_numpy(raw[:, 0].astype(np.int64))',
  '',
  '',
  'def evaluate(model, x, y, batch=500):',
  '    """(accuracy in percent, predicted classes) with BatchNorm\'s running statistics."""',
  '    model.eval()',
  '    with torch.no_grad():',
  '        predictions = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])',
  '    return 100.0 * (predictions == y).sum().item() / len(y), predictions',
  '',
  '',
  'def param_groups(model):',
  '    """Weight decay on conv and linear weights only, not on BatchNorm\'s gamma/beta nor biases (as the page).',
  '    A masked layer\'s weight is weight_orig (torch.nn.utils.prune)."""',
  '    decay, no_decay = [], []',
  '    for module in model.modules():',
  '        for pname, p in module.named_parameters(recurse=False):',
  '            weight = pname in ("weight", "weight_orig") and isinstance(module, (nn.Conv2d, nn.Linear))',
  '            (decay if weight else no_decay).append(p)',
  '    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]',
  '',
  '',
  'def lr_factor(step, warmup_steps, total_steps):',
  '    """constant / cosine: linear warm-up (step + 1) / W, then 1 or cosine to 0 at the last step (per step)."""',
  '    if step < warmup_steps:',
  '        return (step + 1) / warmup_steps',
  '    if SCHEDULE == "constant":',
  '        return 1.0',
  '    t = (step - warmup_steps) / max(1, total_steps - warmup_steps)',
  '    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))',
  '',
  '',
  'def make_optimizer(model, steps_per_epoch, epochs):',
  '    """The page\'s optimiser and learning-rate schedule (stepped once per batch)."""',
  '    groups = param_groups(model)',
  '    if OPTIMIZER == "sgd":',
  '        opt = torch.optim.SGD(groups, lr=LR, momentum=MOMENTUM, nesterov=NESTEROV)',
  '    else:',
  '        opt = torch.optim.Adam(groups, lr=LR, eps=1e-7)',
  '    total = steps_per_epoch * epochs',
  '    warmup = max(1, round(WARMUP_EPOCHS * steps_per_epoch)) if WARMUP_EPOCHS > 0 else 0',
  '    if SCHEDULE == "onecycle":',
  '        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=total, pct_start=warmup / total if warmup else 0.3,',
  '                                                    anneal_strategy="cos", cycle_momentum=False, div_factor=25, final_div_factor=1e4)',
  '    else:',
  '        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(step, warmup, total))',
  '    return opt, sched',
  '',
  '',
  'def crop_flip(x, dy, dx, flip):',
  '    """Pad 4 pixels with the normalised value of a 0 byte (padding before normalisation, as torchvision\'s',
  '    RandomCrop(32, padding=4)), crop 32x32 at (dy, dx) in the 40x40 image, flip left-right where `flip`."""',
  '    b = x.shape[0]',
  '    blank = torch.tensor([(0 / 255 - MEAN[c]) / STD[c] for c in range(3)], dtype=torch.float64).float()',
  '    padded = blank.view(1, 3, 1, 1).repeat(b, 1, 40, 40)',
  '    padded[:, :, 4:36, 4:36] = x',
  '    ar = torch.arange(32)',
  '    rows = dy[:, None] + ar[None, :]',
  '    cols = torch.where(flip[:, None], dx[:, None] + 31 - ar[None, :], dx[:, None] + ar[None, :])',
  '    return padded[torch.arange(b)[:, None, None, None], torch.arange(3)[None, :, None, None], rows[:, None, :, None], cols[:, None, None, :]]',
  '',
  '',
  'def augment(x):',
  '    """Random crop offsets 0-8 and flips with p = 0.5, from torch\'s seeded generator."""',
  '    b = x.shape[0]',
  '    dy, dx = torch.randint(0, 9, (b,)), torch.randint(0, 9, (b,))',
  '    return crop_flip(x, dy, dx, torch.randint(0, 2, (b,)).bool())',
  '',
  '',
  'def finetune(model, x, y, epochs):',
  '    """The page\'s recipe (OPTIMIZER, LR, BATCH, schedule, weight decay, augmentation, label smoothing), a new',
  '    shuffle each epoch. The prune hooks multiply by the masks on every forward pass, so pruned weights get no',
  '    gradient and stay pruned. Expect results to differ from the page\'s by training noise: other shuffles and',
  '    crops, other floating-point order."""',
  '    opt, sched = make_optimizer(model, math.ceil(len(x) / BATCH), epochs)',
  '    for epoch in range(epochs):',
  '        model.train()',
  '        order, total = torch.randperm(len(x)), 0.0',
  '        for i in range(0, len(x), BATCH):',
  '            idx = order[i:i + BATCH]',
  '            xb = augment(x[idx]) if AUGMENT else x[idx]',
  '            loss = F.cross_entropy(model(xb), y[idx], label_smoothing=LABEL_SMOOTHING)',
  '            opt.zero_grad()',
  '            loss.backward()',
  '            opt.step()',
  '            sched.step()',
  '            total += loss.item() * len(idx)',
  '        print(f"epoch {epoch + 1}/{epochs}: mean loss {total / len(x):.4f}", file=sys.stderr)',
];

function mainFunction(cls: string, fc: string, ranked: boolean): string[] {
  return [
    'def main():',
    '    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])',
    '    ap.add_argument("--data", default=".", help="folder with the CIFAR-10 binary batches (default: here)")',
    '    ap.add_argument("--weights", default=os.path.join(HERE, "baseline.safetensors"), help="the baseline state_dict")',
    '    ap.add_argument("--finetune", type=int, default=0, metavar="EPOCHS", help="fine-tune the pruned network first")',
    '    ap.add_argument("--seed", type=int, default=SEED, help="torch seed for the fine-tuning shuffles")',
    '    ap.add_argument("--predictions", metavar="FILE", help="also write each test image\'s predicted class, one byte each")',
    '    args = ap.parse_args()',
    '    torch.manual_seed(args.seed)',
    '',
    `    model = ${cls}(channels=BASELINE_CHANNELS)`,
    '    model.load_state_dict(load_safetensors(args.weights), strict=True)',
    '    model, kept = prune_model(model)',
    `    prune_${fc}(model)`,
    '    x_test, y_test = load_cifar(find(args.data, ["test_batch.bin", "test_*.bin"]))',
    '    out = {"model": MODEL, "mode": MODE, "method": METHOD, "kept": kept}',
    '    if args.finetune > 0:',
    '        out["accuracy_before_finetune"] = round(evaluate(model, x_test, y_test)[0], 2)',
    '        finetune(model, *load_cifar(find(args.data, ["data_batch_*.bin", "train_*.bin"])), epochs=args.finetune)',
    '        out["finetune_epochs"] = args.finetune',
    '    params, nonzero_params = count_params(model)',
    '    macs, nonzero_macs = count_macs(model)',
    '    accuracy, predictions = evaluate(model, x_test, y_test)',
    '    if args.predictions:',
    '        predictions.numpy().astype(np.uint8).tofile(args.predictions)',
    '    out.update(params=params, nonzero_params=nonzero_params, macs=macs, nonzero_macs=nonzero_macs,',
    '               accuracy=round(accuracy, 2), test_images=len(y_test))',
    ...(ranked ? ['    out["torch_differs"] = TORCH_DIFFERS  # empty: torch\'s own ranking kept exactly the page\'s filters'] : []),
    '    print(json.dumps(out))',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
  ];
}

// ---------------------------------------------------------------------------------------------------
// README

/** The opening of every prune_run.py: docstring (what it does, how to run it, the page's figures), imports, constants. */
function scriptHeader(input: PytorchExportInput, about: string[]): string[] {
  const { spec, settings: s } = input;
  return [
    '#!/usr/bin/env python3',
    `"""Pruning Playground export: ${spec.label}, ${s.mode} mode, ${METHOD_LABEL[s.method]}.`,
    '',
    ...about,
    '',
    '    python prune_run.py --data DIR               # DIR: CIFAR-10 binary batches (test_batch.bin or test_*.bin)',
    '    python prune_run.py --data DIR --finetune 2  # then fine-tune 2 epochs on data_batch_*.bin / train_*.bin',
    '',
    'The page measured for this setting:',
    ...measuredLines(input, '    ', ', '),
    '',
    'Needs torch and numpy; uses the safetensors package when installed.',
    '"""',
    'import argparse',
    'import glob',
    'import json',
    'import math',
    'import os',
    'import sys',
    '',
    'import numpy as np',
    'import torch',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    'import torch.nn.utils.prune as prune',
    '',
    'HERE = os.path.dirname(os.path.abspath(__file__))',
    `MODEL, MODE, METHOD, SEED = ${py(spec.id)}, ${py(s.mode)}, ${py(s.method)}, ${s.seed >>> 0}`,
  ];
}

/** The recipe beyond optimiser and learning rate, for the README (empty for the default). */
function recipeSummary(r: Recipe): string {
  const parts = [
    r.schedule !== 'constant' ? `${r.schedule} schedule` : '',
    r.warmupEpochs > 0 ? `${r.warmupEpochs} warm-up epochs` : '',
    r.weightDecay > 0 ? `weight decay ${r.weightDecay} on conv/linear weights` : '',
    r.augment ? 'pad-4 crop + flip augmentation' : '',
    r.labelSmoothing > 0 ? `label smoothing ${r.labelSmoothing}` : '',
  ].filter(Boolean);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/** The page's input normalisation and fine-tuning recipe, as script constants. */
/** A chain script's constants after its header: the baseline's widths, normalisation and recipe, the conv layers, the flatten. */
function chainConstants(baseline: NetWeights, g: ReturnType<typeof geometry>, stats: ChannelStats, recipe: typeof DEFAULT_FINETUNE): string[] {
  return [
    `BASELINE_CHANNELS = ${pyTuple(baseline.channels)}  # filters per conv layer in baseline.safetensors`,
    ...normalisationAndRecipe(stats, recipe),
    '# (conv layer, its BatchNorm or None) in order; the last one feeds fc1 through a flatten of',
    `# FLATTEN_SIZE x FLATTEN_SIZE pixels per channel.`,
    `CONVS = [${g.convs.map((c) => `(${py(c.name)}, ${c.batchNorm ? py(c.batchNorm) : 'None'})`).join(', ')}]`,
    `FLATTEN_SIZE = ${g.linear.flattenOf.size}`,
  ];
}

function normalisationAndRecipe(stats: ChannelStats, recipe: typeof DEFAULT_FINETUNE): string[] {
  const r = recipe.recipe ?? DEFAULT_RECIPE;
  return [
    '# Per-channel normalisation the page used: mean and std of its training images on the 0-1 scale.',
    `MEAN = ${pyTuple(stats.mean.map(pyFloat))}`,
    `STD = ${pyTuple(stats.std.map(pyFloat))}`,
    `# Fine-tuning recipe of the page's run (--finetune). eps=1e-7 is TensorFlow.js's Adam default (torch's is 1e-8).`,
    `OPTIMIZER, LR, BATCH, MOMENTUM = ${py(recipe.optimizer)}, ${pyFloat(recipe.learningRate)}, ${recipe.batchSize}, ${pyFloat(recipe.momentum)}`,
    `NESTEROV, WEIGHT_DECAY, SCHEDULE, WARMUP_EPOCHS = ${r.nesterov && recipe.optimizer === 'sgd' ? 'True' : 'False'}, ${pyFloat(r.weightDecay)}, ${py(r.schedule)}, ${pyFloat(r.warmupEpochs)}`,
    `AUGMENT, LABEL_SMOOTHING = ${r.augment ? 'True' : 'False'}, ${pyFloat(r.labelSmoothing)}`,
  ];
}

export function exportReadme(input: PytorchExportInput): string {
  check(input);
  const { spec, baseline, settings: s, result } = input;
  const st = structure(spec);
  const fc = st.output.name;
  const recipe = { ...DEFAULT_FINETUNE, ...input.finetune };
  // Per channel group: for a chain model, per conv layer (its filters).
  const groups = st.groups.map((g, i) => ({ id: g.id, units: baseline.channels[i] }));
  const unitName = st.hasAdd ? 'channels' : 'filters';
  const amounts =
    s.mode === 'global'
      ? `${pct(s.amounts[groups[0]?.id ?? ''] ?? 0)} % of all conv weights (ranked together)`
      : s.method === 'manual'
        ? groups.map((c) => `${c.id} ${c.units - result.kept[c.id].length} ${unitName} picked by hand`).join(', ')
        : groups.map((c) => `${c.id} ${pct(s.amounts[c.id] ?? 0)} %`).join(', ');
  const masks = exportMasks(input);
  const problem = exportProblem(input);
  const lines = [
    'Pruning Playground - PyTorch export',
    '===================================',
    '',
    `Model:    ${spec.label} (${ascii(spec.summary)})`,
    `Pruning:  ${s.mode} mode, ${METHOD_LABEL[s.method]}; ${amounts}; ${fc} ${pct(s.amounts[fc] ?? 0)} % of its weights; seed ${s.seed}`,
    `Kept:     ${groups.map((c) => `${c.id} ${result.kept[c.id].length}/${c.units}`).join(', ')} ${unitName}`,
    ...(isScheduled(input) ? [`Schedule: ${ascii(describeSchedule(input.schedule!, Math.max(0, ...groups.map((c) => s.amounts[c.id] ?? 0))))}${runsSchedule(input) ? ' (the script runs every step; --finetune E fine-tunes E epochs after each)' : ''}`] : []),
    '',
    'Files',
    `  ${EXPORT_FILES.weights}  the page's baseline (before pruning) as a PyTorch state_dict: conv weights`,
    '                        [out, in, kh, kw], linear [out, in] with inputs in NCHW flatten order. Loads with',
    '                        model.load_state_dict(safetensors.torch.load_file(path), strict=True).',
    ...(masks
      ? [`  ${EXPORT_FILES.masks}     the page's random masks (1 = kept), PyTorch layout: torch's random generator`, '                        cannot repeat the page\'s seeded draw.']
      : []),
    `  ${EXPORT_FILES.script}          the model written out in PyTorch, the same pruning with torch.nn.utils.prune`,
    '                        (or by slicing layers in remove mode), evaluation and optional fine-tuning.',
    '',
    'Run',
    '  pip install torch numpy            (the safetensors package is optional)',
    '  python prune_run.py --data DIR     DIR: the CIFAR-10 binary version (folder cifar-10-batches-bin:',
    '                                     test_batch.bin, data_batch_1.bin ...), or the page\'s test_1000.bin',
    `  python prune_run.py --data DIR --finetune 2   then fine-tune 2 epochs (${recipe.optimizer === 'adam' ? 'Adam' : `SGD momentum ${recipe.momentum}${recipe.recipe?.nesterov ? ' Nesterov' : ''}`}, learning rate ${recipe.learningRate}, batch ${recipe.batchSize}${recipeSummary(recipe.recipe ?? DEFAULT_RECIPE)})`,
    '',
    'It prints one JSON line: model, mode, method, kept, params, nonzero_params, macs, nonzero_macs and',
    'accuracy (percent). The page measured for this setting:',
    ...measuredLines(input, '  ', '   '),
    'The counts must match exactly. Accuracy on the same test images matches up to floating-point order',
    '(a rare image whose two best classes are nearly tied can flip); on the full 10,000-image test set it',
    'differs as any two test sets do. After --finetune, results differ from the page\'s by training noise:',
    'other shuffles, other floating-point order.',
    '',
    'Parameters are what model.parameters() holds (weights, biases, BatchNorm gamma and beta; not the',
    'running statistics, which are buffers); nonzero parameters count the masked weights as zero (torch',
    'keeps weight_orig intact and multiplies by weight_mask). MACs count conv k*k*in*out per output pixel',
    'and linear in*out.',
    ...(problem ? ['', `Note: ${problem}${/every (filter|channel) removed/.test(problem) ? ' The script stops with this message.' : ''}`] : []),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// helpers

function check(input: PytorchExportInput): void {
  const { spec, baseline, settings: s, result } = input;
  if (baseline.model !== spec.id) throw new Error(`the baseline is a ${baseline.model}, not ${spec.id}`);
  const why = unsupported(s.method, s.mode, hasBatchNorm(spec));
  if (why) throw new Error(why);
  for (const g of structure(spec).groups) if (!result.kept[g.id]) throw new Error(`the pruning result has no kept filters for ${g.id}`);
}

function fullChannelsOf(spec: NetSpec): number[] {
  return geometry(spec).convs.map((c) => c.outChannels);
}

/** A Python class name from the model's label: 'ConvNet-3' → 'ConvNet3'. */
export function className(spec: ModelSpec): string {
  const n = spec.label.replace(/[^A-Za-z0-9_]/g, '');
  return /^[A-Za-z_]/.test(n) ? n : `Net${n}`;
}

/** A Python string literal (JSON's escapes are Python's too). */
const py = (s: string) => JSON.stringify(s);

/**
 * A Python float literal. Always with a decimal point: torch.nn.utils.prune reads an int amount as a
 * COUNT of units (amount=1 prunes one filter, amount=1.0 all of them). JS and Python both print the
 * shortest repr that reads back as the same double, so the value is exact.
 */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function pyTuple(items: readonly (number | string)[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

function pyDict(entries: Record<string, string>): string {
  return `{${Object.entries(entries).map(([k, v]) => `${py(k)}: ${v}`).join(', ')}}`;
}

/** {"conv1": [0, 1, ...], ...} wrapped at ~100 columns, one layer per line when long. */
function pyDictOfLists(d: Record<string, number[]>): string {
  const one = `{${Object.entries(d).map(([k, v]) => `${py(k)}: [${v.join(', ')}]`).join(', ')}}`;
  if (one.length <= 90) return one;
  const parts = Object.entries(d).map(([k, v]) => {
    const head = `    ${py(k)}: [`;
    const rows: string[] = [];
    let row = '';
    for (const x of v) {
      const item = `${x}, `;
      if (head.length + row.length + item.length > 100) {
        rows.push(row.trimEnd());
        row = '';
      }
      row += item;
    }
    rows.push(row.replace(/, $/, ''));
    return head + rows.join('\n' + ' '.repeat(head.length)) + '],';
  });
  return `{\n${parts.join('\n')}\n}`;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (f: number) => String(Math.round(f * 10000) / 100);
/** The few non-ASCII characters of the specs, spelled in ASCII (the script and README stay ASCII). */
function ascii(s: string): string {
  return s
    .replace(/×/g, 'x')
    .replace(/·/g, '-')
    .replace(/→/g, '->')
    .replace(/’/g, "'")
    .replace(/γ/g, 'gamma')
    .replace(/[^\x20-\x7e]/g, '?');
}

// ---------------------------------------------------------------------------------------------------
// Graph models (ResNet-20): the module generated from the graph, pruning through the channel groups

/** A Python identifier for a node's output (layers.3.bn2 → layers_3_bn2). */
function pyVar(name: string): string {
  const v = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(v) || ['x', 'm', 'c', 'F', 'nn', 'torch', 'self'].includes(v) ? `h_${v}` : v;
}

/** The nn.Module of a graph spec: modules registered in the spec's order under their PyTorch names, forward written out. */
function graphModelClass(spec: ModelSpec, st: GraphStructure, cls: string): string[] {
  const ch = (node: string) => {
    const g = node === 'input' ? -1 : (st.byName.get(node)!.group ?? -1);
    return g >= 0 ? `c[${py(st.groups[g].id)}]` : String(spec.input.channels);
  };
  const full = shapes(st, st.groups.map((g) => g.units));
  const init: string[] = [];
  const fwd: string[] = [];
  const v = (n: string) => (n === 'input' ? 'x' : pyVar(n));
  for (const n of st.nodes) {
    if (n.op === 'conv') {
      const args = [ch(n.input), ch(n.name), String(n.kernel), `stride=${n.stride}`, `padding=${n.padding}`, ...(n.bias ? [] : ['bias=False'])];
      init.push(`        self._add(${py(n.name)}, nn.Conv2d(${args.join(', ')}))`);
    } else if (n.op === 'batchNorm') init.push(`        self._add(${py(n.name)}, nn.BatchNorm2d(${ch(n.name)}))  # eps 1e-5, momentum 0.1, as the page`);
    else if (n.op === 'linear') {
      const f = st.byName.get(n.input)!.node;
      const pixels = f.op === 'flatten' ? full.get(f.name)!.pixels : 1;
      const inF = f.op === 'flatten' ? `${ch(f.input)}${pixels > 1 ? ` * ${pixels}` : ''}` : String(full.get(n.input)!.channels);
      init.push(`        self._add(${py(n.name)}, nn.Linear(${inF}, ${n.outFeatures}))`);
    }
  }
  for (const name of st.order) {
    const n = st.byName.get(name)!.node;
    const out = n === st.output ? 'return ' : `${v(name)} = `;
    switch (n.op) {
      case 'conv':
      case 'batchNorm':
      case 'linear':
        fwd.push(`        ${out}m(${py(name)})(${v(n.input)})`);
        break;
      case 'relu':
        fwd.push(`        ${out}F.relu(${v(n.input)})`);
        break;
      case 'add':
        fwd.push(`        ${out}${n.inputs.map(v).join(' + ')}`);
        break;
      case 'maxPool':
        fwd.push(`        ${out}F.max_pool2d(${v(n.input)}, 2)`);
        break;
      case 'globalAvgPool':
        fwd.push(`        ${out}F.adaptive_avg_pool2d(${v(n.input)}, 1)`);
        break;
      case 'flatten':
        fwd.push(`        ${out}torch.flatten(${v(n.input)}, 1)  # NCHW flatten`);
    }
  }
  return [
    `class ${cls}(nn.Module):`,
    `    """${ascii(spec.summary)}.`,
    '    `channels`: units of each channel group, in GROUPS order; a network with channels removed is the same class, smaller."""',
    '',
    `    def __init__(self, channels=${pyTuple(st.groups.map((g) => g.units))}):`,
    '        super().__init__()',
    '        c = dict(zip(GROUPS, channels))',
    ...init,
    '',
    '    def _add(self, path, module):',
    '        """Registers `module` under a dotted name (layers.3.conv1), creating the containers on the way."""',
    '        *parents, name = path.split(".")',
    '        owner = self',
    '        for p in parents:',
    '            if p not in owner._modules:',
    '                owner.add_module(p, nn.Module())',
    '            owner = owner._modules[p]',
    '        owner.add_module(name, module)',
    '',
    '    def forward(self, x):',
    '        m = self.get_submodule',
    ...fwd,
  ];
}

/** A graph script's constants: its channel groups, their members, the convs. */
function graphConstants(st: GraphStructure, baseline: NetWeights): string[] {
  const convs = st.nodes.filter((n) => n.op === 'conv').map((n) => n.name);
  const members = st.groups.map((g) => {
    const list = (xs: string[]) => `[${xs.map(py).join(', ')}]`;
    return `    ${py(g.id)}: {"producers": ${list(g.producers)}, "batch_norms": ${list(g.batchNorms)}, "consumers": ${list(g.consumers)}, "linears": [${g.linears.map((l) => `(${py(l.name)}, ${l.pixels})`).join(', ')}]},`;
  });
  return [
    '# The channel groups, in the order of the model\'s `channels` argument.',
    `GROUPS = (${st.groups.map((g) => py(g.id)).join(', ')})`,
    `BASELINE_CHANNELS = ${pyTuple(baseline.channels)}  # units per group in baseline.safetensors`,
    '# Each group\'s members: the convs writing into its channels (their filters, dim 0), the BatchNorms over them,',
    '# the convs reading them (their input channels, dim 1) and the linear layers reading them through a flatten',
    '# (PIXELS columns per channel: PyTorch flattens NCHW, column c*PIXELS + p).',
    'MEMBERS = {',
    ...members,
    '}',
    'OUT_GROUP = {name: g for g, d in MEMBERS.items() for name in d["producers"] + d["batch_norms"]}',
    'IN_GROUP = {name: g for g, d in MEMBERS.items() for name in d["consumers"]}',
    'LINEAR_IN = {name: (g, pixels) for g, d in MEMBERS.items() for name, pixels in d["linears"]}',
    `CONVS = [${convs.map(py).join(', ')}]`,
  ];
}

/** units_left() and filter_mask() of a graph script. */
const GRAPH_UNIT_HELPERS = [
  'def units_left(model, group):',
  '    """Units of a group with at least one weight left unmasked in one of the convs writing into it."""',
  '    alive = None',
  '    for name in MEMBERS[group]["producers"]:',
  '        conv = model.get_submodule(name)',
  '        mask = conv.weight_mask if hasattr(conv, "weight_mask") else torch.ones_like(conv.weight)',
  '        here = mask.flatten(1).sum(1) > 0',
  '        alive = here if alive is None else alive | here',
  '    return torch.nonzero(alive).flatten().tolist()',
  '',
  '',
  'def filter_mask(weight, keep):',
  '    """A mask for a conv weight [out, in, kh, kw]: 1 for every weight of the kept filters, 0 elsewhere."""',
  '    mask = torch.zeros_like(weight)',
  '    mask[keep] = 1',
  '    return mask',
  '',
  '',
];

/** slim(model, kept) of a graph script: every member of a group loses the same channels. */
function graphSlim(cls: string): string[] {
  return [
    'def slim(model, kept):',
    '    """The smaller network keeping the `kept` channels (baseline indices) of each group, Torch-Pruning style: every',
    '    member of a group loses the same channels -- the filters of the convs writing into it, its BatchNorm channels,',
    '    the input channels of the convs reading it and, for the linear layer, that channel\'s PIXELS columns."""',
    '    old, new = model.state_dict(), {}',
    '    index = {g: torch.tensor(k, dtype=torch.long) for g, k in kept.items()}',
    '    for key, t in old.items():',
    '        module, _, param = key.rpartition(".")',
    '        if module in LINEAR_IN and param == "weight":',
    '            g, pixels = LINEAR_IN[module]',
    '            t = t[:, (index[g][:, None] * pixels + torch.arange(pixels)).flatten()]',
    '        elif param != "num_batches_tracked":',
    '            if module in OUT_GROUP:',
    '                t = t[index[OUT_GROUP[module]]]',
    '            if module in IN_GROUP and param == "weight":',
    '                t = t[:, index[IN_GROUP[module]]]',
    '        new[key] = t',
    `    small = ${cls}(channels=[len(kept[g]) for g in GROUPS])`,
    '    small.load_state_dict(new, strict=True)',
    '    return small',
  ];
}

/** prune_run.py for a graph model: the same command line, JSON line and counting as a chain model's. */
function graphPruneScript(input: PytorchExportInput): string {
  const { spec, baseline, settings: s, result, stats } = input;
  const st = structure(spec);
  const recipe = { ...DEFAULT_FINETUNE, ...input.finetune };
  const fc = st.output.name;
  const cls = className(spec);
  const masks = exportMasks(input);
  const fcMasked = s.method === 'random' ? !!masks?.[`${fc}.weight`] : (s.amounts[fc] ?? 0) > 0;
  const kept = Object.fromEntries(st.groups.map((g) => [g.id, [...result.kept[g.id]]]));
  const pruned = st.groups.filter((g, i) => prunedFilterCount(s, g.id, baseline.channels[i]) > 0);
  const ranked = s.mode !== 'global' && (s.method === 'l1' || s.method === 'l2' || s.method === 'bn');
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);
  push(
    ...scriptHeader(input, [
      'Loads the page\'s baseline (baseline.safetensors, a PyTorch state_dict), prunes it as the page did -- through',
      'the channel groups: channels joined by a residual add go together (Torch-Pruning\'s dependency groups) --,',
      'evaluates it on CIFAR-10 and prints ONE JSON line: model, mode, method, kept (channels per group, baseline',
      'indices), params, nonzero_params, macs, nonzero_macs, accuracy (percent).',
    ]),
    ...graphConstants(st, baseline),
    ...normalisationAndRecipe(stats, recipe),
  );
  if (s.mode === 'global') push(`GLOBAL_AMOUNT = ${pyFloat(s.amounts[st.groups[0]?.id ?? ''] ?? 0)}  # fraction of ALL conv weights, ranked together`);
  else {
    if (ranked) push(`AMOUNTS = ${pyDict(Object.fromEntries(pruned.map((g) => [g.id, pyFloat(s.amounts[g.id] ?? 0)])))}  # fraction of each group's channels`);
    else if (s.method === 'random') push(`# The page's amounts: ${st.groups.map((g) => `${g.id} ${pyFloat(s.amounts[g.id] ?? 0)}`).join(', ')}, drawn with seed ${s.seed}.`);
    push(`# The page's choice: channels kept in each group (baseline indices).`, `KEPT = ${pyDictOfLists(kept)}`);
  }
  push(`FC_AMOUNT = ${pyFloat(s.amounts[fc] ?? 0)}  # fraction of ${fc}'s weights pruned (unstructured)`);
  if (masks) push(`MASKS_FILE = os.path.join(HERE, ${py(EXPORT_FILES.masks)})`);
  push('', '');
  push(...graphModelClass(spec, st, cls), '', '');
  push(...LOAD_SAFETENSORS, '', '');
  push(...GRAPH_UNIT_HELPERS);
  if (ranked)
    push(
      'TORCH_DIFFERS = {}  # groups where torch\'s own ranking kept other channels than the page (near-equal scores)',
      '',
      '',
      'def check_choice(name, torch_keep):',
      '    """The page\'s channels for `name`, after comparing them with torch\'s choice. torch ranks in float32 and the',
      '    page in float64, so two channels whose scores differ in the last bits may swap: the page\'s list then wins."""',
      '    torch_keep = sorted(torch_keep)',
      '    if torch_keep != KEPT[name]:',
      '        TORCH_DIFFERS[name] = torch_keep',
      '        print(f"note: {name}: torch would keep {torch_keep}, the page kept {KEPT[name]}; using the page\'s", file=sys.stderr)',
      '    return KEPT[name]',
      '',
      '',
      'def choose_units(model):',
      '    """Channels to keep in each group: the highest-scoring ones, as many as the amount leaves. A group\'s unit is',
      `    scored from all its members: ${s.method === 'bn' ? 'the sum of |gamma| over its BatchNorms' : `the sum over the convs writing into it of the filter's ${s.method.toUpperCase()} norm`}."""`,
      '    kept = {}',
      '    for g, n in zip(GROUPS, BASELINE_CHANNELS):',
      '        n_keep = n - round(AMOUNTS.get(g, 0.0) * n)  # torch\'s count: Python\'s round, half to even',
      ...(s.method === 'bn'
        ? ['        scores = sum(model.get_submodule(b).weight.detach().abs().double() for b in MEMBERS[g]["batch_norms"])']
        : [`        scores = sum(model.get_submodule(p).weight.detach().flatten(1).norm(p=${s.method === 'l1' ? 1 : 2}, dim=1).double() for p in MEMBERS[g]["producers"])`]),
      '        kept[g] = check_choice(g, torch.topk(scores, n_keep).indices.tolist())',
      '    return kept',
      '',
      '',
    );
  const choice = ranked ? '    kept = choose_units(model)' : s.method === 'random' ? '    kept = KEPT  # the page\'s seeded random draw (torch\'s random generator differs)' : '    kept = KEPT  # picked by hand on the page';
  if (s.mode === 'remove')
    push(
      ...graphSlim(cls),
      '',
      '',
      'def prune_model(model):',
      '    """Remove mode: choose the channels of each group as the page did, then build the smaller network."""',
      choice,
      '    empty = [g for g, keep in kept.items() if not keep]',
      '    if empty:',
      '        sys.exit(f"{\', \'.join(empty)}: every channel removed; PyTorch cannot build a Conv2d with no filters "',
      '                 "(the page treats such a layer as outputting nothing)")',
      '    return slim(model, kept), kept',
    );
  else if (s.mode === 'mask')
    push(
      'def prune_model(model):',
      '    """Mask mode: the same channels masked in every conv writing into a group (prune.custom_from_mask on their',
      '    weights, dim 0). Only weights are masked, as in torch: a masked filter\'s BatchNorm beta still reaches the add."""',
      choice,
      '    for g, keep in kept.items():',
      '        for name in MEMBERS[g]["producers"]:',
      '            conv = model.get_submodule(name)',
      '            if len(keep) < conv.out_channels:',
      '                prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
      '    return model, {g: units_left(model, g) for g in GROUPS}',
    );
  else
    push(
      'def prune_model(model):',
      `    """Global mode: every conv weight ranked together${s.method === 'random' ? ' (the page\'s random draw, from masks.safetensors: torch\'s generator differs)' : ' by |w|'}; a channel counts as pruned`,
      '    only when all its weights in every conv writing into it are."""',
      ...(s.method === 'random'
        ? masks
          ? [
              '    masks = load_safetensors(MASKS_FILE)',
              '    for name in CONVS:',
              '        if f"{name}.weight" in masks:',
              '            prune.custom_from_mask(model.get_submodule(name), "weight", masks[f"{name}.weight"].float())',
            ]
          : ['    pass  # amount 0: nothing drawn']
        : [
            '    parameters = [(model.get_submodule(name), "weight") for name in CONVS]',
            '    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=GLOBAL_AMOUNT)',
          ]),
      '    return model, {g: units_left(model, g) for g in GROUPS}',
    );
  push('', '');
  push(...pruneFc(s, fc, fcMasked), '', '');
  push(...COUNTING, '', '');
  push(...DATA_AND_TRAINING, '', '');
  push(...mainFunction(cls, fc, ranked));
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Scheduled runs (issue 22): the script runs the page's schedule, step by step

/** Chain-model methods whose per-step choice torch repeats by itself (weight norms, BatchNorm gamma, the global ranking of the current network). */
const TORCH_RANKED_STEPS: readonly PruneSettings['method'][] = ['l1', 'l2', 'bn', 'globalStruct'];

const isScheduled = (input: Pick<PytorchExportInput, 'schedule'>) => !!input.schedule && input.schedule.kind !== 'oneshot' && input.schedule.steps > 1;

/**
 * Whether prune_run.py runs this setting's schedule step by step (else it prunes to the targets in one shot):
 * every scheduled setting (global mode with random weights: each step's draw over every conv weight is carried in
 * masks.safetensors, as conv.weight.stepN). Hand-picked filters are never scheduled.
 */
export function scriptRunsSchedule(method: PruneSettings['method'], mode: PruneSettings['mode']): boolean {
  void mode; // every mode runs its schedule (global random: each step's draw over all conv weights is in masks.safetensors)
  return method !== 'manual';
}

function runsSchedule(input: Pick<PytorchExportInput, 'settings' | 'schedule'>): boolean {
  return isScheduled(input) && scriptRunsSchedule(input.settings.method, input.settings.mode);
}

/** Whether the scheduled script replays the page's per-step choice (KEPT_STEPS) rather than ranking in torch. */
export function replaysSteps(input: Pick<PytorchExportInput, 'spec' | 'settings'>): boolean {
  return input.settings.mode !== 'global' && (isGraphSpec(input.spec) || !TORCH_RANKED_STEPS.includes(input.settings.method));
}

/** The run's steps; a scheduled script needs them (as many as the schedule has). */
function stepsOf(input: PytorchExportInput): NonNullable<PytorchExportInput['steps']> {
  const n = input.schedule?.steps ?? 1;
  if (!input.steps || input.steps.length !== n) throw new Error(`a scheduled export needs the run's ${n} steps (got ${input.steps?.length ?? 'none'})`);
  return input.steps;
}

/** Why a scheduled run is exported as one shot, or null (not scheduled, or the script runs the schedule). */
function scheduleOneShotReason(input: Pick<PytorchExportInput, 'settings' | 'schedule'>): string | null {
  if (!isScheduled(input) || runsSchedule(input)) return null;
  return 'The script prunes to the final targets in one shot: it does not run this schedule.';
}

/** KEPT_STEPS: the page's kept units after each step, one dict per step. */
function keptStepsConstant(input: PytorchExportInput, unit: string): string[] {
  return [
    `# The page's choice at each step: ${unit} kept after it (baseline indices); each step keeps a subset of the one before.`,
    'KEPT_STEPS = [',
    ...stepsOf(input).map((st) => `${pyDictOfLists(st.kept).replace(/^/gm, '    ')},`),
    ']',
  ];
}

/** prune_<fc>_step(model, t): the linear layer's unstructured step (smallest |w| in torch, or the page's random draw). */
function scheduledFcStep(s: PruneSettings, fc: string, layer: string): string[] {
  const name = pyVar(fc);
  if (s.method === 'random')
    return [
      `def prune_${name}_step(model, t):`,
      `    """${fc} after step t + 1: the page's random draw (torch's generator differs) from masks.safetensors, all of ${fc}'s`,
      "    weights pruned so far in the current network's layout; torch multiplies it with an earlier mask.\"\"\"",
      `    key = f"${fc}.weight.step{t + 1}"`,
      '    masks = load_safetensors(MASKS_FILE) if os.path.exists(MASKS_FILE) else {}',
      '    if key in masks:',
      `        prune.custom_from_mask(${layer}, "weight", masks[key].float())`,
    ];
  return [
    `def prune_${name}_step(model, t):`,
    `    """${fc} after step t + 1: STEP_FC[t] of its current weights pruned, smallest |w| first. The weights already zero`,
    '    are the ones pruned before (masks are kept through fine-tuning), so the step prunes only the difference among the',
    '    others: an INTEGER amount, which torch counts among the unmasked weights (its PruningContainer)."""',
    `    layer = ${layer}`,
    '    w = layer.weight.detach()',
    "    target = round(STEP_FC[t] * w.numel())  # torch's count: Python's round, half to even",
    '    already = w.numel() - int(torch.count_nonzero(w))',
    '    if already and not hasattr(layer, "weight_mask"):',
    '        prune.custom_from_mask(layer, "weight", (w != 0).float())  # a slimmed layer: its zeros are the weights pruned before',
    '    if target > already:',
    '        prune.l1_unstructured(layer, "weight", amount=target - already)',
  ];
}

/** figures() and main() of a scheduled script; `start`: the Python expression of the baseline's kept units. */
function scheduledMain(cls: string, fc: string, start: string, checked: boolean): string[] {
  return [
    'def figures(model, x, y):',
    '    """params, nonzero_params, macs, nonzero_macs, accuracy (percent) and the predicted classes."""',
    '    params, nonzero_params = count_params(model)',
    '    macs, nonzero_macs = count_macs(model)',
    '    accuracy, predictions = evaluate(model, x, y)',
    '    return dict(params=params, nonzero_params=nonzero_params, macs=macs, nonzero_macs=nonzero_macs, accuracy=round(accuracy, 2)), predictions',
    '',
    '',
    'def main():',
    ...(checked ? ['    global FINETUNING'] : []),
    '    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])',
    '    ap.add_argument("--data", default=".", help="folder with the CIFAR-10 binary batches (default: here)")',
    '    ap.add_argument("--weights", default=os.path.join(HERE, "baseline.safetensors"), help="the baseline state_dict")',
    '    ap.add_argument("--finetune", type=int, default=0, metavar="EPOCHS", help="fine-tune EPOCHS after every step")',
    '    ap.add_argument("--seed", type=int, default=SEED, help="torch seed for the fine-tuning shuffles")',
    "    ap.add_argument(\"--predictions\", metavar=\"FILE\", help=\"also write each test image's final predicted class, one byte each\")",
    '    args = ap.parse_args()',
    '    torch.manual_seed(args.seed)',
    ...(checked ? ['    FINETUNING = args.finetune > 0'] : []),
    '',
    `    model = ${cls}(channels=BASELINE_CHANNELS)`,
    '    model.load_state_dict(load_safetensors(args.weights), strict=True)',
    '    x_test, y_test = load_cifar(find(args.data, ["test_batch.bin", "test_*.bin"]))',
    '    train = load_cifar(find(args.data, ["data_batch_*.bin", "train_*.bin"])) if args.finetune > 0 else None',
    '    out = {"model": MODEL, "mode": MODE, "method": METHOD, "schedule": PRUNE_SCHEDULE, "steps": []}',
    `    kept = ${start}`,
    '    for t in range(len(STEP_FC)):',
    '        model, kept = prune_step(model, t, kept)',
    `        prune_${pyVar(fc)}_step(model, t)`,
    '        step = {"step": t + 1, "kept": kept}',
    '        if train is not None:',
    '            step["accuracy_before_finetune"] = round(evaluate(model, x_test, y_test)[0], 2)',
    '            finetune(model, *train, epochs=args.finetune)',
    '        numbers, predictions = figures(model, x_test, y_test)',
    '        step.update(numbers)',
    '        out["steps"].append(step)',
    '        print(f"step {t + 1}/{len(STEP_FC)}: {numbers}", file=sys.stderr)',
    '    if args.predictions:',
    '        predictions.numpy().astype(np.uint8).tofile(args.predictions)',
    '    if train is not None:',
    '        out["finetune_epochs"] = args.finetune  # after every step',
    '    out.update(kept=kept, **numbers, test_images=len(y_test))',
    ...(checked ? ["    out[\"torch_differs\"] = TORCH_DIFFERS  # empty: torch's own ranking kept exactly the page's filters at every step"] : []),
    '    print(json.dumps(out))',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
  ];
}

/** prune_run.py for a scheduled run of a chain model: every step pruned in torch, then (--finetune E) fine-tuned. */
function scheduledPruneScript(input: PytorchExportInput): string {
  const { baseline, settings: s, stats } = input;
  const schedule = input.schedule!;
  const spec = input.spec as NetSpec;
  const recipe = { ...DEFAULT_FINETUNE, ...input.finetune };
  const g = geometry(spec, baseline.channels);
  const fc = g.linear.name;
  const cls = className(spec);
  const first = g.convs[0]?.name ?? '';
  const target = (name: string) => s.amounts[name] ?? 0;
  const replay = replaysSteps(input);
  const global = s.method === 'globalStruct';
  const plan = describeSchedule(schedule, global ? target(first) : Math.max(0, ...g.convs.map((c) => target(c.name))));
  const choice = replay
    ? [
        ...(s.method === 'random'
          ? [
              "Each step applies the page's choice for it (KEPT_STEPS): its seeded random draw (torch's random generator",
              `differs), ${s.mode === 'mask' ? 'applied with prune.custom_from_mask; the masks multiply.' : 'applied by slicing the current network.'}`,
            ]
          : [
              "Each step applies the page's choice for it (KEPT_STEPS): its Taylor ranking, whose scores need the page's",
              'seeded training batch and the gradients of the network at that step.',
            ]),
        "With --finetune the choices stay the page's: torch does not re-rank its own fine-tuned weights.",
      ]
    : [
        "Counts equal the page's exactly; from step 2 on torch ranks its own (fine-tuned) weights, so after",
        "fine-tuning the kept filters and accuracies differ from the page's by training noise.",
      ];
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);
  push(
    ...scriptHeader(input, [
      `Runs the page's schedule (${ascii(plan)}) on the page's baseline (baseline.safetensors, a`,
      "PyTorch state_dict): each step prunes, among the units still alive, as many more as the step's cumulative",
      "sparsity asks (counts of the ORIGINAL units, torch's rounding), so the masks multiply (mask mode) or the",
      'network shrinks again (remove mode); with --finetune E every step is followed by E epochs of fine-tuning,',
      "as the page's prune -> fine-tune steps. Without --finetune the steps follow each other directly.",
      ...PRINTS_STEPS_JSON,
      ...choice,
    ]),
    ...chainConstants(baseline, g, stats, recipe),
    `PRUNE_SCHEDULE = ${py(`${schedule.kind} ${schedule.steps}`)}  # ${ascii(plan)} (SCHEDULE is the learning rate's)`,
  );
  if (s.mode === 'global') {
    const total = g.convs.reduce((n, c) => n + baseline.tensors[`${c.name}.weight`].length, 0);
    push(
      `# Conv weights each step prunes (all layers ranked together, among the weights still alive): step t's cumulative`,
      `# fraction ${scheduleSparsities(schedule, target(first)).map(pyFloat).join(', ')} of all ${fmt(total)} conv weights.`,
      `STEP_WEIGHTS = [${scheduleCounts(schedule, target(first), total).perStep.join(', ')}]`,
    );
  } else if (global) {
    const total = baseline.channels.reduce((n, c) => n + c, 0);
    push(
      `# Filters pruned in all after each step, all conv layers ranked together (step t's cumulative fraction`,
      `# ${scheduleSparsities(schedule, target(first)).map(pyFloat).join(', ')} of all ${total} filters; fewer when a layer's floor binds).`,
      `STEP_UNITS = [${scheduleCounts(schedule, target(first), total).cumulative.join(', ')}]`,
      `TOTAL_UNITS = ${total}`,
      `MIN_KEEP = ${pyFloat(GLOBAL_STRUCT_MIN_KEEP)}  # each layer keeps at least this fraction of its filters (at least one)`,
      ...keptStepsConstant(input, 'filters'),
    );
  } else if (replay) push(...keptStepsConstant(input, 'filters'));
  else {
    const steps = range0(schedule.steps).map((t) =>
      Object.fromEntries(g.convs.filter((c) => target(c.name) > 0).map((c) => [c.name, String(scheduleCounts(schedule, target(c.name), c.outChannels).perStep[t])])),
    );
    push(
      `# Filters each step prunes in each conv layer, among those still alive (the page's targets ${g.convs.map((c) => `${c.name} ${pyFloat(target(c.name))}`).join(', ')}).`,
      `STEP_FILTERS = [`,
      ...steps.map((d) => `    ${pyDict(d)},`),
      ']',
    );
  }
  push(`STEP_FC = [${scheduleSparsities(schedule, target(fc)).map(pyFloat).join(', ')}]  # fraction of ${fc}'s weights pruned after each step (unstructured)`);
  if (s.method === 'random') push(`MASKS_FILE = os.path.join(HERE, ${py(EXPORT_FILES.masks)})  # the page's random draws (${s.mode === 'global' ? 'every conv weight and ' : ''}${fc}), one per step`);
  push('', '');
  push(...modelClass(spec, cls), '', '');
  push(...LOAD_SAFETENSORS, '', '');
  push(
    ...KEPT_FILTERS,
    '',
    '',
  );
  if (s.mode === 'mask' && (s.method === 'bn' || replay || global))
    push(
      'def filter_mask(weight, keep):',
      '    """A mask for a conv weight [out, in, kh, kw]: 1 for every weight of the kept filters, 0 elsewhere."""',
      '    mask = torch.zeros_like(weight)',
      '    mask[keep] = 1',
      '    return mask',
      '',
      '',
    );
  if (global) push(...chooseFiltersGlobalStep(), '', '');
  if (s.mode === 'remove') push(...slimFunction(spec, cls, fc), '', '');
  push(...scheduledStep(s, fc, replay), '', '');
  push(...scheduledFcStep(s, fc, `model.${fc}`), '', '');
  push(...COUNTING, '', '');
  push(...DATA_AND_TRAINING, '', '');
  push(...scheduledMain(cls, fc, '{name: list(range(n)) for (name, _), n in zip(CONVS, BASELINE_CHANNELS)}', global));
  return L.join('\n') + '\n';
}

/**
 * Global structured, one step (core/pruning/scheduled.ts): the page's ranking of the CURRENT network written
 * out (as chooseFiltersGlobal), `requested` filters in all; checked against the page's KEPT_STEPS when no
 * fine-tuning came between (then torch ranks the same weights).
 */
function chooseFiltersGlobalStep(): string[] {
  return [
    'FINETUNING = False  # set by main(): with fine-tuning torch ranks its own weights and its choice stands',
    'TORCH_DIFFERS = {}  # "step t: layer" where torch\'s ranking kept other filters than the page (near-equal scores)',
    '',
    '',
    'def choose_filters(model, requested, t):',
    '    """Global structured: every conv layer\'s filters ranked together by their L1 norm divided by the mean L1 norm',
    '    of their layer (Torch-Pruning\'s default group normalisation); the `requested` smallest go, but each layer keeps',
    '    at least MIN_KEEP of its filters (at least one), so none is emptied. Ties: the later layer, then the higher',
    '    filter index, go first. Scores in float64, as the page. Masked filters score 0, so they are counted first.',
    '    Without fine-tuning the page\'s choice (KEPT_STEPS[t]) wins a near-tie that float32 weights decide otherwise."""',
    ...GLOBAL_SCORES,
    ...GLOBAL_TAKE,
    '    chosen = {}',
    '    for g, (name, _) in enumerate(CONVS):',
    ...GLOBAL_GONE,
    '        chosen[name] = [j for j in range(len(scores[g])) if j not in gone]',
    '    return chosen',
    '',
    '',
    'def check_step(t, name, torch_keep):',
    '    """Baseline indices torch kept in `name` at step t + 1, or the page\'s when they differ without fine-tuning."""',
    '    if FINETUNING or torch_keep == KEPT_STEPS[t][name]:',
    '        return torch_keep',
    '    TORCH_DIFFERS[f"step {t + 1}: {name}"] = torch_keep',
    '    print(f"note: step {t + 1}, {name}: torch would keep {torch_keep}, the page kept {KEPT_STEPS[t][name]}; using the page\'s", file=sys.stderr)',
    '    return KEPT_STEPS[t][name]',
  ];
}

/** prune_step(model, t, kept) -> (model, kept): step t + 1 of the schedule on the conv layers. */
function scheduledStep(s: PruneSettings, fc: string, replay: boolean): string[] {
  const empty = [
    '    empty = [name for name, keep in kept.items() if not keep]',
    '    if empty:',
    '        sys.exit(f"{\', \'.join(empty)}: every filter removed; PyTorch cannot build a Conv2d with no filters "',
    '                 "(the page treats such a layer as outputting nothing)")',
  ];
  const masked = '    return model, {name: kept_filters(getattr(model, name)) for name, _ in CONVS}';
  const slimmed = [
    ...empty,
    `    if hasattr(model.${fc}, "weight_mask"):`,
    `        prune.remove(model.${fc}, "weight")  # fold ${fc}'s mask into its weight: slim() reads plain weights`,
    '    return slim(model, local), kept',
  ];
  if (replay && s.mode === 'remove')
    return [
      'def prune_step(model, t, kept):',
      "    \"\"\"Remove mode: the page's filters for step t + 1 (KEPT_STEPS[t], baseline indices) out of the CURRENT network's,",
      '    then the network is rebuilt without the others. `kept` maps the current filters to baseline indices."""',
      '    local = {name: [kept[name].index(j) for j in KEPT_STEPS[t][name]] for name, _ in CONVS}',
      '    kept = {name: list(KEPT_STEPS[t][name]) for name, _ in CONVS}',
      ...slimmed,
    ];
  if (replay)
    return [
      'def prune_step(model, t, kept):',
      "    \"\"\"Mask mode: the page's filters for step t + 1 (KEPT_STEPS[t]) applied with prune.custom_from_mask; torch multiplies",
      "    the new mask with the earlier ones. Only the weight is masked, as in torch: a masked filter's bias or BatchNorm",
      '    beta still reaches the next layer."""',
      '    for name, _ in CONVS:',
      '        conv = getattr(model, name)',
      '        keep = KEPT_STEPS[t][name]',
      '        if len(keep) < conv.out_channels:',
      '            prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
      masked,
    ];
  if (s.method === 'globalStruct' && s.mode === 'remove')
    return [
      'def prune_step(model, t, kept):',
      '    """Remove mode, global structured: the CURRENT network (smaller after each step) loses as many filters as take',
      '    the total pruned to STEP_UNITS[t], ranked together (choose_filters), then is rebuilt without them."""',
      '    alive = sum(len(k) for k in kept.values())',
      '    old = kept',
      '    local = choose_filters(model, max(0, STEP_UNITS[t] - (TOTAL_UNITS - alive)), t)',
      '    kept = {name: check_step(t, name, [old[name][j] for j in local[name]]) for name, _ in CONVS}',
      '    local = {name: [old[name].index(j) for j in kept[name]] for name, _ in CONVS}',
      ...slimmed,
    ];
  if (s.method === 'globalStruct')
    return [
      'def prune_step(model, t, kept):',
      '    """Mask mode, global structured: STEP_UNITS[t] filters pruned in all, every layer ranked together on the current',
      '    (masked) weights (choose_filters), applied with prune.custom_from_mask; the masks multiply."""',
      '    chosen = choose_filters(model, STEP_UNITS[t], t)',
      '    for name, _ in CONVS:',
      '        conv = getattr(model, name)',
      '        keep = check_step(t, name, chosen[name])',
      '        if len(keep) < conv.out_channels:',
      '            prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
      masked,
    ];
  if (s.mode === 'global')
    return [
      'def prune_step(model, t, kept):',
      ...(s.method === 'random'
        ? [
            '    """Global mode with random weights: STEP_WEIGHTS[t] more conv weights drawn over every layer together. In torch',
            "    that is prune.global_unstructured(..., prune.RandomUnstructured, amount=STEP_WEIGHTS[t]), but torch's random",
            "    generator is not the page's, so each step's draw (all weights pruned so far) comes from masks.safetensors;",
            '    the masks multiply."""',
            '    masks = load_safetensors(MASKS_FILE)',
            '    for name, _ in CONVS:',
            '        prune.custom_from_mask(getattr(model, name), "weight", masks[f"{name}.weight.step{t + 1}"].float())',
          ]
        : [
            '    """Global mode: STEP_WEIGHTS[t] more conv weights, every layer ranked together by |w|, among the weights still',
            '    unmasked (an INTEGER amount: torch counts it among the unmasked ones); the masks multiply."""',
            '    if STEP_WEIGHTS[t]:',
            '        parameters = [(getattr(model, name), "weight") for name, _ in CONVS]',
            '        prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=STEP_WEIGHTS[t])',
          ]),
      masked,
    ];
  const score =
    s.method === 'bn'
      ? 'getattr(model, bn).weight.detach().abs()  # Network Slimming: |gamma| of the filter\'s BatchNorm channel'
      : `getattr(model, name).weight.detach().flatten(1).norm(p=${s.method === 'l1' ? 1 : 2}, dim=1)  # ${s.method.toUpperCase()} norm of each filter`;
  if (s.mode === 'remove')
    return [
      'def prune_step(model, t, kept):',
      '    """Remove mode: in the CURRENT network (smaller after each step) each layer loses its STEP_FILTERS[t] lowest-scoring',
      '    filters, then the network is rebuilt without them. `kept` maps the current filters to baseline indices."""',
      '    local = {}',
      '    for name, bn in CONVS:',
      `        scores = ${score}`,
      '        local[name] = sorted(torch.topk(scores, len(scores) - STEP_FILTERS[t].get(name, 0)).indices.tolist())',
      '    kept = {name: [kept[name][j] for j in local[name]] for name, _ in CONVS}',
      ...empty,
      `    if hasattr(model.${fc}, "weight_mask"):`,
      `        prune.remove(model.${fc}, "weight")  # fold ${fc}'s mask into its weight: slim() reads plain weights`,
      '    return slim(model, local), kept',
    ];
  if (s.method === 'bn')
    return [
      'def prune_step(model, t, kept):',
      '    """Mask mode, BatchNorm gamma: among each layer\'s filters still alive, mask the STEP_FILTERS[t] with the smallest',
      '    |gamma| (torch has no such criterion: ranked here, applied with prune.custom_from_mask; the masks multiply)."""',
      '    for name, bn in CONVS:',
      '        n = STEP_FILTERS[t].get(name, 0)',
      '        if not n:',
      '            continue',
      '        conv = getattr(model, name)',
      '        alive = kept_filters(conv)',
      `        scores = ${score.replace('.abs()', '.abs()[alive]')}`,
      '        keep = sorted(alive[j] for j in torch.topk(scores, len(alive) - n).indices.tolist())',
      '        prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
      masked,
    ];
  return [
    'def prune_step(model, t, kept):',
    `    """Mask mode, ${s.method.toUpperCase()} norm: prune.ln_structured with an INTEGER amount, STEP_FILTERS[t] filters (dim 0):`,
    '    torch ranks only the filters still unmasked (its PruningContainer) and the masks multiply. Only the weight is',
    '    masked, as in torch: a masked filter\'s bias or BatchNorm beta still reaches the next layer."""',
    '    for name, n in STEP_FILTERS[t].items():',
    '        if n:',
    `            prune.ln_structured(getattr(model, name), "weight", amount=n, n=${s.method === 'l1' ? 1 : 2}, dim=0)`,
    masked,
  ];
}

const range0 = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * prune_run.py for a scheduled run of a graph model (ResNet-20): every step prunes the channel groups as the
 * page's step did (KEPT_STEPS; global mode: STEP_WEIGHTS ranked in torch), then (--finetune E) fine-tunes.
 */
function scheduledGraphPruneScript(input: PytorchExportInput): string {
  const { spec, baseline, settings: s, stats } = input;
  const schedule = input.schedule!;
  const st = structure(spec);
  const recipe = { ...DEFAULT_FINETUNE, ...input.finetune };
  const fc = st.output.name;
  const cls = className(spec);
  const first = st.groups[0]?.id ?? '';
  const target = (id: string) => s.amounts[id] ?? 0;
  const plan = describeSchedule(schedule, s.method === 'globalStruct' || s.mode === 'global' ? target(first) : Math.max(0, ...st.groups.map((g) => target(g.id))));
  const layer = `model.get_submodule(${py(fc)})`;
  const L: string[] = [];
  const push = (...lines: string[]) => L.push(...lines);
  push(
    ...scriptHeader(input, [
      `Runs the page's schedule (${ascii(plan)}) on the page's baseline (baseline.safetensors, a`,
      "PyTorch state_dict), through the channel groups -- channels joined by a residual add go together (Torch-Pruning's",
      'dependency groups) --: each step prunes, among the channels still alive, as many more as the step\'s cumulative',
      "sparsity asks, so the masks multiply (mask mode) or the network shrinks again (remove mode); with --finetune E",
      "every step is followed by E epochs of fine-tuning, as the page's prune -> fine-tune steps.",
      ...PRINTS_STEPS_JSON,
      ...(s.mode === 'global'
        ? ["Counts equal the page's exactly; from step 2 on torch ranks its own (fine-tuned) weights."]
        : [
            "Each step applies the page's choice for it (KEPT_STEPS: the channels it kept in each group), as the one-shot",
            "export applies KEPT; with --finetune the choices stay the page's: torch does not re-rank its fine-tuned weights.",
          ]),
    ]),
    ...graphConstants(st, baseline),
    ...normalisationAndRecipe(stats, recipe),
    `PRUNE_SCHEDULE = ${py(`${schedule.kind} ${schedule.steps}`)}  # ${ascii(plan)} (SCHEDULE is the learning rate's)`,
  );
  if (s.mode === 'global') {
    const total = st.nodes.reduce((n, c) => n + (c.op === 'conv' ? baseline.tensors[`${c.name}.weight`].length : 0), 0);
    push(
      `# Conv weights each step prunes (all layers ranked together, among the weights still alive): step t's cumulative`,
      `# fraction ${scheduleSparsities(schedule, target(first)).map(pyFloat).join(', ')} of all ${fmt(total)} conv weights.`,
      `STEP_WEIGHTS = [${scheduleCounts(schedule, target(first), total).perStep.join(', ')}]`,
    );
  } else push(...keptStepsConstant(input, 'channels of each group'));
  push(`STEP_FC = [${scheduleSparsities(schedule, target(fc)).map(pyFloat).join(', ')}]  # fraction of ${fc}'s weights pruned after each step (unstructured)`);
  if (s.method === 'random') push(`MASKS_FILE = os.path.join(HERE, ${py(EXPORT_FILES.masks)})  # the page's random draws (${s.mode === 'global' ? 'every conv weight and ' : ''}${fc}), one per step`);
  push('', '');
  push(...graphModelClass(spec, st, cls), '', '');
  push(...LOAD_SAFETENSORS, '', '');
  push(...GRAPH_UNIT_HELPERS);
  const masked = '    return model, {g: units_left(model, g) for g in GROUPS}';
  if (s.mode === 'remove')
    push(
      ...graphSlim(cls),
      '',
      '',
      'def prune_step(model, t, kept):',
      "    \"\"\"Remove mode: the page's channels for step t + 1 (KEPT_STEPS[t], baseline indices) out of the CURRENT network's,",
      '    then the network is rebuilt without the others. `kept` maps the current channels to baseline indices."""',
      '    local = {g: [kept[g].index(j) for j in KEPT_STEPS[t][g]] for g in GROUPS}',
      '    kept = {g: list(KEPT_STEPS[t][g]) for g in GROUPS}',
      '    empty = [g for g, keep in kept.items() if not keep]',
      '    if empty:',
      '        sys.exit(f"{\', \'.join(empty)}: every channel removed; PyTorch cannot build a Conv2d with no filters "',
      '                 "(the page treats such a layer as outputting nothing)")',
      `    if hasattr(${layer}, "weight_mask"):`,
      `        prune.remove(${layer}, "weight")  # fold ${fc}'s mask into its weight: slim() reads plain weights`,
      '    return slim(model, local), kept',
    );
  else if (s.mode === 'mask')
    push(
      'def prune_step(model, t, kept):',
      "    \"\"\"Mask mode: the page's channels for step t + 1 (KEPT_STEPS[t]) masked in every conv writing into a group",
      '    (prune.custom_from_mask, dim 0); torch multiplies the new mask with the earlier ones. Only weights are masked,',
      "    as in torch: a masked filter's BatchNorm beta still reaches the add.\"\"\"",
      '    for g in GROUPS:',
      '        keep = KEPT_STEPS[t][g]',
      '        for name in MEMBERS[g]["producers"]:',
      '            conv = model.get_submodule(name)',
      '            if len(keep) < conv.out_channels:',
      '                prune.custom_from_mask(conv, "weight", filter_mask(conv.weight, keep))',
      masked,
    );
  else
    push(
      'def prune_step(model, t, kept):',
      ...(s.method === 'random'
        ? [
            "    \"\"\"Global mode with random weights: STEP_WEIGHTS[t] more conv weights drawn over every layer together; torch's",
            "    random generator is not the page's, so each step's draw (all weights pruned so far) comes from",
            '    masks.safetensors; the masks multiply. A channel counts as pruned only when all its weights in every conv',
            '    writing into it are."""',
            '    masks = load_safetensors(MASKS_FILE)',
            '    for name in CONVS:',
            '        prune.custom_from_mask(model.get_submodule(name), "weight", masks[f"{name}.weight.step{t + 1}"].float())',
          ]
        : [
            '    """Global mode: STEP_WEIGHTS[t] more conv weights, every layer ranked together by |w|, among the weights still',
            '    unmasked (an INTEGER amount: torch counts it among the unmasked ones); the masks multiply. A channel counts as',
            '    pruned only when all its weights in every conv writing into it are."""',
            '    if STEP_WEIGHTS[t]:',
            '        parameters = [(model.get_submodule(name), "weight") for name in CONVS]',
            '        prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=STEP_WEIGHTS[t])',
          ]),
      masked,
    );
  push('', '');
  push(...scheduledFcStep(s, fc, layer), '', '');
  push(...COUNTING, '', '');
  push(...DATA_AND_TRAINING, '', '');
  push(...scheduledMain(cls, fc, '{g: list(range(n)) for g, n in zip(GROUPS, BASELINE_CHANNELS)}', false));
  return L.join('\n') + '\n';
}
