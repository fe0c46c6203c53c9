/**
 * Guided lessons (issue 23): the lesson list, and the running lesson's step — what to look at, a
 * prediction to make before the page reveals its measured figure, previous/next. The step's part of
 * the page is highlighted with driver.js (its public highlight() only), the state lives in the URL
 * (lesson=, step=) and the slice (state/slices/lessons.ts) applies each step.
 */
import { type Driver, driver } from 'driver.js';
import 'driver.js/dist/driver.css';
import { useEffect, useRef, useState } from 'react';
import { LESSONS, type Lesson, type LessonStep, type Predict, lessonById } from '../core/lessons';
import { MEASURES, formatMeasure, measure } from '../core/lessons/measure';
import { judge } from '../core/lessons/predict';
import { lessonObservations } from '../state/slices/lessons';
import { useActions, useAppStore, useStore } from './context';
import './lesson.css';

export function LessonPanel() {
  const lesson = lessonById(useStore((s) => s.settings.lesson));
  const n = useStore((s) => s.settings.step);
  const step = lesson?.steps[n - 1];
  if (!lesson || !step) return <LessonList />;
  // Keyed by step: a new step starts with no choice made and nothing revealed.
  return <StepCard key={`${lesson.id}/${n}`} lesson={lesson} n={n} step={step} />;
}

/** The lessons, each with a start button and the link a teacher hands out. */
function LessonList() {
  const actions = useActions();
  const busy = useStore((s) => s.job !== null);
  return (
    <details className="panel lesson-list" data-testid="lessons">
      <summary>Lessons for a class</summary>
      <ul>
        {LESSONS.map((l) => (
          <li key={l.id}>
            <strong>{l.title}</strong> ({l.steps.length} steps) — {l.summary}{' '}
            <button onClick={() => void actions.goToStep(l.id, 1)} disabled={busy} data-testid={`lesson-start-${l.id}`}>
              Start
            </button>{' '}
            <a href={`?lesson=${l.id}`}>link for a class</a>
          </li>
        ))}
      </ul>
      <p className="muted small">
        A link <code>?lesson=article&amp;step=3</code> opens that step; add <code>controls=-train,-export</code> to hide parts of the page.
      </p>
    </details>
  );
}

function StepCard({ lesson, n, step }: { lesson: Lesson; n: number; step: LessonStep }) {
  const actions = useActions();
  const busy = useStore((s) => s.job !== null);
  const [folded, setFolded] = useState(false);
  const [missing, setMissing] = useState(false);
  const tour = useRef<Driver | null>(null);
  useEffect(() => () => tour.current?.destroy(), []);
  // Room under the page for the docked card, so everything can still be scrolled out from under it.
  useEffect(() => {
    if (folded) return;
    document.body.classList.add('lesson-open');
    return () => document.body.classList.remove('lesson-open');
  }, [folded]);

  const showWhere = () => {
    const el = step.target ? document.querySelector(`[data-testid="${step.target}"]`) : null;
    setMissing(!el);
    if (!el) return;
    tour.current?.destroy();
    // The card folds away while the part is highlighted (it may sit over it) and comes back after.
    setFolded(true);
    tour.current = driver({ animate: false, smoothScroll: false, overlayOpacity: 0.35, stagePadding: 6, popoverClass: 'lesson-popover', onDestroyed: () => setFolded(false) });
    tour.current.highlight({ element: el, popover: { title: step.title, description: 'Here. Click anywhere or press Esc to go back to the lesson.' } });
  };

  // Folded, the card stays mounted (hidden), so a prediction made is not lost.
  return (
    <>
      {folded && (
        <button className="lesson-card folded" onClick={() => setFolded(false)} data-testid="lesson-unfold">
          Lesson: step {n} of {lesson.steps.length}
        </button>
      )}
      <section className="lesson-card" aria-labelledby="lesson-h" data-testid="lesson" hidden={folded}>
        <header>
          <span className="muted small">
            {lesson.title} · step <span data-testid="lesson-step">{n}</span> of {lesson.steps.length}
          </span>
          <nav className="lesson-nav" aria-label="Lesson steps">
            <button onClick={() => void actions.goToStep(lesson.id, n - 1)} disabled={busy || n <= 1} data-testid="lesson-prev">
              ← Previous
            </button>
            {n < lesson.steps.length ? (
              <button className="primary" onClick={() => void actions.goToStep(lesson.id, n + 1)} disabled={busy} data-testid="lesson-next">
                Next →
              </button>
            ) : (
              <button className="primary" onClick={actions.leaveLesson} data-testid="lesson-finish">
                Finish
              </button>
            )}
          </nav>
          <span className="lesson-tools">
            <button className="link" onClick={() => setFolded(true)} aria-label="Fold the lesson away">
              –
            </button>
            <button className="link" onClick={actions.leaveLesson} data-testid="lesson-leave">
              Leave
            </button>
          </span>
        </header>
        <div className="lesson-body">
          <div>
            <h2 id="lesson-h">{step.title}</h2>
            <p>{step.text}</p>
            {step.target && (
              <p>
                <button onClick={showWhere} data-testid="lesson-show">
                  Show where
                </button>
                {missing && <span className="muted small"> That part is not on the page right now (another view, hidden, or still measuring).</span>}
              </p>
            )}
          </div>
          {step.predict && <PredictBox predict={step.predict} id={`${lesson.id}-${n}`} />}
        </div>
      </section>
    </>
  );
}

