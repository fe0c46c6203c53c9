/**
 * The page's handle on the engine worker: typed promise-based requests plus a stream of events.
 */
import { type Api, type EngineEvent, type ReplyOf, type RequestType, SUPERSEDED, type WorkerMessage } from './protocol';

/** A request the engine dropped because a newer one of the same kind replaced it. */
export class SupersededRequest extends Error {
  constructor(message = SUPERSEDED) {
    super(message);
    this.name = 'SupersededRequest';
  }
}

/** What the page needs from an engine; the controller's tests pass a fake. */
export interface EngineLink {
  request<K extends RequestType>(type: K, body: Api[K]['req'], transfer?: Transferable[]): Promise<ReplyOf<K>>;
  onEvent(listener: (e: EngineEvent) => void): () => void;
}

export class EngineClient implements EngineLink {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Set<(e: EngineEvent) => void>();

  constructor() {
    this.worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      const m = ev.data;
      if ('event' in m) {
        for (const l of this.listeners) l(m.event);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(m.superseded ? new SupersededRequest(m.error) : new Error(m.error));
    };
    this.worker.onerror = (ev) => {
      const err = new Error(`engine worker failed: ${ev.message}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  request<K extends RequestType>(type: K, body: Api[K]['req'], transfer: Transferable[] = []): Promise<ReplyOf<K>> {
    const id = this.nextId++;
    return new Promise<ReplyOf<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req: { ...body, type } }, transfer);
    });
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
