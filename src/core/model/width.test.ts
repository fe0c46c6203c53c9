import { describe, expect, it } from 'vitest';
import { fullChannels, parameterCount } from './spec';
import { scaledChannels, uniformWidthFor } from './width';
import { convNet3, resnet20, simpleCnn } from './zoo';

describe('uniformWidthFor: the evenly narrowed model with a given parameter count', () => {
  it('the full count gives the full model; half the count gives about half', () => {
    for (const spec of [simpleCnn, convNet3, resnet20]) {
      expect(uniformWidthFor(spec, parameterCount(spec))).toEqual(fullChannels(spec));
      const half = Math.round(parameterCount(spec) / 2);
      const ch = uniformWidthFor(spec, half);
      const p = parameterCount(spec, ch);
      // No other width factor comes closer.
      for (let r = 0.05; r <= 1; r += 0.01) expect(Math.abs(p - half)).toBeLessThanOrEqual(Math.abs(parameterCount(spec, scaledChannels(spec, r)) - half));
      expect(Math.abs(p - half) / half).toBeLessThan(0.1);
    }
  });

  it('ConvNet-3 at 16,000 parameters: every layer narrowed by the same factor', () => {
    const ch = uniformWidthFor(convNet3, 16_000);
    const r = ch.map((c, i) => c / fullChannels(convNet3)[i]);
    for (const x of r) expect(Math.abs(x - r[2])).toBeLessThan(0.05);
  });
});