/** Choose, then see: the reveal is blocked until a choice is made, and judged on the figure the page measured. */
function PredictBox({ predict, id }: { predict: Predict; id: string }) {
  const [chosen, setChosen] = useState<number | null>(null);
  const [revealed, setRevealed] = useState(false);
  const [frozen, setFrozen] = useState<number | null>(null);
  const store = useAppStore();
  const current = () => {
    const v = measure(predict.measure, lessonObservations(store.getState()));
    return v !== null && Number.isFinite(v) ? v : null;
  };
  // The verdict stays on the figure measured at the reveal, whatever the student moves afterwards; a
  // figure still being measured is taken the moment it arrives.
  const reveal = () => {
    setRevealed(true);
    setFrozen(current());
  };
  useEffect(() => {
    if (!revealed || frozen !== null) return;
    return store.subscribe(() => {
      const v = current();
      if (v !== null) setFrozen(v);
    });
  });
  const verdict = chosen !== null && frozen !== null ? judge(predict, chosen, frozen) : null;
  return (
    <fieldset className="lesson-predict" data-testid="lesson-predict">
      <legend>Predict: {predict.question}</legend>
      {predict.choices.map((c, i) => (
        <label key={c.label} className={verdict ? (i === verdict.answer ? 'right' : i === chosen ? 'wrong' : '') : ''}>
          <input type="radio" name={`predict-${id}`} checked={chosen === i} disabled={revealed} onChange={() => setChosen(i)} data-testid={`lesson-choice-${i}`} />{' '}
          {c.label}
        </label>
      ))}
      {!revealed && (
        <button onClick={reveal} disabled={chosen === null} data-testid="lesson-reveal" title={chosen === null ? 'Choose an answer first' : undefined}>
          Reveal
        </button>
      )}
      {!revealed && chosen === null && <p className="muted small">Choose an answer to reveal the page’s figure.</p>}
      {revealed && !verdict && (
        <p role="status" className="muted" data-testid="lesson-waiting">
          Waiting for {MEASURES[predict.measure].needs}…
        </p>
      )}
      {verdict && (
        <div role="status" className={verdict.correct ? 'lesson-verdict right' : 'lesson-verdict wrong'} data-testid="lesson-verdict" data-value={frozen ?? undefined}>
          <p>
            <strong>{verdict.correct ? '✓' : '✗'}</strong> {verdict.text}
          </p>
          {predict.explain && <p>{predict.explain}</p>}
          <p className="muted small">Measured: {formatMeasure(predict.measure, frozen!)}</p>
        </div>
      )}
    </fieldset>
  );
}
