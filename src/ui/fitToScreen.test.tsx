import { cleanup, render } from '@testing-library/react';
import { useRef } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fitHeight, useFitToScreen } from './fitToScreen';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('fitHeight: the rest of the first screen below a box', () => {
  it('is the window height less the box’s top and the gap, floored', () => {
    expect(fitHeight({ top: 480.6, viewport: 800, gap: 20, min: 160 })).toBe(299);
  });
  it('never goes below min (a short window scrolls the page instead)', () => {
    expect(fitHeight({ top: 700, viewport: 800, gap: 20, min: 160 })).toBe(160);
    expect(fitHeight({ top: 1200, viewport: 800, gap: 20, min: 160 })).toBe(160);
  });
});

function Box({ off }: { off: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useFitToScreen(ref, { gap: 20, min: 160, off });
  return <div ref={ref} data-testid="box" />;
}

/** A wide (or narrow) window 800 px tall, the box 500 px down the page. */
function stage(wide: boolean) {
  vi.stubGlobal('innerHeight', 800);
  vi.stubGlobal('matchMedia', (q: string) => ({ matches: wide && q.includes('min-width'), media: q }));
  vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockReturnValue({ top: 500, left: 0, right: 0, bottom: 0, width: 0, height: 0, x: 0, y: 500, toJSON: () => ({}) });
}

describe('useFitToScreen', () => {
  it('caps the box at what is left of the screen when the prune view has two columns', () => {
    stage(true);
    const r = render(<Box off={false} />);
    expect(r.getByTestId('box').style.maxHeight).toBe('280px');
  });
  it('leaves the box uncapped at phone width and when turned off (presenter), and lifts a cap it set', () => {
    stage(false);
    expect(render(<Box off={false} />).getByTestId('box').style.maxHeight).toBe('');
    cleanup();
    stage(true);
    const r = render(<Box off={false} />);
    expect(r.getByTestId('box').style.maxHeight).toBe('280px');
    r.rerender(<Box off={true} />);
    expect(r.getByTestId('box').style.maxHeight).toBe('');
  });
  it('measures again a frame after a re-render, never inside the render’s commit (a forced layout of the page per slider input)', async () => {
    stage(true);
    const r = render(<Box off={false} />);
    const measured = vi.mocked(HTMLElement.prototype.getBoundingClientRect);
    const before = measured.mock.calls.length;
    r.rerender(<Box off={false} />);
    expect(measured.mock.calls.length).toBe(before);
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    expect(measured.mock.calls.length).toBe(before + 1);
    expect(r.getByTestId('box').style.maxHeight).toBe('280px');
  });
});
