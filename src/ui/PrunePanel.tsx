import { useCallback, useRef, useState } from 'react';
import { type ConvNode, type GraphStructure, shapes, structure } from '../core/model/graph';
import { type ModelSpec, fullChannels, hasBatchNorm, parameterCount } from '../core/model/spec';
import { ScheduleChart } from './ScheduleChart';
import { ScheduleControls } from './ScheduleControls';
import { specFor } from '../core/model/zoo';
import { fraction, pruneCount } from '../core/pruning/amount';
import { type Costs, previewCosts, prunedFilterCount } from '../core/pruning/costs';
import { describeGroup } from '../core/pruning/groups';
import { type Method, type Mode, unsupported } from '../core/pruning/settings';
import { currentCosts, pruneSettingsOf } from '../state/controller';
import type { Settings } from '../state/urlState';
import { CompareCharts } from './CompareCharts';
import { CriterionNote } from './CriterionNote';
import { CurvesChart } from './CurvesChart';
import { FilterGrid } from './FilterGrid';
import { JobProgress } from './JobProgress';
import { PytorchExport } from './PytorchExport';
import { ModelPicker } from './ModelPicker';
import { NetworkView } from './NetworkView';
import { Part } from './Part';
import { DataSummary } from './DataSummary';
import { Origin } from './TrainPanel';
import { bytes, epochsText, int, pct } from '../state/vocabulary';
import { useActions, useStore } from './context';
import { useFitToScreen } from './fitToScreen';
import { OnImages } from './OnImages';

const METHODS: { value: Method; label: string; help: string }[] = [
  { value: 'random', label: 'Random', help: 'Picks filters with the seeded random generator: the baseline any criterion must beat.' },
  { value: 'l1', label: 'L1 norm', help: 'Prunes the filters whose weights have the smallest sum of absolute values.' },
  { value: 'l2', label: 'L2 norm', help: 'Prunes the filters with the smallest Euclidean norm.' },
  {
    value: 'bn',
    label: 'BatchNorm γ',
    help: 'Prunes the channels whose BatchNorm scale |γ| is smallest (Network Slimming, Liu et al. 2017): a small γ means the channel barely reaches the next layer.',
  },
  { value: 'manual', label: 'By hand', help: 'The filters you clicked in the grids below (the link keeps them: manual=…).' },
  {
    value: 'taylor',
    label: 'Taylor (gradient)',
    help: 'First-order Taylor (Molchanov et al. 2019): |Σ activation × gradient| of each channel over a seeded batch of training images, the loss change removing it would cause to first order.',
  },
  {
    value: 'globalStruct',
    label: 'Global structured',
    help: 'All layers’ filters ranked together (L1 norm ÷ its layer’s mean), so the network decides where to cut; each layer keeps at least 10 %. One slider: the share of all filters.',
  },
];

const convsOf = (st: GraphStructure): ConvNode[] => st.nodes.filter((n): n is ConvNode => n.op === 'conv');

/** Weights of every conv layer of the full network (what global mode ranks). */
function convWeights(st: GraphStructure): number {
  const sh = shapes(st, st.groups.map((g) => g.units));
  return convsOf(st).reduce((a, c) => a + c.kernel * c.kernel * sh.get(c.name)!.inChannels * sh.get(c.name)!.channels, 0);
}

