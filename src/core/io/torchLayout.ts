/**
 * NetWeights (tfjs layouts) ↔ a PyTorch state_dict (PyTorch names, shapes and layouts), and the
 * weights file the page saves and loads (safetensors holding exactly that state_dict).
 *
 *   conv weight   tfjs [kh, kw, in, out]  ↔  torch [out, in, kh, kw]
 *   linear weight tfjs [in, out]          ↔  torch [out, in]
 *   the linear layer's inputs: the engine flattens NHWC activations, row (h·S + w)·C + c; PyTorch
 *   flattens NCHW, column c·S·S + h·S + w. Converting reorders them, so the same weights give the same
 *   logits in both frameworks.
 *
 * A file written here loads with `model.load_state_dict(load_file(path), strict=True)` into the
 * matching nn.Module (see export/pytorchScript.ts), and a state_dict saved from PyTorch with
 * `safetensors.torch.save_file(model.state_dict(), path)` loads here — pruned (smaller) networks too:
 * the channel counts are read from the shapes.
 */
import { convTfToTorch, convTorchToTf } from '../pruning/layout';
import { shapes, structure } from '../model/graph';
import { type Channels, type ModelId, type ModelSpec, type NetWeights, type TensorInfo, fullChannels, sizeOf, tensors } from '../model/spec';
import { MODELS } from '../model/zoo';
import { type SafeTensor, decode, encode } from './safetensors';

/**
 * The value written to every `bnX.num_batches_tracked`. PyTorch only reads that counter when a
 * BatchNorm has momentum=None (cumulative averaging); ours use momentum 0.1, so it never affects a
 * result. The engine does not count batches, so we write 0, as a freshly built BatchNorm2d has:
 * it is there only so that load_state_dict(strict=True) finds every key it expects.
 */
export const NUM_BATCHES_TRACKED = 0n;

/** Largest weights file the page accepts (the full SimpleCNN is 2.6 MB). */
export const WEIGHTS_FILE_MAX_BYTES = 64 * 1024 * 1024;

/** A state_dict that does not fit the model: missing or unexpected tensor, wrong shape or dtype, another model. */
export class WeightsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

type Flat = Float32Array | Uint8Array;

/** PyTorch's shape for one of the spec's tensors (given in tfjs layout). */
export function torchShape(t: Pick<TensorInfo, 'shape'>): number[] {
  const s = t.shape;
  if (s.length === 4) return [s[3], s[2], s[0], s[1]];
  if (s.length === 2) return [s[1], s[0]];
  return [...s];
}

/**
 * One tensor (or a mask of it) from tfjs layout to PyTorch layout; `channels` are the network's
 * (the linear layer's column order depends on them). Returns a fresh array of the same type.
 */
export function tensorToTorch<T extends Flat>(spec: ModelSpec, channels: Channels, name: string, data: T): { shape: number[]; data: T } {
  const { info, flatten } = locate(spec, channels, name);
  if (data.length !== sizeOf(info.shape)) throw new RangeError(`${name}: ${data.length} values, expected ${sizeOf(info.shape)}`);
  const shape = torchShape(info);
  if (info.shape.length === 4) return { shape, data: convTfToTorch<T>(data, info.shape) };
  if (info.shape.length === 2) return { shape, data: linearTfToTorch(data, flatten.size * flatten.size, flatten.channels, info.shape[1]) };
  return { shape, data: data.slice() as T };
}

/** The inverse of tensorToTorch: `data` in PyTorch layout → tfjs layout. */
export function tensorFromTorch<T extends Flat>(spec: ModelSpec, channels: Channels, name: string, data: T): T {
  const { info, flatten } = locate(spec, channels, name);
  if (data.length !== sizeOf(info.shape)) throw new RangeError(`${name}: ${data.length} values, expected ${sizeOf(info.shape)}`);
  if (info.shape.length === 4) return convTorchToTf<T>(data, torchShape(info));
  if (info.shape.length === 2) return linearTorchToTf(data, flatten.size * flatten.size, flatten.channels, info.shape[1]);
  return data.slice() as T;
}

/**
 * tfjs dense [P·C, O] with rows p·C + c  →  torch linear [O, C·P] with columns c·P + p
 * (P = S·S pixels, p = h·S + w: the NHWC flatten becomes the NCHW one).
 */
export function linearTfToTorch<T extends Flat>(a: T, pixels: number, c: number, outFeatures: number): T {
  const inF = pixels * c;
  const r = new (a.constructor as new (n: number) => T)(a.length);
  for (let p = 0; p < pixels; p++)
    for (let ch = 0; ch < c; ch++) {
      const src = (p * c + ch) * outFeatures;
      const col = ch * pixels + p;
      for (let o = 0; o < outFeatures; o++) r[o * inF + col] = a[src + o];
    }
  return r;
}

