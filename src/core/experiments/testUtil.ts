/** Test helpers: tiny networks (fast on the cpu backend) and deterministic fake compute. */
import type { NetSpec, NetWeights } from '../model/spec';
import { randomWeights } from '../pruning/testUtil';
import type { Evaluate } from './common';

/** SimpleCNN's shape on 8×8 images with 8 filters: 8 · 8 · 8 · 10 = 5,120 fc weights. */
export const tinySimple: NetSpec = {
  id: 'simplecnn',
  label: 'tiny SimpleCNN',
  summary: 'test only',
  input: { size: 8, channels: 3 },
  layers: [
    { kind: 'conv', name: 'conv1', from: 'input', outChannels: 8, kernel: 3, bias: true, batchNorm: null, pool: false },
    { kind: 'linear', name: 'fc1', from: 'conv1', outFeatures: 10 },
  ],
};

/** ConvNet-3's shape on 8×8 images with 4/6/8 filters and BatchNorm. */
export const tinyConvNet: NetSpec = {
  id: 'convnet3',
  label: 'tiny ConvNet-3',
  summary: 'test only',
  input: { size: 8, channels: 3 },
  layers: [
    { kind: 'conv', name: 'conv1', from: 'input', outChannels: 4, kernel: 3, bias: false, batchNorm: 'bn1', pool: true },
    { kind: 'conv', name: 'conv2', from: 'conv1', outChannels: 6, kernel: 3, bias: false, batchNorm: 'bn2', pool: true },
    { kind: 'conv', name: 'conv3', from: 'conv2', outChannels: 8, kernel: 3, bias: false, batchNorm: 'bn3', pool: true },
    { kind: 'linear', name: 'fc1', from: 'conv3', outFeatures: 10 },
  ],
};

export const baselineOf = (spec: NetSpec, seed = 5): NetWeights => randomWeights(spec, seed);

/** Sum of |w| over every parameter-like tensor: shrinks with every pruned weight or removed channel. */
export function massOf(w: NetWeights): number {
  let s = 0;
  for (const a of Object.values(w.tensors)) for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/** Bytes of every tensor, in name order: equal exactly when two networks are identical. */
export function fingerprint(w: NetWeights): string {
  return (
    w.channels.join(',') +
    '|' +
    Object.keys(w.tensors)
      .sort()
      .map((k) => `${k}:${Buffer.from(w.tensors[k].buffer, w.tensors[k].byteOffset, w.tensors[k].byteLength).toString('base64')}`)
      .join('|')
  );
}

/**
 * A deterministic stand-in for test accuracy: 0.1 + 0.8 × (|w| mass / baseline mass), so pruning
 * lowers it, different networks almost surely differ, and identical ones agree. Records every call.
 */
export function fakeEvaluate(baseline: NetWeights): Evaluate & { calls: string[] } {
  const full = massOf(baseline);
  const calls: string[] = [];
  const f = async (w: NetWeights) => {
    calls.push(fingerprint(w));
    return Math.min(1, 0.1 + (0.8 * massOf(w)) / full);
  };
  return Object.assign(f, { calls });
}

/** A clock the test moves by hand. */
export function fakeClock(): { now: () => number; advance: (seconds: number) => void } {
  let t = 0;
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

export const noPause = async (): Promise<void> => {};
