/**
 * How components reach the page's state and actions: through React context, so a component renders
 * against any store (a test's, say) and src/state never imports the UI. main.tsx, the composition
 * root, creates the store and the actions and provides them here.
 */
import { type ReactNode, createContext, useContext } from 'react';
import { useStore as useZustand } from 'zustand';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import type { AppStore } from '../state/store';
import type { State } from '../state/types';

export interface AppContextValue {
  store: AppStore;
  actions: Controller;
  experiments: ExperimentActions;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider({ value, children }: { value: AppContextValue; children: ReactNode }) {
  return <AppContext.Provider value={value}>{children}</AppContext.Provider>;
}

function useApp(): AppContextValue {
  const app = useContext(AppContext);
  if (!app) throw new Error('A component of the playground rendered outside <AppProvider>.');
  return app;
}

/** A slice of the page's state; the component re-renders when it changes. */
export function useStore<T>(selector: (s: State) => T): T {
  return useZustand(useApp().store, selector);
}

/** The store itself, for event handlers that read the latest state. */
export const useAppStore = (): AppStore => useApp().store;

/** The controller's actions (controller.ts). */
export const useActions = (): Controller => useApp().actions;

/** Sensitivity scan and method comparison (experiments.ts). */
export const useExperiments = (): ExperimentActions => useApp().experiments;
