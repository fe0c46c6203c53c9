/**
 * What the two data- and network-wide criteria need said beside the sliders: Taylor's batch (which
 * training images, editable) and global structured's normalisation, floor and the units each group lost.
 */
import { structure } from '../core/model/graph';
import { specFor } from '../core/model/zoo';
import { GLOBAL_STRUCT_MIN_KEEP } from '../core/pruning/settings';
import type { Settings } from '../state/urlState';
import { int } from '../state/vocabulary';
import { useActions, useStore } from './context';

function NumberField(props: { label: string; value: number; min: number; max: number; testId: string; title: string; onChange: (v: number) => void; disabled: boolean }) {
  return (
    <label className="field inline" title={props.title}>
      <span>{props.label}</span>
      <input
        type="number"
        min={props.min}
        max={props.max}
        value={props.value}
        disabled={props.disabled}
        data-testid={props.testId}
        onChange={(e) => {
          const v = Math.round(Number(e.target.value));
          if (v >= props.min && v <= props.max) props.onChange(v);
        }}
      />
    </label>
  );
}

export function CriterionNote({ settings, busy }: { settings: Settings; busy: boolean }) {
  const actions = useActions();
  const preview = useStore((s) => s.preview);
  const reply = preview.status === 'ready' ? preview.reply : null;
  if (settings.method === 'taylor') {
    const t = reply?.taylor;
    const shown = t ? t.indices.slice(0, 8).map((i) => `#${i}`).join(', ') + (t.indices.length > 8 ? ', …' : '') : '';
    return (
      <div className="criterion-note" data-testid="taylor-note">
        <NumberField label="Taylor batch" value={settings.taylorBatch} min={1} max={1024} testId="input-taylorBatch" title="Training images the Taylor scores are summed over." disabled={busy} onChange={(v) => actions.setSetting('taylorBatch', v)} />
        <NumberField label="batch seed" value={settings.taylorSeed} min={0} max={2 ** 31 - 1} testId="input-taylorSeed" title="Seed of the shuffle that picks the batch from the loaded training images." disabled={busy} onChange={(v) => actions.setSetting('taylorSeed', v)} />
        <p className="help small" data-testid="taylor-batch">
          {t
            ? `Scored on ${int(t.indices.length)} of the ${int(t.of)} loaded training images, picked by a shuffle with seed ${t.seed} (${shown}): the baseline's loss on them is ${t.loss.toFixed(3)}; ${t.cached ? 'scores reused from the last preview' : `scored in ${Math.round(t.millis)} ms`}. Each filter scores |Σ activation × gradient| at its conv's (BatchNorm's) output, summed over a group's convs.`
            : 'Taylor scores need one forward and backward pass over a batch of training images; they follow with the preview.'}
        </p>
      </div>
    );
  }
  if (settings.method === 'globalStruct') {
    const spec = specFor(settings.model);
    const groups = structure(spec).groups;
    const lost = reply ? groups.map((g) => ({ label: g.id, lost: g.units - (reply.kept[g.id]?.length ?? g.units), units: g.units })) : null;
    return (
      <div className="criterion-note" data-testid="global-note">
        <p className="help small">
          Every filter of every layer is ranked together by its L1 norm divided by the mean L1 norm of its layer (Torch-Pruning’s default
          normalisation: “how important relative to its layer”), and each layer keeps at least {Math.round(GLOBAL_STRUCT_MIN_KEEP * 100)} % of its filters.
        </p>
        {lost && (
          <p className="help small" data-testid="global-lost">
            Lost per layer: {lost.map((l) => `${l.label} ${int(l.lost)} of ${int(l.units)}`).join(' · ')}
            {reply?.global && reply.global.pruned < reply.global.requested ? ` (the floor kept ${int(reply.global.requested - reply.global.pruned)} of the ${int(reply.global.requested)} asked for)` : ''}.
          </p>
        )}
      </div>
    );
  }
  return null;
}
