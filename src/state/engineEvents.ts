/**
 * The engine's training events as a pure reducer: (state, event) → the patch to apply. A batch
 * report grows the curve of the model that trains and moves the job's progress; an epoch's end
 * adds its test accuracy — for the baseline also the epoch count and the weights a reload restores
 * if the tab dies mid-training. A backend event (backend=auto's measurement) replaces the backend
 * line. Experiment events belong to experiments.ts.
 */
import type { EngineEvent } from '../worker/protocol';
import type { CurvePoint, State } from './types';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function engineEventPatch(s: State, e: EngineEvent): Partial<State> | null {
  if (e.type === 'experiment') return null;
  if (e.type === 'backend') return { backend: e.info };
  if (e.type === 'scheduleStep') return { scheduleSteps: [...s.scheduleSteps.filter((r) => r.step < e.report.step), e.report] }; // backend=auto: measured figures, or the switch to the measured fastest
  if (e.type === 'batch') {
    const r = e.reports.at(-1);
    if (!r) return null;
    const next = [...(e.role === 'baseline' ? s.baseline.curve : s.prunedCurve)];
    for (const b of e.reports) {
      const prev = next.length ? next[next.length - 1].step : 0;
      next.push({ step: round3(prev + b.size / 1000), loss: b.loss, trainAcc: b.accuracy });
    }
    return {
      job: s.job && {
        ...s.job,
        firstEpoch: s.job.firstEpoch ?? r.epoch,
        epoch: r.epoch - (s.job.firstEpoch ?? r.epoch),
        batch: r.batch + 1,
        batchesPerEpoch: r.batchesPerEpoch,
        imagesPerSecond: r.imagesPerSecond,
      },
      ...(e.role === 'baseline' ? { baseline: { ...s.baseline, curve: next } } : { prunedCurve: next }),
    };
  }
  const withTest = (curve: CurvePoint[]) => {
    const c = curve.slice();
    if (c.length) c[c.length - 1] = { ...c[c.length - 1], testAcc: e.evaluation.accuracy };
    return c;
  };
  if (e.role === 'pruned') return { prunedCurve: withTest(s.prunedCurve) };
  const o = s.baseline.origin;
  const origin = { ...o, epochs: Math.floor(o.epochs) + 1, trainedHere: Math.floor(o.trainedHere) + 1 };
  return { baselineEval: e.evaluation, baseline: { ...s.baseline, origin, curve: withTest(s.baseline.curve), weights: e.weights ?? s.baseline.weights } };
}
