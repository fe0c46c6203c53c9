/**
 * The lessons slice (issue 23): moving through a lesson's steps — each applies its settings (switching
 * the model when it names another), shows its view and hides the lesson's parts of the page — and
 * what the page has measured, for the predictions (core/lessons/measure.ts judges them).
 */
import { type Lesson, lessonById } from '../../core/lessons';
import type { Observations } from '../../core/lessons/measure';
import { type Layout, type ViewId, CONTROL_IDS, VIEW_IDS, parseControls } from '../layout';
import { lessonLink } from '../lessonUrl';
import { type Shared, pruneSettingsOf } from '../shared';
import type { State } from '../types';
import { lessonStepSettings } from '../urlState';

/** What the page has measured, as the lessons' predictions read it: the preview's only once it answered these settings. */
export function lessonObservations(s: State): Observations {
  const reply = s.preview.status === 'ready' ? s.preview.reply : null;
  // The schedule's target as the page's plan reads it (ScheduleControls: the largest slider).
  const target = Math.max(0, ...Object.values(pruneSettingsOf(s.settings).amounts));
  return {
    model: s.settings.model,
    costs: reply?.costs ?? null,
    baselineAccuracy: s.baselineEval?.accuracy ?? null,
    prunedAccuracy: reply?.evaluation.accuracy ?? null,
    finetunedAccuracy: s.finetunedEval?.accuracy ?? null,
    schedule: s.settings.schedule === 'oneshot' ? null : { schedule: { kind: s.settings.schedule, steps: s.settings.steps }, target },
  };
}

/** The layout a lesson's step asks for: its view, and the lesson's hidden parts added to those already hidden. */
export function stepLayout(layout: Layout, lesson: Lesson, n: number): Layout {
  const view = lesson.steps[n - 1]?.state.view;
  const hide = new Set([...layout.hidden, ...parseControls(lesson.controls ?? '').hidden]);
  return {
    ...layout,
    view: view !== undefined && (VIEW_IDS as readonly string[]).includes(view) ? (view as ViewId) : layout.view,
    hidden: CONTROL_IDS.filter((id) => hide.has(id)),
  };
}

export function lessonsSlice(ctx: Shared) {
  const { get, set, notify, deps } = ctx;

  /** Opens step n (from 1) of a lesson: its settings, its view; a model it names is switched to first (asking, as the picker does). */
  async function goToStep(lessonId: string, n: number): Promise<void> {
    if (ctx.refuseWhileBusy('The lesson cannot move to another step')) return;
    let next = lessonStepSettings(get().settings, lessonId, n);
    for (const text of next.notices) notify(text, 'info');
    const lesson = lessonById(next.settings.lesson);
    if (!lesson) return;
    if (next.settings.model !== get().settings.model) {
      await ctx.cross.switchModel(next.settings.model);
      if (get().settings.model !== next.settings.model) return; // the student kept their trained baseline
      next = lessonStepSettings(get().settings, lesson.id, next.settings.step);
    }
    ctx.setSettings(next.settings);
    set({ layout: stepLayout(get().layout, lesson, next.settings.step) });
    ctx.writeUrlNow(false);
    ctx.cross.schedulePreview();
  }

  /** Leaves the lesson: the settings stay as they are; the parts the lesson hid come back. */
  function leaveLesson(): void {
    const s = get().settings;
    const lesson = lessonById(s.lesson);
    if (!lesson) return;
    const hidden = new Set(parseControls(lesson.controls ?? '').hidden);
    ctx.setSettings({ ...s, lesson: '', step: 1 });
    set({ layout: { ...get().layout, hidden: get().layout.hidden.filter((id) => !hidden.has(id)) } });
    ctx.writeUrlNow(false);
  }

  // A teacher's link (lesson= and step= only) opens at its step's view with the lesson's parts hidden;
  // the settings came through parseSettings. The link's own view= wins.
  const link = lessonLink(new URLSearchParams(deps.search), []);
  const linked = lessonById(link.params.get('lesson') ?? '');
  if (link.stepApplies && linked) {
    const layout = stepLayout(get().layout, linked, Number(link.params.get('step')));
    set({ layout: new URLSearchParams(deps.search).has('view') ? { ...layout, view: get().layout.view } : layout });
  }

  return { goToStep, leaveLesson };
}
