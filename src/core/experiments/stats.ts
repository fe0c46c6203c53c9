/**
 * Error bars and "is the gap real?" for the method comparison. Means and sample standard deviations
 * come from simple-statistics, the two-sided p-value from stdlib's Student-t CDF — well-kept packages,
 * not hand code. The paired t statistic is mean(d) / (sd(d) / √n) over the per-seed differences d,
 * assembled from those parts rather than simple-statistics' tTest: that one divides by the population
 * standard deviation (n, not n − 1), which overstates t badly at 3 seeds (13.0 → 15.9; scipy's
 * ttest_rel and R's t.test use n − 1, and the tests check against scipy). Paired, because seed k of every criterion shares its fine-tuning order (sweep.ts): the seed's
 * own luck cancels in the difference, which a two-sample test would count as noise.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { max, mean, min, sampleStandardDeviation } from 'simple-statistics';
import { CRITERION_LABELS, type Criterion } from './common';
import type { SweepPoint } from './sweep';

/** Which accuracy to compare: after fine-tuning (the default) or straight after pruning. */
export type AccuracyField = 'accAfter' | 'accBefore';

/** The seeds of one (criterion, sparsity): a mean line and a ±1 sd band. */
export interface SweepSummary {
  criterion: Criterion;
  sparsity: number;
  n: number;
  seeds: number[];
  /** Of accAfter. sd is the sample standard deviation (n − 1), null when n < 2. */
  mean: number;
  sd: number | null;
  min: number;
  max: number;
  /** Of accBefore (the dashed lines). */
  meanBefore: number;
  sdBefore: number | null;
  /** Costs, averaged over the seeds (they differ only where Random's choice meets exact zeros). */
  params: number;
  nonzeroParams: number;
  macs: number;
}

const sd = (xs: number[]): number | null => (xs.length >= 2 ? sampleStandardDeviation(xs) : null);

