import { useActions, useStore } from './context';

/** Progress of the running job; subscribes on its own so its panel does not re-render per batch. */
export function JobProgress() {
  const actions = useActions();
  const job = useStore((s) => s.job);
  if (!job) return null;
  const total = job.epochs * Math.max(1, job.batchesPerEpoch);
  const done = job.epoch * job.batchesPerEpoch + job.batch;
  const local = job.batchesPerEpoch ? done : 0;
  return (
    <div className="job" data-testid="job">
      <progress max={total} value={local} aria-label="training progress" />
      <span className="small">
        {job.batchesPerEpoch
          ? `batch ${job.batch} of ${job.batchesPerEpoch}, epoch ${job.epoch + 1} of ${job.epochs} · ${Math.round(job.imagesPerSecond)} images/s`
          : 'starting…'}
      </span>
      <button onClick={actions.cancelJob} disabled={job.cancelling} data-testid="cancel">
        {job.cancelling ? 'Stopping…' : 'Cancel'}
      </button>
    </div>
  );
}
