/**
 * Whether the SIMD kernels' helper thread pays on this machine, measured on the real workload
 * (issue 19). On the machine the kernels were tuned on, the helper takes ConvNet-3's step from
 * 21 to 13 ms; elsewhere a second vCPU may be a hyperthread of the first, taken by a neighbour, or
 * slow to wake (a futex wake is an IPI, on some hypervisors a VM exit), and then the hand-offs cost
 * more than the second core brings. So the first training steps alternate blocks with and without
 * the helper (paused, not stopped: the calling thread then runs the same chunks in the same order,
 * so the weights do not depend on the choice), and the faster median wins for the rest of the
 * session. The helper stays unless running without it is clearly faster.
 */
export interface HelperDecision {
  helper: boolean;
  /** Median step with and without the helper over the measured steps (ms). */
  withMs: number;
  withoutMs: number;
  /** Steps measured on each side. */
  steps: number;
}

export interface HelperTunerOptions {
  /** Steps before measuring (first steps compile and allocate). */
  warmup: number;
  /** Steps per block; blocks alternate with, without, with, … */
  block: number;
  /** Blocks in all (even: as many with as without). */
  blocks: number;
  /** Without the helper must be faster than (1 − margin) × with it to switch it off. */
  margin: number;
}

const DEFAULTS: HelperTunerOptions = { warmup: 2, block: 2, blocks: 6, margin: 0.05 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export class HelperTuner {
  private readonly o: HelperTunerOptions;
  private readonly withHelper: number[] = [];
  private readonly without: number[] = [];
  private seen = 0;
  decision: HelperDecision | null = null;

  constructor(options: Partial<HelperTunerOptions> = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** Whether the next step should run with the helper. */
  wantHelper(): boolean {
    if (this.decision) return this.decision.helper;
    if (this.seen < this.o.warmup) return true;
    return Math.floor((this.seen - this.o.warmup) / this.o.block) % 2 === 0;
  }

  /** The step just run (as wantHelper() said) took `ms`; steps of another size (an epoch's last) are skipped by the caller. */
  record(ms: number): HelperDecision | null {
    if (this.decision) return this.decision;
    if (this.seen >= this.o.warmup) (this.wantHelper() ? this.withHelper : this.without).push(ms);
    this.seen++;
    if (this.seen >= this.o.warmup + this.o.block * this.o.blocks) {
      const withMs = median(this.withHelper);
      const withoutMs = median(this.without);
      this.decision = { helper: !(withoutMs < (1 - this.o.margin) * withMs), withMs, withoutMs, steps: this.withHelper.length };
    }
    return this.decision;
  }
}
