/**
 * A network described as data: a chain of layers, each naming the layer that feeds it. Everything
 * model-specific in the playground — tensor shapes, initialisation, the prunable groups, costs,
 * removal, the forward pass — is derived from one of these descriptions, so a new model is a small
 * file in `zoo/` and nothing else. No TensorFlow.js here: the page's main thread uses it too.
 *
 * Layouts are TensorFlow.js's: conv kernel [kh, kw, in, out], dense kernel [in, out], activations NHWC.
 * Tensor names are PyTorch's (`conv1.weight`, `bn1.running_var`, `fc1.bias`), so the safetensors
 * files and the PyTorch export name things the way a PyTorch user expects.
 */

export type ModelId = 'simplecnn' | 'convnet3';

/** conv (stride 1, 'same' padding) → [BatchNorm] → ReLU → [MaxPool 2×2]. */
export interface ConvLayer {
  kind: 'conv';
  name: string;
  /** The layer feeding this one, or 'input' for the image. */
  from: string;
  outChannels: number;
  kernel: number;
  bias: boolean;
  /** Name of the BatchNorm2d after the conv (PyTorch: eps 1e-5, momentum 0.1), or null. */
  batchNorm: string | null;
  pool: boolean;
}

/** flatten (NHWC in the engine, NCHW in PyTorch) → linear. The last layer: its outputs are the classes. */
export interface LinearLayer {
  kind: 'linear';
  name: string;
  from: string;
  outFeatures: number;
}

export type Layer = ConvLayer | LinearLayer;

export interface NetSpec {
  id: ModelId;
  /** Shown in the page. */
  label: string;
  summary: string;
  input: { size: number; channels: number };
  layers: Layer[];
}

/** CIFAR-10 classes: the outputs of every network in the zoo. */
export const NUM_CLASSES = 10;

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** Output channels of every conv layer, in order: what pruning changes. The full model has `fullChannels(spec)`. */
export type Channels = number[];

/** A conv layer with everything derived from its place in the chain. */
export interface ConvInfo extends ConvLayer {
  index: number;
  inChannels: number;
  /** Spatial size of its input and (same padding) of its output before pooling. */
  size: number;
  /** Spatial size after the optional pool: what the next layer sees. */
  outSize: number;
  /** The layer this one feeds (its input channels are this layer's filters). */
  consumer: string;
}

export interface LinearInfo extends LinearLayer {
  inFeatures: number;
  /** The conv layer before the flatten (null when fed by the image) and its spatial size: fc rows are (h·S + w)·C + c. */
  flattenOf: { conv: string | null; size: number; channels: number };
}

export interface Geometry {
  convs: ConvInfo[];
  linear: LinearInfo;
}

/** Whether any conv layer has a BatchNorm (the BatchNorm γ criterion needs one). */
export const hasBatchNorm = (spec: NetSpec): boolean => spec.layers.some((l) => l.kind === 'conv' && l.batchNorm !== null);

export const fullChannels = (spec: NetSpec): Channels => spec.layers.filter((l): l is ConvLayer => l.kind === 'conv').map((l) => l.outChannels);

/**
 * Walks the chain: each layer must be fed by the one before it (a chain is what the engine prunes;
 * branching graphs would need Torch-Pruning's full dependency graph), convs first, one linear last.
 */
export function geometry(spec: NetSpec, channels: Channels = fullChannels(spec)): Geometry {
  const convs: ConvInfo[] = [];
  let size = spec.input.size;
  let ch = spec.input.channels;
  let prev = 'input';
  let linear: LinearInfo | null = null;
  spec.layers.forEach((l, i) => {
    if (l.from !== prev) throw new Error(`${spec.id}: ${l.name} is fed by ${l.from}, expected ${prev} (only chains are supported)`);
    if (linear) throw new Error(`${spec.id}: ${l.name} follows the linear layer`);
    const consumer = spec.layers[i + 1]?.name;
    if (!consumer) {
      if (l.kind !== 'linear') throw new Error(`${spec.id}: the last layer must be linear`);
      linear = { ...l, inFeatures: size * size * ch, flattenOf: { conv: prev === 'input' ? null : prev, size, channels: ch } };
      return;
    }
    if (l.kind !== 'conv') throw new Error(`${spec.id}: only the last layer may be linear`);
    const out = channels[convs.length];
    if (!(Number.isInteger(out) && out >= 0 && out <= l.outChannels)) throw new RangeError(`${l.name}: ${out} channels, expected 0..${l.outChannels}`);
    const outSize = l.pool ? size >> 1 : size;
    convs.push({ ...l, outChannels: out, index: convs.length, inChannels: ch, size, outSize, consumer });
    size = outSize;
    ch = out;
    prev = l.name;
  });
  if (!linear) throw new Error(`${spec.id}: no linear layer`);
  if (convs.length !== channels.length) throw new RangeError(`${spec.id}: ${channels.length} channel counts for ${convs.length} conv layers`);
  return { convs, linear };
}

