/**
 * max |a − b| / max(|b|, floor): the kernels' tests compare to the reference's scale (a sum of products'
 * rounding error); `floor` 1 for gradients whose largest entry may be small.
 */
export function relDiff(a: Float32Array, b: Float32Array, floor = 0): number {
  if (a.length !== b.length) throw new Error(`relDiff: lengths ${a.length} and ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, floor);
}
