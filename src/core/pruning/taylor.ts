/**
 * First-order Taylor importance (Molchanov et al. 2017 eq. 8; 2019): zeroing channel c changes the loss
 * on a batch by about −Σ a·∂L/∂a over that channel's activations (every image, every pixel), so
 * |Σ a · g| is the linearised oracle — the criterion the oracle chart checks it against. Summing over the
 * batch before the absolute value keeps it the estimate of the whole batch's loss change (per-image
 * absolute values would score a channel that helps half the images and hurts the other half as important).
 *
 * A channel group (a residual stream, a block's inner channels) is scored by the sum over its members'
 * activations (each conv/BN output that carries the channel), as the issue asks and Torch-Pruning's
 * group reduction 'sum' does. Pure typed-array code: the engine supplies activations and gradients.
 */

/** |Σ_{n,h,w} a·g| per channel of an NHWC activation and its gradient (same shape, channels last). */
export function taylorScores(activation: ArrayLike<number>, gradient: ArrayLike<number>, channels: number): Float64Array {
  if (activation.length !== gradient.length) throw new RangeError(`activation has ${activation.length} values, its gradient ${gradient.length}`);
  if (!Number.isInteger(channels) || channels < 1 || activation.length % channels !== 0)
    throw new RangeError(`${activation.length} values are not a whole number of ${channels}-channel pixels`);
  const sums = new Float64Array(channels);
  for (let i = 0; i < activation.length; i++) sums[i % channels] += activation[i] * gradient[i];
  for (let c = 0; c < channels; c++) sums[c] = Math.abs(sums[c]);
  return sums;
}

/** Element-wise sum of a group's members' scores (all the same length). */
export function sumScores(members: readonly ArrayLike<number>[]): Float64Array {
  if (members.length === 0) throw new RangeError('a group needs at least one member');
  const n = members[0].length;
  const out = new Float64Array(n);
  for (const m of members) {
    if (m.length !== n) throw new RangeError(`members score ${n} and ${m.length} units`);
    for (let i = 0; i < n; i++) out[i] += m[i];
  }
  return out;
}
