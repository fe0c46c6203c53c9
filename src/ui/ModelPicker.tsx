import { parameterCount } from '../core/model/spec';
import { MODELS, MODEL_IDS } from '../core/model/zoo';
import type { Settings } from '../state/urlState';
import { int } from '../state/vocabulary';
import { useActions, useStore } from './context';

/** The network to train and prune (in the prune loop and beside the baseline training). */
export function ModelPicker() {
  const actions = useActions();
  const model = useStore((s) => s.settings.model);
  const busy = useStore((s) => s.job !== null);
  return (
    <label className="field model-picker" title="The network to train and prune. Switching starts that model's baseline.">
      <span>Model</span>
      <select value={model} disabled={busy} data-testid="model" onChange={(e) => actions.setSetting('model', e.target.value as Settings['model'])}>
        {MODEL_IDS.map((id) => (
          <option key={id} value={id}>
            {MODELS[id].label} ({int(parameterCount(MODELS[id]))} parameters)
          </option>
        ))}
      </select>
    </label>
  );
}
