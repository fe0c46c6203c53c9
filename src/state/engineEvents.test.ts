import { describe, expect, it } from 'vitest';
import { simpleCnn } from '../core/model/zoo';
import { randomWeights } from '../core/pruning/testUtil';
import type { BatchReport } from '../core/train/trainer';
import { engineEventPatch } from './engineEvents';
import { initialState } from './store';
import type { State } from './types';

const report = (epoch: number, batch: number, size = 64): BatchReport =>
  ({ epoch, batch, batchesPerEpoch: 4, size, loss: 2 - batch / 10, accuracy: 0.1 * batch, imagesPerSecond: 500 }) as BatchReport;
const evaluation = { accuracy: 0.42, loss: 1.6, perClass: Array(10).fill(0.42), count: 1000 };

function training(role: 'baseline' | 'pruned'): State {
  const s = initialState();
  return { ...s, job: { role, epochs: 2, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false } };
}

describe('engineEventPatch: the engine’s training events as a pure reducer', () => {
  it('batch reports grow the training model’s curve (images in thousands) and move the job, counting epochs from the first report', () => {
    const s = training('baseline');
    s.baseline = { ...s.baseline, origin: { ...s.baseline.origin, epochs: 3 } };
    const a = { ...s, ...engineEventPatch(s, { type: 'batch', role: 'baseline', reports: [report(3, 0), report(3, 1)] }) };
    expect(a.baseline.curve.map((p) => p.step)).toEqual([0.064, 0.128]);
    expect(a.job).toMatchObject({ firstEpoch: 3, epoch: 0, batch: 2, batchesPerEpoch: 4 });
    const b = { ...a, ...engineEventPatch(a, { type: 'batch', role: 'baseline', reports: [report(4, 0, 32)] }) };
    expect(b.job).toMatchObject({ firstEpoch: 3, epoch: 1, batch: 1 });
    expect(b.baseline.curve.at(-1)?.step).toBe(0.16);
    expect(b.prunedCurve).toEqual([]);
    expect(s.baseline.curve).toEqual([]); // the old state is untouched
  });

  it('the pruned model’s reports go to its own curve', () => {
    const s = training('pruned');
    const p = engineEventPatch(s, { type: 'batch', role: 'pruned', reports: [report(0, 0)] })!;
    expect(p.prunedCurve).toHaveLength(1);
    expect(p).not.toHaveProperty('baseline');
  });

  it('a baseline epoch adds its test accuracy, counts the epoch (also after a cancelled fraction) and keeps its weights', () => {
    const s = training('baseline');
    s.baseline = { ...s.baseline, curve: [{ step: 0.064, loss: 2 }], origin: { ...s.baseline.origin, epochs: 2.5, trainedHere: 0.5 } };
    const weights = randomWeights(simpleCnn, 1);
    const p = engineEventPatch(s, { type: 'epoch', role: 'baseline', epoch: 2, trainLoss: 1.5, evaluation, weights })!;
    expect(p.baseline?.curve.at(-1)).toEqual({ step: 0.064, loss: 2, testAcc: 0.42 });
    expect(p.baseline?.origin).toMatchObject({ epochs: 3, trainedHere: 1 });
    expect(p.baseline?.weights).toBe(weights);
    expect(p.baselineEval).toBe(evaluation);
  });

  it('a pruned epoch only marks its curve; experiment events and empty reports change nothing', () => {
    const s = { ...training('pruned'), prunedCurve: [{ step: 1 }] };
    expect(engineEventPatch(s, { type: 'epoch', role: 'pruned', epoch: 0, trainLoss: 1, evaluation })).toEqual({ prunedCurve: [{ step: 1, testAcc: 0.42 }] });
    expect(engineEventPatch(s, { type: 'batch', role: 'pruned', reports: [] })).toBeNull();
    expect(engineEventPatch(s, { type: 'experiment', kind: 'sweep' })).toBeNull();
  });
});

describe('engineEventPatch: a scheduled run’s steps', () => {
  it('appends each step report (a repeated step replaces its own)', () => {
    const s = training('pruned');
    const r = (step: number, acc: number) => ({ step, of: 3, sparsities: { conv1: 0.5 }, costs: {} as never, before: evaluation, after: { ...evaluation, accuracy: acc }, epochs: 1, cancelled: false });
    const a = { ...s, ...engineEventPatch(s, { type: 'scheduleStep', report: r(1, 0.3) }) };
    const b = { ...a, ...engineEventPatch(a, { type: 'scheduleStep', report: r(2, 0.4) }) };
    expect(b.scheduleSteps.map((x) => x.step)).toEqual([1, 2]);
    expect(b.baseline).toBe(s.baseline); // not mistaken for an epoch event
    const c = { ...b, ...engineEventPatch(b, { type: 'scheduleStep', report: r(1, 0.5) }) };
    expect(c.scheduleSteps.map((x) => x.after.accuracy)).toEqual([0.5]);
  });
});
