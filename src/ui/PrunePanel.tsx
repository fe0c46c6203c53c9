import { FULL_FILTERS, parameterCount } from '../core/model/architecture';
import { fraction, pruneCount } from '../core/pruning/amount';
import { type Costs, macsFor, previewCosts } from '../core/pruning/costs';
import {
  currentCosts,
  fineTune,
  resetPruning,
  setSetting,
  useStore,
} from '../state/store';
import type { Method, Mode, Settings } from '../state/urlState';
import { CompareCharts } from './CompareCharts';
import { CurvesChart } from './CurvesChart';
import { FilterGrid } from './FilterGrid';
import { JobProgress } from './JobProgress';
import { bytes, int, pct } from './format';

const METHODS: { value: Method; label: string; help: string }[] = [
  { value: 'random', label: 'Random', help: 'Picks units with the seeded random generator: the baseline any criterion must beat.' },
  { value: 'l1', label: 'L1 norm', help: 'Prunes the filters whose weights have the smallest sum of absolute values.' },
  { value: 'l2', label: 'L2 norm', help: 'Prunes the filters with the smallest Euclidean norm.' },
];

const MODES: { value: Mode; label: string; help: string }[] = [
  {
    value: 'mask',
    label: 'Mask (torch.nn.utils.prune)',
    help: 'Multiplies chosen filters by a 0/1 mask, like prune.ln_structured: the tensors keep their shape, so size and speed do not change, and the bias of a masked filter still flows into fc1.',
  },
  {
    value: 'remove',
    label: 'Remove filters (true structured)',
    help: 'Builds a smaller network: conv1 loses the chosen filters (and biases), fc1 loses the 1,024 input rows each of them fed. Parameters, MACs and size really drop.',
  },
  {
    value: 'global',
    label: 'Global unstructured (the article)',
    help: 'prune.global_unstructured on conv1.weight: zeroes single weights anywhere in conv1, not filters. The article called this “filter pruning”.',
  },
];

function Radio<T extends string>(props: { name: string; value: T; options: { value: T; label: string; help: string }[]; onChange: (v: T) => void; disabled: boolean }) {
  return (
    <fieldset className="radios" disabled={props.disabled}>
      <legend>{props.name}</legend>
      {props.options.map((o) => (
        <label key={o.value} title={o.help}>
          <input type="radio" name={props.name} checked={props.value === o.value} onChange={() => props.onChange(o.value)} />
          {o.label}
        </label>
      ))}
      <p className="help small">{props.options.find((o) => o.value === props.value)?.help}</p>
    </fieldset>
  );
}

function Slider(props: { k: 'conv1' | 'fc1'; label: string; detail: string; help: string; disabled: boolean }) {
  const value = useStore((s) => s.settings[props.k]);
  return (
    <div className="slider">
      <label htmlFor={`slider-${props.k}`}>
        <span>{props.label}</span> <strong>{value}%</strong>
      </label>
      <input
        id={`slider-${props.k}`}
        data-testid={`slider-${props.k}`}
        type="range"
        min={0}
        max={100}
        step={1}
        value={value}
        disabled={props.disabled}
        aria-valuetext={`${value}%, ${props.detail}`}
        onChange={(e) => setSetting(props.k, Number(e.target.value))}
      />
      <div className="slider-detail" data-testid={`detail-${props.k}`}>
        {props.detail}
      </div>
      <p className="help small">{props.help}</p>
    </div>
  );
}

function conv1Detail(s: Settings): string {
  if (s.mode === 'global') {
    const n = 27 * FULL_FILTERS;
    return `${int(pruneCount(fraction(s.conv1 / 100), n))} of ${int(n)} conv1 weights zeroed`;
  }
  const pruned = pruneCount(fraction(s.conv1 / 100), FULL_FILTERS);
  return `${pruned} of ${FULL_FILTERS} filters ${s.mode === 'remove' ? 'removed' : 'masked'} · ${FULL_FILTERS - pruned} kept`;
}

function fc1Detail(s: Settings, c: Costs): string {
  const n = c.layers.fc1.weights;
  return `${int(pruneCount(fraction(s.fc1 / 100), n))} of ${int(n)} fc1 weights zeroed`;
}

