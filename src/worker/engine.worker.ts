/// <reference lib="webworker" />
/**
 * Worker entry: runs requests one at a time (TensorFlow.js work must not interleave), except
 * cancel, which answers at once so Cancel works while a job runs.
 */
import { MeasuredAuto } from '../core/backend/autoBackend';
import { probeWebglEarly } from '../core/backend/selectBackend';
import { backendCandidates, idbAutoCache, measureInWorker } from './autoMeasure';
import { Engine, SupersededError } from './engine';
import type { Request, WorkerMessage } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: WorkerMessage) => self.postMessage(m);
let queue: Promise<void> = Promise.resolve();
const cache = idbAutoCache();
const engine: Engine = new Engine((event) => post({ event }), {
  // backend=auto: each backend timed in a worker of its own, the choice cached in IndexedDB.
  // Timed only while no job runs (a job aborts a measurement under way: engine.activity).
  make: (kernels) =>
    new MeasuredAuto({
      cache,
      candidates: backendCandidates,
      measure: (backend) => measureInWorker(backend, engine.modelId, kernels, engine.activity.signal),
      whenIdle: () => engine.activity.whenIdle(),
    }),
  userAgent: navigator.userAgent,
  schedule: (job) => {
    queue = queue.then(job);
  },
});

async function run(id: number, req: Request): Promise<void> {
  try {
    const result = await engine.handle(req, id);
    post({ id, ok: true, result });
  } catch (e) {
    const superseded = e instanceof SupersededError;
    post({ id, ok: false, error: e instanceof Error ? e.message : String(e), superseded });
  }
}

// The WebGL probe of the first selectBackend, now: no request can be handled before this module ends.
probeWebglEarly();

self.onmessage = (ev: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = ev.data;
  if (Engine.isImmediate(req)) {
    void run(id, req);
    return;
  }
  if (req.type === 'preview') engine.notePreview(id);
  if (Engine.isJob(req)) engine.noteJobQueued();
  queue = queue.then(() => run(id, req));
};
