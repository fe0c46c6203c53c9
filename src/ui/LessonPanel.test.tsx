import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Controller } from '../state/controller';
import type { ExperimentActions } from '../state/experiments';
import { idbStorage } from '../state/persistence';
import { createAppStore } from '../state/store';
import { lessonStepSettings } from '../state/urlState';
import type { PreviewReply } from '../worker/protocol';
import { AppProvider } from './context';
import { LessonPanel } from './LessonPanel';

function testApp(actions: Partial<Controller> = {}) {
  const store = createAppStore(idbStorage(null, globalThis, null));
  const app = { store, actions: actions as Controller, experiments: {} as ExperimentActions };
  render(
    <AppProvider value={app}>
      <LessonPanel />
    </AppProvider>,
  );
  return store;
}

const ready = (accuracy: number) => ({
  status: 'ready' as const,
  error: null,
  reply: { evaluation: { accuracy, loss: 1, perClass: [], count: 1000 }, costs: null, kept: {}, filters: [], millis: 1 } as unknown as PreviewReply,
});

afterEach(cleanup);

describe('LessonPanel', () => {
  it('lists the lessons when none runs, and starts one at its first step', () => {
    const goToStep = vi.fn();
    testApp({ goToStep });
    fireEvent.click(screen.getByTestId('lesson-start-structure'));
    expect(goToStep).toHaveBeenCalledWith('structure', 1);
  });

  it('reveal: blocked until a choice, waits for the page’s figure, then keeps the verdict on the figure measured', () => {
    const goToStep = vi.fn();
    const store = testApp({ goToStep });
    act(() => store.setState({ settings: lessonStepSettings(store.getState().settings, 'article', 5).settings, preview: { status: 'pending', reply: null, error: null } }));
    const reveal = screen.getByTestId('lesson-reveal') as HTMLButtonElement;
    expect(reveal.disabled).toBe(true);
    fireEvent.click(screen.getByTestId('lesson-choice-3'));
    expect(reveal.disabled).toBe(false);
    fireEvent.click(reveal);
    expect(screen.getByTestId('lesson-waiting').textContent).toBe('Waiting for the pruned model’s accuracy…');
    act(() => store.setState({ preview: ready(0.4125) }));
    const verdict = screen.getByTestId('lesson-verdict');
    expect(verdict.textContent).toContain('Not quite: the page measured 41.3 % test accuracy after pruning, before fine-tuning — “30–45 %”, not “45 % or more”.');
    // The student drags on: the verdict stays on the figure it was judged on.
    act(() => store.setState({ preview: ready(0.1) }));
    expect(screen.getByTestId('lesson-verdict').getAttribute('data-value')).toBe('0.4125');
    // Folding the card away and back keeps the prediction.
    fireEvent.click(screen.getByLabelText('Fold the lesson away'));
    expect(screen.getByTestId('lesson').hidden).toBe(true);
    fireEvent.click(screen.getByTestId('lesson-unfold'));
    expect(screen.getByTestId('lesson-verdict').getAttribute('data-value')).toBe('0.4125');
    fireEvent.click(screen.getByTestId('lesson-next'));
    expect(goToStep).toHaveBeenCalledWith('article', 6);
  });
});
