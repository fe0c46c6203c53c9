import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trainConfigOf } from './shared';
import { DEFAULT_SETTINGS, FIELDS, type Settings, amountKeysOf, formatManual, migrateSettings, parseManual, parseSettings, recipeOf, settingsToQuery, zeroAmounts } from './urlState';

describe('URL settings table', () => {
  it('round-trips any valid settings exactly', () => {
    const arb = fc.record<Omit<Settings, 'amounts'> & { conv1: number; conv2: number; conv3: number; fc1: number }>({
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
      schedule: fc.constantFrom('oneshot', 'iterative', 'agp'),
      steps: fc.integer({ min: 2, max: 10 }),
      aug: fc.constantFrom('off', 'on'),
      nesterov: fc.constantFrom('off', 'on'),
      wd: fc.double({ min: 0, max: 0.1, noNaN: true }),
      sched: fc.constantFrom('constant', 'cosine', 'onecycle'),
      warmup: fc.double({ min: 0, max: 100, noNaN: true }),
      ls: fc.double({ min: 0, max: 0.5, noNaN: true }),
      taylorBatch: fc.integer({ min: 1, max: 1024 }),
      taylorSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      data: fc.constantFrom('subset', 'full'),
      lesson: fc.constantFrom('', 'article', 'structure'),
      step: fc.integer({ min: 1, max: 7 }),
    });
    fc.assert(
      fc.property(arb, ({ conv1, conv2, conv3, fc1, ...drawn }) => {
        // Layers the model lacks are not part of its settings (they stay 0 and out of the link).
        const s: Settings =
          drawn.model === 'simplecnn'
            ? { ...drawn, amounts: { conv1, fc1 }, manual: drawn.manual.includes(':') ? '' : drawn.manual }
            : { ...drawn, amounts: { conv1, conv2, conv3, fc1 } };
        if (s.model === 'convnet3' && s.manual === '3,17,40') s.manual = '3';
        if (s.schedule === 'oneshot') s.steps = DEFAULT_SETTINGS.steps; // one-shot writes no steps
        if (s.lesson === '') s.step = 1; // no lesson, no step in the link
        // The Taylor batch is in the link only when Taylor ranks the sliders.
        if (s.method !== 'taylor') Object.assign(s, { taylorBatch: DEFAULT_SETTINGS.taylorBatch, taylorSeed: DEFAULT_SETTINGS.taylorSeed });
        const back = parseSettings(settingsToQuery(s));
        expect(back.notices).toEqual([]);
        expect(back.settings).toEqual(s);
      }),
    );
  });

  it('the training recipe: in the link only when changed, read back, bad values reported', () => {
    expect(settingsToQuery(DEFAULT_SETTINGS)).not.toMatch(/aug=|nesterov=|wd=|sched=|warmup=|ls=/);
    const q = settingsToQuery({ ...DEFAULT_SETTINGS, opt: 'sgd', aug: 'on', nesterov: 'on', wd: 5e-4, sched: 'cosine', warmup: 2, ls: 0.1 });
    expect(q).toMatch(/&aug=on&nesterov=on&wd=0\.0005&sched=cosine&warmup=2&ls=0\.1$/);
    expect(recipeOf(parseSettings(q).settings)).toEqual({ augment: true, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', warmupEpochs: 2, labelSmoothing: 0.1 });
    // Baseline training and fine-tuning get it (the config sent to the engine).
    expect(trainConfigOf(parseSettings(q).settings, 3).recipe).toEqual(recipeOf(parseSettings(q).settings));
    // Nesterov is SGD's: with Adam it does nothing.
    expect(recipeOf({ ...DEFAULT_SETTINGS, nesterov: 'on' }).nesterov).toBe(false);
    const bad = parseSettings('sched=steps&wd=2&ls=x');
    expect(bad.settings).toMatchObject({ sched: 'constant', wd: 0.1, ls: 0 });
    expect(bad.notices).toEqual([
      'wd=2 is outside 0–0.1; using 0.1.',
      'sched=steps is not one of constant, cosine, onecycle; using constant.',
      'ls=x is not a number; using 0.',
    ]);
  });

  it('uses defaults for an empty query', () => {
    expect(parseSettings('')).toEqual({ settings: DEFAULT_SETTINGS, notices: [] });
  });

  it('reads a shared link', () => {
    const { settings, notices } = parseSettings('?method=l2&mode=remove&conv1=50&fc1=10&seed=7&lr=0.01&opt=sgd');
    expect(notices).toEqual([]);
    expect(settings).toMatchObject({ method: 'l2', mode: 'remove', amounts: { conv1: 50, fc1: 10 }, seed: 7, lr: 0.01, opt: 'sgd' });
  });

  it('clamps out-of-range numbers with a notice', () => {
    const { settings, notices } = parseSettings('conv1=150&batch=0&fc1=-5');
    expect(settings.amounts.conv1).toBe(100);
    expect(settings.batch).toBe(1);
    expect(settings.amounts.fc1).toBe(0);
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
    expect(settings.amounts.conv1).toBe(DEFAULT_SETTINGS.amounts.conv1);
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
    expect(c.settings).toMatchObject({ model: 'convnet3', amounts: { conv2: 50, conv3: 25 } });
    const s = parseSettings('conv2=50');
    expect(s.settings.amounts.conv2 ?? 0).toBe(0);
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

describe('amounts keyed by channel group (issue 20)', () => {
  it('generates the sliders from the groups: chains keep conv1…fc1, ResNet-20 gets stream/inner ids and fc', () => {
    expect(amountKeysOf('simplecnn')).toEqual(['conv1', 'fc1']);
    expect(amountKeysOf('convnet3')).toEqual(['conv1', 'conv2', 'conv3', 'fc1']);
    expect(amountKeysOf('resnet20')).toEqual([
      'stream1', 'stream2', 'stream3',
      'inner1.1', 'inner1.2', 'inner1.3', 'inner2.1', 'inner2.2', 'inner2.3', 'inner3.1', 'inner3.2', 'inner3.3',
      'fc',
    ]);
  });

  it('round-trips any ResNet-20 group amounts and hand-picked channels through the link', () => {
    const keys = amountKeysOf('resnet20');
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: keys.length, maxLength: keys.length }),
        fc.constantFrom('', '3,15', 'stream2:0,31', '1;inner3.3:63;stream3:5'),
        fc.constantFrom('mask', 'remove', 'global'),
        (values, manual, mode) => {
          const s: Settings = { ...DEFAULT_SETTINGS, model: 'resnet20', mode: mode as Settings['mode'], amounts: Object.fromEntries(keys.map((k, i) => [k, values[i]])), manual };
          const back = parseSettings(settingsToQuery(s));
          expect(back.notices).toEqual([]);
          expect(back.settings).toEqual({ ...s, manual: formatManual(parseManual(manual, 'resnet20').manual, 'resnet20') });
        },
      ),
    );
  });

  it('writes ResNet-20 keys in group order after mode, and chain links byte for byte as before', () => {
    const r = parseSettings('model=resnet20&stream2=50&inner1.1=25&mode=remove');
    expect(r.notices).toEqual([]);
    expect(r.settings.amounts).toMatchObject({ stream2: 50, 'inner1.1': 25, stream1: 0, fc: 0 });
    expect(settingsToQuery(r.settings)).toBe(
      'model=resnet20&baseline=pretrained&method=l1&mode=remove&stream1=0&stream2=50&stream3=0&inner1.1=25&inner1.2=0&inner1.3=0&inner2.1=0&inner2.2=0&inner2.3=0&inner3.1=0&inner3.2=0&inner3.3=0&fc=0&seed=42&epochs=1&ftEpochs=1&lr=0.001&batch=64&opt=adam',
    );
    // The link format of the chain models is unchanged (shared links of before keep working).
    expect(settingsToQuery(parseSettings('model=convnet3&conv2=50&fc1=10').settings)).toBe(
      'model=convnet3&baseline=pretrained&method=l1&mode=mask&conv1=0&conv2=50&conv3=0&fc1=10&seed=42&epochs=1&ftEpochs=1&lr=0.001&batch=64&opt=adam',
    );
  });

  it('ignores keys the model lacks with a notice, in both directions, and bad group values like any number', () => {
    const a = parseSettings('model=resnet20&conv1=50&fc1=10&stream2=150&inner2.2=x');
    expect(a.settings.amounts).not.toHaveProperty('conv1');
    expect(a.settings.amounts.stream2).toBe(100);
    expect(a.settings.amounts['inner2.2']).toBe(0);
    expect(a.notices).toEqual([
      'stream2=150 is outside 0–100; using 100.',
      'inner2.2=x is not a number; using 0.',
      'conv1=50 was ignored: ResNet-20 has no conv1.',
      'fc1=10 was ignored: ResNet-20 has no fc1.',
    ]);
    const b = parseSettings('model=convnet3&stream1=20&inner9.9=1');
    expect(b.notices).toEqual(['Unknown URL parameter “inner9.9” was ignored.', 'stream1=20 was ignored: ConvNet-3 has no stream1.']);
    expect(parseManual('inner1.1:3;conv2:1', 'resnet20').problems).toEqual([
      'manual=conv2:1: expected filter numbers like 3,17,40 or stream2:3,17 for a channel group of ResNet-20.',
    ]);
    expect(parseManual('stream2:40', 'resnet20').problems).toEqual(['manual: stream2 has stream channels 0–31; 40 was ignored.']);
  });

  it('reads settings saved before amounts were keyed by group (conv1…fc1 as fields)', () => {
    const old: Record<string, unknown> = { ...DEFAULT_SETTINGS, model: 'convnet3', conv1: 10, conv2: 20, conv3: 0, fc1: 30 };
    delete old.amounts;
    expect(migrateSettings(old as never)).toEqual({ ...DEFAULT_SETTINGS, model: 'convnet3', amounts: { conv1: 10, conv2: 20, conv3: 0, fc1: 30 } });
    const now: Settings = { ...DEFAULT_SETTINGS, model: 'resnet20', amounts: { ...zeroAmounts('resnet20'), stream2: 50 } };
    expect(migrateSettings(now)).toEqual(now);
  });
});

describe('URL: schedule and steps (issue 22)', () => {
  it('one-shot writes neither (old links unchanged); a schedule writes both; bad values are said and replaced', () => {
    expect(settingsToQuery(DEFAULT_SETTINGS)).not.toMatch(/schedule|steps/);
    expect(settingsToQuery({ ...DEFAULT_SETTINGS, schedule: 'agp', steps: 4 })).toMatch(/schedule=agp&steps=4/);
    const bad = parseSettings('?schedule=cubic&steps=50');
    expect(bad.settings.schedule).toBe('oneshot');
    expect(bad.settings.steps).toBe(10);
    expect(bad.notices).toEqual(['schedule=cubic is not one of oneshot, iterative, agp; using oneshot.', 'steps=50 is outside 2–10; using 10.']);
  });
});

describe('URL: data set (issue 21)', () => {
  it('the subset (default) writes nothing (old links unchanged); data=full is read and written; a bad value is said and replaced', () => {
    expect(DEFAULT_SETTINGS.data).toBe('subset');
    expect(settingsToQuery(DEFAULT_SETTINGS)).not.toMatch(/data=/);
    expect(settingsToQuery({ ...DEFAULT_SETTINGS, data: 'full' })).toMatch(/(^|&)data=full(&|$)/);
    expect(parseSettings('?data=full').settings.data).toBe('full');
    const bad = parseSettings('?data=imagenet');
    expect(bad.settings.data).toBe('subset');
    expect(bad.notices).toEqual(['data=imagenet is not one of subset, full; using subset.']);
    // Saved settings from before the field read as the subset.
    const old: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    delete old.data;
    expect(migrateSettings(old as never).data).toBe('subset');
  });
});
