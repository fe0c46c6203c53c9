/**
 * A network as a graph of named nodes, and what follows from the graph alone: validation, shapes and
 * the coupled channel groups (Torch-Pruning's DepGraph, Fang et al. CVPR 2023).
 *
 * Groups: every conv output opens a channel space; BatchNorm, ReLU and the pools keep their input's
 * space (their "pruner" is a placeholder that forwards the indices, as Torch-Pruning's DummyPruner
 * does for element-wise ops); an add joins the spaces of all its inputs (channel j of every summand
 * is channel j of the sum, so they can only go together). Flatten maps channel c to the rows
 * (h·S + w)·C + c of the linear layer after it (NHWC). Each space that some conv writes into is one
 * group: its units go from every producer's filters, every BatchNorm over it, every consumer conv's
 * input channels and the linear layer's rows at once. The structure is computed once per spec
 * (memoised); channel counts only change sizes.
 *
 * No TensorFlow.js here: the page's main thread uses it too.
 */
import type { NetSpec, ZooModelId } from './chain';

/** A chain (NetSpec, sugar for the simple models) or a graph (GraphSpec): everything takes either. */
export type ModelSpec = NetSpec | GraphSpec;

export interface ConvNode {
  op: 'conv';
  name: string;
  input: string;
  outChannels: number;
  kernel: 1 | 3;
  stride: 1 | 2;
  /** Zeros added on every side (PyTorch's symmetric `padding`). */
  padding: number;
  bias: boolean;
}
/** BatchNorm2d (PyTorch: eps 1e-5, momentum 0.1) over its input's channels. */
export interface BatchNormNode {
  op: 'batchNorm';
  name: string;
  input: string;
}
export interface ReluNode {
  op: 'relu';
  name: string;
  input: string;
}
/** Element-wise sum of feature maps of equal shape. */
export interface AddNode {
  op: 'add';
  name: string;
  inputs: string[];
}
/** 2×2 max-pool, stride 2. */
export interface MaxPoolNode {
  op: 'maxPool';
  name: string;
  input: string;
}
/** Mean over the spatial axes: a [C, 1, 1] map (PyTorch's AdaptiveAvgPool2d(1)). */
export interface GlobalAvgPoolNode {
  op: 'globalAvgPool';
  name: string;
  input: string;
}
/** NHWC flatten in the engine (row (h·S + w)·C + c), NCHW in PyTorch (column c·S·S + h·S + w). */
export interface FlattenNode {
  op: 'flatten';
  name: string;
  input: string;
}
export interface LinearNode {
  op: 'linear';
  name: string;
  input: string;
  outFeatures: number;
}

export type GraphNode = ConvNode | BatchNormNode | ReluNode | AddNode | MaxPoolNode | GlobalAvgPoolNode | FlattenNode | LinearNode;
export type GraphOp = GraphNode['op'];

/** What the zoo calls one of a model's channel groups (identified by any conv writing into it). */
export interface GroupNaming {
  leader: string;
  /** Key of the group's amount in PruneSettings (and, later, in the URL). */
  id: string;
  /** e.g. "residual stream of stage 2". */
  label: string;
  /** For sentences: "removing 4 of {owner} 32 {unitName}", e.g. "stage 2's", "stream channels". */
  owner: string;
  unitName: string;
}

export interface GraphSpec {
  id: ZooModelId;
  label: string;
  summary: string;
  input: { size: number; channels: number };
  /** In PyTorch's module order (the state_dict order); the last node is the linear layer giving the classes. */
  nodes: GraphNode[];
  /** Names of the channel groups, in the order of NetWeights.channels; every group exactly once. */
  groups?: GroupNaming[];
}

/** The image's name as an input. */
export const INPUT = 'input';

/** 'layer': a chain model's group (one conv's filters); 'stream': channels coupled by an add; 'inner': any other group of a model with adds. */
export type GroupKind = 'inner' | 'stream' | 'layer';

export interface ChannelGroup {
  index: number;
  id: string;
  kind: GroupKind;
  label: string;
  owner: string;
  unitName: string;
  /** Units in the full network. */
  units: number;
  /** Convs whose filters (output channels) are the group's units, in node order. */
  producers: string[];
  /** BatchNorms over the group's channels. */
  batchNorms: string[];
  /** Convs whose input channels are the group's units. */
  consumers: string[];
  /** Linear layers whose input rows are the group's channels (through a flatten), with rows per channel in the full network. */
  linears: { name: string; pixels: number }[];
  adds: string[];
}

