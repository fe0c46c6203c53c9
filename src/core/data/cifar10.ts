/**
 * The original CIFAR-10 binary format (`data_batch_1.bin` … `test_batch.bin`):
 * no header; each record is 3,073 bytes — 1 label byte (0–9), then 1,024 red, 1,024 green
 * and 1,024 blue bytes, each plane a 32×32 image stored row by row from the top.
 */

export const RECORD_BYTES = 3073;
export const PIXELS = 1024;
export const CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/** Raw decoded records: pixels stay bytes (NHWC order) so a set costs 3 KB per image. */
export interface Cifar10Set {
  count: number;
  /** uint8 [count, 32, 32, 3], interleaved RGB per pixel (NHWC). */
  pixels: Uint8Array;
  labels: Uint8Array;
  /** Where the records came from, for display (file names). */
  source: string;
}

export class Cifar10FormatError extends Error {
  constructor(
    readonly fileName: string,
    readonly problem: string,
  ) {
    super(`${fileName}: ${problem}`);
    this.name = 'Cifar10FormatError';
  }
}

/** Parses one CIFAR-10 binary batch; throws Cifar10FormatError naming the file and the problem. */
export function parseCifar10(bytes: Uint8Array, fileName: string): Cifar10Set {
  if (bytes.length === 0) throw new Cifar10FormatError(fileName, 'the file is empty.');
  if (bytes.length % RECORD_BYTES !== 0) {
    throw new Cifar10FormatError(
      fileName,
      `length ${bytes.length.toLocaleString('en-US')} bytes is not a multiple of ${RECORD_BYTES.toLocaleString('en-US')} ` +
        `(1 label byte + 3,072 pixel bytes per image); this is not a CIFAR-10 binary batch.`,
    );
  }
  const count = bytes.length / RECORD_BYTES;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * PIXELS * 3);
  for (let r = 0; r < count; r++) {
    const off = r * RECORD_BYTES;
    const label = bytes[off];
    if (label > 9) {
      throw new Cifar10FormatError(fileName, `record ${r} has label ${label}; CIFAR-10 labels are 0–9.`);
    }
    labels[r] = label;
    // Planar RGB → interleaved NHWC.
    const out = r * PIXELS * 3;
    for (let p = 0; p < PIXELS; p++) {
      pixels[out + p * 3] = bytes[off + 1 + p];
      pixels[out + p * 3 + 1] = bytes[off + 1 + PIXELS + p];
      pixels[out + p * 3 + 2] = bytes[off + 1 + 2 * PIXELS + p];
    }
  }
  return { count, pixels, labels, source: fileName };
}

/** Concatenates sets (e.g. data_batch_1..5). */
export function concatSets(sets: Cifar10Set[]): Cifar10Set {
  const count = sets.reduce((a, s) => a + s.count, 0);
  const pixels = new Uint8Array(count * PIXELS * 3);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of sets) {
    pixels.set(s.pixels, at * PIXELS * 3);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { count, pixels, labels, source: sets.map((s) => s.source).join(' + ') };
}

/** The first n records (for quick runs on a subset). */
export function takeFirst(set: Cifar10Set, n: number): Cifar10Set {
  const m = Math.max(0, Math.min(set.count, Math.floor(n)));
  return {
    count: m,
    pixels: set.pixels.subarray(0, m * PIXELS * 3),
    labels: set.labels.subarray(0, m),
    source: m === set.count ? set.source : `${set.source} (first ${m})`,
  };
}

export function classCounts(set: Cifar10Set): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < set.count; i++) counts[set.labels[i]]++;
  return counts;
}

export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** Per-channel mean and (population) std on the 0–1 scale, as torchvision's Normalize expects. */
export function channelStats(set: Cifar10Set): ChannelStats {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  const px = set.pixels;
  for (let i = 0; i < px.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = px[i + c] / 255;
      sum[c] += v;
      sq[c] += v * v;
    }
  }
  const n = px.length / 3;
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = sq.map((s, c) => Math.sqrt(Math.max(s / n - mean[c] * mean[c], 1e-12))) as [number, number, number];
  return { mean, std };
}

/** Normalised float32 NHWC images for records [start, start + n) in the given order. */
export function normalisedBatch(
  set: Cifar10Set,
  stats: ChannelStats,
  order: ArrayLike<number> | null,
  start: number,
  n: number,
): { images: Float32Array; labels: Int32Array } {
  const size = PIXELS * 3;
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  // Precomputed byte → value tables avoid a divide per pixel.
  const lut = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - stats.mean[c]) / stats.std[c];
    return t;
  });
  for (let i = 0; i < n; i++) {
    const r = order ? order[start + i] : start + i;
    labels[i] = set.labels[r];
    const src = r * size;
    const dst = i * size;
    for (let p = 0; p < size; p += 3) {
      images[dst + p] = lut[0][set.pixels[src + p]];
      images[dst + p + 1] = lut[1][set.pixels[src + p + 1]];
      images[dst + p + 2] = lut[2][set.pixels[src + p + 2]];
    }
  }
  return { images, labels };
}

/** Parses batches.meta.txt (one class name per line). */
export function parseClassNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
