import { describe, expect, it } from 'vitest';
import { idbStorage } from './persistence';
import { createShared } from './shared';
import { createAppStore } from './store';
import type { PreviewReply } from '../worker/protocol';

function ctx() {
  const store = createAppStore(idbStorage(null, globalThis, null));
  const shared = createShared({
    store,
    makeEngine: () => {
      throw new Error('no engine in this test');
    },
    fetchBytes: async () => new Uint8Array(),
    loadPretrained: async () => null,
    writeUrl: () => {},
    search: '',
    confirm: () => true,
  });
  return { store, shared, get: store.getState };
}

const reply = { evaluation: { accuracy: 0.4 } } as unknown as PreviewReply;
const evaluation = { accuracy: 0.5, loss: 1, perClass: [], count: 10 };

describe('baselineChanged(): the one baseline transition', () => {
  it('resets the pruned view, makes a pending preview stale and an evaluation in flight stale', () => {
    const t = ctx();
    t.store.setState({ preview: { status: 'ready', reply, error: null }, finetunedEval: evaluation, prunedCurve: [{ step: 1 }], prunedEpochs: 2 });
    const ticket = t.shared.newPreviewTicket();
    const version = t.shared.baselineVersion();
    t.shared.baselineChanged();
    expect(t.get().preview).toEqual({ status: 'idle', reply: null, error: null });
    expect([t.get().finetunedEval, t.get().prunedCurve, t.get().prunedEpochs]).toEqual([null, [], 0]);
    expect(t.shared.isCurrentPreview(ticket)).toBe(false);
    expect(t.shared.baselineVersion()).not.toBe(version);
  });

  it('applies the caller’s patch in the same update, and leaves the baseline’s own accuracy alone unless asked', () => {
    const t = ctx();
    t.store.setState({ baselineEval: evaluation });
    const updates: unknown[] = [];
    t.store.subscribe((s) => updates.push(s.baseline.trainingUntil));
    t.shared.baselineChanged({ baseline: { ...t.get().baseline, trainingUntil: 3 } });
    expect(updates).toEqual([3]);
    expect(t.get().baselineEval).toBe(evaluation);
    t.shared.baselineChanged({ baselineEval: null });
    expect(t.get().baselineEval).toBeNull();
  });

  it('a new preview ticket makes the older one stale; only the newest answer may show', () => {
    const t = ctx();
    const first = t.shared.newPreviewTicket();
    const second = t.shared.newPreviewTicket();
    expect([t.shared.isCurrentPreview(first), t.shared.isCurrentPreview(second)]).toEqual([false, true]);
  });
});

describe('refuseWhileBusy(): one job guard, one behaviour', () => {
  it('lets an action run when no job runs, and says nothing', () => {
    const t = ctx();
    expect(t.shared.refuseWhileBusy('The model cannot change')).toBe(false);
    expect(t.get().notices).toEqual([]);
  });

  it('refuses while training runs or an experiment runs, saying why, as an info notice', () => {
    const t = ctx();
    const job = { role: 'baseline' as const, epochs: 1, epoch: 0, firstEpoch: null, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, cancelling: false };
    t.store.setState({ job });
    expect(t.shared.refuseWhileBusy('The model cannot change')).toBe(true);
    expect(t.get().notices.at(-1)).toMatchObject({ level: 'info', text: 'The model cannot change while training runs; cancel it or wait for it to finish.' });
    t.store.setState({ job: { ...job, role: 'experiment' } });
    expect(t.shared.refuseWhileBusy('Fine-tuning cannot start')).toBe(true);
    expect(t.get().notices.at(-1)?.text).toBe('Fine-tuning cannot start while an experiment is already running; cancel it or wait for it to finish.');
  });
});