/** Which channels flow out of a node: a feature map's channel group (-1: the image's, not prunable), or a vector. */
export interface NodeStructure {
  node: GraphNode;
  inputs: string[];
  consumers: string[];
  /** Group index of a feature map's channels; -1 for the image's channels; null for vectors. */
  group: number | null;
}

export interface GraphStructure {
  spec: ModelSpec;
  /** Spec order (PyTorch's module order). */
  nodes: GraphNode[];
  /** Topological order (inputs before consumers). */
  order: string[];
  byName: Map<string, NodeStructure>;
  groups: ChannelGroup[];
  output: LinearNode;
  hasAdd: boolean;
}

/** A graph that cannot be built: unknown input, cycle, channel or shape mismatch, … */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

export const isGraphSpec = (s: ModelSpec): s is GraphSpec => 'nodes' in s;

export const inputsOf = (n: GraphNode): string[] => (n.op === 'add' ? n.inputs : [n.input]);

/** A chain NetSpec as a graph: conv → [BatchNorm] → ReLU → [MaxPool] per conv layer, then flatten → linear. */
export function chainToGraph(spec: NetSpec): GraphNode[] {
  const nodes: GraphNode[] = [];
  const outputOf = new Map<string, string>([[INPUT, INPUT]]); // a layer's name → the node carrying its block's output
  for (const l of spec.layers) {
    const from = outputOf.get(l.from);
    if (from === undefined) throw new GraphError(`${spec.id}: ${l.name} is fed by ${l.from}, which is no earlier layer (nor "${INPUT}")`);
    if (l.kind === 'linear') {
      nodes.push({ op: 'flatten', name: `${l.name}.flatten`, input: from });
      nodes.push({ op: 'linear', name: l.name, input: `${l.name}.flatten`, outFeatures: l.outFeatures });
      outputOf.set(l.name, l.name);
      continue;
    }
    if (l.kernel !== 1 && l.kernel !== 3) throw new GraphError(`${spec.id}: ${l.name} has a ${l.kernel}×${l.kernel} kernel; only 1 and 3 are supported`);
    nodes.push({ op: 'conv', name: l.name, input: from, outChannels: l.outChannels, kernel: l.kernel, stride: 1, padding: (l.kernel - 1) / 2, bias: l.bias });
    let last = l.name;
    if (l.batchNorm) {
      nodes.push({ op: 'batchNorm', name: l.batchNorm, input: last });
      last = l.batchNorm;
    }
    nodes.push({ op: 'relu', name: `${l.name}.relu`, input: last });
    last = `${l.name}.relu`;
    if (l.pool) {
      nodes.push({ op: 'maxPool', name: `${l.name}.pool`, input: last });
      last = `${l.name}.pool`;
    }
    outputOf.set(l.name, last);
  }
  return nodes;
}

const structures = new WeakMap<object, GraphStructure>();

/** Nodes of any spec (a chain compiles to its graph). */
export function nodesOf(spec: ModelSpec): GraphNode[] {
  return isGraphSpec(spec) ? spec.nodes : chainToGraph(spec);
}

/** The graph's structure and channel groups, validated; computed once per spec. Throws GraphError. */
export function structure(spec: ModelSpec): GraphStructure {
  const cached = structures.get(spec);
  if (cached) return cached;
  const s = analyse(spec);
  structures.set(spec, s);
  return s;
}

