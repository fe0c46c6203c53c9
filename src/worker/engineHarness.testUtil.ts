/**
 * The engine driven directly in unit tests (cpu backend, no worker): the shipped test images, every
 * event it sent, a numbered `send`, and `job` for requests the worker would queue as a job (a Cancel
 * from before belongs to an earlier job).
 */
import { readFileSync } from 'node:fs';
import { type Cifar10Set, parseCifar10, takeFirst } from '../core/data/cifar10';
import { Engine } from './engine';
import type { EngineEvent, ExperimentEvent } from './protocol';

/** The first `count` of the shipped 1,000 test images (real CIFAR-10). */
export function shippedTestImages(count: number): Cifar10Set {
  const file = new URL('../../public/data/cifar10/test_1000.bin', import.meta.url);
  return takeFirst(parseCifar10(new Uint8Array(readFileSync(file)), 'test_1000.bin'), count);
}

export function engineHarness() {
  const events: EngineEvent[] = [];
  const h = {
    events,
    /** Runs after every event, synchronously (lets a test cancel at a chosen moment); reset it after use. */
    onEvent: (() => {}) as (e: EngineEvent) => void,
    engine: null as unknown as Engine,
    /** The next request number (send uses it; a preview must be announced with it: engine.notePreview). */
    nextId: () => ++seq,
    send: (req: Parameters<Engine['handle']>[0]) => h.engine.handle(req, h.nextId()),
    job: <R>(req: Parameters<Engine['handle']>[0]) => (h.engine.noteJobQueued(), h.send(req) as Promise<R>),
    experimentEvents: () => events.filter((e): e is ExperimentEvent => e.type === 'experiment'),
  };
  let seq = 0;
  h.engine = new Engine((e) => {
    events.push(e);
    h.onEvent(e);
  });
  return h;
}
