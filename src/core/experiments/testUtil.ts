/** Test helpers: tiny networks (fast on the cpu backend) and deterministic fake compute. */
import type { NetSpec, NetWeights } from '../model/spec';
import { convNet3, simpleCnn } from '../model/zoo';
import { randomWeights } from '../pruning/testUtil';
import type { Evaluate } from './common';

/** A zoo model on 8×8 images with fewer filters: the same layers, bias and BatchNorm, fast on the cpu backend. */
function shrink(spec: NetSpec, filters: Record<string, number>): NetSpec {
  return {
    ...spec,
    label: `tiny ${spec.label}`,
    summary: 'test only',
    input: { ...spec.input, size: 8 },
    layers: spec.layers.map((l) => (l.kind === 'conv' ? { ...l, outChannels: filters[l.name] } : l)),
  };
}

/** SimpleCNN's shape on 8×8 images with 8 filters: 8 · 8 · 8 · 10 = 5,120 fc weights. */
export const tinySimple: NetSpec = shrink(simpleCnn, { conv1: 8 });

/** ConvNet-3's shape on 8×8 images with 4/6/8 filters and BatchNorm. */
export const tinyConvNet: NetSpec = shrink(convNet3, { conv1: 4, conv2: 6, conv3: 8 });

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