function Figures({ costs }: { costs: Costs }) {
  const base = parameterCount(FULL_FILTERS);
  const rows: [string, string, string, string][] = [
    ['conv1 filters in the network', String(FULL_FILTERS), String(costs.filters), 'filters'],
    ['Parameters stored', int(base), int(costs.params), 'params'],
    ['Nonzero parameters', int(base), int(costs.nonzeroParams), 'nonzero'],
    ['MACs per image (dense kernels)', int(macsFor(FULL_FILTERS)), int(costs.macs), 'macs'],
    ['MACs per image (nonzero weights only)', int(macsFor(FULL_FILTERS)), int(costs.nonzeroMacs), 'nonzero-macs'],
    ['Model size (float32)', bytes(base * 4), bytes(costs.sizeBytes), 'size'],
  ];
  return (
    <table className="figures">
      <thead>
        <tr>
          <th></th>
          <th>baseline</th>
          <th>with these settings</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, a, b, id]) => (
          <tr key={id}>
            <th scope="row">{label}</th>
            <td>{a}</td>
            <td data-testid={`fig-${id}`}>{b}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The unpruned network's figures (what every setting is compared with). */
const BASELINE_COSTS = previewCosts({ method: 'l1', mode: 'mask', conv1: 0, fc1: 0, seed: 0 });

/** One sentence on what the current mode did to the network, with this setting's numbers. */
function WhatChanged({ costs, mode }: { costs: Costs; mode: Mode }) {
  const base = parameterCount(FULL_FILTERS);
  const fc1Share = BASELINE_COSTS.layers.fc1.params / base;
  const zeroed = base - costs.nonzeroParams;
  let text: string;
  if (mode === 'remove') {
    text =
      `The network is physically smaller: ${costs.filters} filters, and fc1 reads ${int(costs.filters * 1024)} inputs ` +
      `instead of ${int(FULL_FILTERS * 1024)}. ${int(base - costs.params)} parameters are gone, not zeroed.`;
  } else if (mode === 'mask') {
    text =
      `Masks zero ${int(zeroed)} of ${int(base)} parameters, but every tensor keeps its shape: the stored size and the ` +
      `dense MACs do not change. fc1 holds ${pct(fc1Share)} of the parameters, and its rows for a masked filter still ` +
      `read that filter's ReLU(bias), so only removal shrinks it.`;
  } else {
    text =
      `Single weights are zeroed anywhere in conv1 (${int(zeroed)} here); no filter is gone, so size and dense MACs stay the same.`;
  }
  return (
    <p className="help small" data-testid="what-changed">
      {text}
    </p>
  );
}

export function PrunePanel() {
  const settings = useStore((s) => s.settings);
  const jobRole = useStore((s) => s.job?.role ?? null);
  const preview = useStore((s) => s.preview);
  const baselineEval = useStore((s) => s.baselineEval);
  const finetuned = useStore((s) => s.finetunedEval);
  const costs = currentCosts(settings);
  const busy = jobRole !== null;
  const fresh = preview.status === 'ready';
  return (
    <section className="panel" aria-labelledby="prune-h">
      <h2 id="prune-h">3 · Prune and fine-tune</h2>
      <p className="help">
        Every change prunes a fresh copy of the baseline; the baseline itself is never modified, so Reset is exact. The
        figures update as you drag; the test accuracy follows when you stop.
      </p>
      <div className="prune-grid">
        <div>
          <Radio name="Method" value={settings.method} options={METHODS} onChange={(v) => setSetting('method', v)} disabled={busy} />
          <Radio name="Mode" value={settings.mode} options={MODES} onChange={(v) => setSetting('mode', v)} disabled={busy} />
          <Slider
            k="conv1"
            label={settings.mode === 'global' ? 'conv1 weights pruned' : 'conv1 filters pruned'}
            detail={conv1Detail(settings)}
            help="The count follows torch: round(amount × n), rounding halves to even."
            disabled={busy}
          />
          <Slider
            k="fc1"
            label="fc1 weights pruned (unstructured)"
            detail={fc1Detail(settings, costs)}
            help="fc1's 10 outputs are the classes, so it is never pruned by whole units: its single weights are (L1 magnitude or random), and it shrinks when conv1 filters are removed."
            disabled={busy}
          />
        </div>
        <div>
          <Figures costs={costs} />
          <WhatChanged costs={costs} mode={settings.mode} />
          {costs.filters === 0 && (
            <p className="warn" role="status" data-testid="no-filters">
              Every filter is removed: what is left is fc1's bias, so the network gives every image the same answer.
            </p>
          )}
          <div className="result" data-testid="preview">
            Test accuracy after pruning, before fine-tuning:{' '}
            <strong data-testid="pruned-acc">
              {preview.status === 'ready' && preview.reply ? pct(preview.reply.evaluation.accuracy) : preview.status === 'pending' ? 'evaluating…' : '—'}
            </strong>
            {preview.reply && preview.status === 'ready' && (
              <span className="muted small"> (pruned and evaluated in {Math.round(preview.reply.millis)} ms)</span>
            )}
            {preview.error && <div className="error small">{preview.error}</div>}
            {baselineEval && <div className="muted small">baseline: {pct(baselineEval.accuracy)}</div>}
          </div>
          <div className="actions">
            <label className="field inline" title="Epochs of training for the pruned model; masked weights stay zero.">
              <span>Fine-tune epochs</span>
              <input
                type="number"
                min={1}
                max={20}
                value={settings.ftEpochs}
                disabled={busy}
                data-testid="input-ftEpochs"
                onChange={(e) => {
                  const v = Math.round(Number(e.target.value));
                  if (v >= 1 && v <= 20) setSetting('ftEpochs', v);
                }}
              />
            </label>
            <button className="primary" disabled={busy || !fresh} onClick={() => void fineTune()} data-testid="finetune">
              Fine-tune
            </button>
            <button disabled={busy} onClick={resetPruning} data-testid="reset">
              Reset to baseline
            </button>
          </div>
          {jobRole === 'pruned' && <JobProgress />}
          {finetuned && (
            <div className="result">
              After fine-tuning: <strong data-testid="finetuned-acc">{pct(finetuned.accuracy)}</strong>
            </div>
          )}
          {preview.reply && <FilterGrid kernel={preview.reply.conv1.kernel} kept={preview.reply.conv1.kept} />}
        </div>
      </div>
      <CompareCharts settings={settings} />
      <CurvesChart role="pruned" title="Fine-tuning the pruned model" testId="finetune-curve" />
    </section>
  );
}
