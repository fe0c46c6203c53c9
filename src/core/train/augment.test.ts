/**
 * Augmentation is exact (a known crop and flip of a known image, pixel by pixel), the backend version
 * equals the array reference bit for bit, and the same seed draws the same crops and flips.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../random';
import { type AugmentDraws, augmentArray, augmentBatch, blankPixel, cropFlipIndices, drawAugment } from './augment';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Image i: pixel (y, x) channel c = 1000·i + 100·c + y + x/64 — every value says where it came from. */
function known(n: number): Float32Array {
  const a = new Float32Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) a[((i * 32 + y) * 32 + x) * 3 + c] = 1000 * i + 100 * c + y + x / 64;
  return a;
}
const at = (a: Float32Array, i: number, y: number, x: number, c: number) => a[((i * 32 + y) * 32 + x) * 3 + c];
const BLANK = [-7, -8, -9];

describe('augmentation', () => {
  it('a known crop and flip of a known image', () => {
    // Image 0: crop at (dy, dx) = (0, 8), no flip: out(r, c) = in(r − 4, c + 4), blank above row 4 and right of column 27.
    // Image 1: crop at (2, 1), flipped: out(r, c) = in(r − 2, 1 + 31 − c − 4) = in(r − 2, 28 − c), blank where 28 − c > 31 (none) or r < 2.
    const d: AugmentDraws = { dy: Int32Array.from([0, 2]), dx: Int32Array.from([8, 1]), flip: Uint8Array.from([0, 1]) };
    const img = known(2);
    const out = augmentArray(img, 2, BLANK, d);
    expect(at(out, 0, 0, 0, 2)).toBe(-9);
    expect(at(out, 0, 3, 10, 0)).toBe(-7);
    expect(at(out, 0, 4, 0, 1)).toBe(at(img, 0, 0, 4, 1));
    expect(at(out, 0, 31, 27, 0)).toBe(at(img, 0, 27, 31, 0));
    expect(at(out, 0, 10, 28, 0)).toBe(-7); // column 28 + 8 − 4 = 32: outside
    expect(at(out, 1, 1, 5, 0)).toBe(-7);
    expect(at(out, 1, 2, 0, 2)).toBe(at(img, 1, 0, 28, 2));
    expect(at(out, 1, 31, 28, 1)).toBe(at(img, 1, 29, 0, 1));
    expect(at(out, 1, 5, 29, 0)).toBe(-7); // 28 − 29 = −1: the left padding, seen through the flip
    // The indices into the padded 40×40 image say the same.
    const idx = cropFlipIndices(d);
    expect(idx[0]).toBe(8);
    expect(idx[32 * 32 + 0]).toBe(1600 + 2 * 40 + 1 + 31);
  });

  it('the tensor version equals the reference exactly, for random draws', () => {
    const n = 5;
    const img = known(n);
    const d = drawAugment(n, mulberry32(11));
    const x = tf.tensor4d(img, [n, 32, 32, 3]);
    const y = augmentBatch(x, BLANK, d);
    expect(Array.from(y.dataSync())).toEqual(Array.from(augmentArray(img, n, BLANK, d)));
    tf.dispose([x, y]);
  });

  it('the same seed draws the same crops and flips; offsets 0–8, both flips', () => {
    const a = drawAugment(400, mulberry32(3));
    const b = drawAugment(400, mulberry32(3));
    expect(a).toEqual(b);
    expect(drawAugment(400, mulberry32(4))).not.toEqual(a);
    expect(new Set(a.dy)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(new Set(a.dx)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const flips = a.flip.reduce((s, f) => s + f, 0);
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
  });

  it('pads with the normalised value of a 0 byte (padding before normalisation)', () => {
    const stats = { mean: [0.5, 0.4, 0.3] as [number, number, number], std: [0.25, 0.2, 0.1] as [number, number, number] };
    expect(blankPixel(stats)).toEqual([Math.fround(-2), Math.fround(-2), Math.fround(-3)]);
  });
});
