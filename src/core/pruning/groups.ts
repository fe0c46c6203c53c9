/**
 * Dependency groups, computed from the graph (model/graph.ts, Torch-Pruning's DepGraph): what else goes
 * when units of a channel group are removed. Pure arithmetic for the page's explanations and sliders.
 */
import { type ChannelGroup, type GroupKind, shapes, structure } from '../model/graph';
import { type ModelSpec, fullChannels } from '../model/spec';

/** What a slider needs: one per channel group, in the order of NetWeights.channels. */
export interface GroupInfo {
  /** Key of the group's amount in PruneSettings.amounts (a chain model's: its conv layer's name). */
  id: string;
  kind: GroupKind;
  /** e.g. "residual stream of stage 2", "inner channels of stage 1, block 3", "conv2". */
  label: string;
  /** Units (channels) in the full network. */
  units: number;
}

/** The model's channel groups, for generating its pruning sliders. */
export function groupsOf(spec: ModelSpec): GroupInfo[] {
  return structure(spec).groups.map((g) => ({ id: g.id, kind: g.kind, label: g.label, units: g.units }));
}

/** The group with this id (for a chain model, a conv layer's name). Throws when there is none. */
export function groupById(spec: ModelSpec, id: string): ChannelGroup {
  const g = structure(spec).groups.find((x) => x.id === id);
  if (!g) throw new Error(`${id} is not a channel group of ${spec.id} (it has ${structure(spec).groups.map((x) => x.id).join(', ')})`);
  return g;
}

export interface GroupMember {
  /** e.g. 'bn2', 'conv3', 'fc1', 'layers.4.conv1'. */
  layer: string;
  /** What of it goes with the units: its filters (and bias), BatchNorm channels, the consumer's input channels / rows. */
  what: 'filters' | 'bias' | 'batchNorm' | 'inputChannels' | 'flattenRows';
  /** Units removed (filters, channels, input channels, rows) for `removed` group units. */
  units: number;
  /** Of how many such units. */
  of: number;
  /** Scalar values (parameters and BatchNorm statistics) removed with them. */
  values: number;
}

/**
 * The members of group `id` when `removed` of its units go (in the full network): every producer's
 * filters (and bias), every BatchNorm's channels, every consumer's input channels, the linear rows.
 */
export function dependencyGroup(spec: ModelSpec, id: string, removed: number): GroupMember[] {
  const st = structure(spec);
  const g = groupById(spec, id);
  const sh = shapes(st, fullChannels(spec));
  const conv = (name: string) => {
    const n = st.byName.get(name)!.node;
    if (n.op !== 'conv') throw new Error(`${name} is not a conv`);
    return { taps: n.kernel * n.kernel, bias: n.bias, ...sh.get(name)! };
  };
  const out: GroupMember[] = [];
  for (const p of g.producers) {
    const c = conv(p);
    out.push({ layer: p, what: 'filters', units: removed, of: c.channels, values: removed * c.taps * c.inChannels });
    if (c.bias) out.push({ layer: p, what: 'bias', units: removed, of: c.channels, values: removed });
  }
  for (const b of g.batchNorms) out.push({ layer: b, what: 'batchNorm', units: removed, of: g.units, values: 4 * removed }); // γ, β, mean, var
  for (const k of g.consumers) {
    const c = conv(k);
    out.push({ layer: k, what: 'inputChannels', units: removed, of: c.inChannels, values: removed * c.taps * c.channels });
  }
  for (const l of g.linears) {
    const f = sh.get(l.name)!;
    out.push({ layer: l.name, what: 'flattenRows', units: removed * l.pixels, of: f.inChannels, values: removed * l.pixels * f.channels });
  }
  return out;
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * One sentence for the page. A chain model's layer: "removing 8 of conv2's 32 filters (1,152 weights)
 * also removes: 8 bn2 channels (γ, β, running mean and variance), 8 of conv3's 32 input channels (4,608
 * weights)". A coupled group: "removing 4 of stage 2's 32 stream channels also removes: 4 filters each
 * of layers.3.conv2, … (…), from 12 layers".
 */
export function describeGroup(spec: ModelSpec, id: string, removed: number): string {
  const g = groupById(spec, id);
  const members = dependencyGroup(spec, id, removed);
  if (g.kind === 'layer') {
    const [self, ...rest] = members;
    const parts = rest.map((m) => {
      switch (m.what) {
        case 'bias':
          return `${n(m.units)} biases`;
        case 'batchNorm':
          return `${n(m.units)} ${m.layer} channels (γ, β, running mean and variance)`;
        case 'inputChannels':
          return `${n(m.units)} of ${m.layer}'s ${n(m.of)} input channels (${n(m.values)} weights)`;
        default:
          return `${n(m.units)} of ${m.layer}'s ${n(m.of)} input rows (${n(m.values)} weights)`;
      }
    });
    return `removing ${n(self.units)} of ${g.owner} ${n(self.of)} ${g.unitName} (${n(self.values)} weights) also removes: ${parts.join(', ')}`;
  }
  const of = (what: GroupMember['what']) => members.filter((m) => m.what === what);
  const list = (ms: GroupMember[]) => ms.map((m) => m.layer).join(', ');
  const weights = (ms: GroupMember[]) => n(ms.reduce((a, m) => a + m.values, 0));
  const parts: string[] = [];
  const filters = of('filters');
  if (filters.length) parts.push(`${n(removed)} filters ${filters.length > 1 ? 'each ' : ''}of ${list(filters)} (${weights([...filters, ...of('bias')])} weights)`);
  const bns = of('batchNorm');
  if (bns.length) parts.push(`${n(removed)} channels ${bns.length > 1 ? 'each ' : ''}of BatchNorm ${list(bns)} (γ, β, running mean and variance)`);
  const ins = of('inputChannels');
  if (ins.length) parts.push(`${n(removed)} input channels ${ins.length > 1 ? 'each ' : ''}of ${list(ins)} (${weights(ins)} weights)`);
  for (const r of of('flattenRows')) parts.push(`${n(r.units)} of ${r.layer}'s ${n(r.of)} input rows (${n(r.values)} weights)`);
  const layers = new Set(members.map((m) => m.layer)).size;
  return `removing ${n(removed)} of ${g.owner} ${n(g.units)} ${g.unitName} also removes: ${parts.join(', ')}, from ${layers} layers`;
}
