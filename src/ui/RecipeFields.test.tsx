import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import { idbStorage } from '../state/persistence';
import { createAppStore } from '../state/store';
import type { Settings } from '../state/urlState';
import { AppProvider } from './context';
import { RecipeFields } from './RecipeFields';

afterEach(cleanup);

/** A store of its own; setSetting writes into it as the controller's does. */
function testApp() {
  const store = createAppStore(idbStorage(null, globalThis, null));
  const setSetting = <K extends keyof Settings>(k: K, v: Settings[K]) => store.setState({ settings: { ...store.getState().settings, [k]: v } });
  const app = { store, actions: { setSetting } as unknown as Controller, experiments: {} as ExperimentActions };
  render(
    <AppProvider value={app}>
      <RecipeFields />
    </AppProvider>,
  );
  return store;
}

describe('RecipeFields', () => {
  it('sets each recipe setting; Nesterov only with SGD; out-of-range numbers are clamped', () => {
    const store = testApp();
    const s = () => store.getState().settings;
    expect((screen.getByTestId('input-nesterov') as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByTestId('input-aug'));
    expect(s().aug).toBe('on');
    fireEvent.change(screen.getByTestId('input-sched'), { target: { value: 'onecycle' } });
    expect(s().sched).toBe('onecycle');
    fireEvent.change(screen.getByTestId('input-wd'), { target: { value: '0.0005' } });
    expect(s().wd).toBe(0.0005);
    fireEvent.change(screen.getByTestId('input-ls'), { target: { value: '3' } });
    expect(s().ls).toBe(0.5);
    fireEvent.change(screen.getByTestId('input-warmup'), { target: { value: '2' } });
    expect(s().warmup).toBe(2);
    act(() => store.setState({ settings: { ...s(), opt: 'sgd' } }));
    expect((screen.getByTestId('input-nesterov') as HTMLInputElement).disabled).toBe(false);
    fireEvent.click(screen.getByTestId('input-nesterov'));
    expect(s().nesterov).toBe('on');
  });
});