/** torch linear [O, C·P] (NCHW flatten) → tfjs dense [P·C, O] (NHWC flatten). */
export function linearTorchToTf<T extends Flat>(a: T, pixels: number, c: number, outFeatures: number): T {
  const inF = pixels * c;
  const r = new (a.constructor as new (n: number) => T)(a.length);
  for (let p = 0; p < pixels; p++)
    for (let ch = 0; ch < c; ch++) {
      const dst = (p * c + ch) * outFeatures;
      const col = ch * pixels + p;
      for (let o = 0; o < outFeatures; o++) r[dst + o] = a[o * inF + col];
    }
  return r;
}

/**
 * The weights as a PyTorch state_dict, in state_dict order (each conv, its BatchNorm with
 * `num_batches_tracked` as an I64 scalar, then the linear layer). Fresh arrays.
 */
export function toTorchStateDict(spec: ModelSpec, weights: NetWeights): Record<string, SafeTensor> {
  checkModel(spec, weights);
  const out: Record<string, SafeTensor> = {};
  for (const t of tensors(spec, weights.channels)) {
    const a = weights.tensors[t.name];
    if (!a) throw new WeightsFileError(`${spec.label}: the weights have no ${t.name}`);
    const { shape, data } = tensorToTorch(spec, weights.channels, t.name, a);
    out[t.name] = { dtype: 'F32', shape, data };
    if (t.role === 'runningVar') {
      const bn = t.name.slice(0, -'.running_var'.length);
      out[`${bn}.num_batches_tracked`] = { dtype: 'I64', shape: [], data: BigInt64Array.of(NUM_BATCHES_TRACKED) };
    }
  }
  return out;
}

/**
 * A PyTorch state_dict → NetWeights for `spec`. The channels of every conv layer are read from the
 * shapes (conv weight [out, in, kh, kw]), so pruned, smaller networks load too. Every expected
 * tensor must be there with its exact shape and dtype F32; `num_batches_tracked` may be absent and
 * is otherwise ignored (see NUM_BATCHES_TRACKED). Throws WeightsFileError naming the problem.
 */
export function fromTorchStateDict(spec: ModelSpec, state: Record<string, SafeTensor>): NetWeights {
  const other = otherModel(spec, state);
  if (other) throw new WeightsFileError(`this file holds a ${other.label} (${other.id}) state_dict, not a ${spec.label} (${spec.id})`);
  // Each channel group's size is read from its first conv's filters (every shape is then checked).
  const st = structure(spec);
  const channels: Channels = st.groups.map((g) => {
    const c = st.byName.get(g.producers[0])!.node;
    const k = c.op === 'conv' ? c.kernel : 0;
    const name = `${c.name}.weight`;
    const t = state[name];
    if (!t) throw new WeightsFileError(`${spec.label}: missing tensor ${name} (a conv weight [out, in, ${k}, ${k}])`);
    if (t.shape.length !== 4) throw new WeightsFileError(`${name} has shape [${t.shape.join(', ')}]; a conv weight is [out, in, kh, kw]`);
    if (t.shape[0] > g.units) throw new WeightsFileError(`${name} has ${t.shape[0]} filters; ${spec.label}'s ${c.name} has at most ${g.units}`);
    return t.shape[0];
  });
  const expected = tensors(spec, channels);
  const known = new Set(expected.map((t) => t.name));
  const bnCounters = new Set(st.nodes.filter((n) => n.op === 'batchNorm').map((n) => `${n.name}.num_batches_tracked`));
  for (const name of Object.keys(state)) {
    if (known.has(name)) continue;
    if (bnCounters.has(name)) {
      const t = state[name];
      if (t.dtype !== 'I64' || sizeOf(t.shape) !== 1) throw new WeightsFileError(`${name} should be an int64 scalar, got ${t.dtype} [${t.shape.join(', ')}]`);
      continue;
    }
    throw new WeightsFileError(`unexpected tensor ${name}: ${spec.label} has no such tensor`);
  }
  const out: Record<string, Float32Array> = {};
  for (const t of expected) {
    const want = torchShape(t);
    const s = state[t.name];
    if (!s) throw new WeightsFileError(`${spec.label}: missing tensor ${t.name} (expected shape [${want.join(', ')}])`);
    if (s.dtype !== 'F32') throw new WeightsFileError(`${t.name} is ${s.dtype}; expected float32 (F32)`);
    if (s.shape.join() !== want.join()) throw new WeightsFileError(`${t.name} has shape [${s.shape.join(', ')}], expected [${want.join(', ')}]${shapeHint(spec, channels, t)}`);
    out[t.name] = tensorFromTorch(spec, channels, t.name, s.data);
  }
  return { model: spec.id, channels, tensors: out };
}

/**
 * The weights file the page saves: safetensors holding toTorchStateDict(), with metadata
 * `format: pt` (as safetensors.torch writes), `model` (the model id) and `channels` (JSON list) on
 * top of the caller's own string metadata (e.g. epochs, accuracy, seed).
 */
