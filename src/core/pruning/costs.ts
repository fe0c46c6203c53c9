/**
 * Parameter, MAC and size figures for any network the spec describes, counted on real weights
 * (`measureCosts`) or predicted from the settings alone (`previewCosts`, pure arithmetic for every
 * slider move). Per layer:
 *   conv   params = k·k·in·out (+ out bias) (+ 2·out BatchNorm γ, β); MACs = k·k·in·out × output pixels
 *   linear params = in·out + out;                                       MACs = in·out
 * Nonzero MACs follow ShrinkBench: nonzero kernel weights × output positions (biases and BatchNorm are
 * additions, not MACs). Size = float32 bytes of everything stored (parameters and BatchNorm's running
 * statistics), dense: a masked model keeps its zeros, so only removal shrinks the file.
 * SimpleCNN with k filters: params = 10,268·k + 10, MACs = 37,888·k. Any graph the spec describes: the
 * output positions of a stride-2 conv are its (smaller) output map's, a 1×1 conv has one tap; pooling,
 * BatchNorm, ReLU and adds are not MACs. ResNet-20: 272,474 params, 40,813,184 MACs.
 */
import { batchNormAfter, convBefore, shapes, structure } from '../model/graph';
import { type Channels, type ModelSpec, type NetWeights, fullChannels, sizeOf, tensors } from '../model/spec';
import { fraction, pruneCount } from './amount';
import type { PruneSettings } from './settings';

const BYTES_PER_VALUE = 4;

export interface LayerCosts {
  params: number; // weights + bias + BatchNorm γ, β
  nonzeroParams: number;
  weights: number; // kernel entries only
  nonzeroWeights: number;
  macs: number; // dense, per image
  nonzeroMacs: number;
}

export interface Costs {
  /** Units physically present in each channel group (for a chain model: filters in each conv layer). */
  channels: Channels;
  params: number;
  nonzeroParams: number;
  /** What the article's `parameters_to_vector(model.parameters()).nonzero()` reports: torch's parameters are weight_orig, so masking never lowers it. */
  articlePrints: number;
  macs: number;
  nonzeroMacs: number;
  sizeBytes: number;
  layers: Record<string, LayerCosts>;
  /** False only for a preview of global mode over several conv layers: where the pruned weights fall is known only after ranking them. */
  exact: boolean;
}

export function countNonzero(a: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) c++;
  return c;
}

/** Per layer: nonzero kernel weights, and nonzero other parameters (bias, γ, β). */
interface Nonzeros {
  weights: number;
  others: number;
}

/** Figures counted on actual weights. `unmasked` = the same architecture before masks (torch's weight_orig). */
export function measureCosts(spec: ModelSpec, effective: NetWeights, unmasked: NetWeights = effective): Costs {
  const nz: Record<string, Nonzeros> = {};
  let articlePrints = 0;
  for (const t of tensors(spec, effective.channels)) {
    if (!t.parameter) continue;
    const n = (nz[t.layer] ??= { weights: 0, others: 0 });
    const c = countNonzero(effective.tensors[t.name]);
    if (t.role === 'weight') n.weights += c;
    else n.others += c;
    articlePrints += countNonzero(unmasked.tensors[t.name]);
  }
  return assemble(spec, effective.channels, nz, articlePrints, true);
}

/**
 * The same figures from the settings alone. Equals measureCosts on the real prune() result whenever
 * the baseline has no parameters that are exactly zero (true of any trained float model in practice;
 * an untrained ConvNet-3 starts with β = 0, which the measured figures then show).
 */
export function previewCosts(spec: ModelSpec, s: PruneSettings): Costs {
  const st = structure(spec);
  const full = fullChannels(spec);
  const kept = st.groups.map((g) => g.units - prunedFilterCount(s, g.id, g.units));
  const channels = s.mode === 'remove' ? kept : full;
  const layers = costLayers(spec, channels);
  const convs = layers.filter((l) => l.kind === 'conv');
  const nz: Record<string, Nonzeros> = {};
  let exact = true;
  if (s.mode === 'global') {
    // torch's global_unstructured over all conv weights; how the pruned ones split between layers is
    // only known after ranking, so split in proportion to size (exact when there is one conv layer).
    const total = convs.reduce((a, c) => a + c.weights, 0);
    const first = st.groups[0]?.id;
    const pruned = first ? pruneCount(fraction(s.amounts[first] ?? 0), total) : 0;
    let left = pruned;
    convs.forEach((c, i) => {
      const share = i === convs.length - 1 ? left : Math.round((pruned * c.weights) / total);
      left -= share;
      nz[c.name] = { weights: c.weights - share, others: c.others };
    });
    exact = convs.length <= 1 || pruned === 0;
  } else
    for (const c of convs) {
      // Mask mode zeroes the pruned filters' kernels (torch masks weights only); removal keeps what is there.
      const g = c.outGroup;
      const filters = s.mode === 'remove' || g === null ? c.outChannels : kept[g];
      nz[c.name] = { weights: c.taps * c.inChannels * filters, others: c.others };
    }
  for (const l of layers) {
    if (l.kind === 'batchNorm') nz[l.name] = { weights: 0, others: l.others };
    if (l.kind === 'linear') nz[l.name] = { weights: l.weights - pruneCount(fraction(s.amounts[l.name] ?? 0), l.weights), others: l.others };
  }
  const articlePrints = tensors(spec, channels).reduce((a, t) => a + (t.parameter ? sizeOf(t.shape) : 0), 0);
  return assemble(spec, channels, nz, articlePrints, exact);
}

