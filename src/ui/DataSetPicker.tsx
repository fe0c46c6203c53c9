import { FULL_TEST_IMAGES, FULL_TRAIN_IMAGES } from '../core/data/cifar10Full';
import { RECORD_BYTES } from '../core/data/cifar10';
import { bytes, int } from '../state/vocabulary';
import { useActions, useStore } from './context';

/**
 * The data set picker (URL `data`): the shipped 5,000/1,000-image subset (instant, the default) or the
 * full CIFAR-10, downloaded when picked with its progress (bytes and images) and Cancel; a failure is a
 * notice with Retry (Notices.tsx) and the subset stays in use meanwhile.
 */
export function DataSetPicker() {
  const actions = useActions();
  const choice = useStore((s) => s.settings.data);
  const full = useStore((s) => s.fullData);
  const busy = useStore((s) => s.job !== null);
  const images = Math.floor(full.loaded / RECORD_BYTES);
  const all = FULL_TRAIN_IMAGES + FULL_TEST_IMAGES;
  return (
    <fieldset className="data-set-picker" data-testid="data-set-picker">
      <legend>Data set</legend>
      <label>
        <input type="radio" name="data-set" value="subset" checked={choice === 'subset'} disabled={busy} onChange={() => void actions.pickData('subset')} data-testid="data-subset" />{' '}
        Subset: 5,000 training and 1,000 test images (shipped, instant)
      </label>
      <label>
        <input type="radio" name="data-set" value="full" checked={choice === 'full'} disabled={busy} onChange={() => void actions.pickData('full')} data-testid="data-full" />{' '}
        Full CIFAR-10: {int(FULL_TRAIN_IMAGES)} training and {int(FULL_TEST_IMAGES)} test images (a {bytes(all * RECORD_BYTES)} download; accuracies on the 10,000, the
        sliders&apos; preview stays on 1,000)
      </label>
      {full.status === 'loading' && (
        <div className="data-row" data-testid="full-data-progress">
          <progress max={1} value={full.total ? full.loaded / full.total : 0} aria-label="full CIFAR-10 downloaded" />
          <span className="small">
            {bytes(full.loaded)}
            {full.total ? ` of ${bytes(full.total)}` : ''} · {int(images)} of {int(all)} images · {full.file}
          </span>{' '}
          <button onClick={actions.cancelFullData} data-testid="full-data-cancel">
            Cancel
          </button>
        </div>
      )}
      {full.status === 'ready' && choice === 'full' && (
        <div className="small" data-testid="full-data-ready">
          In use: the full CIFAR-10. Training, fine-tuning and the accuracies shown use its {int(FULL_TRAIN_IMAGES)} training and {int(FULL_TEST_IMAGES)} test
          images; the sliders&apos; preview is measured on the subset&apos;s 1,000 test images (fast).
        </div>
      )}
      {choice === 'full' && full.status === 'idle' && <div className="muted small">The full data set is downloaded once the subset is loaded.</div>}
      {full.status === 'error' && (
        <div className="error small" data-testid="full-data-error">
          Not loaded: {full.error} The subset stays in use.
        </div>
      )}
    </fieldset>
  );
}
