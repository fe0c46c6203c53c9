import { useRef, useState } from 'react';
import { pruneSettingsOf } from '../state/controller';
import { int, pct } from '../state/vocabulary';
import type { SpeedLabReply, SpeedRow } from '../worker/protocol';
import { useActions, useExperiments, useStore } from './context';

const BATCHES = [1, 32, 256];
const RUNS = 5;
const WARMUP = 2;

const NAMES: Record<SpeedRow['model'], string> = {
  masked: 'Masked (mask mode)',
  removed: 'Removed (remove mode)',
  dense: 'Dense, evenly narrowed to the same parameters',
};

const ms = (x: number | null) => (x === null ? '—' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());

/** What the figures say, in words, from this measurement. */
function Findings({ r }: { r: SpeedLabReply }) {
  const [masked, removed, dense] = r.rows;
  const last = r.batches.length - 1;
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);
  const timeShare = ratio(removed.ms[last], masked.ms[last]);
  const timeShare1 = ratio(removed.ms[0], masked.ms[0]);
  const denseShare = ratio(dense.ms[last], removed.ms[last]);
  return (
    <ul className="help small" data-testid="speed-findings">
      <li>
        <strong>Why masks do not speed anything up:</strong> the masked model has the baseline’s shapes. Its zeros are ordinary numbers to a dense
        conv kernel, which multiplies them like any other: {int(masked.macs)} multiply-adds per image, though only {int(masked.nonzeroMacs)} involve a
        nonzero weight. Skipping them would need sparse kernels (and unstructured zeros rarely pay even then); whole zero filters only help once the
        filters are taken out.
      </li>
      {timeShare !== null && (
        <li>
          <strong>Where removal falls short:</strong> it cut the MACs to {pct(removed.macs / masked.macs)} of the masked model’s, and the time at batch{' '}
          {r.batches[last]} to {pct(timeShare)}
          {timeShare1 !== null ? ` (at batch ${r.batches[0]}: ${pct(timeShare1)})` : ''}. The rest is work that does not shrink with the channels: a
          fixed cost per layer and per call (dispatch, allocating outputs, reading back), the first conv and the classifier layer that lose little or
          nothing, and at batch 1 the time goes to moving weights and activations through memory rather than to arithmetic.
        </li>
      )}
      {denseShare !== null && dense.channels.join() === removed.channels.join() && (
        <li>
          Here every layer lost the same share, so the removed model already is the evenly narrowed one: the two rows have the same shapes, and
          their difference ({pct(Math.abs(denseShare - 1))} at batch {r.batches[last]}) is how much timings vary on this machine right now.
        </li>
      )}
      {denseShare !== null && dense.channels.join() !== removed.channels.join() && (
        <li>
          The dense model of the same size ({int(dense.params)} parameters, {int(dense.macs)} MACs) took {pct(denseShare)} of the removed model’s time
          at batch {r.batches[last]}: the same parameters spread evenly give {dense.macs > removed.macs ? 'more' : 'fewer'} MACs ({pct(dense.macs / removed.macs)} of
          the removed model’s), and the time follows the MACs and shapes left, not whether they came from pruning.
        </li>
      )}
    </ul>
  );
}

/** "Why isn't it faster?": the masked, removed and a same-size dense model timed in this tab on the current backend. */
export function SpeedLab() {
  const actions = useActions();
  const experiments = useExperiments();
  const settings = useStore((s) => s.settings);
  const busy = useStore((s) => s.job !== null);
  const ready = useStore((s) => s.baselineEval !== null);
  const backend = useStore((s) => s.backend?.backend ?? null);
  const [running, setRunning] = useState(false);
  const [reply, setReply] = useState<SpeedLabReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);
  const run = async () => {
    const mine = ++seq.current;
    setRunning(true);
    setError(null);
    try {
      // The job guard (experiments.ts): never beside training or an experiment; null when refused (a notice says why).
      const r = await experiments.speedLab({ settings: pruneSettingsOf(settings), batches: BATCHES, runs: RUNS, warmup: WARMUP });
      if (r && mine === seq.current) setReply(r);
    } catch (e) {
      if (mine === seq.current) setError(e instanceof Error ? e.message : String(e));
    } finally {
      if (mine === seq.current) setRunning(false);
    }
  };
  // Global mode prunes single weights: there are no filters to remove, so the lab needs the filter amounts of mask/remove.
  const global = settings.mode === 'global';
  const cancel = () => void actions.engine().request('cancel', {});
  return (
    <section className="panel" aria-labelledby="speed-h" data-testid="speed-lab">
      <h2 id="speed-h">Why isn’t it faster?</h2>
      <p className="help">
        Times inference of three models of the current setting in this tab, on the current backend{backend ? ` (${backend})` : ''}: the masked
        model, the removed model, and a dense model narrowed evenly to the removed one’s parameter count. Each batch size: {WARMUP} warm-up runs,
        then the median of {RUNS}. Figures are measured here and vary with the machine and whatever else it is doing.
      </p>
      <div className="actions">
        <button className="primary" onClick={() => void run()} disabled={running || busy || !ready || global} data-testid="speed-run">
          {reply ? 'Time them again' : 'Time them'}
        </button>
        {running && (
          <button onClick={cancel} data-testid="speed-cancel">
            Cancel
          </button>
        )}
        {running && <span className="muted small">timing…</span>}
      </div>
      {global && <p className="muted small">Global unstructured pruning removes no filters: choose Mask or Remove filters to compare them.</p>}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {reply && (
        <>
          <table className="figures speed" data-testid="speed-table">
            <caption>
              Milliseconds per batch on {reply.backend} (median of {reply.runs}){reply.cancelled ? ' — cancelled, the rest not timed' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">model</th>
                <th scope="col">channels</th>
                <th scope="col">parameters</th>
                <th scope="col">MACs / image</th>
                {reply.batches.map((b) => (
                  <th key={b} scope="col">
                    batch {b}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {reply.rows.map((row) => (
                <tr key={row.model} data-testid={`speed-row-${row.model}`}>
                  <th scope="row">{NAMES[row.model]}</th>
                  <td>{row.channels.join(' · ')}</td>
                  <td>{int(row.params)}</td>
                  <td>
                    {int(row.macs)}
                    {row.nonzeroMacs < row.macs && <span className="muted small"> ({int(row.nonzeroMacs)} nonzero)</span>}
                  </td>
                  {row.ms.map((t, i) => (
                    <td key={i} data-testid={`speed-ms-${row.model}-${reply.batches[i]}`}>
                      {ms(t)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <Findings r={reply} />
        </>
      )}
    </section>
  );
}
