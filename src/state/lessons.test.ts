import { describe, expect, it } from 'vitest';
import { LESSONS } from '../core/lessons';
import { parseControls, parseLayout, shownView } from './layout';
import { DEFAULT_SETTINGS, type Settings, lessonStepSettings, parseSettings, settingsToQuery } from './urlState';

describe('lessons in the URL', () => {
  it('every step’s state parses through the URL table with no notice, and the step sets what it names', () => {
    for (const lesson of LESSONS) {
      lesson.steps.forEach((step, i) => {
        const { settings, notices } = lessonStepSettings(DEFAULT_SETTINGS, lesson.id, i + 1);
        expect(notices, `${lesson.id} step ${i + 1}`).toEqual([]);
        expect(settings).toMatchObject({ lesson: lesson.id, step: i + 1 });
        // The layout part (the view that shows the target), read by the layout's parser.
        const { layout, notices: layoutNotices } = parseLayout(new URLSearchParams(step.state).toString());
        expect(layoutNotices, `${lesson.id} step ${i + 1}`).toEqual([]);
        // The lesson's hidden parts never hide the view its step shows.
        const hidden = parseControls(lesson.controls ?? '');
        expect(hidden.notices).toEqual([]);
        expect(shownView({ ...layout, hidden: hidden.hidden }), `${lesson.id} step ${i + 1}`).toBe(step.state.view ?? 'prune');
        for (const [k, v] of Object.entries(step.state)) {
          if (k === 'view') continue;
          const got = k in settings ? (settings as unknown as Record<string, unknown>)[k] : settings.amounts[k];
          expect(String(got), `${lesson.id} step ${i + 1}: ${k}`).toBe(v);
        }
      });
    }
  });

  it('a teacher’s link (lesson and step only) opens the step as the lesson sets it', () => {
    const { settings, notices } = parseSettings('?lesson=article&step=3');
    expect(notices).toEqual([]);
    expect(settings).toMatchObject({ lesson: 'article', step: 3, model: 'simplecnn', mode: 'global', method: 'random', amounts: { conv1: 20, fc1: 0 } });
    // The environment may come along; the step still applies.
    expect(parseSettings('lesson=structure&step=5&backend=wasm').settings).toMatchObject({ model: 'resnet20', mode: 'remove', backend: 'wasm', amounts: { stream2: 50 } });
    // No step: the first.
    expect(parseSettings('lesson=structure').settings).toMatchObject({ step: 1, model: 'convnet3', amounts: { conv2: 50 } });
  });

  it('the page’s own address (settings too) keeps what the student set: a reload undoes nothing', () => {
    const moved: Settings = { ...lessonStepSettings(DEFAULT_SETTINGS, 'article', 5).settings, amounts: { conv1: 30, fc1: 0 }, method: 'l2' };
    const back = parseSettings(settingsToQuery(moved));
    expect(back.notices).toEqual([]);
    expect(back.settings).toEqual(moved);
    expect(settingsToQuery(moved)).toMatch(/&lesson=article&step=5$/);
    expect(settingsToQuery(DEFAULT_SETTINGS)).not.toMatch(/lesson|step=/);
  });

  it('a bad lesson or step gets a clear notice and loses nothing else of the link', () => {
    const a = parseSettings('lesson=magic&step=2&mode=remove&conv1=40');
    expect(a.notices).toEqual(['lesson=magic: there is no such lesson; the lessons are article (The article, line by line), structure (Masks vs removal, sensitivity, residual coupling, schedules). The page opened without one.']);
    expect(a.settings).toMatchObject({ lesson: '', step: 1, mode: 'remove', amounts: { conv1: 40 } });
    const b = parseSettings('lesson=article&step=40');
    expect(b.notices).toEqual(['step=40: “The article, line by line” has steps 1–8; showing step 8.']);
    expect(b.settings).toMatchObject({ lesson: 'article', step: 8, amounts: { conv1: 75 } });
    const c = parseSettings('lesson=article&step=two');
    expect(c.notices).toEqual(['step=two: “The article, line by line” has steps 1–8; showing step 1.']);
    expect(c.settings.step).toBe(1);
    const d = parseSettings('step=3&conv1=10');
    expect(d.notices).toEqual(['step=3 was ignored: it needs a lesson (lesson=article, say).']);
    expect(d.settings).toMatchObject({ lesson: '', step: 1, amounts: { conv1: 10 } });
  });

  it('a step resets the pruning settings it does not name, keeps the environment and the recipe, and may switch the model', () => {
    const current: Settings = { ...DEFAULT_SETTINGS, backend: 'wasm', lr: 0.01, aug: 'on', method: 'manual', manual: '3,4', schedule: 'agp', amounts: { conv1: 60, fc1: 30 } };
    const s = lessonStepSettings(current, 'article', 5).settings;
    expect(s).toMatchObject({ backend: 'wasm', lr: 0.01, aug: 'on', method: 'l1', mode: 'mask', manual: '', schedule: 'oneshot', amounts: { conv1: 50, fc1: 0 } });
    const r = lessonStepSettings(current, 'structure', 6).settings;
    expect(r.model).toBe('resnet20');
    expect(r.amounts).toMatchObject({ 'inner2.1': 50, stream2: 0, fc: 0 });
    expect(lessonStepSettings(current, 'structure', 99).notices).toEqual(['step=99: “Masks vs removal, sensitivity, residual coupling, schedules” has steps 1–7; showing step 7.']);
  });
});