function modeHelp(mode: Mode, spec: ModelSpec): string {
  const bn = hasBatchNorm(spec);
  const st = structure(spec);
  const g = { convs: convsOf(st), linear: st.output };
  const first = g.convs[0];
  switch (mode) {
    case 'mask':
      return (
        'Multiplies chosen filters by a 0/1 mask, like prune.ln_structured: the tensors keep their shape, so size and speed do not change' +
        (bn
          ? ', and a masked filter’s BatchNorm β still reaches the next layer (ReLU(β) is a constant map, not zero).'
          : `, and the bias of a masked filter still flows into ${g.linear.name}.`)
      );
    case 'remove':
      return (
        (st.hasAdd
          ? 'Builds a smaller network: each channel group loses the chosen channels from every conv writing into it'
          : 'Builds a smaller network: each layer loses the chosen filters') +
        (bn ? ', their BatchNorm channels (γ, β, running mean and variance)' : ' and their biases') +
        ', and the next layer loses the input channels (or the flattened rows) they fed. Parameters, MACs and size really drop.'
      );
    default:
      return g.convs.length > 1
        ? 'prune.global_unstructured over every conv weight: single weights anywhere, ranked together by magnitude (or at random), not filters.'
        : `prune.global_unstructured on ${first.name}.weight: zeroes single weights anywhere in ${first.name}, not filters. The article called this “filter pruning”.`;
  }
}

function Radio<T extends string>(props: {
  name: string;
  value: T;
  options: { value: T; label: string; help: string; disabled?: string | null }[];
  onChange: (v: T) => void;
  disabled: boolean;
  help: string;
}) {
  return (
    <fieldset className="radios" disabled={props.disabled}>
      <legend>{props.name}</legend>
      {props.options.map((o) => (
        <label key={o.value} title={o.disabled ?? o.help} className={o.disabled ? 'muted' : ''}>
          <input
            type="radio"
            name={props.name}
            checked={props.value === o.value}
            disabled={!!o.disabled}
            data-testid={`${props.name.toLowerCase()}-${o.value}`}
            onChange={() => props.onChange(o.value)}
          />
          {o.label}
        </label>
      ))}
      <p className="help small">{props.help}</p>
    </fieldset>
  );
}

function Slider(props: {
  /** An amount key (a group id, the linear layer's name) or an aggregate ('allconv', 'allinner', 'all'). */
  k: string;
  value: number;
  label: string;
  detail: string;
  help?: string;
  disabled: boolean;
  onChange: (v: number) => void;
  onFocus?: () => void;
  onBlur?: () => void;
}) {
  return (
    <div className="slider">
      <label htmlFor={`slider-${props.k}`}>
        <span>{props.label}</span> <strong>{props.value}%</strong>
      </label>
      <input
        id={`slider-${props.k}`}
        data-testid={`slider-${props.k}`}
        type="range"
        min={0}
        max={100}
        step={1}
        value={props.value}
        disabled={props.disabled}
        aria-valuetext={`${props.value}%, ${props.detail}`}
        onChange={(e) => props.onChange(Number(e.target.value))}
        onFocus={(e) => {
          props.onFocus?.();
          // Tab into a scrolled slider list: once its group note has shown (and the previous one gone,
          // moving this slider), the whole slider and its note are brought into the list's view.
          const wrap = e.currentTarget.closest('.slider-with-note') ?? e.currentTarget.closest('.slider');
          requestAnimationFrame(() => wrap?.scrollIntoView({ block: 'nearest' }));
        }}
        onBlur={props.onBlur}
        onPointerEnter={props.onFocus}
      />
      <div className="slider-detail" data-testid={`detail-${props.k}`}>
        {props.detail}
      </div>
      {props.help && <p className="help small">{props.help}</p>}
    </div>
  );
}

function convDetail(s: Settings, spec: ModelSpec, id: string): string {
  const st = structure(spec);
  if (s.method === 'globalStruct' && s.mode !== 'global') {
    const n = st.groups.reduce((a, g) => a + g.units, 0);
    const what = st.hasAdd ? 'channels' : 'filters';
    return `${int(pruneCount(fraction((s.amounts[id] ?? 0) / 100), n))} of ${int(n)} ${what} ${s.mode === 'remove' ? 'removed' : 'masked'}, split between ${st.hasAdd ? 'groups' : 'layers'} by the ranking`;
  }
  if (s.mode === 'global') {
    const convs = convsOf(st);
    const n = convWeights(st);
    return `${int(pruneCount(fraction((s.amounts[id] ?? 0) / 100), n))} of ${int(n)} ${convs.length > 1 ? 'conv' : convs[0].name} weights zeroed`;
  }
  const g = st.groups.find((x) => x.id === id)!;
  const pruned = prunedFilterCount(pruneSettingsOf(s), id, g.units);
  return `${pruned} of ${g.units} ${g.unitName} ${s.mode === 'remove' ? 'removed' : 'masked'} · ${g.units - pruned} kept`;
}