function analyse(spec: ModelSpec): GraphStructure {
  const nodes = nodesOf(spec);
  const where = `${spec.id}`;
  if (nodes.length === 0) throw new GraphError(`${where}: the graph has no nodes`);
  const byName = new Map<string, NodeStructure>();
  for (const n of nodes) {
    if (!n.name || n.name === INPUT) throw new GraphError(`${where}: a node may not be called "${n.name}"`);
    if (byName.has(n.name)) throw new GraphError(`${where}: two nodes are called ${n.name}`);
    byName.set(n.name, { node: n, inputs: inputsOf(n), consumers: [], group: null });
  }
  for (const n of nodes) {
    const ins = inputsOf(n);
    if (n.op === 'add' && ins.length < 2) throw new GraphError(`${where}: add ${n.name} needs at least two inputs, has ${ins.length}`);
    for (const i of ins) {
      if (i === INPUT) continue;
      const src = byName.get(i);
      if (!src) throw new GraphError(`${where}: ${n.name} takes input from ${i}, which is no node of the graph (nor "${INPUT}")`);
      src.consumers.push(n.name);
    }
  }
  const order = topologicalOrder(where, nodes, byName);
  const output = nodes[nodes.length - 1];
  if (output.op !== 'linear') throw new GraphError(`${where}: the last node (${output.name}) must be the linear layer giving the classes`);
  for (const n of nodes) {
    const s = byName.get(n.name)!;
    if (n !== output && s.consumers.length === 0) throw new GraphError(`${where}: the output of ${n.name} is never used`);
    if (n.op === 'linear' && n !== output) throw new GraphError(`${where}: only the last node may be linear (${n.name} is not last)`);
  }

  // Channel spaces, joined through adds (union-find). Space 0 is the image's.
  const parent: number[] = [0];
  const find = (a: number): number => (parent[a] === a ? a : (parent[a] = find(parent[a])));
  const space = new Map<string, number | null>([[INPUT, 0]]);
  const adds: AddNode[] = [];
  for (const name of order) {
    const n = byName.get(name)!.node;
    const inSpace = n.op === 'add' ? null : space.get(n.input)!;
    switch (n.op) {
      case 'conv':
        if (inSpace === null) throw new GraphError(`${where}: conv ${n.name} needs a feature map; ${n.input} gives a vector`);
        if (n.kernel !== 1 && n.kernel !== 3) throw new GraphError(`${where}: conv ${n.name} has kernel ${n.kernel}; only 1 and 3 are supported`);
        if (n.stride !== 1 && n.stride !== 2) throw new GraphError(`${where}: conv ${n.name} has stride ${n.stride}; only 1 and 2 are supported`);
        if (!(Number.isInteger(n.padding) && n.padding >= 0 && n.padding < n.kernel)) throw new GraphError(`${where}: conv ${n.name} has padding ${n.padding}; expected 0..${n.kernel - 1}`);
        if (!(Number.isInteger(n.outChannels) && n.outChannels > 0)) throw new GraphError(`${where}: conv ${n.name} has ${n.outChannels} output channels`);
        parent.push(parent.length);
        space.set(n.name, parent.length - 1);
        break;
      case 'add': {
        const ss = n.inputs.map((i) => space.get(i)!);
        if (ss.some((x) => x === null)) throw new GraphError(`${where}: add ${n.name} adds feature maps; ${n.inputs[ss.findIndex((x) => x === null)]} gives a vector`);
        const root = find(ss[0]!);
        for (const x of ss.slice(1)) {
          const r = find(x!);
          if (r !== root) parent[Math.max(r, root)] = Math.min(r, root);
        }
        space.set(n.name, ss[0]);
        adds.push(n);
        break;
      }
      case 'flatten':
        if (inSpace === null) throw new GraphError(`${where}: flatten ${n.name} needs a feature map`);
        space.set(n.name, null);
        break;
      case 'linear':
        if (inSpace !== null) throw new GraphError(`${where}: linear ${n.name} needs a vector; put a flatten after ${n.input}`);
        if (!(Number.isInteger(n.outFeatures) && n.outFeatures > 0)) throw new GraphError(`${where}: linear ${n.name} has ${n.outFeatures} outputs`);
        space.set(n.name, null);
        break;
      case 'batchNorm':
      case 'maxPool':
      case 'globalAvgPool':
        if (inSpace === null) throw new GraphError(`${where}: ${n.op} ${n.name} needs a feature map; ${n.input} gives a vector`);
        space.set(n.name, inSpace);
        break;
      default:
        space.set(n.name, inSpace);
    }
  }

  // One group per space some conv writes into (and that is not joined with the image's channels).
  const rootOf = (name: string) => {
    const s = space.get(name);
    return s === null || s === undefined ? null : find(s);
  };
  const imageRoot = find(0);
  const raw = new Map<number, Omit<ChannelGroup, 'index' | 'id' | 'kind' | 'label' | 'owner' | 'unitName'>>();
  const get = (r: number) => {
    let g = raw.get(r);
    if (!g) raw.set(r, (g = { units: 0, producers: [], batchNorms: [], consumers: [], linears: [], adds: [] }));
    return g;
  };
  for (const n of nodes) {
    if (n.op === 'conv') {
      const r = rootOf(n.name)!;
      if (r !== imageRoot) get(r).producers.push(n.name);
    }
  }
  for (const n of nodes) {
    const r = n.op === 'linear' || n.op === 'add' ? null : rootOf(n.input);
    if (n.op === 'add') {
      const ra = rootOf(n.name)!;
      if (ra !== imageRoot) get(ra).adds.push(n.name);
    }
    if (r === null || r === imageRoot || !raw.has(r)) continue;
    if (n.op === 'conv') get(r).consumers.push(n.name);
    if (n.op === 'batchNorm') get(r).batchNorms.push(n.name);
  }
  for (const n of nodes) {
    if (n.op !== 'linear') continue;
    const f = byName.get(n.input)!.node;
    if (f.op !== 'flatten') continue;
    const r = rootOf(f.input);
    if (r !== null && r !== imageRoot && raw.has(r)) get(r).linears.push({ name: n.name, pixels: 0 });
  }
  // Every producer of a group must have as many filters as the others (they are added channel by channel).
  for (const g of raw.values()) {
    const counts = g.producers.map((p) => (byName.get(p)!.node as ConvNode).outChannels);
    const bad = counts.findIndex((c) => c !== counts[0]);
    if (bad > 0) {
      const at = g.adds[0] ?? '?';
      throw new GraphError(`${where}: channel mismatch at ${at}: ${g.producers[0]} gives ${counts[0]} channels, ${g.producers[bad]} gives ${counts[bad]}`);
    }
    g.units = counts[0];
  }

  // Order and name the groups.
  const hasAdd = adds.length > 0;
  const unnamed = [...raw.entries()].sort((a, b) => nodes.findIndex((n) => n.name === a[1].producers[0]) - nodes.findIndex((n) => n.name === b[1].producers[0]));
  const groups: ChannelGroup[] = [];
  const kindOf = (g: { adds: string[] }): GroupKind => (g.adds.length ? 'stream' : hasAdd ? 'inner' : 'layer');
  const naming = isGraphSpec(spec) ? spec.groups : undefined;
  if (naming) {
    const seen = new Set<number>();
    for (const nm of naming) {
      const leader = byName.get(nm.leader)?.node;
      if (!leader || leader.op !== 'conv') throw new GraphError(`${where}: group ${nm.id} is named by ${nm.leader}, which is no conv of the graph`);
      const r = rootOf(nm.leader)!;
      if (!raw.has(r)) throw new GraphError(`${where}: group ${nm.id}: ${nm.leader}'s channels are the image's and cannot be pruned`);
      if (seen.has(r)) throw new GraphError(`${where}: group ${nm.id} (${nm.leader}) is the same group as another named one`);
      if (groups.some((g) => g.id === nm.id)) throw new GraphError(`${where}: two groups are called ${nm.id}`);
      seen.add(r);
      const g = raw.get(r)!;
      groups.push({ index: groups.length, id: nm.id, kind: kindOf(g), label: nm.label, owner: nm.owner, unitName: nm.unitName, ...g });
    }
    const missing = unnamed.find(([r]) => !seen.has(r));
    if (missing) throw new GraphError(`${where}: the group of ${missing[1].producers.join(', ')} has no name in the spec's groups`);
  } else
    for (const [, g] of unnamed) {
      const p = g.producers[0];
      groups.push({ index: groups.length, id: p, kind: kindOf(g), label: p, owner: `${p}'s`, unitName: 'filters', ...g });
    }
  const groupOfRoot = new Map<number, number>();
  for (const [r, g] of raw) groupOfRoot.set(r, groups.findIndex((x) => x.producers === g.producers));
  for (const [name, s] of byName) {
    const r = rootOf(name);
    s.group = r === null ? null : r === imageRoot ? -1 : (groupOfRoot.get(r) ?? -1);
  }
  const st: GraphStructure = { spec, nodes, order, byName, groups, output, hasAdd };
  // Shapes of the full network validate sizes (add of different sizes, a pool of an odd map, …).
  const full = shapes(st, groups.map((g) => g.units));
  for (const g of groups) for (const l of g.linears) l.pixels = full.get(byName.get(l.name)!.inputs[0])!.pixels;
  return st;
}

