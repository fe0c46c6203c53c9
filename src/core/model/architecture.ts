/**
 * The SimpleCNN's architecture as plain numbers and typed arrays — no TensorFlow.js, so the page's
 * main thread (slider previews) can use it without loading tfjs.
 *
 * conv1 (3→k, 3×3, stride 1, same padding) → ReLU → flatten → fc1 (k·32·32 → 10); k = 64 gives
 * 657,162 parameters. Layouts are TensorFlow.js's: conv kernel [kh, kw, in, out], dense kernel
 * [in, out], activations NHWC, so the flatten puts filter c of pixel (h, w) at row (h·32 + w)·k + c.
 */
import { deriveSeed, mulberry32, uniformArray } from '../random';

export const IMAGE_SIZE = 32;
export const IMAGE_CHANNELS = 3;
export const NUM_CLASSES = 10;
export const KERNEL_SIZE = 3;
export const FULL_FILTERS = 64;

export type LayerName = 'conv1' | 'fc1';

/** Plain typed-array copy of a SimpleCNN's weights (tfjs layouts). */
export interface SimpleCnnWeights {
  filters: number;
  conv1Kernel: Float32Array; // [3, 3, 3, filters]
  conv1Bias: Float32Array; // [filters]
  fc1Kernel: Float32Array; // [filters·1024, 10]
  fc1Bias: Float32Array; // [10]
}

export const shapes = (filters: number) => ({
  conv1Kernel: [KERNEL_SIZE, KERNEL_SIZE, IMAGE_CHANNELS, filters] as [number, number, number, number],
  conv1Bias: [filters] as [number],
  fc1Kernel: [filters * IMAGE_SIZE * IMAGE_SIZE, NUM_CLASSES] as [number, number],
  fc1Bias: [NUM_CLASSES] as [number],
});

/**
 * PyTorch's default initialisation (kaiming_uniform with a=√5 for weights, and the bias rule),
 * both of which reduce to U(-1/√fan_in, 1/√fan_in), drawn from a seeded stream.
 */
export function initialWeights(seed: number, filters = FULL_FILTERS): SimpleCnnWeights {
  const s = shapes(filters);
  const convFanIn = KERNEL_SIZE * KERNEL_SIZE * IMAGE_CHANNELS;
  const fcFanIn = filters * IMAGE_SIZE * IMAGE_SIZE;
  const bc = 1 / Math.sqrt(convFanIn);
  const bf = 1 / Math.sqrt(fcFanIn);
  const rand = (label: string) => mulberry32(deriveSeed(seed, label));
  return {
    filters,
    conv1Kernel: uniformArray(size(s.conv1Kernel), -bc, bc, rand('conv1.kernel')),
    conv1Bias: uniformArray(filters, -bc, bc, rand('conv1.bias')),
    fc1Kernel: uniformArray(size(s.fc1Kernel), -bf, bf, rand('fc1.kernel')),
    fc1Bias: uniformArray(NUM_CLASSES, -bf, bf, rand('fc1.bias')),
  };
}

export function parameterCount(filters: number): number {
  const s = shapes(filters);
  return size(s.conv1Kernel) + size(s.conv1Bias) + size(s.fc1Kernel) + size(s.fc1Bias);
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
