import type { CurvePoint } from './store';

/**
 * Thins a training curve to at most `max` points for drawing, so a long run re-renders cheaply
 * on every batch. Points that carry a test accuracy (epoch ends) and the last point always stay;
 * the rest are evenly strided.
 */
export function downsampleCurve(points: CurvePoint[], max = 240): CurvePoint[] {
  if (points.length <= max) return points;
  const stride = Math.ceil(points.length / max);
  return points.filter((p, i) => i % stride === 0 || p.testAcc !== undefined || i === points.length - 1);
}
