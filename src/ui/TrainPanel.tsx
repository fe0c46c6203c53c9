import { specFor } from '../core/model/zoo';
import { describeOrigin } from '../state/controller';
import type { Settings } from '../state/urlState';
import { CurvesChart } from './CurvesChart';
import { JobProgress } from './JobProgress';
import { ModelPicker } from './ModelPicker';
import { PerClass } from './PerClass';
import { RecipeFields } from './RecipeFields';
import { int, pct } from '../state/vocabulary';
import { useActions, useStore } from './context';
import { NumberField } from './NumberField';

/** Where the baseline came from, in one line, with what to do to get another one (also in the prune view). */
export function Origin() {
  const baseline = useStore((s) => s.baseline);
  const o = baseline.origin;
  return (
    <p className="origin" data-testid="baseline-origin" data-kind={o.kind} data-epochs={o.epochs}>
      <strong>Baseline:</strong> {describeOrigin(baseline)}
      {o.kind === 'pretrained' && o.trainedHere === 0 && <> — retrain it yourself with <em>Train from scratch</em>.</>}
    </p>
  );
}

export function TrainPanel() {
  const actions = useActions();
  const jobRole = useStore((s) => s.job?.role ?? null);
  const opt = useStore((s) => s.settings.opt);
  const model = useStore((s) => s.settings.model);
  const ready = useStore((s) => s.data.train.status === 'ready' && s.data.test.status === 'ready' && s.backend !== null);
  const evaluation = useStore((s) => s.baselineEval);
  const epochs = useStore((s) => s.baseline.origin.epochs);
  const subset = useStore((s) => s.settings.trainSubset);
  // The test set the accuracy is on (the evaluation's own count once measured): the shipped 1,000, or the user's own batches.
  const testCount = useStore((s) => s.data.test.count);
  const spec = specFor(model);
  const busy = jobRole !== null;
  return (
    <section className="panel" aria-labelledby="train-h">
      <h2 id="train-h">2 · Baseline</h2>
      <div className="fields">
        <ModelPicker />
      </div>
      <p className="help" data-testid="model-summary">
        {spec.summary}. Adam with learning rate 0.001 is the article's recipe. Training continues from the current weights;
        “Train from scratch” starts again from the seed.
      </p>
      <Origin />
      <div className="fields">
        <NumberField k="epochs" label="Epochs" min={1} max={100} help="Passes over the training set per click." />
        <NumberField k="batch" label="Batch size" min={1} max={1024} help="Images per optimiser step." />
        <NumberField k="lr" label="Learning rate" step={0.0001} min={0.000001} max={1} help="Step size of the optimiser." />
        <label className="field" title="Adam adapts the step per weight; SGD uses momentum 0.9.">
          <span>Optimizer</span>
          <select value={opt} disabled={busy} onChange={(e) => actions.setSetting('opt', e.target.value as Settings['opt'])}>
            <option value="adam">Adam</option>
            <option value="sgd">SGD + momentum 0.9</option>
          </select>
        </label>
        <NumberField k="seed" label="Seed" min={0} max={2147483647} help="Seeds initialisation, shuffling and random pruning." />
      </div>
      <RecipeFields />
      <div className="actions">
        <button className="primary" disabled={!ready || busy} onClick={() => void actions.trainBaseline()} data-testid="train">
          Train {epochs > 0 ? 'more' : ''}
        </button>
        <button disabled={!ready || busy} onClick={() => void actions.newBaseline()} data-testid="new-model">
          Train from scratch
        </button>
        <button disabled={!ready || busy} onClick={() => void actions.usePretrainedBaseline()} data-testid="use-pretrained">
          Pretrained baseline
        </button>
        {subset > 0 && <span className="muted small">training on the first {subset} images (URL trainSubset)</span>}
      </div>
      {jobRole === 'baseline' && <JobProgress />}
      <div className="result">
        Test accuracy{' '}
        <strong data-testid="baseline-acc">{evaluation ? pct(evaluation.accuracy) : '…'}</strong>{' '}
        <span className="muted">
          after {Number.isInteger(epochs) ? epochs : epochs.toFixed(2)} epoch{epochs === 1 ? '' : 's'} (on {int(evaluation?.count ?? testCount)} test images; chance is 10%)
        </span>
      </div>
      <div className="two-col">
        <CurvesChart role="baseline" title="Baseline training (in this browser)" testId="baseline-curve" />
        {evaluation && <PerClass evaluation={evaluation} />}
      </div>
    </section>
  );
}
