import { schedulePlanText } from '../state/slices/schedule';
import { pruneSettingsOf } from '../state/shared';
import type { Settings } from '../state/types';
import { epochsText } from '../state/vocabulary';
import { useActions, useStore } from './context';

/** Schedule and steps beside the fine-tune button (issue 22): one-shot, iterative or AGP, each step ftEpochs long. */
export function ScheduleControls({ busy }: { busy: boolean }) {
  const actions = useActions();
  const settings = useStore((s) => s.settings);
  const scheduled = settings.schedule !== 'oneshot';
  const plan = scheduled ? schedulePlanText(settings.schedule, settings.steps, pruneSettingsOf(settings).amounts) : null;
  return (
    <div className="schedule-controls" data-testid="schedule-controls">
      <label className="field inline" title="One-shot prunes to the target at once; iterative and AGP prune in steps, fine-tuning between steps.">
        <span>Schedule</span>
        <select value={settings.schedule} disabled={busy} data-testid="input-schedule" onChange={(e) => actions.setSetting('schedule', e.target.value as Settings['schedule'])}>
          <option value="oneshot">one-shot</option>
          <option value="iterative">iterative (equal steps)</option>
          <option value="agp">AGP (Zhu &amp; Gupta: large cuts first)</option>
        </select>
      </label>
      {scheduled && (
        <label className="field inline">
          <span>Steps</span>
          <input
            type="number"
            min={2}
            max={10}
            value={settings.steps}
            disabled={busy}
            data-testid="input-steps"
            onChange={(e) => {
              const v = Math.round(Number(e.target.value));
              if (v >= 2 && v <= 10) actions.setSetting('steps', v);
            }}
          />
        </label>
      )}
      {scheduled && (
        <p className="muted small" data-testid="schedule-plan">
          {plan} — each step prunes the previous step&apos;s network further and fine-tunes it for {epochsText(settings.ftEpochs)} ({epochsText(settings.ftEpochs * settings.steps)} in
          all; the control gets the same {epochsText(settings.ftEpochs * settings.steps)}).
          {settings.method === 'manual' && <span className="warn"> Hand-picked filters are pruned at once: choose one-shot or a criterion.</span>}
        </p>
      )}
    </div>
  );
}
