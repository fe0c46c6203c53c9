import type { DataRole } from '../worker/protocol';
import { int } from '../state/vocabulary';
import { useStore } from './context';

/** The data the prune view's accuracies are measured on, in one line (the Data view has the details). */
export function DataSummary() {
  const data = useStore((s) => s.data);
  const part = (role: DataRole) => {
    const d = data[role];
    return d.status === 'ready' ? (
      <span data-testid={`${role}-count`}>
        {int(d.count)} image{d.count === 1 ? '' : 's'}
      </span>
    ) : (
      <span>{d.status === 'error' ? 'failed' : 'loading…'}</span>
    );
  };
  return (
    <p className="muted small data-summary">
      CIFAR-10: train {part('train')} · test {part('test')}
    </p>
  );
}
