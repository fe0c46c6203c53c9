/** The lessons a teacher can hand out as a link (`?lesson=article&step=3`), in the order the page lists them. */
import { articleLesson } from './article';
import { structuredLesson } from './structured';
import type { Lesson, LessonStep } from './types';

export type { Choice, Lesson, LessonStep, MeasureId, Predict } from './types';

export const LESSONS: readonly Lesson[] = [articleLesson, structuredLesson];
export const LESSON_IDS: readonly string[] = LESSONS.map((l) => l.id);

export function lessonById(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}

/** Step n (counted from 1, as in the URL) of a lesson, or undefined. */
export function stepOf(lesson: Lesson, n: number): LessonStep | undefined {
  return Number.isInteger(n) && n >= 1 ? lesson.steps[n - 1] : undefined;
}
