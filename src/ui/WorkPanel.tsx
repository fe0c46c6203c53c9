import { DropZone } from './DropZone';
import { download } from './download';
import { useActions, useStore } from './context';

/** Saving work: what the browser keeps by itself, experiment files to hand out, and forgetting. */
export function WorkPanel() {
  const actions = useActions();
  const persistence = useStore((s) => s.persistence);
  const busy = useStore((s) => s.job !== null);
  const open = (list: FileList | null) => {
    if (list && list[0]) void actions.openExperiment(list[0]);
  };
  const save = async () => {
    const file = await actions.saveExperiment();
    if (file) download(file.name, 'application/zip', file.bytes);
  };
  return (
    <section className="panel" aria-labelledby="work-h">
      <h2 id="work-h">Your work</h2>
      <p className="help" data-testid="persistence-status">
        {persistence === 'on'
          ? 'This browser keeps your baseline, its curve, your runs and settings (IndexedDB): a reload or a crashed tab gets them back.'
          : persistence === 'off'
            ? 'This browser does not keep your work (no IndexedDB, or storage full): save an experiment file to keep it.'
            : 'Checking whether this browser can keep your work…'}
      </p>
      <DropZone onFiles={open}>
        <div className="actions">
          <button onClick={() => void save()} disabled={busy} data-testid="save-experiment">
            Save experiment
          </button>
          <label className={`button ${busy ? 'disabled' : ''}`}>
            Open experiment…
            <input type="file" accept=".zip" hidden disabled={busy} data-testid="open-experiment" onChange={(e) => {
              open(e.target.files);
              e.target.value = '';
            }} />
          </label>
          <button onClick={() => void actions.forgetSavedWork()} disabled={persistence !== 'on'} data-testid="forget-saved">
            Forget saved work
          </button>
        </div>
        <div className="muted small">
          An experiment file holds the baseline's weights (safetensors, readable by PyTorch), its curve, the runs and the
          settings: hand it out and everyone sees the same numbers. Drop one here to open it.
        </div>
      </DropZone>
    </section>
  );
}
