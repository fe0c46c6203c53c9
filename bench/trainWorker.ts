/// <reference lib="webworker" />
/**
 * Bench worker: trains with the real trainStep in a dedicated worker, as the app's worker does,
 * so the page can measure its longest main-thread task meanwhile.
 */
import { benchTrain, initBackend, loadData } from './benchCore';
import type { ModelId } from '../src/core/model/spec';
import type { BackendName } from '../src/core/backend';

interface Start {
  backend: BackendName | null;
  model?: ModelId;
  threads?: number;
  batch: number;
  warmup: number;
  steps: number;
  base: string;
  kernels?: 'custom' | 'stock';
}

self.onmessage = async (ev: MessageEvent<Start>) => {
  const m = ev.data;
  try {
    const sel = await initBackend(m.backend, m.threads, m.kernels);
    const data = await loadData(m.base);
    self.postMessage({ type: 'ready', selection: sel });
    const result = await benchTrain(data, {
      model: m.model,
      batch: m.batch,
      warmup: m.warmup,
      steps: m.steps,
      onStep: (i, ms) => self.postMessage({ type: 'step', i, ms }),
    });
    self.postMessage({ type: 'done', selection: sel, result });
  } catch (e) {
    self.postMessage({ type: 'error', message: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
  }
};
