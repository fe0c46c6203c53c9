/**
 * Σy and Σy² per channel (float64) that a forward conv took of its output in its output transform
 * (winograd.ts, `stats`), by the output's dataId: a tensor's data never changes, and a WeakMap entry
 * goes with the data. The BatchNorm that follows reads them instead of making a pass of its own over
 * the activations (index.ts batchMoments). Its own file so that conv3x3.ts and index.ts share it
 * without importing each other.
 */
export interface ChannelSums {
  sum: Float64Array;
  sumSq: Float64Array;
  /** Values each channel's sums add up (images × pixels). */
  count: number;
}

const byData = new WeakMap<object, ChannelSums>();

export function setChannelSums(dataId: object, sums: ChannelSums): void {
  byData.set(dataId, sums);
}

export function channelSumsOf(dataId: object): ChannelSums | null {
  return byData.get(dataId) ?? null;
}
