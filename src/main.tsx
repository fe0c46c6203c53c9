import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { actions } from './state/app';
import { appStore } from './state/store';
import { saveWeightsFile } from './core/io/torchLayout';
import { specFor } from './core/model/zoo';
import './ui/styles.css';

// A small, stable hook for end-to-end tests and the benchmark (the engine lives in a worker).
(window as unknown as { __playground: object }).__playground = {
  tensorCount: actions.tensorCount,
  state: () => appStore.getState(),
  flushSaves: () => appStore.storage.controls.flush(),
  /** The baseline as a safetensors file (PyTorch names and layout), as bytes: `npm run pretrain` saves it. */
  baselineFile: async (metadata: Record<string, string> = {}) => {
    const weights = await actions.readBaseline();
    return Array.from(saveWeightsFile(specFor(weights.model), weights, metadata));
  },
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
void actions.start();
