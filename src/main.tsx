/**
 * The composition root: the one place that creates the store, wires the controller to the real
 * engine worker, fetch, address bar and dialogs, and hands both to the components (ui/context.tsx).
 * src/state imports nothing from src/ui; the components import no singleton.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { fetchBytes } from './core/data/fetchBytes';
import { saveWeightsFile } from './core/io/torchLayout';
import { specFor } from './core/model/zoo';
import { createController } from './state/controller';
import { createExperimentActions } from './state/experiments';
import { loadPretrained } from './state/pretrained';
import { createAppStore } from './state/store';
import { App } from './ui/App';
import { holdElkUntil } from './ui/NetworkView';
import { AppProvider } from './ui/context';
import { download } from './ui/download';
import { EngineClient } from './worker/client';
import './ui/styles.css';

const store = createAppStore();

const actions = createController({
  store,
  makeEngine: () => new EngineClient(),
  fetchBytes,
  loadPretrained,
  writeUrl: (query, push) => (push ? history.pushState(null, '', `?${query}`) : history.replaceState(null, '', `?${query}`)),
  search: location.search,
  confirm: (question) => window.confirm(question),
});

/** Sensitivity scan and method comparison (issue 12). */
const experiments = createExperimentActions({ store, controller: actions, download });

// The network diagram's layout engine waits for the page's first accuracy (the pruned model's, or the
// baseline's) or an engine error: on two cores its download and compile slowed the engine's start-up.
// At most ELK_HOLD_MS: a page whose data never loads still gets its diagram.
const ELK_HOLD_MS = 5000;
holdElkUntil(
  new Promise<void>((resolve) => {
    const settled = (s: ReturnType<typeof store.getState>) => s.preview.status === 'ready' || s.preview.status === 'error' || s.baselineEval !== null || s.engineError !== null;
    const unsubscribe = store.subscribe((s) => {
      if (!settled(s)) return;
      unsubscribe();
      resolve();
    });
    setTimeout(() => {
      unsubscribe();
      resolve();
    }, ELK_HOLD_MS);
  }),
);

// Back/forward between views (the tabs push a history entry each; settings only replace theirs).
window.addEventListener('popstate', () => actions.layoutFromUrl(location.search));

// A tab hidden or closed with writes pending journals them synchronously (persistence.ts).
window.addEventListener('pagehide', () => store.storage.controls.pageHidden());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') store.storage.controls.pageHidden();
});

// A small, stable hook for end-to-end tests and the benchmark (the engine lives in a worker).
(window as unknown as { __playground: object }).__playground = {
  tensorCount: actions.tensorCount,
  state: () => store.getState(),
  flushSaves: () => store.storage.controls.flush(),
  /** The baseline as a safetensors file (PyTorch names and layout), as bytes: `npm run pretrain` saves it. */
  baselineFile: async (metadata: Record<string, string> = {}) => {
    const weights = await actions.readBaseline();
    return Array.from(saveWeightsFile(specFor(weights.model), weights, metadata));
  },
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppProvider value={{ store, actions, experiments }}>
      <App />
    </AppProvider>
  </StrictMode>,
);
void actions.start();
