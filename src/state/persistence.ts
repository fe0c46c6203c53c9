/**
 * Saved work in IndexedDB, through idb-keyval (structured clone: the baseline's Float32Arrays are
 * stored as they are, no JSON). zustand's persist middleware calls setItem on every state change,
 * so writes here are coalesced (one per WRITE_DELAY_MS, the latest state wins) and held back until
 * the controller has read what was saved (`enable()`), so an early change never overwrites it.
 * Failures (no IndexedDB in private mode, quota exceeded) switch persistence off and are reported once.
 */
import { createStore as createIdbStore, del, get, set, type UseStore } from 'idb-keyval';
import type { PersistStorage, StorageValue } from 'zustand/middleware';

export const PERSIST_VERSION = 2;
export const PERSIST_KEY = 'pruning-playground';
const WRITE_DELAY_MS = 400;

export interface PersistControls {
  /** Starts writing (after the saved record was read and merged). */
  enable(): void;
  /** Writes the pending state now (page hide, tests). */
  flush(): Promise<void>;
  /** Called once, with a reason, when saving stops working. */
  onFailure(cb: (reason: string) => void): void;
  readonly failed: string | null;
}

export type ControlledStorage<S> = PersistStorage<S> & { controls: PersistControls };

/** Backing store: idb-keyval by default; tests pass an in-memory map. */
export interface KeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export function idbKeyValue(): KeyValue | null {
  if (typeof indexedDB === 'undefined') return null;
  let db: UseStore | null = null;
  const store = () => (db ??= createIdbStore('pruning-playground', 'state'));
  return { get: (k) => get(k, store()), set: (k, v) => set(k, v, store()), del: (k) => del(k, store()) };
}

export function idbStorage<S>(
  kv: KeyValue | null = idbKeyValue(),
  timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } = globalThis,
): ControlledStorage<S> {
  let enabled = false;
  let failed: string | null = kv ? null : 'this browser gives the page no IndexedDB (private mode?)';
  let failureCb: ((reason: string) => void) | null = null;
  let pending: { name: string; value: StorageValue<S> } | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fail = (e: unknown) => {
    if (failed) return;
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    failed = /quota/i.test(text) ? `the browser's storage is full (${text})` : text;
    failureCb?.(failed);
  };
  const write = async () => {
    timer = null;
    const p = pending;
    pending = null;
    if (!p || failed || !kv) return;
    try {
      await kv.set(p.name, p.value);
    } catch (e) {
      fail(e);
    }
  };
  const controls: PersistControls = {
    enable() {
      enabled = true;
      if (pending && !timer) timer = timers.setTimeout(() => void write(), WRITE_DELAY_MS);
    },
    async flush() {
      if (timer) timers.clearTimeout(timer);
      if (enabled) await write();
    },
    onFailure(cb) {
      failureCb = cb;
      if (failed) cb(failed);
    },
    get failed() {
      return failed;
    },
  };
  return {
    controls,
    async getItem(name) {
      if (!kv || failed) return null;
      try {
        return ((await kv.get(name)) as StorageValue<S> | undefined) ?? null;
      } catch (e) {
        fail(e);
        return null;
      }
    },
    setItem(name, value) {
      pending = { name, value };
      if (enabled && !timer && !failed) timer = timers.setTimeout(() => void write(), WRITE_DELAY_MS);
    },
    async removeItem(name) {
      pending = null;
      if (timer) timers.clearTimeout(timer);
      timer = null;
      if (!kv || failed) return;
      try {
        await kv.del(name);
      } catch (e) {
        fail(e);
      }
    },
  };
}
