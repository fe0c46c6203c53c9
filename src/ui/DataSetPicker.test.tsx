import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import { idbStorage } from '../state/persistence';
import { createAppStore } from '../state/store';
import { AppProvider } from './context';
import { DataSetPicker } from './DataSetPicker';
import { Notices } from './Notices';

afterEach(cleanup);

describe('DataSetPicker (issue 21)', () => {
  it('picks through the action, shows the download in bytes and images with Cancel, then what is in use; a failure offers Retry', () => {
    const pickData = vi.fn();
    const cancelFullData = vi.fn();
    const retryFullData = vi.fn();
    const store = createAppStore(idbStorage(null, globalThis, null));
    const app = { store, actions: { pickData, cancelFullData, retryFullData } as unknown as Controller, experiments: {} as ExperimentActions };
    render(
      <AppProvider value={app}>
        <DataSetPicker />
        <Notices />
      </AppProvider>,
    );
    expect((screen.getByTestId('data-subset') as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('data-set-picker').textContent).toContain('175.84 MiB download');
    fireEvent.click(screen.getByTestId('data-full'));
    expect(pickData).toHaveBeenCalledWith('full');
    act(() => store.setState((s) => ({ settings: { ...s.settings, data: 'full' }, fullData: { status: 'loading', loaded: 3073 * 12_345, total: 3073 * 60_000, file: 'data_batch_2.bin', error: null } })));
    expect(screen.getByTestId('full-data-progress').textContent).toContain('36.18 MiB of 175.84 MiB · 12,345 of 60,000 images · data_batch_2.bin');
    fireEvent.click(screen.getByTestId('full-data-cancel'));
    expect(cancelFullData).toHaveBeenCalled();
    act(() => store.setState({ fullData: { status: 'ready', loaded: 3073 * 60_000, total: 3073 * 60_000, file: 'test_batch.bin', error: null } }));
    expect(screen.queryByTestId('full-data-progress')).toBeNull();
    expect(screen.getByTestId('full-data-ready').textContent).toContain('50,000 training and 10,000 test');
    act(() =>
      store.setState({
        fullData: { status: 'error', loaded: 0, total: null, file: '', error: 'data_batch_3.bin: HTTP 404 Not Found' },
        notices: [{ id: 1, level: 'error', text: 'The full CIFAR-10 could not be loaded', retry: 'fullData' }],
      }),
    );
    expect(screen.getByTestId('full-data-error').textContent).toContain('data_batch_3.bin: HTTP 404 Not Found');
    fireEvent.click(screen.getByTestId('full-data-retry'));
    expect(retryFullData).toHaveBeenCalled();
  });
});
