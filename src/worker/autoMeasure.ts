/**
 * The measured auto's real dependencies, for the engine (engine.worker.ts): the measurement (one
 * worker per backend, measure.worker.ts), the candidates this browser has, and the cache (IndexedDB
 * through idb-keyval, in a database of its own: the saved work's persistence is not touched).
 */
import { createStore, get, set } from 'idb-keyval';
import { type AutoCache, type AutoRecord, type BackendSpeed, type Candidate, MeasurementInterrupted } from '../core/backend/autoBackend';
import type { KernelsChoice } from '../core/backend/kernels';
import { type BackendName, probeWebgl, probeWebgpu } from '../core/backend/selectBackend';
import type { ModelId } from '../core/model/spec';
import type { MeasureRequest } from './measure.worker';

/** A software backend can take minutes on a big model; past this it counts as failed. */
const MEASURE_TIMEOUT_MS = 180_000;

/** Times `backend` in a worker of its own; `signal` (a job started) terminates it with MeasurementInterrupted. */
export function measureInWorker(backend: BackendName, model: ModelId, kernels: KernelsChoice, signal?: AbortSignal): Promise<BackendSpeed> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MeasurementInterrupted());
      return;
    }
    const worker = new Worker(new URL('./measure.worker.ts', import.meta.url), { type: 'module' });
    const onAbort = () => {
      done();
      reject(new MeasurementInterrupted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      worker.terminate();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${backend} took more than ${MEASURE_TIMEOUT_MS / 1000} s`));
    }, MEASURE_TIMEOUT_MS);
    worker.onmessage = (ev: MessageEvent<{ ok: true; speed: BackendSpeed } | { ok: false; error: string }>) => {
      done();
      if (ev.data.ok) resolve(ev.data.speed);
      else reject(new Error(ev.data.error));
    };
    worker.onerror = (ev) => {
      done();
      reject(new Error(`${backend} measurement worker failed: ${ev.message}`));
    };
    worker.postMessage({ backend, model, kernels } satisfies MeasureRequest);
  });
}

/** wasm always; WebGL and WebGPU when this browser has them (software ones marked). */
export async function backendCandidates(): Promise<Candidate[]> {
  const out: Candidate[] = [{ backend: 'wasm' }];
  const gl = probeWebgl();
  if (gl.available) out.push({ backend: 'webgl', software: gl.software });
  const gpu = await probeWebgpu();
  if (gpu.available) out.push({ backend: 'webgpu', software: gpu.software });
  return out;
}

/** IndexedDB database and store of the cached choices (e2e/auto-backend.spec.ts writes one). */
export const AUTO_DB = 'pruning-playground-backend';
export const AUTO_STORE = 'auto';

export function idbAutoCache(): AutoCache {
  const store = createStore(AUTO_DB, AUTO_STORE);
  return {
    get: (key) => get<AutoRecord>(key, store),
    set: (key, record) => set(key, record, store),
  };
}
