/** Test helpers. Vitest's deep toEqual walks typed arrays element by element (seconds on 655k entries). */
import { initialWeights } from '../model/init';
import { type Channels, type ModelSpec, type NetWeights, tensors } from '../model/spec';
import { mulberry32 } from '../random';

/** Bit-for-bit equality of two typed arrays. */
export function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const v = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(u, v) === 0;
}

/** Which tensors of two weight sets differ (empty = identical, bit for bit). */
export function weightDiff(a: NetWeights, b: NetWeights): string[] {
  const names = new Set([...Object.keys(a.tensors), ...Object.keys(b.tensors)]);
  const diff = [...names].filter((k) => !a.tensors[k] || !b.tensors[k] || !sameBits(a.tensors[k], b.tensors[k]));
  if (a.channels.join() !== b.channels.join()) diff.push('channels');
  return diff;
}

/**
 * Initial weights with every bias, BatchNorm γ, β and running statistic random and nonzero, so that a
 * "masked but biased" filter visibly matters and no parameter is exactly zero.
 */
export function randomWeights(spec: ModelSpec, seed: number, channels?: Channels): NetWeights {
  const w = initialWeights(spec, seed, channels);
  const r = mulberry32(seed ^ 0xbeef);
  for (const t of tensors(spec, w.channels)) {
    const a = w.tensors[t.name];
    if (t.role === 'bias' && t.layer !== 'fc1') for (let i = 0; i < a.length; i++) a[i] = r() - 0.5;
    if (t.role === 'bnWeight') for (let i = 0; i < a.length; i++) a[i] = 0.5 + r();
    if (t.role === 'bnBias' || t.role === 'runningMean') for (let i = 0; i < a.length; i++) a[i] = r() - 0.5 || 0.25;
    if (t.role === 'runningVar') for (let i = 0; i < a.length; i++) a[i] = 0.5 + r();
  }
  return w;
}
