/**
 * A dense model of a given size: the same architecture with every channel group scaled by one width
 * factor (as a network designed small from the start), for the speed lab's "small dense model of the
 * same parameter count" beside a pruned one with uneven widths.
 */
import { type Channels, type ModelSpec, fullChannels, parameterCount } from './spec';

/** Channels at width factor r (each group round(units·r), at least 1). */
export function scaledChannels(spec: ModelSpec, r: number): Channels {
  return fullChannels(spec).map((u) => Math.min(u, Math.max(1, Math.round(u * r))));
}

/** The uniformly scaled channels whose parameter count is closest to `params` (bisection on the width factor). */
export function uniformWidthFor(spec: ModelSpec, params: number): Channels {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (parameterCount(spec, scaledChannels(spec, mid)) < params) lo = mid;
    else hi = mid;
  }
  const [a, b] = [scaledChannels(spec, lo), scaledChannels(spec, hi)];
  return Math.abs(parameterCount(spec, a) - params) <= Math.abs(parameterCount(spec, b) - params) ? a : b;
}