/** One summary per (criterion, sparsity) present, ordered by sparsity then criterion as first seen. */
export function summarize(points: readonly SweepPoint[]): SweepSummary[] {
  const groups = new Map<string, SweepPoint[]>();
  for (const p of points) {
    const k = `${p.sparsity}|${p.criterion}`;
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  return [...groups.values()]
    .map((g) => {
      const after = g.map((p) => p.accAfter);
      const before = g.map((p) => p.accBefore);
      return {
        criterion: g[0].criterion,
        sparsity: g[0].sparsity,
        n: g.length,
        seeds: g.map((p) => p.seed),
        mean: mean(after),
        sd: sd(after),
        min: min(after),
        max: max(after),
        meanBefore: mean(before),
        sdBefore: sd(before),
        params: mean(g.map((p) => p.params)),
        nonzeroParams: mean(g.map((p) => p.nonzeroParams)),
        macs: mean(g.map((p) => p.macs)),
      };
    })
    .sort((a, b) => a.sparsity - b.sparsity);
}

/** A paired comparison of criteria a and b at one sparsity, over the seeds both have. */
export interface PairedComparison {
  a: Criterion;
  b: Criterion;
  sparsity: number;
  field: AccuracyField;
  /** Seeds measured for both, ascending. */
  seeds: number[];
  n: number;
  /** Mean of (a − b) over the shared seeds, in accuracy units (0.023 = 2.3 points); null when n = 0. */
  meanDiff: number | null;
  /** Sample standard deviation of the differences; null when n < 2. */
  sdDiff: number | null;
  /** Paired t statistic, degrees of freedom (n − 1) and two-sided p; null when no test is possible (n < 2). */
  t: number | null;
  df: number | null;
  p: number | null;
  /** Who is ahead on the mean; 'tie' when the mean difference is exactly 0 (or nothing is shared). */
  ahead: Criterion | 'tie';
  /** The gap is larger than the seeds' spread: p < alpha (or an identical nonzero gap on every seed). */
  beyondSpread: boolean;
  /** A plain sentence for the table. */
  verdict: string;
}

export interface CompareOptions {
  field?: AccuracyField;
  /** Threshold for "larger than the seeds' spread". Default 0.05. */
  alpha?: number;
}

/** "2.3 points" from an accuracy difference (percentage points; two decimals when under 0.1). */
export function formatPoints(diff: number): string {
  const pts = Math.abs(diff) * 100;
  const s = pts < 0.1 && pts > 0 ? pts.toFixed(2) : pts.toFixed(1);
  return `${s} points`;
}

/** "p = 0.03", "p = 0.41", "p < 0.001". */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p >= 0.995 ? '1' : p.toPrecision(p < 0.01 ? 1 : 2).replace(/\.?0+$/, '')}`;
}

/**
 * Paired t-test of a against b at `sparsity`. With one shared seed there is a difference but no
 * spread to judge it by, so no test: the verdict says so. When the differences have no spread at all
 * (every seed shows the same gap) t is infinite: a nonzero gap counts as beyond the spread, p = 0.
 */
export function pairedComparison(points: readonly SweepPoint[], a: Criterion, b: Criterion, sparsity: number, o: CompareOptions = {}): PairedComparison {
  const field = o.field ?? 'accAfter';
  const alpha = o.alpha ?? 0.05;
  const at = (c: Criterion) => new Map(points.filter((p) => p.criterion === c && p.sparsity === sparsity).map((p) => [p.seed, p[field]]));
  const pa = at(a);
  const pb = at(b);
  const seeds = [...pa.keys()].filter((s) => pb.has(s)).sort((x, y) => x - y);
  const diffs = seeds.map((s) => pa.get(s)! - pb.get(s)!);
  const n = diffs.length;
  const A = CRITERION_LABELS[a];
  const B = CRITERION_LABELS[b];
  const base = { a, b, sparsity, field, seeds, n };
  if (n === 0)
    return { ...base, meanDiff: null, sdDiff: null, t: null, df: null, p: null, ahead: 'tie', beyondSpread: false, verdict: `${A} and ${B} share no seeds: nothing to compare.` };
  const m = mean(diffs);
  const ahead: Criterion | 'tie' = m > 0 ? a : m < 0 ? b : 'tie';
  const lead = m > 0 ? `${A} ahead of ${B}` : `${B} ahead of ${A}`;
  const gap = `${lead} by ${formatPoints(m)}`;
  if (n === 1) {
    const what = m === 0 ? `${A} and ${B} equal on the one shared seed` : `${gap} on the one shared seed`;
    return { ...base, meanDiff: m, sdDiff: null, t: null, df: null, p: null, ahead, beyondSpread: false, verdict: `${what}; no test possible with fewer than 2 seeds.` };
  }
  const s = sampleStandardDeviation(diffs);
  const df = n - 1;
  if (s === 0) {
    // t would divide by zero; say what the data shows instead.
    if (m === 0) return { ...base, meanDiff: 0, sdDiff: 0, t: 0, df, p: 1, ahead, beyondSpread: false, verdict: `${A} and ${B} identical on all ${n} seeds.` };
    return { ...base, meanDiff: m, sdDiff: 0, t: m > 0 ? Infinity : -Infinity, df, p: 0, ahead, beyondSpread: true, verdict: `${gap} on every one of the ${n} seeds alike; larger than the seeds' spread (there is none).` };
  }
  const t = m / (s / Math.sqrt(n));
  const p = Math.min(1, 2 * tCdf(-Math.abs(t), df)); // the lower tail keeps precision for large |t|
  const beyondSpread = p < alpha;
  const verdict =
    ahead === 'tie'
      ? `${A} and ${B} level on average; within the seeds' spread (${formatP(p)}).`
      : `${gap}; ${beyondSpread ? "larger than the seeds' spread" : "within the seeds' spread"} (${formatP(p)}).`;
  return { ...base, meanDiff: m, sdDiff: s, t, df, p, ahead, beyondSpread, verdict };
}

/** One row of the table: the criteria ranked by mean at a sparsity, and the leader against the runner-up and each other criterion. */
export interface SparsityVerdict {
  sparsity: number;
  /** Best mean first. */
  ranking: SweepSummary[];
  leader: Criterion | null;
  /** Leader vs each other criterion, in ranking order; the first is the one the table states. */
  comparisons: PairedComparison[];
  verdict: string;
}

/** The table under the chart: at each sparsity, which criterion is ahead and whether the gap beats the seeds' spread. */
export function comparisonTable(points: readonly SweepPoint[], o: CompareOptions = {}): SparsityVerdict[] {
  const field = o.field ?? 'accAfter';
  const summaries = summarize(points);
  const sparsities = [...new Set(summaries.map((s) => s.sparsity))];
  const key = (s: SweepSummary) => (field === 'accAfter' ? s.mean : s.meanBefore);
  return sparsities.map((sparsity) => {
    const ranking = summaries.filter((s) => s.sparsity === sparsity).sort((x, y) => key(y) - key(x));
    const leader = ranking[0]?.criterion ?? null;
    const comparisons = leader ? ranking.slice(1).map((s) => pairedComparison(points, leader, s.criterion, sparsity, o)) : [];
    const verdict = comparisons[0]?.verdict ?? (leader ? `Only ${CRITERION_LABELS[leader]} was measured.` : 'Nothing measured.');
    return { sparsity, ranking, leader, comparisons, verdict };
  });
}
