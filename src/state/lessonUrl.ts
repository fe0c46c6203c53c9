/**
 * `lesson=` and `step=` in a link (issue 23): checked against the lessons (core/lessons), and a
 * teacher's link — a lesson and a step, nothing else of the settings — opens the step as its lesson
 * sets it. A link that carries settings too (the page's own address, written on every change) keeps
 * them, so a reload never undoes what the student did. A leaf beside urlState.ts (which calls it).
 */
import { LESSONS, lessonById, stepOf } from '../core/lessons';

/** What a teacher's link may carry besides the lesson: the environment and the page's layout (view, controls, presenter). */
const LINK_KEYS = new Set(['lesson', 'step', 'backend', 'kernels', 'trainSubset', 'view', 'controls', 'presenter']);

export interface LessonLink {
  /** The parameters to read: the link's own, with a teacher's link's step state under them. */
  params: URLSearchParams;
  /** True when the step's state applies: the pruning settings the step does not name start from their defaults. */
  stepApplies: boolean;
}

/** Checks lesson= and step= (a bad one is dropped or clamped with a notice; nothing else is lost). */
export function lessonLink(params: URLSearchParams, notices: string[]): LessonLink {
  const raw = params.get('lesson');
  const rawStep = params.get('step');
  if (raw === null || raw === '') {
    if (rawStep !== null) notices.push(`step=${rawStep} was ignored: it needs a lesson (lesson=${LESSONS[0].id}, say).`);
    params.delete('lesson');
    params.delete('step');
    return { params, stepApplies: false };
  }
  const lesson = lessonById(raw);
  if (!lesson) {
    const list = LESSONS.map((l) => `${l.id} (${l.title})`).join(', ');
    notices.push(`lesson=${raw}: there is no such lesson; the lessons are ${list}. The page opened without one.`);
    params.delete('lesson');
    params.delete('step');
    return { params, stepApplies: false };
  }
  const count = lesson.steps.length;
  let n = rawStep === null ? 1 : Number(rawStep);
  if (!Number.isInteger(n) || n < 1 || n > count) {
    const shown = Number.isFinite(n) ? Math.min(count, Math.max(1, Math.round(n))) : 1;
    notices.push(`step=${rawStep ?? ''}: “${lesson.title}” has steps 1–${count}; showing step ${shown}.`);
    n = shown;
  }
  params.set('step', String(n));
  if (![...params.keys()].every((k) => LINK_KEYS.has(k))) return { params, stepApplies: false };
  const merged = new URLSearchParams(stepOf(lesson, n)!.state);
  for (const [k, v] of params) merged.set(k, v);
  return { params: merged, stepApplies: true };
}
