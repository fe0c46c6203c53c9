/** Test helpers. Vitest's deep toEqual walks typed arrays element by element (seconds on 655k entries). */
import type { SimpleCnnWeights } from '../model/simpleCnn';

/** Bit-for-bit equality of two typed arrays. */
export function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const v = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(u, v) === 0;
}

/** Which fields of two weight sets differ (empty = identical, bit for bit). */
export function weightDiff(a: SimpleCnnWeights, b: SimpleCnnWeights): string[] {
  const keys = ['conv1Kernel', 'conv1Bias', 'fc1Kernel', 'fc1Bias'] as const;
  const diff: string[] = keys.filter((k) => !sameBits(a[k], b[k]));
  if (a.filters !== b.filters) diff.push('filters');
  return diff;
}
