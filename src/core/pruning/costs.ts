/**
 * Parameter, MAC and size figures for any network the spec describes, counted on real weights
 * (`measureCosts`) or predicted from the settings alone (`previewCosts`, pure arithmetic for every
 * slider move). Per layer:
 *   conv   params = k·k·in·out (+ out bias) (+ 2·out BatchNorm γ, β); MACs = k·k·in·out × output pixels
 *   linear params = in·out + out;                                       MACs = in·out
 * Nonzero MACs follow ShrinkBench: nonzero kernel weights × output positions (biases and BatchNorm are
 * additions, not MACs). Size = float32 bytes of everything stored (parameters and BatchNorm's running
 * statistics), dense: a masked model keeps its zeros, so only removal shrinks the file.
 * SimpleCNN with k filters: params = 10,268·k + 10, MACs = 37,888·k.
 */
import { type Channels, type NetSpec, type NetWeights, fullChannels, geometry, sizeOf, tensors } from '../model/spec';
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
  /** Filters physically present in each conv layer. */
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
export function measureCosts(spec: NetSpec, effective: NetWeights, unmasked: NetWeights = effective): Costs {
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
export function previewCosts(spec: NetSpec, s: PruneSettings): Costs {
  const full = fullChannels(spec);
  const g0 = geometry(spec, full);
  const kept = g0.convs.map((c) => c.outChannels - prunedFilterCount(s, c.name, c.outChannels));
  const channels = s.mode === 'remove' ? kept : full;
  const g = geometry(spec, channels);
  const nz: Record<string, Nonzeros> = {};
  let exact = true;
  if (s.mode === 'global') {
    // torch's global_unstructured over all conv weights; how the pruned ones split between layers is
    // only known after ranking, so split in proportion to size (exact when there is one conv layer).
    const sizes = g.convs.map((c) => c.kernel * c.kernel * c.inChannels * c.outChannels);
    const total = sizes.reduce((a, b) => a + b, 0);
    const first = g.convs[0]?.name;
    const pruned = first ? pruneCount(fraction(s.amounts[first] ?? 0), total) : 0;
    let left = pruned;
    g.convs.forEach((c, i) => {
      const share = i === g.convs.length - 1 ? left : Math.round((pruned * sizes[i]) / total);
      left -= share;
      nz[c.name] = { weights: sizes[i] - share, others: otherParams(c) };
    });
    exact = g.convs.length <= 1 || pruned === 0;
  } else
    g.convs.forEach((c, i) => {
      const filters = s.mode === 'remove' ? c.outChannels : kept[i];
      nz[c.name] = { weights: c.kernel * c.kernel * c.inChannels * filters, others: otherParams(c) };
    });
  const fcWeights = g.linear.inFeatures * g.linear.outFeatures;
  nz[g.linear.name] = { weights: fcWeights - pruneCount(fraction(s.amounts[g.linear.name] ?? 0), fcWeights), others: g.linear.outFeatures };
  const articlePrints = tensors(spec, channels).reduce((a, t) => a + (t.parameter ? sizeOf(t.shape) : 0), 0);
  return assemble(spec, channels, nz, articlePrints, exact);
}

/** How many of a conv layer's filters the settings prune (structured modes). */
export function prunedFilterCount(s: PruneSettings, layer: string, filters: number): number {
  if (s.mode === 'global') return 0;
  if (s.method === 'manual') return new Set((s.manual?.[layer] ?? []).filter((j) => j >= 0 && j < filters)).size;
  return pruneCount(fraction(s.amounts[layer] ?? 0), filters);
}

/** Bias and BatchNorm γ, β: never masked (torch masks weights only), only removed. */
function otherParams(c: { outChannels: number; bias: boolean; batchNorm: string | null }): number {
  return (c.bias ? c.outChannels : 0) + (c.batchNorm ? 2 * c.outChannels : 0);
}

function assemble(spec: NetSpec, channels: Channels, nz: Record<string, Nonzeros>, articlePrints: number, exact: boolean): Costs {
  const g = geometry(spec, channels);
  const layers: Record<string, LayerCosts> = {};
  for (const c of g.convs) {
    const weights = c.kernel * c.kernel * c.inChannels * c.outChannels;
    const pixels = c.size * c.size;
    const n = nz[c.name];
    layers[c.name] = layer(weights, otherParams(c), n, pixels);
  }
  const f = g.linear;
  layers[f.name] = layer(f.inFeatures * f.outFeatures, f.outFeatures, nz[f.name], 1);
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
