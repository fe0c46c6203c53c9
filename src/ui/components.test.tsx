import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import { idbStorage } from '../state/persistence';
import { createAppStore } from '../state/store';
import { AppProvider } from './context';
import { Header } from './Header';
import { Notices } from './Notices';

/** A store of its own and stub actions: what a component needs, with no engine, no IndexedDB, no singleton. */
function testApp(actions: Partial<Controller> = {}) {
  const store = createAppStore(idbStorage(null, globalThis, null));
  const app = { store, actions: actions as Controller, experiments: {} as ExperimentActions };
  const wrap = (ui: React.ReactNode) => render(<AppProvider value={app}>{ui}</AppProvider>);
  return { store, wrap };
}

afterEach(cleanup);

describe('components render against a test store', () => {
  it('Notices shows the store’s notices, follows changes, and calls the given action to dismiss', () => {
    const dismissNotice = vi.fn();
    const t = testApp({ dismissNotice });
    t.store.setState({ notices: [{ id: 7, level: 'error', text: 'conv1: bad value' }] });
    t.wrap(<Notices />);
    expect(screen.getByTestId('notice').textContent).toContain('conv1: bad value');
    fireEvent.click(screen.getByTestId('dismiss-notice'));
    expect(dismissNotice).toHaveBeenCalledWith(7);
    act(() => t.store.setState({ notices: [] }));
    expect(screen.queryByTestId('notice')).toBeNull();
  });

  it('the header says saving… while a write is pending and saved once it is confirmed', () => {
    const t = testApp();
    t.store.setState({ persistence: 'on', saving: 'saving' });
    t.wrap(<Header />);
    expect(screen.getByTestId('save-status').textContent).toContain('saving…');
    act(() => t.store.setState({ saving: 'saved' }));
    expect(screen.getByTestId('save-status').textContent).toContain('saved');
    act(() => t.store.setState({ persistence: 'off', saving: 'off' }));
    expect(screen.queryByTestId('save-status')).toBeNull();
  });
});
