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

import { deriveSeed, mulberry32, shuffledIndices } from '../random';

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

/**
 * Group scores from the gate gradients of core/model/gated.ts: per producer conv, ∂L/∂gate_c is the
 * signed Σ a·∂L/∂a of its channel c, so |·| is that member's taylorScores; a group sums its members.
 */
export function groupTaylorScores(groups: readonly { id: string; producers: readonly string[] }[], gateGrads: Record<string, ArrayLike<number>>): Record<string, Float64Array> {
  return Object.fromEntries(
    groups.map((g) => {
      const members = g.producers.map((p) => {
        const grad = gateGrads[p];
        if (!grad) throw new Error(`no gradient for ${p}, a member of ${g.id}`);
        return Float64Array.from(grad, Math.abs);
      });
      return [g.id, sumScores(members)];
    }),
  );
}

/**
 * The training images Taylor scores on: `batch` of the `count` loaded, in the order of a shuffle seeded
 * with `seed` (its own stream: changing the training seed does not change the batch).
 */
export function taylorBatchIndices(count: number, batch: number, seed: number): number[] {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`the Taylor batch needs at least one image, got ${batch}`);
  if (count < 1) throw new RangeError('no training images loaded to score on');
  return Array.from(shuffledIndices(count, mulberry32(deriveSeed(seed, 'taylor.batch'))).subarray(0, Math.min(batch, count)));
}
