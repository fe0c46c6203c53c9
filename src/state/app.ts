/**
 * The running page's controller: the real engine worker, fetch, address bar and dialogs wired
 * into the framework-free controller. Components import `actions` from here.
 */
import { fetchBytes } from '../core/data/fetchBytes';
import { EngineClient } from '../worker/client';
import { download } from '../ui/download';
import { createController } from './controller';
import { createExperimentActions } from './experiments';
import { loadPretrained } from './pretrained';
import { appStore } from './store';

export const actions = createController({
  store: appStore,
  makeEngine: () => new EngineClient(),
  fetchBytes,
  loadPretrained,
  writeUrl: (query) => history.replaceState(null, '', `?${query}`),
  search: typeof location === 'undefined' ? '' : location.search,
  confirm: (question) => window.confirm(question),
});

/** Sensitivity scan and method comparison (issue 12): `experiments.runSweep(form)` etc. */
export const experiments = createExperimentActions({ store: appStore, controller: actions, download });

// A tab hidden or closed with writes pending journals them synchronously (persistence.ts).
if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => appStore.storage.controls.pageHidden());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') appStore.storage.controls.pageHidden();
  });
}
