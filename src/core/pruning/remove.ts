/**
 * True structured removal through the channel groups (Torch-Pruning style): removing unit j of a group
 * removes, for every member, filter j of each conv writing into it (weights and bias), channel j of each
 * BatchNorm over it (γ, β, running mean and variance), input channel j of each conv reading it, and the
 * linear layer's rows for channel j (NHWC flatten: row (h·S + w)·C + j, one per pixel). For a chain
 * model a group is one conv layer's filters, so this is "the filter, its BatchNorm channel and the next
 * layer's input channel".
 */
import { type GraphStructure, structure, shapes } from '../model/graph';
import { type ModelSpec, type NetWeights, tensors } from '../model/spec';

/** Kept unit indices per channel group id (for a chain model: per conv layer), ascending and unique; a group not listed keeps all. */
export type KeptChannels = Record<string, readonly number[]>;

/** The smaller network keeping `kept` units of each group. Never mutates `w`; every array in the result is fresh. */
export function removeChannels(spec: ModelSpec, w: NetWeights, kept: KeptChannels): NetWeights {
  const st = structure(spec);
  const sh = shapes(st, w.channels);
  const keep = st.groups.map((g, i) => validKept(g.id, kept[g.id] ?? range(w.channels[i]), w.channels[i]));
  const channels = keep.map((k) => k.length);
  /** The kept channels flowing out of `node` (all of them for the image's). */
  const keepOut = (node: string, n: number) => {
    const g = node === 'input' ? -1 : st.byName.get(node)!.group;
    return g !== null && g >= 0 ? keep[g] : range(n);
  };
  const out: Record<string, Float32Array> = {};
  for (const t of tensors(spec, w.channels)) {
    const a = w.tensors[t.name];
    const n = st.byName.get(t.node)!;
    const s = sh.get(t.node)!;
    const node = n.node;
    if (node.op === 'conv') {
      out[t.name] =
        t.role === 'weight'
          ? sliceConvKernel(a, node.kernel * node.kernel, s.inChannels, s.channels, keepOut(node.input, s.inChannels), keepOut(node.name, s.channels))
          : pick(a, keepOut(node.name, s.channels));
    } else if (node.op === 'batchNorm') out[t.name] = pick(a, keepOut(node.name, s.channels));
    else if (node.op === 'linear' && t.role === 'weight') {
      const f = st.byName.get(node.input)!.node;
      const fs = sh.get(node.input)!;
      if (f.op === 'flatten') out[t.name] = sliceFlattenRows(a, fs.pixels, fs.inChannels, keepOut(f.input, fs.inChannels), s.channels);
      else out[t.name] = a.slice();
    } else out[t.name] = a.slice();
  }
  return { model: w.model, channels, tensors: out };
}

/**
 * The full-size equivalent of a removal: the removed units' filters and biases zeroed in every conv
 * writing into the group, and their γ and β zeroed in every BatchNorm over it (so the channel is
 * exactly 0 wherever it flows — after a ReLU, through an add of zeros — whatever the running
 * statistics). Its logits equal the smaller network's.
 */
export function zeroChannels(spec: ModelSpec, w: NetWeights, kept: KeptChannels): NetWeights {
  const st = structure(spec);
  const sh = shapes(st, w.channels);
  const off = zeroedUnits(st, w.channels, kept);
  const out: Record<string, Float32Array> = {};
  for (const t of tensors(spec, w.channels)) {
    const a = w.tensors[t.name].slice();
    const node = st.byName.get(t.node)!;
    const g = node.group;
    const zeroHere = (node.node.op === 'conv' || (node.node.op === 'batchNorm' && t.role !== 'runningMean' && t.role !== 'runningVar')) && g !== null && g >= 0 && off[g];
    if (zeroHere) {
      const on = off[g!]!;
      const n = sh.get(t.node)!.channels;
      for (let i = 0; i < a.length; i++) if (!on[i % n]) a[i] = 0; // filter/channel is the fastest axis
    }
    out[t.name] = a;
  }
  return { model: w.model, channels: [...w.channels], tensors: out };
}

/** Per group: 1 = kept, for the groups `kept` lists (null: untouched). */
function zeroedUnits(st: GraphStructure, channels: readonly number[], kept: KeptChannels): (Uint8Array | null)[] {
  return st.groups.map((g, i) => {
    const k = kept[g.id];
    if (!k) return null;
    const on = new Uint8Array(channels[i]);
    for (const j of validKept(g.id, k, channels[i])) on[j] = 1;
    return on;
  });
}

const pick = (a: Float32Array, keep: readonly number[]) => Float32Array.from(keep, (j) => a[j]);

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
      // A plain copy: a subarray view per row (10 entries for CIFAR's classes) cost 30+ ms for SimpleCNN's 655k-entry fc1.
      const from = (px * c + j) * cols;
      for (let k = 0; k < cols; k++) r[p++] = a[from + k];
    }
  return r;
}

function validKept(group: string, kept: readonly number[], n: number): readonly number[] {
  kept.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new RangeError(`${group}: filter ${c} out of range 0..${n - 1}`);
    if (i > 0 && c <= kept[i - 1]) throw new RangeError(`${group}: kept filters must be ascending and unique`);
  });
  return kept;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
