/**
 * True structured removal for any chain the spec describes, Torch-Pruning style: removing filter j of
 * conv_i removes conv_i's weights (and bias) for j, BatchNorm_i's γ, β, running mean and variance for j,
 * and input channel j of the layer it feeds — the next conv, or the fc1 rows the flatten put there
 * (NHWC: row (h·S + w)·C + j, one row per pixel, spread through the kernel).
 */
import { type NetSpec, type NetWeights, geometry, tensors } from '../model/spec';

/** Kept filter indices per conv layer (ascending, unique); a layer not listed keeps all. */
export type KeptChannels = Record<string, readonly number[]>;

/** The smaller network keeping `kept` filters. Never mutates `w`; every array in the result is fresh. */
export function removeChannels(spec: NetSpec, w: NetWeights, kept: KeptChannels): NetWeights {
  const g = geometry(spec, w.channels);
  const keep = g.convs.map((c) => validKept(c.name, kept[c.name] ?? range(c.outChannels), c.outChannels));
  const channels = keep.map((k) => k.length);
  const out: Record<string, Float32Array> = {};
  for (const t of tensors(spec, w.channels)) {
    const a = w.tensors[t.name];
    const i = g.convs.findIndex((c) => c.name === t.layer);
    if (i >= 0) {
      const c = g.convs[i];
      out[t.name] =
        t.role === 'weight'
          ? sliceConvKernel(a, c.kernel * c.kernel, c.inChannels, c.outChannels, i > 0 ? keep[i - 1] : range(c.inChannels), keep[i])
          : Float32Array.from(keep[i], (j) => a[j]);
    } else if (t.role === 'weight') {
      const f = g.linear.flattenOf;
      const k = f.conv ? keep[g.convs.length - 1] : range(f.channels);
      out[t.name] = sliceFlattenRows(a, f.size * f.size, f.channels, k, g.linear.outFeatures);
    } else out[t.name] = a.slice();
  }
  return { model: w.model, channels, tensors: out };
}

/**
 * The full-size equivalent of a removal: the removed filters' kernels and biases zeroed, and their
 * BatchNorm γ and β zeroed (so the channel outputs relu(0) = 0 whatever its running statistics). Its
 * logits equal the smaller network's.
 */
export function zeroChannels(spec: NetSpec, w: NetWeights, kept: KeptChannels): NetWeights {
  const g = geometry(spec, w.channels);
  const out: Record<string, Float32Array> = {};
  for (const t of tensors(spec, w.channels)) {
    const a = w.tensors[t.name].slice();
    const c = g.convs.find((x) => x.name === t.layer);
    const k = c && kept[c.name];
    if (c && k && t.role !== 'runningMean' && t.role !== 'runningVar') {
      const on = new Uint8Array(c.outChannels);
      for (const j of k) on[j] = 1;
      const n = c.outChannels;
      for (let i = 0; i < a.length; i++) if (!on[i % n]) a[i] = 0; // filter/channel is the fastest axis
    }
    out[t.name] = a;
  }
  return { model: w.model, channels: [...w.channels], tensors: out };
}

/** [taps, in, out] → [taps, keepIn, keepOut]. */
function sliceConvKernel(a: Float32Array, taps: number, inC: number, outC: number, keepIn: readonly number[], keepOut: readonly number[]): Float32Array {
  const r = new Float32Array(taps * keepIn.length * keepOut.length);
  let p = 0;
  for (let t = 0; t < taps; t++)
    for (const ci of keepIn) {
      const base = (t * inC + ci) * outC;
      for (const co of keepOut) r[p++] = a[base + co];
    }
  return r;
}

/** fc rows (pixel·C + c) → (pixel·C' + j) for kept channels c = keep[j]; each row has `cols` entries. */
function sliceFlattenRows(a: Float32Array, pixels: number, c: number, keep: readonly number[], cols: number): Float32Array {
  const r = new Float32Array(pixels * keep.length * cols);
  let p = 0;
  for (let px = 0; px < pixels; px++)
    for (const j of keep) {
      const from = (px * c + j) * cols;
      r.set(a.subarray(from, from + cols), p);
      p += cols;
    }
  return r;
}

function validKept(layer: string, kept: readonly number[], n: number): readonly number[] {
  kept.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new RangeError(`${layer}: filter ${c} out of range 0..${n - 1}`);
    if (i > 0 && c <= kept[i - 1]) throw new RangeError(`${layer}: kept filters must be ascending and unique`);
  });
  return kept;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