export type TensorRole = 'weight' | 'bias' | 'bnWeight' | 'bnBias' | 'runningMean' | 'runningVar';

export interface TensorInfo {
  name: string;
  /** The conv or linear layer it belongs to (BatchNorm tensors belong to their conv). */
  layer: string;
  role: TensorRole;
  /** tfjs layout. */
  shape: number[];
  /** Parameters train and count in `model.parameters()`; running statistics are buffers. */
  parameter: boolean;
}

/** Every tensor of the network, in PyTorch's state_dict order. */
export function tensors(spec: NetSpec, channels: Channels = fullChannels(spec)): TensorInfo[] {
  const g = geometry(spec, channels);
  const out: TensorInfo[] = [];
  for (const c of g.convs) {
    out.push({ name: `${c.name}.weight`, layer: c.name, role: 'weight', shape: [c.kernel, c.kernel, c.inChannels, c.outChannels], parameter: true });
    if (c.bias) out.push({ name: `${c.name}.bias`, layer: c.name, role: 'bias', shape: [c.outChannels], parameter: true });
    if (c.batchNorm) {
      const n = c.batchNorm;
      out.push({ name: `${n}.weight`, layer: c.name, role: 'bnWeight', shape: [c.outChannels], parameter: true });
      out.push({ name: `${n}.bias`, layer: c.name, role: 'bnBias', shape: [c.outChannels], parameter: true });
      out.push({ name: `${n}.running_mean`, layer: c.name, role: 'runningMean', shape: [c.outChannels], parameter: false });
      out.push({ name: `${n}.running_var`, layer: c.name, role: 'runningVar', shape: [c.outChannels], parameter: false });
    }
  }
  const f = g.linear;
  out.push({ name: `${f.name}.weight`, layer: f.name, role: 'weight', shape: [f.inFeatures, f.outFeatures], parameter: true });
  out.push({ name: `${f.name}.bias`, layer: f.name, role: 'bias', shape: [f.outFeatures], parameter: true });
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Plain typed-array weights of a network (tfjs layouts, PyTorch names), as pruning and storage see them. */
export interface NetWeights {
  model: ModelId;
  channels: Channels;
  tensors: Record<string, Float32Array>;
}

export function parameterCount(spec: NetSpec, channels: Channels = fullChannels(spec)): number {
  return tensors(spec, channels).reduce((a, t) => a + (t.parameter ? sizeOf(t.shape) : 0), 0);
}

/** Checks that `w` has exactly the tensors its spec and channels call for, with the right sizes. */
export function checkWeights(spec: NetSpec, w: NetWeights): void {
  if (w.model !== spec.id) throw new Error(`weights are for ${w.model}, not ${spec.id}`);
  const expected = tensors(spec, w.channels);
  const names = new Set(expected.map((t) => t.name));
  for (const t of expected) {
    const a = w.tensors[t.name];
    if (!a) throw new Error(`${spec.id}: missing tensor ${t.name}`);
    if (a.length !== sizeOf(t.shape)) throw new Error(`${spec.id}: ${t.name} has ${a.length} values, expected ${sizeOf(t.shape)} (${t.shape.join('×')})`);
  }
  for (const n of Object.keys(w.tensors)) if (!names.has(n)) throw new Error(`${spec.id}: unexpected tensor ${n}`);
}

/** Deep copy (fresh arrays). */
export function cloneWeights(w: NetWeights): NetWeights {
  return { model: w.model, channels: [...w.channels], tensors: Object.fromEntries(Object.entries(w.tensors).map(([k, v]) => [k, v.slice()])) };
}
