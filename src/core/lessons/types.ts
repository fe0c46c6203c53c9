/**
 * A guided lesson (issue 23): ordered steps, each setting the page's state (as URL parameters, so a
 * step is exactly what a link would set), saying what to look at, and where it teaches something,
 * asking the student to predict before the page reveals its measured figure. Data only: the page
 * measures, core/lessons/predict.ts judges.
 */

/** What the page measures that a prediction can be about (measure.ts computes each from the page's figures). */
export type MeasureId =
  | 'params'
  | 'paramsKeptShare'
  | 'nonzeroKeptShare'
  | 'macsKeptShare'
  | 'filtersGone'
  | 'printedDrop'
  | 'convLayersShrunk'
  | 'baselineAccuracy'
  | 'prunedAccuracy'
  | 'finetuneGain'
  | 'firstStepShare';

/**
 * One answer to choose: the measured value is in [min, max) (an open end where absent). A predict's
 * choices tile the whole line in order, so exactly one of them is right for any measured value.
 */
export interface Choice {
  label: string;
  min?: number;
  max?: number;
}

export interface Predict {
  question: string;
  measure: MeasureId;
  choices: Choice[];
  /** What the reveal adds once the figure is known (why it came out so). */
  explain?: string;
}

export interface LessonStep {
  /** Stable within its lesson (the URL counts steps from 1; ids name them in tests and notes). */
  id: string;
  title: string;
  /** What to look at and why, a few sentences. */
  text: string;
  /**
   * The URL parameters the step sets: settings (state/urlState.ts) and the view that shows its target
   * (`view`, state/layout.ts). Pruning settings it does not name go back to their defaults, so a step
   * looks the same whichever way the student reached it.
   */
  state: Record<string, string>;
  predict?: Predict;
  /** A data-testid in the page to highlight while the step is shown. */
  target?: string;
}

export interface Lesson {
  /** The URL's `lesson=` value. */
  id: string;
  title: string;
  /** One line for the lesson list. */
  summary: string;
  /**
   * Parts of the page the lesson hides while it runs (`controls=` grammar, state/layout.ts: "-experiments,-export"),
   * on top of what the teacher's link hides; given back when the student leaves the lesson.
   */
  controls?: string;
  steps: LessonStep[];
}
