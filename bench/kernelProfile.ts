/** Exclusive kernel times from a tf.profile's records (no tfjs import: unit-tested in Node). */

/**
 * Our taped ops that run other kernels inside them: tf.profile times the wrapper inclusively, after the
 * kernels it ran (records are pushed as kernels complete) — its inner kernel, then the Identity clones
 * its gradient saves. Without this the inner kernel is counted twice (ResNet-20's step was 17 convs,
 * ~40 ms, over). WRAPS: the wrapper's own time is its time minus the records since its inner kernel's
 * last record; PlaygroundConvSame / ConvBiasRelu run a conv whose name depends on the backend, so when
 * none of the listed inner kernels was recorded the wrapper's time minus the record just before it
 * with the same output is taken (a fallback; on other backends BatchNorm's fallback runs many tfjs ops).
 */
const WRAPS: Record<string, string[]> = {
  PlaygroundBatchNormReluTaped: ['PlaygroundBatchNormRelu'],
  PlaygroundBatchNormAddTaped: ['PlaygroundBatchNormAdd'],
  PlaygroundConvSame: ['PlaygroundSimdConv3x3'],
  PlaygroundConvBiasRelu: ['PlaygroundSimdConv3x3'],
  PlaygroundConv3x3Stride2: ['Conv2D'],
  // tf.customGrad's op (the stride-2 convs on their SIMD kernels) is recorded as 'forward' after its kernel
  forward: ['PlaygroundSimdConv3x3Stride2', 'PlaygroundSimdConv1x1Stride2'],
};
const SAME_OUTPUT_WRAPPERS = new Set(['PlaygroundConvSame', 'PlaygroundConvBiasRelu']);

/** Exclusive time per record of a tf.profile (see WRAPS), in record order. */
export function exclusiveTimes(records: Array<{ name: string; out: string; ms: number }>): number[] {
  const inners = new Set(Object.values(WRAPS).flat());
  // Inclusive times of the records since the last one of each inner kernel's name.
  const since = new Map<string, number>();
  let prev: { ms: number; out: string } | null = null;
  return records.map(({ name, out, ms: inclusive }) => {
    let ms = inclusive;
    const inner = WRAPS[name]?.find((n) => since.has(n));
    if (inner) ms = Math.max(0, inclusive - since.get(inner)!);
    else if (SAME_OUTPUT_WRAPPERS.has(name) && prev?.out === out) ms = Math.max(0, inclusive - prev.ms);
    for (const [n, t] of since) since.set(n, t + inclusive);
    if (inner) since.delete(inner);
    if (inners.has(name)) since.set(name, inclusive);
    prev = { ms: inclusive, out };
    return ms;
  });
}
