/**
 * True structured removal for SimpleCNN: conv1 loses filters, so fc1 loses the input rows they fed.
 * tfjs flattens NHWC, so filter c owns fc1 rows (h·32 + w)·k + c — one row per pixel, spread through
 * the kernel rather than one contiguous block.
 */
import { IMAGE_SIZE, KERNEL_SIZE, IMAGE_CHANNELS, NUM_CLASSES, type SimpleCnnWeights } from '../model/architecture';

const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
const TAPS = KERNEL_SIZE * KERNEL_SIZE * IMAGE_CHANNELS; // conv1 kernel entries per filter

/** Builds the smaller model's weights keeping the conv1 filters `kept` (ascending, unique). Never mutates `w`. */
export function removeConv1Filters(w: SimpleCnnWeights, kept: readonly number[]): SimpleCnnWeights {
  const k = w.filters;
  kept.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new RangeError(`filter ${c} out of range 0..${k - 1}`);
    if (i > 0 && c <= kept[i - 1]) throw new RangeError('kept filters must be ascending and unique');
  });
  const k2 = kept.length;
  const conv1Kernel = new Float32Array(TAPS * k2); // [3,3,3,k]: filter is the last (fastest) axis
  for (let t = 0; t < TAPS; t++) for (let j = 0; j < k2; j++) conv1Kernel[t * k2 + j] = w.conv1Kernel[t * k + kept[j]];
  const conv1Bias = Float32Array.from(kept, (c) => w.conv1Bias[c]);
  const fc1Kernel = new Float32Array(PIXELS * k2 * NUM_CLASSES); // [pixels·k, 10]
  for (let px = 0; px < PIXELS; px++)
    for (let j = 0; j < k2; j++) {
      const from = (px * k + kept[j]) * NUM_CLASSES;
      fc1Kernel.set(w.fc1Kernel.subarray(from, from + NUM_CLASSES), (px * k2 + j) * NUM_CLASSES);
    }
  return { filters: k2, conv1Kernel, conv1Bias, fc1Kernel, fc1Bias: w.fc1Bias.slice() };
}

/**
 * The full-size equivalent of a removal: removed filters' kernel AND bias zeroed. Its logits equal the
 * smaller model's (a zeroed filter emits relu(0) = 0, so its fc1 rows contribute nothing).
 */
export function zeroConv1Filters(w: SimpleCnnWeights, kept: readonly number[]): SimpleCnnWeights {
  const k = w.filters;
  const keep = new Uint8Array(k);
  for (const c of kept) keep[c] = 1;
  const conv1Kernel = w.conv1Kernel.map((v, i) => (keep[i % k] ? v : 0));
  const conv1Bias = w.conv1Bias.map((v, c) => (keep[c] ? v : 0));
  return { filters: k, conv1Kernel, conv1Bias, fc1Kernel: w.fc1Kernel.slice(), fc1Bias: w.fc1Bias.slice() };
}
