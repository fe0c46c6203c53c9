/**
 * Time left in an experiment, from how long its finished points took. Pure arithmetic so it can be
 * tested without clocks; the runners feed it measured durations.
 */

export interface EtaInput {
  /** Seconds each finished point took, in the order they finished. */
  durations: readonly number[];
  /** Points not started yet (the current one excluded). */
  remaining: number;
  /** The point under way, if any: seconds spent on it and, when known, the fraction of it done (0..1). */
  current?: { elapsed: number; fraction?: number };
}

/** Below this fraction a point's own progress is too noisy to extrapolate from (the first batch pays for setup). */
const MIN_FRACTION = 0.05;

/**
 * Typical seconds per point: the mean of the finished ones, leaving out the first once there are
 * three or more — the first pays for warm-up (shader compilation, uploading the data) that later
 * points do not. Null when nothing has finished.
 */
export function secondsPerPoint(durations: readonly number[]): number | null {
  const usable = durations.length >= 3 ? durations.slice(1) : durations;
  if (usable.length === 0) return null;
  return usable.reduce((a, b) => a + b, 0) / usable.length;
}

/**
 * Estimated seconds left, or null when there is nothing to go on yet (no point finished and the
 * current one's progress unknown or too small). The current point's remainder is extrapolated from
 * its own progress when it has some (a point can be slower than the average: larger network, more
 * epochs), otherwise from the typical time per point. Never negative.
 */
export function estimateSecondsLeft({ durations, remaining, current }: EtaInput): number | null {
  let perPoint = secondsPerPoint(durations);
  let currentLeft = 0;
  if (current) {
    const { elapsed, fraction } = current;
    if (fraction !== undefined && fraction >= MIN_FRACTION && elapsed > 0) {
      const whole = elapsed / Math.min(1, fraction);
      currentLeft = whole - elapsed;
      perPoint ??= whole;
    } else if (perPoint !== null) currentLeft = Math.max(0, perPoint - elapsed);
    else return null;
  }
  if (perPoint === null) return remaining === 0 ? 0 : null;
  return Math.max(0, currentLeft + Math.max(0, remaining) * perPoint);
}

/** "1 min 05 s", "42 s", "—" for unknown: how the progress bar shows an estimate. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${rest} s`;
}
