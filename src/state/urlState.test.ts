import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, FIELDS, type Settings, formatManual, parseManual, parseSettings, settingsToQuery } from './urlState';

describe('URL settings table', () => {
  it('round-trips any valid settings exactly', () => {
    const arb = fc.record<Settings>({
      model: fc.constantFrom('simplecnn', 'convnet3'),
      baseline: fc.constantFrom('pretrained', 'scratch'),
      method: fc.constantFrom('random', 'l1', 'l2', 'bn', 'manual', 'taylor', 'globalStruct'),
      mode: fc.constantFrom('mask', 'remove', 'global'),
      conv1: fc.double({ min: 0, max: 100, noNaN: true }),
      conv2: fc.integer({ min: 0, max: 100 }),
      conv3: fc.integer({ min: 0, max: 100 }),
      fc1: fc.integer({ min: 0, max: 100 }),
      manual: fc.constantFrom('', '3,17,40', '0;conv2:5,31', 'conv3:63'),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      epochs: fc.integer({ min: 1, max: 100 }),
      ftEpochs: fc.integer({ min: 1, max: 20 }),
      lr: fc.double({ min: 1e-6, max: 1, noNaN: true }),
      batch: fc.integer({ min: 1, max: 1024 }),
      opt: fc.constantFrom('adam', 'sgd'),
      backend: fc.constantFrom('auto', 'webgl', 'wasm', 'cpu'),
      kernels: fc.constantFrom('custom', 'stock'),
      trainSubset: fc.integer({ min: 0, max: 50_000 }),
      taylorBatch: fc.integer({ min: 1, max: 1024 }),
      taylorSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(arb, (drawn) => {
        // Layers the model lacks are not part of its settings (they stay 0 and out of the link).
        const s = drawn.model === 'simplecnn' ? { ...drawn, conv2: 0, conv3: 0, manual: drawn.manual.includes(':') ? '' : drawn.manual } : drawn;
        if (s.model === 'convnet3' && s.manual === '3,17,40') s.manual = '3';
        // The Taylor batch is in the link only when Taylor ranks the sliders.
        if (s.method !== 'taylor') Object.assign(s, { taylorBatch: DEFAULT_SETTINGS.taylorBatch, taylorSeed: DEFAULT_SETTINGS.taylorSeed });
        const back = parseSettings(settingsToQuery(s));
        expect(back.notices).toEqual([]);
        expect(back.settings).toEqual(s);
      }),
    );
  });

  it('uses defaults for an empty query', () => {
    expect(parseSettings('')).toEqual({ settings: DEFAULT_SETTINGS, notices: [] });
  });

  it('reads a shared link', () => {
    const { settings, notices } = parseSettings('?method=l2&mode=remove&conv1=50&fc1=10&seed=7&lr=0.01&opt=sgd');
    expect(notices).toEqual([]);
    expect(settings).toMatchObject({ method: 'l2', mode: 'remove', conv1: 50, fc1: 10, seed: 7, lr: 0.01, opt: 'sgd' });
  });

  it('clamps out-of-range numbers with a notice', () => {
    const { settings, notices } = parseSettings('conv1=150&batch=0&fc1=-5');
    expect(settings.conv1).toBe(100);
    expect(settings.batch).toBe(1);
    expect(settings.fc1).toBe(0);
    expect(notices).toEqual([
      'conv1=150 is outside 0–100; using 100.',
      'fc1=-5 is outside 0–100; using 0.',
      'batch=0 is outside 1–1024; using 1.',
    ]);
  });

  it('ignores bad values and unknown keys with a notice, keeping the rest', () => {
    const { settings, notices } = parseSettings('method=magic&lr=fast&epochs=2.5&conv1=&foo=1&mode=remove');
    expect(settings.method).toBe(DEFAULT_SETTINGS.method);
    expect(settings.lr).toBe(DEFAULT_SETTINGS.lr);
    expect(settings.conv1).toBe(DEFAULT_SETTINGS.conv1);
    expect(settings.epochs).toBe(3);
    expect(settings.mode).toBe('remove');
    expect(notices).toContain('Unknown URL parameter “foo” was ignored.');
    expect(notices).toContain('method=magic is not one of random, l1, l2, bn, manual, taylor, globalStruct; using l1.');
    expect(notices).toContain('lr=fast is not a number; using 0.001.');
    expect(notices).toContain('epochs=2.5 must be a whole number; using 3.');
    expect(notices).toContain('conv1= is not a number; using 0.');
  });

  it('reads kernels=stock (the kill switch), writes it only when set, and reports a bad value like any other', () => {
    expect(parseSettings('kernels=stock')).toEqual({ settings: { ...DEFAULT_SETTINGS, kernels: 'stock' }, notices: [] });
    expect(settingsToQuery({ ...DEFAULT_SETTINGS, kernels: 'stock' })).toContain('kernels=stock');
    expect(settingsToQuery(DEFAULT_SETTINGS)).not.toContain('kernels');
    const bad = parseSettings('kernels=fast');
    expect(bad.settings.kernels).toBe('custom');
    expect(bad.notices).toEqual(['kernels=fast is not one of custom, stock; using custom.']);
  });

    it('declares a field for every setting', () => {
    expect(Object.keys(FIELDS).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
  });
});

describe('per-layer amounts and hand-picked filters', () => {
  it('reads ConvNet-3 layer amounts, and ignores layers a model lacks with a notice', () => {
    const c = parseSettings('model=convnet3&conv2=50&conv3=25');
    expect(c.notices).toEqual([]);
    expect(c.settings).toMatchObject({ model: 'convnet3', conv2: 50, conv3: 25 });
    const s = parseSettings('conv2=50');
    expect(s.settings.conv2).toBe(0);
    expect(s.notices).toEqual(['conv2=50 was ignored: SimpleCNN has no conv2.']);
    expect(settingsToQuery(s.settings)).not.toContain('conv2');
    expect(settingsToQuery(c.settings)).toContain('conv2=50&conv3=25');
  });

  it('parses manual=3,17,40 as conv1 filters, other layers by name, and drops impossible indices', () => {
    expect(parseManual('3,17,40', 'simplecnn')).toEqual({ manual: { conv1: [3, 17, 40] }, problems: [] });
    expect(parseManual('40,3;conv2:31,0', 'convnet3').manual).toEqual({ conv1: [3, 40].filter((j) => j < 16), conv2: [0, 31] });
    expect(parseManual('40,3;conv2:31,0', 'convnet3').problems).toEqual(['manual: conv1 has filters 0–15; 40 was ignored.']);
    expect(parseManual('conv9:1', 'convnet3').problems[0]).toMatch(/conv9:1: expected filter numbers/);
    expect(formatManual({ conv2: [5], conv1: [3, 17] }, 'convnet3')).toBe('3,17;conv2:5');
    const link = parseSettings('method=manual&manual=17,3,40,99');
    expect(link.settings.manual).toBe('3,17,40');
    expect(link.notices).toEqual(['manual: conv1 has filters 0–63; 99 was ignored.']);
    expect(settingsToQuery(link.settings)).toContain('manual=3,17,40');
  });
});