export function saveWeightsFile(spec: ModelSpec, weights: NetWeights, metadata: Record<string, string> = {}): Uint8Array {
  return encode(toTorchStateDict(spec, weights), { ...metadata, format: 'pt', model: spec.id, channels: JSON.stringify(weights.channels) });
}

export interface LoadedWeights {
  spec: ModelSpec;
  weights: NetWeights;
  metadata: Record<string, string>;
}

/**
 * Reads a weights file: ours, or any safetensors state_dict of a model in the zoo (the model is
 * taken from the `model` metadata, else recognised from the tensor names). With `expectedModel`,
 * a file for another model is refused with a message saying which model it holds.
 * Throws SafetensorsError for a broken file, WeightsFileError for one that does not fit.
 */
export function loadWeightsFile(bytes: Uint8Array, expectedModel?: ModelId): LoadedWeights {
  const { tensors: state, metadata } = decode(bytes, { maxBytes: WEIGHTS_FILE_MAX_BYTES });
  const named = metadata.model;
  let spec: ModelSpec | undefined;
  if (named !== undefined) {
    spec = (MODELS as Record<string, ModelSpec | undefined>)[named];
    if (!spec) throw new WeightsFileError(`this file is for a model "${named}" that the playground does not have (it has ${Object.keys(MODELS).join(', ')})`);
  } else spec = Object.values(MODELS).find((s) => !otherModel(s, state) && matchesNames(s, state));
  if (!spec) {
    if (!expectedModel) throw new WeightsFileError(`the tensors in this file (${Object.keys(state).slice(0, 6).join(', ')}…) match none of the playground's models`);
    spec = MODELS[expectedModel];
  }
  if (expectedModel && spec.id !== expectedModel) throw new WeightsFileError(`this file holds a ${spec.label} (${spec.id}), not a ${MODELS[expectedModel].label} (${expectedModel})`);
  return { spec, weights: fromTorchStateDict(spec, state), metadata };
}

function checkModel(spec: ModelSpec, w: NetWeights): void {
  if (w.model !== spec.id) throw new WeightsFileError(`the weights are for ${w.model}, not ${spec.id}`);
}

/** The tensor, and for a linear layer's weight the flatten before it (pixels per channel, channels). */
function locate(spec: ModelSpec, channels: Channels, name: string): { info: TensorInfo; flatten: { size: number; channels: number } } {
  const info = tensors(spec, channels).find((t) => t.name === name);
  if (!info) throw new RangeError(`${spec.id} has no tensor ${name}`);
  const st = structure(spec);
  const node = st.byName.get(info.node)!.node;
  if (node.op !== 'linear') return { info, flatten: { size: 1, channels: info.shape[0] } };
  const f = shapes(st, channels).get(node.input)!;
  // A linear layer fed by a vector that is no flatten (none in the zoo) is a plain transpose: 1 pixel.
  return { info, flatten: st.byName.get(node.input)!.node.op === 'flatten' ? { size: Math.sqrt(f.pixels), channels: f.inChannels } : { size: 1, channels: f.channels } };
}

/** Conv and linear weight names of a spec (the tensors that identify a model). */
const layerNames = (s: ModelSpec) => structure(s).nodes.filter((n) => n.op === 'conv' || n.op === 'linear').map((n) => `${n.name}.weight`);
const matchesNames = (s: ModelSpec, state: Record<string, unknown>) => layerNames(s).every((n) => n in state);

/** Another zoo model whose layers this state_dict has, when it lacks `spec`'s or has tensors `spec` never has. */
function otherModel(spec: ModelSpec, state: Record<string, SafeTensor>): ModelSpec | null {
  const mine = new Set(tensors(spec, fullChannels(spec)).map((t) => t.name));
  const foreign = Object.keys(state).some((n) => !mine.has(n) && !n.endsWith('.num_batches_tracked'));
  if (matchesNames(spec, state) && !foreign) return null;
  return Object.values(MODELS).find((s) => s.id !== spec.id && matchesNames(s, state) && tensors(s, fullChannels(s)).every((t) => t.name in state)) ?? null;
}

function shapeHint(spec: ModelSpec, channels: Channels, t: TensorInfo): string {
  const st = structure(spec);
  const sh = shapes(st, channels);
  const node = st.byName.get(t.node)!.node;
  if (node.op === 'linear' && t.role === 'weight') {
    const f = locate(spec, channels, t.name).flatten;
    return ` (${f.channels} channels × ${f.size} × ${f.size} inputs, in PyTorch's NCHW flatten order)`;
  }
  if (node.op === 'conv' && t.role === 'weight') {
    const g = node.input === 'input' ? null : st.groups[st.byName.get(node.input)!.group ?? -1];
    return g ? ` (${node.name} takes ${g.owner} ${sh.get(node.name)!.inChannels} ${g.unitName} as input)` : '';
  }
  if (node.op === 'conv' || node.op === 'batchNorm') return ` (one per filter of ${t.layer}, which has ${sh.get(t.node)!.channels})`;
  return '';
}
