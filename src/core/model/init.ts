/**
 * PyTorch's default initialisation, seeded: conv and linear weights use kaiming_uniform with a = √5,
 * and biases the matching rule; both reduce to U(−1/√fan_in, 1/√fan_in). BatchNorm starts at γ = 1,
 * β = 0, running mean 0 and variance 1. Each tensor draws from its own stream (labelled by name), so
 * adding a layer never shifts another's values: the SimpleCNN's initial weights are the same as ever.
 */
import { deriveSeed, mulberry32, uniformArray } from '../random';
import { type Channels, type ModelSpec, type NetWeights, fullChannels, sizeOf, tensors } from './spec';

export function initialWeights(spec: ModelSpec, seed: number, channels: Channels = fullChannels(spec)): NetWeights {
  const out: Record<string, Float32Array> = {};
  const all = tensors(spec, channels);
  for (const t of all) {
    const n = sizeOf(t.shape);
    const weight = all.find((w) => w.layer === t.layer && w.role === 'weight')!;
    const fanIn = sizeOf(weight.shape) / weight.shape[weight.shape.length - 1]; // kh·kw·in, or in
    const bound = 1 / Math.sqrt(fanIn);
    const rand = () => mulberry32(deriveSeed(seed, `${t.layer}.${t.role === 'weight' ? 'kernel' : 'bias'}`));
    switch (t.role) {
      case 'weight':
      case 'bias':
        out[t.name] = uniformArray(n, -bound, bound, rand());
        break;
      case 'bnWeight':
      case 'runningVar':
        out[t.name] = new Float32Array(n).fill(1);
        break;
      default:
        out[t.name] = new Float32Array(n);
    }
  }
  return { model: spec.id, channels: [...channels], tensors: out };
}
