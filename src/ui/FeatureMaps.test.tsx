import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Confusion } from './ClassResults';
import { imageFileTo32 } from './FeatureMaps';

afterEach(cleanup);

describe('imageFileTo32', () => {
  it('refuses what is not a PNG or JPEG, naming the file', async () => {
    await expect(imageFileTo32(new File(['hello'], 'notes.txt', { type: 'text/plain' }))).rejects.toThrow('“notes.txt” is not a PNG or JPEG image (text/plain).');
    await expect(imageFileTo32(new File(['GIF89a'], 'a.gif', { type: 'image/gif' }))).rejects.toThrow(/a\.gif.*not a PNG or JPEG/);
  });
});

describe('Confusion', () => {
  it('draws the counts [true][predicted] where they belong', () => {
    const confusion = Array(100).fill(0);
    confusion[0 * 10 + 0] = 7;
    confusion[3 * 10 + 5] = 4; // cats answered as dogs
    render(<Confusion evaluation={{ accuracy: 0.7, loss: 1, perClass: Array(10).fill(0), count: 11, confusion }} />);
    expect(screen.getByTestId('confusion-0-0').textContent).toBe('7');
    expect(screen.getByTestId('confusion-3-5').textContent).toBe('4');
    expect(screen.getByTestId('confusion-3-5').getAttribute('title')).toBe('cat answered as dog: 4');
    expect(screen.getByTestId('confusion-5-3').textContent).toBe('0');
  });
});