function fcDetail(s: Settings, c: Costs, layer: string): string {
  const n = c.layers[layer].weights;
  return `${int(pruneCount(fraction((s.amounts[layer] ?? 0) / 100), n))} of ${int(n)} ${layer} weights zeroed`;
}

function Figures({ costs, spec }: { costs: Costs; spec: ModelSpec }) {
  const base = previewCosts(spec, { method: 'l1', mode: 'mask', amounts: {}, seed: 0 });
  const rows: [string, string, string, string][] = [
    [structure(spec).hasAdd ? 'Channels per group (streams, then inner)' : 'Filters in the network (per conv layer)', fullChannels(spec).join(' · '), costs.channels.join(' · '), 'filters'],
    ['Parameters stored', int(parameterCount(spec)), int(costs.params), 'params'],
    ['Nonzero parameters', int(base.nonzeroParams), int(costs.nonzeroParams), 'nonzero'],
    ['MACs per image (dense kernels)', int(base.macs), int(costs.macs), 'macs'],
    ['MACs per image (nonzero weights only)', int(base.nonzeroMacs), int(costs.nonzeroMacs), 'nonzero-macs'],
    ['Model size (float32)', bytes(base.sizeBytes), bytes(costs.sizeBytes), 'size'],
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

/** One sentence on what the current mode did to the network, with this setting's numbers. */
function WhatChanged({ costs, settings, spec }: { costs: Costs; settings: Settings; spec: ModelSpec }) {
  const st = structure(spec);
  const base = parameterCount(spec);
  const zeroed = base - costs.nonzeroParams;
  const lin = st.output;
  const inputs = (channels: number[]) => shapes(st, channels).get(lin.name)!.inChannels;
  let text: string;
  if (settings.mode === 'remove') {
    const changed = st.groups.map((g, i) => `${g.id} ${g.units}→${costs.channels[i]}`);
    text =
      `The network is physically smaller: ${changed.join(', ')} ${st.hasAdd ? 'channels' : 'filters'}, ` +
      `and ${lin.name} reads ${int(inputs(costs.channels))} inputs instead of ${int(inputs(fullChannels(spec)))}. ${int(base - costs.params)} parameters are gone, not zeroed.`;
  } else if (settings.mode === 'mask') {
    const bn = hasBatchNorm(spec);
    const share = previewCosts(spec, { method: 'l1', mode: 'mask', amounts: {}, seed: 0 }).layers[lin.name].params / base;
    text =
      `Masks zero ${int(zeroed)} of ${int(base)} parameters, but every tensor keeps its shape: the stored size and the dense MACs do not change. ` +
      (bn
        ? `A masked filter's conv output is zero, yet BatchNorm adds its β: the channel becomes the constant ReLU(β), which the next layer still reads. Only removal takes the channel out.`
        : `${lin.name} holds ${pct(share)} of the parameters, and its rows for a masked filter still read that filter's ReLU(bias), so only removal shrinks it.`);
  } else {
    text = `Single weights are zeroed anywhere in the conv layers (${int(zeroed)} here); no filter is gone, so size and dense MACs stay the same.`;
  }
  return (
    <p className="help small" data-testid="what-changed">
      {text}
    </p>
  );
}

/** An aggregate slider: its value when its sliders agree, else their rounded mean. */
function aggregate(settings: Settings, keys: string[]): { value: number; same: boolean } {
  const vals = keys.map((k) => settings.amounts[k] ?? 0);
  const same = vals.every((v) => v === vals[0]);
  return { value: same ? vals[0] : Math.round(vals.reduce((a, v) => a + v, 0) / vals.length), same };
}

const capital = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

function Sliders({ settings, spec, costs, busy }: { settings: Settings; spec: ModelSpec; costs: Costs; busy: boolean }) {
  const actions = useActions();
  const [focused, setFocused] = useState<string | null>(null);
  const st = structure(spec);
  const groups = st.groups;
  const global = settings.mode === 'global' || settings.method === 'globalStruct';
  const manual = settings.method === 'manual';
  const ids = groups.map((g) => g.id);
  const inner = groups.filter((g) => g.kind === 'inner').map((g) => g.id);
  const lin = st.output.name;
  // Aggregates: a chain's "all conv layers"; a residual network's "all inner" (Li et al.'s choice) and "all".
  const aggregates: { k: string; keys: string[]; label: string; differ: string; detail: string }[] = st.hasAdd
    ? [
        { k: 'allinner', keys: inner, label: 'All inner channels', differ: 'All inner channels (groups differ)', detail: `sets the ${inner.length} blocks' inner channels together (Li et al.'s choice)` },
        { k: 'all', keys: ids, label: 'All channel groups', differ: 'All channel groups (groups differ)', detail: `sets all ${ids.length} groups together, residual streams included` },
      ]
    : ids.length > 1
      ? [{ k: 'allconv', keys: ids, label: 'All conv layers', differ: 'All conv layers (layers differ)', detail: `sets ${ids.join(', ')} together` }]
      : [];
  // Fifteen sliders for ResNet-20: the list scrolls inside itself below the rest, so the loop fits one screen.
  const list = useRef<HTMLDivElement>(null);
  const presenter = useStore((s) => s.layout.presenter);
  useFitToScreen(list, { gap: 10, min: 160, off: presenter });
  return (
    <div className="slider-list" ref={list} data-testid="sliders" role="group" aria-label={`How much to prune (${(global ? 1 : groups.length + aggregates.length) + 1} sliders)`}>
      {!global &&
        aggregates.map((a) => {
          const { value, same } = aggregate(settings, a.keys);
          return (
            <Slider key={a.k} k={a.k} value={value} label={same ? a.label : a.differ} detail={a.detail} disabled={busy || manual} onChange={(v) => actions.setAmounts(a.keys, v)} />
          );
        })}
      {st.hasAdd && !global && (
        <details className="coupling help small">
          <summary>Why a stream slider takes so many layers with it</summary>
          <p data-testid="coupling-note">
          Each residual stream is one group: its channels are added together at every block of the stage, so removing one removes it from the conv
          before the stage, every block&rsquo;s second conv, the shortcut conv and every layer reading the stream, all at once. Li et al. (2017)
          therefore pruned only the blocks&rsquo; inner channels, which touch two convs each. Try both: the inner sliders, then a stream slider.
          A group&rsquo;s channel is ranked by the sum of its members&rsquo; filter norms (L1/L2) or of their |γ|: each conv writing into the
          channel contributes what it adds to it.
          </p>
        </details>
      )}
      {groups.map((g, i) => {
        if (global && i > 0) return null;
        const k = g.id;
        const removed = prunedFilterCount(pruneSettingsOf(settings), g.id, g.units);
        const label = global
          ? convsOf(st).length > 1
            ? 'Conv weights pruned (all conv layers, ranked together)'
            : `${g.id} weights pruned`
          : g.kind === 'layer'
            ? `${g.id} filters pruned`
            : `${capital(g.label)}: channels pruned`;
        return (
          <div key={k} className="slider-with-note">
            <Slider
              k={k}
              value={settings.amounts[k] ?? 0}
              label={settings.method === 'globalStruct' && settings.mode !== 'global' ? `${st.hasAdd ? 'Channels' : 'Filters'} pruned (all ${st.hasAdd ? 'channel groups' : 'conv layers'}, ranked together)` : label}
              detail={convDetail(settings, spec, g.id)}
              help={i === 0 ? 'The count follows torch: round(amount × n), rounding halves to even.' : undefined}
              disabled={busy || manual}
              onChange={(v) => actions.setAmount(k, v)}
              onFocus={() => setFocused(g.id)}
              onBlur={() => setFocused(null)}
            />
            {focused === g.id && !global && <GroupNote spec={spec} id={g.id} removed={removed} />}
          </div>
        );
      })}
      {manual && <p className="help small">By hand: click filter tiles below to prune or restore them; the sliders rest.</p>}
      <Slider
        k={lin}
        value={settings.amounts[lin] ?? 0}
        label={`${lin} weights pruned (unstructured)`}
        detail={fcDetail(settings, costs, lin)}
        help="Its 10 outputs are the classes, so it is never pruned by whole units: its single weights are (L1 magnitude or random), and it shrinks when the last conv layer loses filters."
        disabled={busy}
        onChange={(v) => actions.setAmount(lin, v)}
      />
    </div>
  );
}

/** What else goes with a group's units (describeGroup), for the focused slider or the clicked channel. */
export function GroupNote({ spec, id, removed }: { spec: ModelSpec; id: string; removed: number }) {
  return (
    <p className="help small group-note" role="status" data-testid={`group-${id}`}>
      {describeGroup(spec, id, removed > 0 ? removed : 1).replace(/^removing/, removed > 0 ? 'Removing' : 'Removing (for example)')}
    </p>
  );
}

export function PrunePanel() {
  const actions = useActions();
  const settings = useStore((s) => s.settings);
  const jobRole = useStore((s) => s.job?.role ?? null);
  const preview = useStore((s) => s.preview);
  const baselineEval = useStore((s) => s.baselineEval);
  const finetuned = useStore((s) => s.finetunedEval);
  const prunedEpochs = useStore((s) => s.prunedEpochs);
  const spec = specFor(settings.model);
  const busy = jobRole !== null;
  const fresh = preview.status === 'ready';
  // Global structured: how the filters split between layers is known only once the baseline is ranked.
  const costs = settings.method === 'globalStruct' && fresh && preview.reply ? preview.reply.costs : currentCosts(settings);
  const bn = hasBatchNorm(spec);
  const methods = METHODS.map((m) => ({ ...m, disabled: unsupported(m.value, settings.mode, bn) }));
  const modeList: { value: Mode; label: string }[] = [
    { value: 'mask', label: 'Mask (torch.nn.utils.prune)' },
    { value: 'remove', label: 'Remove filters (true structured)' },
    { value: 'global', label: 'Global unstructured (the article)' },
  ];
  const modes = modeList.map((m) => ({ ...m, help: modeHelp(m.value, spec), disabled: unsupported(settings.method, m.value, bn) }));
  const emptyLayer = costs.channels.some((n) => n === 0);
  const coupled = structure(spec).hasAdd;
  // A residual network: the last channel clicked says what its group takes with it.
  const [clicked, setClicked] = useState<string | null>(null);
  const clickedGroup = coupled && clicked && preview.reply ? preview.reply.filters.find((v) => v.layer === clicked) : undefined;
  const onToggle = useCallback(
    (layer: string, j: number) => {
      setClicked(layer);
      actions.toggleFilter(layer, j);
    },
    [actions],
  );
  return (
    <section className="panel prune-panel" aria-labelledby="prune-h">
      {/* The tab names the view; the heading stays for screen readers (the loop must fit one screen). */}
      <h2 id="prune-h" className="visually-hidden">
        Prune and fine-tune
      </h2>
      <div className="prune-grid">
        <div className="prune-controls">
          <div className="model-row">
            <Part id="model">
              <ModelPicker />
            </Part>
            <DataSummary />
          </div>
          <Origin />
          <Part id="method">
            <Radio
              name="Method"
              value={settings.method}
              options={methods}
              help={METHODS.find((m) => m.value === settings.method)!.help}
              onChange={(v) => actions.setSetting('method', v)}
              disabled={busy}
            />
          </Part>
          <Part id="mode">
            <Radio name="Mode" value={settings.mode} options={modes} help={modeHelp(settings.mode, spec)} onChange={(v) => actions.setSetting('mode', v)} disabled={busy} />
          </Part>
          <Part id="sliders">
            <Sliders settings={settings} spec={spec} costs={costs} busy={busy} />
          </Part>
          <CriterionNote settings={settings} busy={busy} />
        </div>
        <div className="prune-results">
          <Part id="network">
            <NetworkView embedded />
          </Part>
          <div className="result accuracy-row" data-testid="preview">
            <span>
              Test accuracy: baseline <strong data-testid="baseline-acc">{baselineEval ? pct(baselineEval.accuracy) : '…'}</strong>
              {baselineEval && <OnImages count={baselineEval.count} />}
            </span>
            <span>
              after pruning{' '}
              <strong data-testid="pruned-acc">
                {preview.status === 'ready' && preview.reply ? pct(preview.reply.evaluation.accuracy) : preview.status === 'pending' ? 'evaluating…' : '—'}
              </strong>
              {preview.reply && preview.status === 'ready' && <OnImages count={preview.reply.evaluation.count} />}
              {preview.reply && preview.status === 'ready' && <span className="muted small"> ({Math.round(preview.reply.millis)} ms)</span>}
            </span>
            {finetuned && (
              <span>
                after fine-tuning ({epochsText(prunedEpochs)}) <strong data-testid="finetuned-acc">{pct(finetuned.accuracy)}</strong>
                <OnImages count={finetuned.count} />
              </span>
            )}
            {preview.error && <div className="error small">{preview.error}</div>}
          </div>
          <Part id="finetune">
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
                    if (v >= 1 && v <= 20) actions.setSetting('ftEpochs', v);
                  }}
                />
              </label>
              {/* One-shot fine-tuning needs the baseline's evaluation too (fineTune ignores the click without it); at
                  start-up the pruned accuracy now comes first, so the button waits for both. */}
              <button className="primary" disabled={busy || !fresh || (settings.schedule === 'oneshot' && !baselineEval)} onClick={() => void actions.fineTune()} data-testid="finetune">
                {prunedEpochs > 0 ? 'Fine-tune more' : 'Fine-tune'}
              </button>
              <button disabled={busy} onClick={actions.resetPruning} data-testid="reset">
                Reset to baseline
              </button>
            </div>
          </Part>
          <Part id="schedule">
            <ScheduleControls busy={busy} />
          </Part>
          {jobRole === 'pruned' && <JobProgress />}
          {emptyLayer && (
            <p className="warn" role="status" data-testid="no-filters">
              A conv layer has no filters left: nothing reaches the classifier but its bias, so the network gives every image the same answer.
            </p>
          )}
          <Figures costs={costs} spec={spec} />
          <WhatChanged costs={costs} settings={settings} spec={spec} />
        </div>
      </div>
      <p className="help">
        Every change prunes a fresh copy of the baseline; the baseline itself is never modified, so Reset is exact. The
        figures update as you drag; the test accuracy follows when you stop.
      </p>
      {clickedGroup && <GroupNote spec={spec} id={clickedGroup.layer} removed={clickedGroup.alive.length - clickedGroup.alive.reduce((a, x) => a + x, 0)} />}
      {preview.reply && (
        <Part id="filters">
          <div className="grids">
            {preview.reply.filters.map((v) => (
              <FilterGrid key={v.layer} view={v} onToggle={coupled ? onToggle : actions.toggleFilter} disabled={busy || (settings.method !== 'manual' && !fresh)} />
            ))}
          </div>
        </Part>
      )}
      <Part id="export">
        <PytorchExport />
      </Part>
      <CompareCharts settings={settings} />
      <CurvesChart role="pruned" title="Fine-tuning the pruned model" testId="finetune-curve" />
      <ScheduleChart />
    </section>
  );
}
