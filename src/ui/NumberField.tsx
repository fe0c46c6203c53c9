import type { Settings } from '../state/urlState';
import { useActions, useStore } from './context';

/** The settings a number field edits (the training panel's and the recipe's). */
export type NumberSetting = 'epochs' | 'batch' | 'lr' | 'seed' | 'wd' | 'warmup' | 'ls';

/** A numeric setting as a labelled input, clamped to [min, max]; disabled while a job runs. */
export function NumberField(props: { k: NumberSetting; label: string; step?: number; min: number; max: number; help: string }) {
  const actions = useActions();
  const value: Settings[NumberSetting] = useStore((s) => s.settings[props.k]);
  const busy = useStore((s) => s.job !== null);
  return (
    <label className="field" title={props.help}>
      <span>{props.label}</span>
      <input
        type="number"
        value={value}
        step={props.step ?? 1}
        min={props.min}
        max={props.max}
        disabled={busy}
        data-testid={`input-${props.k}`}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (e.target.value !== '' && Number.isFinite(v)) actions.setSetting(props.k, Math.min(props.max, Math.max(props.min, v)));
        }}
      />
    </label>
  );
}
