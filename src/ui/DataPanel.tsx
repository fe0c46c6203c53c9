import { CLASS_NAMES } from '../core/data/cifar10';
import { type DataStatus } from '../state/types';
import { DataSetPicker } from './DataSetPicker';
import { DropZone } from './DropZone';
import { bytes, int } from '../state/vocabulary';
import { useActions, useStore } from './context';

function Progress({ role, d }: { role: string; d: DataStatus }) {
  const frac = d.total ? d.loaded / d.total : d.status === 'ready' ? 1 : 0;
  return (
    <div className="data-row">
      <div className="data-label">
        <strong>{role}</strong>{' '}
        {d.status === 'ready' ? (
          <span data-testid={`${role}-count`}>{int(d.count)} image{d.count === 1 ? '' : 's'}</span>
        ) : d.status === 'loading' ? (
          <span>
            loading… {bytes(d.loaded)}
            {d.total ? ` of ${bytes(d.total)}` : ''}
          </span>
        ) : d.status === 'error' ? (
          <span className="error">failed</span>
        ) : (
          <span className="muted">waiting</span>
        )}
        {d.source && <span className="muted small"> · {d.source}</span>}
      </div>
      <progress max={1} value={frac} aria-label={`${role} data loaded`} />
    </div>
  );
}

export function DataPanel() {
  const actions = useActions();
  const data = useStore((s) => s.data);
  const take = (list: FileList | null) => {
    if (list && list.length) void actions.loadUserFiles(Array.from(list));
  };
  return (
    <section className="panel" aria-labelledby="data-h">
      <h2 id="data-h">Data</h2>
      <p className="help">
        Real CIFAR-10 images, 32×32 colour, 10 classes ({CLASS_NAMES.join(', ')}). Pixels are normalised per channel with
        the training set's mean and standard deviation.
      </p>
      <DataSetPicker />
      <Progress role="train" d={data.train} />
      <Progress role="test" d={data.test} />
      <DropZone onFiles={take}>
        <label>
          Use your own CIFAR-10 binary batches (<code>data_batch_1.bin</code> … <code>test_batch.bin</code>): drop them here
          or <span className="link">choose files</span>
          <input type="file" multiple accept=".bin" data-testid="file-input" onChange={(e) => take(e.target.files)} hidden />
        </label>
        <div className="muted small">Parsed in this tab, never uploaded. Files named test_* become the test set.</div>
      </DropZone>
    </section>
  );
}
