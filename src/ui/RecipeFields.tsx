/**
 * The training recipe (core/train/recipe.ts) as fields: augmentation, Nesterov, weight decay, schedule,
 * warm-up, label smoothing. Baseline training and fine-tuning both use them; each is a URL setting.
 */
import { SCHEDULES } from '../core/train/recipe';
import type { Settings } from '../state/urlState';
import { useActions, useStore } from './context';
import { NumberField } from './NumberField';

const SCHEDULE_LABELS: Record<Settings['sched'], string> = {
  constant: 'constant',
  cosine: 'cosine (to 0)',
  onecycle: 'one-cycle',
};

export function RecipeFields() {
  const actions = useActions();
  const s = useStore((st) => st.settings);
  const busy = useStore((st) => st.job !== null);
  return (
    <details className="recipe" data-testid="recipe" open={s.aug === 'on' || s.nesterov === 'on' || s.wd > 0 || s.sched !== 'constant' || s.warmup > 0 || s.ls > 0}>
      <summary>Training recipe (baseline and fine-tuning)</summary>
      <div className="fields">
        <label className="field" title="Zero-pad 4 pixels, crop a random 32×32 window, flip left-right with probability ½ (seeded).">
          <span>Augmentation</span>
          <input type="checkbox" checked={s.aug === 'on'} disabled={busy} data-testid="input-aug" onChange={(e) => actions.setSetting('aug', e.target.checked ? 'on' : 'off')} />
        </label>
        <label className="field" title={s.opt === 'sgd' ? "Nesterov momentum (PyTorch's SGD(nesterov=True))." : 'Nesterov momentum applies to SGD: pick SGD as the optimizer.'}>
          <span>Nesterov</span>
          <input
            type="checkbox"
            checked={s.nesterov === 'on'}
            disabled={busy || s.opt !== 'sgd'}
            data-testid="input-nesterov"
            onChange={(e) => actions.setSetting('nesterov', e.target.checked ? 'on' : 'off')}
          />
        </label>
        <NumberField k="wd" min={0} label="Weight decay" step={0.0001} max={0.1} help="Added to the gradient of conv and linear weights (not BatchNorm, not biases); 5e-4 is the usual CIFAR value." />
        <label className="field" title="The learning rate per optimiser step: constant, cosine-annealed to 0, or one-cycle (up from lr/25, down to lr/25/10⁴).">
          <span>LR schedule</span>
          <select value={s.sched} disabled={busy} data-testid="input-sched" onChange={(e) => actions.setSetting('sched', e.target.value as Settings['sched'])}>
            {SCHEDULES.map((k) => (
              <option key={k} value={k}>
                {SCHEDULE_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <NumberField k="warmup" min={0} label="Warm-up epochs" step={0.5} max={100} help="Linear warm-up of the learning rate over these epochs (one-cycle: its rising phase; 0 = 30 %)." />
        <NumberField k="ls" min={0} label="Label smoothing" step={0.05} max={0.5} help="Cross-entropy against (1−ε)·one-hot + ε/10." />
      </div>
      {s.opt !== 'sgd' && s.nesterov === 'on' && <p className="muted small">Nesterov is ignored with Adam.</p>}
    </details>
  );
}
