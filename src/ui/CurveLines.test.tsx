import { cleanup, fireEvent, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CurvePoint } from '../state/types';
import { CurveLines } from './CurveLines';

afterEach(cleanup);

const curve: CurvePoint[] = [
  { step: 0.064, loss: 2.3, trainAcc: 0.1 },
  { step: 0.128, loss: 2.1, trainAcc: 0.2 },
  { step: 0.192, loss: 1.9, trainAcc: 0.25, testAcc: 0.3 },
  { step: 0.256, loss: 1.7, trainAcc: 0.35 },
  { step: 0.32, loss: 1.6, trainAcc: 0.4, testAcc: 0.42 },
];

/** The x coordinates of a path's vertices ("M x,y L x,y …"). */
const xsOf = (d: string) => [...d.matchAll(/[ML]([\d.e-]+),/g)].map((m) => Number(m[1]));

describe('the training curve drawing', () => {
  it('draws loss and train accuracy through every point, test accuracy through the epoch ends, with a dot each', () => {
    const { container } = render(<CurveLines points={curve} />);
    const path = (k: string) => container.querySelector(`path[data-line=${k}]`)?.getAttribute('d') ?? '';
    expect(xsOf(path('loss'))).toHaveLength(5);
    expect(xsOf(path('trainAcc'))).toHaveLength(5);
    expect(xsOf(path('testAcc'))).toHaveLength(2);
    expect(container.querySelectorAll('circle.test-dot')).toHaveLength(2);
    // x grows with the images seen; the highest accuracy is drawn highest (smallest y).
    const xs = xsOf(path('loss'));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    const ys = [...container.querySelectorAll('circle.test-dot')].map((c) => Number(c.getAttribute('cy')));
    expect(ys[1]).toBeLessThan(ys[0]);
    // Axes: thousands of images on x, percentages on the right.
    const texts = [...container.querySelectorAll('text')].map((t) => t.textContent);
    expect(texts).toContain('images seen');
    expect(texts).toContain('100%');
    expect(texts.some((t) => /^0\.\d+k$/.test(t ?? ''))).toBe(true);
  });

  it('draws empty axes without a line when there is no point yet', () => {
    const { container } = render(<CurveLines points={[]} />);
    expect(container.querySelectorAll('path[data-line]')).toHaveLength(0);
    expect(container.querySelector('svg')).not.toBeNull();
  });

  it('reads out the point nearest the pointer', () => {
    const { container, getByTestId } = render(<CurveLines points={curve} />);
    const area = container.querySelector('svg rect[fill=transparent]')!;
    fireEvent.mouseMove(area, { clientX: 10_000, clientY: 10 }); // far right: the last point
    expect(getByTestId('curve-hover').textContent).toContain('test acc 0.420');
    fireEvent.mouseLeave(area);
    expect(container.querySelector('[data-testid=curve-hover]')).toBeNull();
  });
});
