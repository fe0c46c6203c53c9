/**
 * A network described as data: a chain of layers, each naming the layer that feeds it. Everything
 * model-specific in the playground — tensor shapes, initialisation, the prunable groups, costs,
 * removal, the forward pass — is derived from one of these descriptions, so a new model is a small
 * file in `zoo/` and nothing else. No TensorFlow.js here: the page's main thread uses it too.
 *
 * Layouts are TensorFlow.js's: conv kernel [kh, kw, in, out], dense kernel [in, out], activations NHWC.
 * Chains are sugar: each compiles to a graph (graph.ts), from which everything is derived; residual
 * networks are written as graphs directly (zoo/resnet20.ts).
 * Tensor names are PyTorch's (`conv1.weight`, `bn1.running_var`, `fc1.bias`), so the safetensors
 * files and the PyTorch export name things the way a PyTorch user expects.
 */
import { type GraphSpec, convBefore, isGraphSpec, shapes, structure } from './graph';

import type { ConvLayer, LinearLayer, NetSpec, ZooModelId } from './chain';
import type { ModelSpec } from './graph';

export type { GraphSpec, ModelSpec } from './graph';
export type { ConvLayer, Layer, LinearLayer, ModelId, NetSpec, ZooModelId } from './chain';

/** CIFAR-10 classes: the outputs of every network in the zoo. */
export const NUM_CLASSES = 10;

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * Units kept in every channel group, in group order (structure(spec).groups): what pruning changes.
 * For a chain model each conv layer is a group, so these are its conv layers' output channels. The full
 * model has `fullChannels(spec)`.
 */
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

/** Whether the model has a BatchNorm (the BatchNorm γ criterion needs one). */
export const hasBatchNorm = (spec: ModelSpec): boolean => structure(spec).nodes.some((n) => n.op === 'batchNorm');

export const fullChannels = (spec: ModelSpec): Channels => structure(spec).groups.map((g) => g.units);

/**
 * Walks the chain: each layer must be fed by the one before it (a chain is what the engine prunes;
 * branching graphs would need Torch-Pruning's full dependency graph), convs first, one linear last.
 */
export function geometry(spec: NetSpec, channels: Channels = fullChannels(spec)): Geometry {
  if (isGraphSpec(spec)) throw new Error(`${(spec as GraphSpec).id} is a graph; geometry() describes chains (use structure() and shapes())`);
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
  /** The conv or linear layer it belongs to (BatchNorm tensors belong to the conv right before them). */
  layer: string;
  /** The graph node holding it (the BatchNorm's own name for its tensors). */
  node: string;
  role: TensorRole;
  /** tfjs layout. */
  shape: number[];
  /** Parameters train and count in `model.parameters()`; running statistics are buffers. */
  parameter: boolean;
}

/**
 * Every tensor of the network, in PyTorch's state_dict order (the nodes' order): conv weight and bias,
 * BatchNorm γ, β, running mean and variance, linear weight and bias.
 */
export function tensors(spec: ModelSpec, channels: Channels = fullChannels(spec)): TensorInfo[] {
  const st = structure(spec);
  const sh = shapes(st, channels);
  const out: TensorInfo[] = [];
  for (const n of st.nodes) {
    const s = sh.get(n.name)!;
    if (n.op === 'conv') {
      out.push({ name: `${n.name}.weight`, layer: n.name, node: n.name, role: 'weight', shape: [n.kernel, n.kernel, s.inChannels, s.channels], parameter: true });
      if (n.bias) out.push({ name: `${n.name}.bias`, layer: n.name, node: n.name, role: 'bias', shape: [s.channels], parameter: true });
    } else if (n.op === 'batchNorm') {
      const layer = convBefore(st, n.name)?.name ?? n.name;
      const c = [s.channels];
      out.push({ name: `${n.name}.weight`, layer, node: n.name, role: 'bnWeight', shape: c, parameter: true });
      out.push({ name: `${n.name}.bias`, layer, node: n.name, role: 'bnBias', shape: c, parameter: true });
      out.push({ name: `${n.name}.running_mean`, layer, node: n.name, role: 'runningMean', shape: c, parameter: false });
      out.push({ name: `${n.name}.running_var`, layer, node: n.name, role: 'runningVar', shape: c, parameter: false });
    } else if (n.op === 'linear') {
      out.push({ name: `${n.name}.weight`, layer: n.name, node: n.name, role: 'weight', shape: [s.inChannels, s.channels], parameter: true });
      out.push({ name: `${n.name}.bias`, layer: n.name, node: n.name, role: 'bias', shape: [s.channels], parameter: true });
    }
  }
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Plain typed-array weights of a network (tfjs layouts, PyTorch names), as pruning and storage see them. */
export interface NetWeights {
  model: ZooModelId;
  channels: Channels;
  tensors: Record<string, Float32Array>;
}

export function parameterCount(spec: ModelSpec, channels: Channels = fullChannels(spec)): number {
  return tensors(spec, channels).reduce((a, t) => a + (t.parameter ? sizeOf(t.shape) : 0), 0);
}

/** Checks that `w` has exactly the tensors its spec and channels call for, with the right sizes. */
export function checkWeights(spec: ModelSpec, w: NetWeights): void {
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
