import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { scriptRunsSchedule } from '../core/export/pytorchScript';
import { specFor } from '../core/model/zoo';
import { type HistoryRow, describeControl, describeFineTuning, historyToCsv, testImagesText } from '../state/history';
import { scheduleLabel } from '../state/slices/schedule';
import { download } from './download';
import { useExportAndDownload } from './PytorchExport';
import { METHOD_COLORS, METHOD_LABELS, compact, int, pct } from '../state/vocabulary';
import { useActions, useStore } from './context';



/** Every fine-tuned configuration as a point: accuracy against nonzero parameters, one colour per method. */
export function HistoryPanel() {
  const actions = useActions();
  const exportAndDownload = useExportAndDownload();
  const history = useStore((s) => s.history);
  return (
    <section className="panel" aria-labelledby="hist-h">
      <h2 id="hist-h">Runs</h2>
      <p className="help">
        Each fine-tuning adds a run. Points further up and to the left are better: fewer nonzero parameters, higher
        accuracy. Compare Random against L1 and L2 at the same sparsity.
      </p>
      <figure className="chart" data-testid="pareto" data-points={history.length}>
        <figcaption>Accuracy after fine-tuning vs nonzero parameters</figcaption>
        {history.length === 0 ? (
          <div className="empty">No runs yet: prune, then press Fine-tune.</div>
        ) : (
          <ResponsiveContainer width="100%" height={240}>
            <ScatterChart margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
              <XAxis dataKey="nonzeroParams" type="number" name="nonzero parameters" tickFormatter={compact} tick={{ fontSize: 11 }} domain={[0, 'auto']} label={{ value: 'nonzero parameters', position: 'insideBottom', offset: -8, fontSize: 11 }} />
              <YAxis dataKey="finetunedAcc" type="number" name="accuracy" domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} width={48} tick={{ fontSize: 11 }} />
              <ZAxis range={[60, 60]} />
              <Tooltip formatter={(v, n) => (n === 'accuracy' ? pct(Number(v)) : int(Number(v)))} />
              <Legend verticalAlign="top" height={24} />
              {(Object.keys(METHOD_LABELS) as HistoryRow['method'][])
                .filter((m) => history.some((h) => h.method === m))
                .map((m) => (
                  <Scatter key={m} name={METHOD_LABELS[m]} data={history.filter((h) => h.method === m)} fill={METHOD_COLORS[m]} isAnimationActive={false} />
                ))}
            </ScatterChart>
          </ResponsiveContainer>
        )}
      </figure>
      {history.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="history" data-testid="history">
              <thead>
                <tr>
                  <th>#</th>
                  <th>method</th>
                  <th>mode</th>
                  <th>model</th>
                  <th>amounts</th>
                  <th>filters</th>
                  <th>nonzero params</th>
                  <th>MACs</th>
                  <th>baseline</th>
                  <th>pruned</th>
                  <th>fine-tuned</th>
                  <th title="Test images the accuracies were measured on: the subset's 1,000 or the full CIFAR-10's 10,000 (slider previews: 1,000)">on test images</th>
                  <th>control</th>
                  <th>fine-tuning</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {history.map((h) => (
                  <tr key={h.run}>
                    <td>{h.run}</td>
                    <td>{h.method}</td>
                    <td>{h.mode}</td>
                    <td>{specFor(h.model).label}</td>
                    <td>{h.method === 'manual' ? `by hand: ${h.manual}` : amountsText(h.amounts)}</td>
                    <td>{h.channels.join(' · ')}</td>
                    <td>{int(h.nonzeroParams)}</td>
                    <td>{int(h.nonzeroMacs)}</td>
                    <td>{pct(h.baselineAcc)}</td>
                    <td>{pct(h.prunedAcc)}</td>
                    <td>{pct(h.finetunedAcc)}</td>
                    <td data-testid="test-images">{testImagesText(h)}</td>
                    <td data-testid="control">{describeControl(h)}</td>
                    <td data-testid="ft-description">
                      {describeFineTuning(h)}
                      {h.schedule && <span data-testid="schedule-label"> · {scheduleLabel(h)}</span>}
                    </td>
                    <td>
                      {/* A scheduled run is offered only where the script runs its schedule (else it would prune in one shot). */}
                      <button
                        className="link"
                        onClick={() => void exportAndDownload(h)}
                        disabled={!!h.schedule && !scriptRunsSchedule(h.method, h.mode)}
                        data-testid={`export-pytorch-run-${h.run}`}
                        title={
                          h.schedule && !scriptRunsSchedule(h.method, h.mode)
                            ? 'The PyTorch export does not run schedules for filters picked by hand: it would prune this run in one shot'
                            : 'Export this run as a PyTorch script'
                        }
                      >
                        PyTorch
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="actions">
            <button onClick={() => download('pruning-runs.csv', 'text/csv', historyToCsv(history))} data-testid="export-csv">
              Export CSV
            </button>
            <button onClick={() => download('pruning-runs.json', 'application/json', JSON.stringify(history, null, 2))} data-testid="export-json">
              Export JSON
            </button>
            <button onClick={actions.clearHistory} data-testid="clear-runs">
              Clear runs
            </button>
          </div>
        </>
      )}
    </section>
  );
}

/** A run's sliders: every one for the chain models (a handful); only those set for a model with many groups (ResNet-20's 13). */
function amountsText(amounts: Record<string, number>): string {
  const all = Object.entries(amounts);
  const shown = all.length > 4 ? all.filter(([, v]) => v > 0) : all;
  return shown.length ? shown.map(([k, v]) => `${k} ${v}%`).join(', ') : 'all at 0%';
}

