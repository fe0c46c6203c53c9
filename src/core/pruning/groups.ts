/**
 * Dependency groups, derived from the network description (Torch-Pruning's idea for a chain): what else
 * goes when filters of a conv layer are removed. Pure arithmetic for the page's explanations.
 */
import { type NetSpec, fullChannels, geometry } from '../model/spec';

export interface GroupMember {
  /** e.g. 'bn2', 'conv3', 'fc1'. */
  layer: string;
  /** What of it goes with the filters: its channels, or the consumer's input channels / rows. */
  what: 'filters' | 'bias' | 'batchNorm' | 'inputChannels' | 'flattenRows';
  /** Units removed (filters, channels, input channels, rows) for `removed` filters. */
  units: number;
  /** Of how many such units. */
  of: number;
  /** Scalar values (parameters and BatchNorm statistics) removed with them. */
  values: number;
}

/** The group of conv layer `layer` when `removed` of its filters go (in the full network). */
export function dependencyGroup(spec: NetSpec, layer: string, removed: number): GroupMember[] {
  const g = geometry(spec, fullChannels(spec));
  const i = g.convs.findIndex((c) => c.name === layer);
  if (i < 0) throw new Error(`${layer} is not a conv layer of ${spec.id}`);
  const c = g.convs[i];
  const out: GroupMember[] = [
    { layer: c.name, what: 'filters', units: removed, of: c.outChannels, values: removed * c.kernel * c.kernel * c.inChannels },
  ];
  if (c.bias) out.push({ layer: c.name, what: 'bias', units: removed, of: c.outChannels, values: removed });
  if (c.batchNorm) out.push({ layer: c.batchNorm, what: 'batchNorm', units: removed, of: c.outChannels, values: 4 * removed }); // γ, β, mean, var
  const next = g.convs[i + 1];
  if (next) out.push({ layer: next.name, what: 'inputChannels', units: removed, of: next.inChannels, values: removed * next.kernel * next.kernel * next.outChannels });
  else {
    const f = g.linear;
    const pixels = f.flattenOf.size * f.flattenOf.size;
    out.push({ layer: f.name, what: 'flattenRows', units: removed * pixels, of: f.inFeatures, values: removed * pixels * f.outFeatures });
  }
  return out;
}

/** One sentence for the page, e.g. "removing 8 of conv2's 32 filters also removes: bn2 channels, 8 of conv3's 32 input channels (4,608 weights)". */
export function describeGroup(spec: NetSpec, layer: string, removed: number): string {
  const [self, ...rest] = dependencyGroup(spec, layer, removed);
  const n = (x: number) => x.toLocaleString('en-US');
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
  return `removing ${n(self.units)} of ${layer}'s ${n(self.of)} filters (${n(self.values)} weights) also removes: ${parts.join(', ')}`;
}
