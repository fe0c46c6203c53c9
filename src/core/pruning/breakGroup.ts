/**
 * "Break it": what happens when a channel is removed from only ONE member of its dependency group.
 * The chosen conv loses one filter (with its bias and the BatchNorm right after it, i.e. the layer as a
 * whole), every other member keeps its shape, and the network is run in PyTorch's forward order (the
 * spec's node order, as the exported script runs it) with shapes only, until the first operation whose
 * shapes disagree. Its error is worded exactly as PyTorch 1.13 words it (checked against torch:
 * breakGroup.test.ts lists the messages torch printed for the same shapes).
 */
import { type ConvNode, GraphError, batchNormAfter, shapes, structure } from '../model/graph';
import { type ModelSpec, fullChannels } from '../model/spec';

export interface BrokenGroup {
  /** The conv that lost one filter alone. */
  conv: string;
  /** The node where PyTorch stops. */
  at: string;
  /** PyTorch's error, e.g. "RuntimeError: The size of tensor a (31) must match the size of tensor b (32) at non-singleton dimension 1". */
  error: string;
  /** The same in words: who gives how many channels to whom that expects how many. */
  explanation: string;
}

/**
 * The shape error PyTorch raises (batch of one image) when `conv` alone loses `removed` filters. Throws
 * when `conv` is no conv of the model, or when nothing would break (cannot happen for a conv whose
 * channels someone reads: every group has a consumer, an add or a linear layer).
 */
export function breakGroup(spec: ModelSpec, conv: string, removed = 1): BrokenGroup {
  const st = structure(spec);
  const node = st.byName.get(conv)?.node;
  if (!node || node.op !== 'conv') throw new Error(`${conv} is not a conv of ${spec.id}`);
  const full = shapes(st, fullChannels(spec));
  const ownBn = batchNormAfter(st, conv)?.name ?? null;
  if (!(Number.isInteger(removed) && removed >= 1 && removed <= node.outChannels)) throw new RangeError(`${conv}: cannot remove ${removed} of its ${node.outChannels} filters`);
  const channels = new Map<string, number>([['input', spec.input.channels]]);
  const n = (name: string) => channels.get(name)!;
  for (const x of st.nodes) {
    const f = full.get(x.name)!;
    switch (x.op) {
      case 'conv': {
        const got = n(x.input);
        if (got !== f.inChannels) return convError(x, got, f.inChannels, f.inSize, x.input, conv);
        channels.set(x.name, x.name === conv ? f.channels - removed : f.channels);
        break;
      }
      case 'batchNorm': {
        const got = n(x.input);
        const want = x.name === ownBn ? f.channels - removed : f.channels;
        if (got !== want)
          return {
            conv,
            at: x.name,
            error: `RuntimeError: running_mean should contain ${got} elements not ${want}`,
            explanation: `BatchNorm ${x.name} keeps statistics for ${want} channels, but ${x.input} now gives ${got}.`,
          };
        channels.set(x.name, got);
        break;
      }
      case 'add': {
        const [first, ...rest] = x.inputs;
        let a = n(first);
        for (const other of rest) {
          const b = n(other);
          if (a !== b)
            return {
              conv,
              at: x.name,
              error: `RuntimeError: The size of tensor a (${a}) must match the size of tensor b (${b}) at non-singleton dimension 1`,
              explanation: `${x.name} adds ${first} (${a} channels) to ${other} (${b} channels): channel j of one is added to channel j of the other, so both must have the same channels.`,
            };
          a = b;
        }
        channels.set(x.name, a);
        break;
      }
      case 'flatten':
        channels.set(x.name, n(x.input) * f.pixels);
        break;
      case 'linear': {
        const got = n(x.input);
        if (got !== f.inChannels)
          return {
            conv,
            at: x.name,
            error: `RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x${got} and ${f.inChannels}x${x.outFeatures})`,
            explanation: `${x.name} has weights for ${f.inChannels.toLocaleString('en-US')} inputs, but the flattened feature map now has ${got.toLocaleString('en-US')}.`,
          };
        channels.set(x.name, x.outFeatures);
        break;
      }
      default:
        channels.set(x.name, n(x.input));
    }
  }
  throw new GraphError(`${spec.id}: removing filters of ${conv} alone breaks nothing`);
}

function convError(x: ConvNode, got: number, want: number, size: number, from: string, conv: string): BrokenGroup {
  const k = x.kernel;
  return {
    conv,
    at: x.name,
    error: `RuntimeError: Given groups=1, weight of size [${x.outChannels}, ${want}, ${k}, ${k}], expected input[1, ${got}, ${size}, ${size}] to have ${want} channels, but got ${got} channels instead`,
    explanation: `${x.name}'s filters each read ${want} input channels, but ${from} now gives ${got}.`,
  };
}
