/** Predict-then-reveal: which choice the measured figure makes right, and whether the student's was. */
import { formatMeasure, MEASURES } from './measure';
import type { Choice, Predict } from './types';

/** Whether a value falls in a choice's half-open range [min, max). */
export const inChoice = (c: Choice, value: number): boolean => (c.min === undefined || value >= c.min) && (c.max === undefined || value < c.max);

/**
 * Why a predict's choices do not tile the line (the first open below, the last open above, each
 * starting where the previous ends), or null: then exactly one choice is right for any value.
 */
export function choicesProblem(p: Predict): string | null {
  const cs = p.choices;
  if (cs.length < 2) return 'a prediction needs at least two choices';
  if (cs[0].min !== undefined) return `the first choice (“${cs[0].label}”) must have no lower bound`;
  if (cs[cs.length - 1].max !== undefined) return `the last choice (“${cs[cs.length - 1].label}”) must have no upper bound`;
  for (let i = 0; i + 1 < cs.length; i++) {
    const a = cs[i].max;
    const b = cs[i + 1].min;
    if (a === undefined || b === undefined || a !== b) return `choices “${cs[i].label}” and “${cs[i + 1].label}” must meet (max ${String(a)} = min ${String(b)})`;
  }
  return null;
}

export interface Verdict {
  /** The index of the choice the measured value makes right. */
  answer: number;
  correct: boolean;
  /** "The page measured 41.3 % test accuracy after pruning, before fine-tuning: “25–40 %”." */
  text: string;
}

/** The verdict on the student's choice, given the page's measured value. */
export function judge(p: Predict, chosen: number, value: number): Verdict {
  if (!Number.isFinite(value)) throw new RangeError(`cannot judge a prediction on ${value}`);
  const answer = p.choices.findIndex((c) => inChoice(c, value));
  if (answer < 0) throw new RangeError(`no choice of “${p.question}” holds ${value}: ${choicesProblem(p) ?? 'choices overlap'}`);
  const m = MEASURES[p.measure];
  const figure = `${formatMeasure(p.measure, value)} ${m.label}`;
  const text =
    chosen === answer
      ? `Right: the page measured ${figure} — “${p.choices[answer].label}”.`
      : `Not quite: the page measured ${figure} — “${p.choices[answer].label}”, not “${p.choices[chosen]?.label ?? '?'}”.`;
  return { answer, correct: chosen === answer, text };
}
