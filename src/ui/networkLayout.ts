/**
 * The network view's drawing, computed from the model's graph (core/model/graph.ts) for any ModelSpec:
 * which blocks are drawn (the image, every conv with the BatchNorm/ReLU/pool it feeds folded in, every
 * add, the linear layer), how they connect (through the folded ops), and where they go — placed by
 * elkjs's layered (Sugiyama) layout rather than by hand. No React here: the component renders the result.
 *
 * elkjs runs in its own web worker in the page (elk-worker.min.js, see NetworkView.tsx), so the layout
 * never blocks; tests pass the in-thread bundled build. The layout depends on the spec only (full
 * channel counts), so blocks stay put while the sliders move; pruning changes only the stripes.
 */
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import { type GraphStructure, INPUT, shapes, structure } from '../core/model/graph';
import { type ModelSpec, fullChannels } from '../core/model/spec';

/** Screen pixels per channel stripe (a block's height is its channels × STRIPE). */
export const STRIPE = 3;
/**
 * The prune view's stripe for a residual network: its stages stack a shortcut conv under the main path, so
 * at STRIPE ResNet-20 is 466 px tall and would be scaled to half (4.6 px labels) in the prune view's 240;
 * at 1.5 px it is scaled by 0.88 instead and its labels stay readable.
 */
export const COMPACT_STRIPE = 1.5;
const BLOCK_WIDTH = 30;
export const LABEL_HEIGHT = 24;

export type BlockKind = 'input' | 'conv' | 'add' | 'linear';

export interface Block {
  /** The graph node's name (INPUT for the image). */
  id: string;
  kind: BlockKind;
  /** Short text drawn under the block (layers.4.conv1 → 4.conv1). */
  label: string;
  /** What the block stands for, e.g. "conv 3×3 stride 2, 16→32 channels, 16×16 · then bn1, relu". */
  title: string;
  /** Channels drawn as stripes (outputs of a linear layer; 0 for an add, drawn as a circle). */
  channels: number;
  /** Channel group index of the block's output channels (-1: the image's or a vector). */
  group: number;
  /** Nodes folded into the block (its BatchNorm, ReLU, pool, …). */
  folded: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Edge {
  id: string;
  from: string;
  to: string;
  /** Polyline from the source's border to the target's. */
  points: { x: number; y: number }[];
}

export interface NetworkLayout {
  width: number;
  height: number;
  blocks: Block[];
  edges: Edge[];
}

/** The drawn blocks and their connections, before placement (pure; unit-tested on every model). */
export function networkBlocks(spec: ModelSpec, stripe = STRIPE): { blocks: Omit<Block, 'x' | 'y'>[]; edges: { from: string; to: string }[] } {
  const st = structure(spec);
  const sh = shapes(st, fullChannels(spec));
  const drawn = (name: string) => {
    const op = st.byName.get(name)?.node.op;
    return name === INPUT || op === 'conv' || op === 'add' || op === 'linear';
  };
  // A folded node belongs to the drawn block its input chain starts from.
  const ownerOf = new Map<string, string>([[INPUT, INPUT]]);
  const folded = new Map<string, string[]>([[INPUT, []]]);
  for (const name of st.order) {
    const n = st.byName.get(name)!.node;
    if (drawn(name)) {
      ownerOf.set(name, name);
      folded.set(name, []);
    } else {
      const owner = ownerOf.get(n.op === 'add' ? n.inputs[0] : n.input)!;
      ownerOf.set(name, owner);
      folded.get(owner)!.push(name);
    }
  }
  const blocks: Omit<Block, 'x' | 'y'>[] = [];
  const edges: { from: string; to: string }[] = [];
  const short = (name: string) => name.replace(/^layers\./, '').replace('shortcut.0', 'short');
  blocks.push({
    id: INPUT,
    kind: 'input',
    label: 'image',
    title: `the image: ${spec.input.channels} channels (RGB), ${spec.input.size}×${spec.input.size}`,
    channels: spec.input.channels,
    group: -1,
    folded: [],
    width: BLOCK_WIDTH,
    height: spec.input.channels * stripe * 2 + LABEL_HEIGHT,
  });
  for (const name of st.order) {
    if (!drawn(name)) continue;
    const s = st.byName.get(name)!;
    const n = s.node;
    const f = sh.get(name)!;
    const then = folded.get(name)!;
    const after = then.length ? ` · then ${then.join(', ')}` : '';
    for (const i of s.inputs) edges.push({ from: ownerOf.get(i)!, to: name });
    if (n.op === 'conv') {
      blocks.push({
        id: name,
        kind: 'conv',
        label: short(name),
        title: `${name}: conv ${n.kernel}×${n.kernel}${n.stride > 1 ? ` stride ${n.stride}` : ''}, ${f.inChannels}→${f.channels} channels, ${f.size}×${f.size}${after}`,
        channels: f.channels,
        group: s.group ?? -1,
        folded: then,
        width: BLOCK_WIDTH,
        height: f.channels * stripe + LABEL_HEIGHT,
      });
    } else if (n.op === 'add') {
      blocks.push({ id: name, kind: 'add', label: '+', title: `${name}: adds ${n.inputs.join(' + ')} channel by channel${after}`, channels: 0, group: s.group ?? -1, folded: then, width: 22, height: 22 });
    } else if (n.op === 'linear') {
      blocks.push({
        id: name,
        kind: 'linear',
        label: short(name),
        title: `${name}: linear ${f.inChannels.toLocaleString('en-US')}→${n.outFeatures} (the classes)`,
        channels: n.outFeatures,
        group: -1,
        folded: then,
        width: BLOCK_WIDTH,
        height: n.outFeatures * stripe + LABEL_HEIGHT,
      });
    }
  }
  return { blocks, edges };
}

const cache = new Map<string, Promise<NetworkLayout>>();

/** Places the blocks with elkjs (layered, left to right); cached per spec id and stripe. */
export function layoutNetwork(spec: ModelSpec, elk: ELK, stripe = STRIPE): Promise<NetworkLayout> {
  const key = `${spec.id}@${stripe}`;
  let p = cache.get(key);
  if (!p) {
    p = place(structure(spec), elk, stripe);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function place(st: GraphStructure, elk: ELK, stripe: number): Promise<NetworkLayout> {
  const { blocks, edges } = networkBlocks(st.spec, stripe);
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '26',
      'elk.spacing.nodeNode': '18',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
      // Keep the spec's order within a layer: the main path stays on one line, shortcuts beside it.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children: blocks.map((b) => ({ id: b.id, width: b.width, height: b.height })),
    edges: edges.map((e, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  };
  const out = await elk.layout(graph);
  const at = new Map((out.children ?? []).map((c) => [c.id, c]));
  return {
    width: out.width ?? 0,
    height: out.height ?? 0,
    blocks: blocks.map((b) => ({ ...b, x: at.get(b.id)?.x ?? 0, y: at.get(b.id)?.y ?? 0 })),
    edges: (out.edges ?? []).map((e, i) => {
      const s = (e as ElkExtendedEdge).sections?.[0];
      const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [];
      return { id: `e${i}`, from: edges[i].from, to: edges[i].to, points };
    }),
  };
}