/** How many units of a channel group (for a chain model: a conv layer's filters) the settings prune (structured modes). */
export function prunedFilterCount(s: PruneSettings, group: string, units: number): number {
  if (s.mode === 'global') return 0;
  // Global structured: the split between groups is only known after ranking the baseline (prune()).
  if (s.method === 'globalStruct') return 0;
  if (s.method === 'manual') return new Set((s.manual?.[group] ?? []).filter((j) => j >= 0 && j < units)).size;
  return pruneCount(fraction(s.amounts[group] ?? 0), units);
}

interface CostLayer {
  kind: 'conv' | 'batchNorm' | 'linear';
  name: string;
  weights: number;
  /** Bias, and BatchNorm γ, β counted with the conv before it: never masked (torch masks weights only), only removed. */
  others: number;
  /** Output positions per image (a weight's multiply-accumulates). */
  positions: number;
  taps: number;
  inChannels: number;
  outChannels: number;
  outGroup: number | null;
}

/** The layers that hold parameters: convs (with the BatchNorm right after them), lone BatchNorms, linear layers. */
function costLayers(spec: ModelSpec, channels: Channels): CostLayer[] {
  const st = structure(spec);
  const sh = shapes(st, channels);
  const out: CostLayer[] = [];
  for (const n of st.nodes) {
    const s = sh.get(n.name)!;
    if (n.op === 'conv') {
      const taps = n.kernel * n.kernel;
      const bn = batchNormAfter(st, n.name) ? 2 * s.channels : 0;
      const g = st.byName.get(n.name)!.group;
      out.push({
        kind: 'conv', name: n.name, weights: taps * s.inChannels * s.channels, others: (n.bias ? s.channels : 0) + bn, positions: s.size * s.size,
        taps, inChannels: s.inChannels, outChannels: s.channels, outGroup: g !== null && g >= 0 ? g : null,
      });
    } else if (n.op === 'batchNorm' && !convBefore(st, n.name))
      out.push({ kind: 'batchNorm', name: n.name, weights: 0, others: 2 * s.channels, positions: 0, taps: 0, inChannels: s.channels, outChannels: s.channels, outGroup: null });
    else if (n.op === 'linear')
      out.push({ kind: 'linear', name: n.name, weights: s.inChannels * s.channels, others: s.channels, positions: 1, taps: 1, inChannels: s.inChannels, outChannels: s.channels, outGroup: null });
  }
  return out;
}

function assemble(spec: ModelSpec, channels: Channels, nz: Record<string, Nonzeros>, articlePrints: number, exact: boolean): Costs {
  const layers: Record<string, LayerCosts> = {};
  for (const l of costLayers(spec, channels)) layers[l.name] = layer(l.weights, l.others, nz[l.name] ?? { weights: 0, others: 0 }, l.positions);
  const sum = (k: keyof LayerCosts) => Object.values(layers).reduce((a, l) => a + l[k], 0);
  const stored = tensors(spec, channels).reduce((a, t) => a + sizeOf(t.shape), 0);
  return {
    channels: [...channels],
    params: sum('params'),
    nonzeroParams: sum('nonzeroParams'),
    articlePrints,
    macs: sum('macs'),
    nonzeroMacs: sum('nonzeroMacs'),
    sizeBytes: stored * BYTES_PER_VALUE,
    layers,
    exact,
  };
}

function layer(weights: number, others: number, nonzero: Nonzeros, positions: number): LayerCosts {
  return {
    params: weights + others,
    nonzeroParams: nonzero.weights + nonzero.others,
    weights,
    nonzeroWeights: nonzero.weights,
    macs: weights * positions,
    nonzeroMacs: nonzero.weights * positions,
  };
}
