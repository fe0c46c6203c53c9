/// <reference lib="webworker" />
/**
 * One backend's measurement for the measured auto, in a worker of its own (made and terminated by
 * autoMeasure.ts): it starts the backend as the engine would (selectBackend, installKernels), times
 * the model (measureSpeed.ts) and answers once. A worker per backend keeps the engine's tfjs and
 * memory untouched and frees the backend's memory (GPU buffers, wasm heap) when it ends.
 */
import { type KernelsChoice, installKernels, kernelsPrecheck } from '../core/backend/kernels';
import { type BackendName, selectBackend } from '../core/backend/selectBackend';
import type { ModelId } from '../core/model/spec';
import { measureSpeed } from './measureSpeed';

declare const self: DedicatedWorkerGlobalScope;

export interface MeasureRequest {
  backend: BackendName;
  model: ModelId;
  kernels: KernelsChoice;
}

self.onmessage = async (ev: MessageEvent<MeasureRequest>) => {
  const { backend, model, kernels } = ev.data;
  try {
    const sel = await selectBackend(backend, { tfjsPatches: kernelsPrecheck({ kernels }) === null });
    if (sel.backend !== backend) throw new Error(`${backend} did not initialise (${sel.reason})`);
    await installKernels({ kernels });
    const speed = await measureSpeed(model);
    const software = /software/.test(sel.reason);
    const detail = backend === 'wasm' && sel.threads ? `${sel.threads} thread${sel.threads > 1 ? 's' : ''}` : software ? '(software)' : undefined;
    self.postMessage({ ok: true, speed: { ...speed, ...(detail ? { detail } : {}) } });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
