/**
 * The standard CIFAR augmentation, as scripts/pretrain_full.py's augment(): zero-pad 4 pixels (pixel
 * value 0 before normalisation, as torchvision's RandomCrop(32, padding=4)), a random 32×32 crop and a
 * horizontal flip with p = 0.5, all drawn from a seeded stream. The page holds its images normalised
 * on the backend, so the padding is the normalised value of a 0 byte per channel (`blank`), and the
 * crop + flip is one gather with indices computed here.
 */
import * as tf from '@tensorflow/tfjs';
import type { ChannelStats } from '../data/cifar10';

export const PAD = 4;
const SIZE = 32;
const PADDED = SIZE + 2 * PAD;

/** Per image: crop offsets in the 40×40 padded image (0–8) and whether to flip. */
export interface AugmentDraws {
  dy: Int32Array;
  dx: Int32Array;
  flip: Uint8Array;
}

/**
 * Draws for a batch of n, in pretrain_full.py's order: all row offsets, then all column offsets, then
 * all flips (its torch.randint calls); from the page's seeded stream (the numbers differ from torch's).
 */
export function drawAugment(n: number, rand: () => number): AugmentDraws {
  const dy = new Int32Array(n).map(() => Math.floor(rand() * (2 * PAD + 1)));
  const dx = new Int32Array(n).map(() => Math.floor(rand() * (2 * PAD + 1)));
  const flip = new Uint8Array(n).map(() => (rand() < 0.5 ? 1 : 0));
  return { dy, dx, flip };
}

/** The normalised value of a 0 byte per channel, as normalisedBatch's lookup table computes it. */
export function blankPixel(stats: ChannelStats): [number, number, number] {
  return [0, 1, 2].map((c) => Math.fround((0 / 255 - stats.mean[c]) / stats.std[c])) as [number, number, number];
}

/**
 * For output pixel (i, r, c): its pixel's index in the padded batch [n, 40, 40] —
 * row dy + r, column dx + c, or dx + 31 − c when flipped (pretrain_full.py's rows/cols).
 */
export function cropFlipIndices(d: AugmentDraws): Int32Array {
  const n = d.dy.length;
  const out = new Int32Array(n * SIZE * SIZE);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < SIZE; r++) {
      const row = i * PADDED * PADDED + (d.dy[i] + r) * PADDED;
      for (let c = 0; c < SIZE; c++) out[(i * SIZE + r) * SIZE + c] = row + (d.flip[i] ? d.dx[i] + SIZE - 1 - c : d.dx[i] + c);
    }
  }
  return out;
}

/**
 * Reference on plain arrays (NHWC float32): the augmented batch, pixel by pixel. The tensor version
 * below must give exactly this.
 */
export function augmentArray(images: Float32Array, n: number, blank: readonly number[], d: AugmentDraws): Float32Array {
  const out = new Float32Array(n * SIZE * SIZE * 3);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const y = d.dy[i] + r - PAD;
        const x = (d.flip[i] ? d.dx[i] + SIZE - 1 - c : d.dx[i] + c) - PAD;
        const inside = y >= 0 && y < SIZE && x >= 0 && x < SIZE;
        for (let ch = 0; ch < 3; ch++) out[((i * SIZE + r) * SIZE + c) * 3 + ch] = inside ? images[((i * SIZE + y) * SIZE + x) * 3 + ch] : blank[ch];
      }
    }
  }
  return out;
}

/**
 * The augmented batch on the backend: pad with 0, add `blank` on the border only (x + 0 inside keeps
 * every value exact), then one gather of the crop + flip. Returns a new tensor (call inside tidy).
 */
export function augmentBatch(x: tf.Tensor4D, blank: readonly number[], d: AugmentDraws): tf.Tensor4D {
  const n = x.shape[0];
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [PAD, PAD],
      [PAD, PAD],
      [0, 0],
    ]);
    const border = tf.sub(1, tf.pad(tf.ones([1, SIZE, SIZE, 1]), [
      [0, 0],
      [PAD, PAD],
      [PAD, PAD],
      [0, 0],
    ]));
    const filled = tf.add(padded, tf.mul(border, tf.tensor1d(blank as number[])));
    const flat = tf.reshape(filled, [n * PADDED * PADDED, 3]);
    const idx = tf.tensor1d(cropFlipIndices(d), 'int32');
    return tf.reshape(tf.gather(flat, idx), [n, SIZE, SIZE, 3]) as tf.Tensor4D;
  });
}
