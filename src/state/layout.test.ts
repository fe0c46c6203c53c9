import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTROL_IDS, DEFAULT_LAYOUT, type Layout, VIEW_IDS, layoutToParams, parseControls, parseLayout, shownView, withoutLayout } from './layout';
import { DEFAULT_SETTINGS, pageQuery, parseSettings, settingsToQuery } from './urlState';

describe('layout in the URL (issue 23): view, controls, presenter', () => {
  it('reads every view, and falls back to prune with a notice for a bad one', () => {
    for (const v of VIEW_IDS) expect(parseLayout(`?view=${v}`)).toEqual({ layout: { ...DEFAULT_LAYOUT, view: v }, notices: [] });
    const bad = parseLayout('?view=settings&presenter=1');
    expect(bad.layout).toEqual({ view: 'prune', hidden: [], presenter: true });
    expect(bad.notices).toEqual(['view=settings is not one of prune, data, experiments, inspect, work, article; showing prune.']);
  });

  it('controls= hides the parts written with a minus, in table order, once each', () => {
    expect(parseControls('-export,-train, -model,-train')).toEqual({ hidden: ['model', 'export', 'train'], notices: [] });
  });

  it('controls=: an unknown part or one without the minus is reported and ignored, the rest kept', () => {
    const r = parseControls('-train,-wings,export');
    expect(r.hidden).toEqual(['train']);
    expect(r.notices).toHaveLength(2);
    expect(r.notices[0]).toMatch(/“wings” is not a part of the page that can be hidden/);
    expect(r.notices[1]).toMatch(/write -export to hide export/);
  });

  it('a view hidden by controls= is not shown (prune instead), with a notice', () => {
    const r = parseLayout('?view=experiments&controls=-experiments');
    expect(shownView(r.layout)).toBe('prune');
    expect(r.notices).toEqual(['view=experiments is hidden by controls=; showing prune.']);
  });

  it('presenter= takes 1 or 0 only', () => {
    expect(parseLayout('?presenter=0').layout.presenter).toBe(false);
    const r = parseLayout('?presenter=yes');
    expect(r.layout.presenter).toBe(false);
    expect(r.notices).toEqual(['presenter=yes must be 1 (on) or 0 (off); using 0.']);
  });

  it('the default layout writes nothing, so links from before views stay as they were', () => {
    expect(layoutToParams(DEFAULT_LAYOUT)).toEqual([]);
    expect(pageQuery(DEFAULT_SETTINGS, DEFAULT_LAYOUT)).toBe(settingsToQuery(DEFAULT_SETTINGS));
  });

  it('round-trips any layout through the page query, beside the settings', () => {
    const arb = fc.record({
      view: fc.constantFrom(...VIEW_IDS),
      hidden: fc.subarray([...CONTROL_IDS]),
      presenter: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, (l: Layout) => {
        const q = pageQuery(DEFAULT_SETTINGS, l);
        const back = parseLayout(q);
        expect(back.layout).toEqual(l);
        // The settings' parser leaves the layout's parameters alone (no "unknown parameter" notice).
        expect(parseSettings(q).notices).toEqual([]);
        expect(withoutLayout(q)).toBe(new URLSearchParams(settingsToQuery(DEFAULT_SETTINGS)).toString());
      }),
    );
  });

  it('the page query keeps the controls list readable (commas, not %2C)', () => {
    expect(pageQuery(DEFAULT_SETTINGS, { view: 'data', hidden: ['export', 'train'], presenter: true })).toMatch(/&view=data&controls=-export,-train&presenter=1$/);
  });
});