function topologicalOrder(where: string, nodes: GraphNode[], byName: Map<string, NodeStructure>): string[] {
  const pending = new Map(nodes.map((n) => [n.name, inputsOf(n).filter((i) => i !== INPUT).length]));
  const ready = nodes.filter((n) => pending.get(n.name) === 0).map((n) => n.name);
  const order: string[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    order.push(n);
    for (const c of byName.get(n)!.consumers) {
      const left = pending.get(c)! - 1;
      pending.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  if (order.length < nodes.length) {
    // Walk back along unresolved inputs until a node repeats: that is the cycle.
    const stuck = new Set(nodes.filter((n) => !order.includes(n.name)).map((n) => n.name));
    let at = [...stuck][0];
    const path: string[] = [];
    while (!path.includes(at)) {
      path.push(at);
      at = byName.get(at)!.inputs.find((i) => stuck.has(i))!;
    }
    const cycle = path.slice(path.indexOf(at)).reverse();
    throw new GraphError(`${where}: the graph has a cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  }
  return order;
}

/** Shape of a node's output: a feature map [size, size, channels] (NHWC), or a vector of `features`. */
export interface NodeShape {
  /** Channels of a feature map; for a flatten or linear, its features. */
  channels: number;
  /** Spatial size of a feature map (square); 0 for vectors. */
  size: number;
  /** For a flatten: pixels per channel (its rows are pixel·C + c). */
  pixels: number;
  /** For a conv: its input channels and spatial size. */
  inChannels: number;
  inSize: number;
}

/** Every node's output shape for `channels` (units per group, in group order). Throws GraphError on a shape mismatch. */
export function shapes(st: GraphStructure, channels: readonly number[]): Map<string, NodeShape> {
  const where = st.spec.id;
  if (channels.length !== st.groups.length) throw new RangeError(`${where}: ${channels.length} channel counts for ${st.groups.length} channel groups`);
  st.groups.forEach((g, i) => {
    const c = channels[i];
    if (!(Number.isInteger(c) && c >= 0 && c <= g.units)) throw new RangeError(`${g.id}: ${c} channels, expected 0..${g.units}`);
  });
  const out = new Map<string, NodeShape>();
  const input: NodeShape = { channels: st.spec.input.channels, size: st.spec.input.size, pixels: 0, inChannels: 0, inSize: 0 };
  const shapeOf = (name: string) => (name === INPUT ? input : out.get(name)!);
  for (const name of st.order) {
    const s = st.byName.get(name)!;
    const n = s.node;
    const x = n.op === 'add' ? shapeOf(n.inputs[0]) : shapeOf(n.input);
    const groupChannels = s.group !== null && s.group >= 0 ? channels[s.group] : x.channels;
    let r: NodeShape;
    switch (n.op) {
      case 'conv': {
        const size = Math.floor((x.size + 2 * n.padding - n.kernel) / n.stride) + 1;
        if (size < 1) throw new GraphError(`${where}: conv ${n.name} gets a ${x.size}×${x.size} map, too small for its kernel`);
        r = { channels: groupChannels, size, pixels: 0, inChannels: x.channels, inSize: x.size };
        break;
      }
      case 'add': {
        for (const i of n.inputs.slice(1)) {
          const y = shapeOf(i);
          if (y.size !== x.size) throw new GraphError(`${where}: shape mismatch at ${n.name}: ${n.inputs[0]} gives ${x.size}×${x.size} maps, ${i} gives ${y.size}×${y.size}`);
          if (y.channels !== x.channels) throw new GraphError(`${where}: channel mismatch at ${n.name}: ${n.inputs[0]} gives ${x.channels} channels, ${i} gives ${y.channels}`);
        }
        r = { ...x, pixels: 0, inChannels: 0, inSize: 0 };
        break;
      }
      case 'maxPool':
        if (x.size < 2) throw new GraphError(`${where}: ${n.name} pools a ${x.size}×${x.size} map`);
        r = { channels: x.channels, size: x.size >> 1, pixels: 0, inChannels: 0, inSize: x.size };
        break;
      case 'globalAvgPool':
        r = { channels: x.channels, size: 1, pixels: 0, inChannels: 0, inSize: x.size };
        break;
      case 'flatten':
        r = { channels: x.size * x.size * x.channels, size: 0, pixels: x.size * x.size, inChannels: x.channels, inSize: x.size };
        break;
      case 'linear':
        r = { channels: n.outFeatures, size: 0, pixels: 0, inChannels: x.channels, inSize: 0 };
        break;
      default:
        r = { ...x, pixels: 0, inChannels: 0, inSize: 0 };
    }
    out.set(name, r);
  }
  return out;
}

/** The group the channels flowing out of `node` belong to, or null (the image's channels, or a vector). */
export function groupOfNode(st: GraphStructure, node: string): ChannelGroup | null {
  if (node === INPUT) return null;
  const g = st.byName.get(node)?.group;
  return g === undefined || g === null || g < 0 ? null : st.groups[g];
}

/** The conv feeding a BatchNorm directly (whose tensors its are counted with), else null. */
export function convBefore(st: GraphStructure, node: string): ConvNode | null {
  const n = st.byName.get(node)?.node;
  if (!n || n.op === 'add') return null;
  const src = st.byName.get(n.input)?.node;
  return src?.op === 'conv' ? src : null;
}

/** The BatchNorm right after a conv (its only consumer), or null. */
export function batchNormAfter(st: GraphStructure, conv: string): BatchNormNode | null {
  const cs = st.byName.get(conv)?.consumers ?? [];
  const n = cs.length === 1 ? st.byName.get(cs[0])!.node : null;
  return n?.op === 'batchNorm' ? n : null;
}
