import { CLASS_NAMES } from '../core/data/cifar10';
import type { Evaluation } from '../core/train/trainer';
import { pct } from '../state/vocabulary';
import { useStore } from './context';

const K = CLASS_NAMES.length;

/** Per-class test accuracy before and after pruning (the last preview), and the pruned model's confusion matrix. */
export function ClassResults() {
  const before = useStore((s) => s.baselineEval);
  const reply = useStore((s) => s.preview.reply);
  const status = useStore((s) => s.preview.status);
  const after = status === 'ready' ? (reply?.evaluation ?? null) : null;
  if (!before) return null;
  return (
    <div className="class-results">
      <table className="per-class-compare" data-testid="per-class-compare">
        <caption>Test accuracy per class</caption>
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col">before pruning</th>
            <th scope="col">after pruning</th>
            <th scope="col">change</th>
          </tr>
        </thead>
        <tbody>
          {CLASS_NAMES.map((name, k) => {
            const a = before.perClass[k];
            const b = after?.perClass[k];
            return (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{pct(a, 0)}</td>
                <td>{b === undefined ? '—' : pct(b, 0)}</td>
                <td className={b !== undefined && b < a ? 'worse' : ''}>{b === undefined ? '' : `${b >= a ? '+' : '−'}${Math.abs(Math.round((b - a) * 100))} pts`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {after?.confusion && <Confusion evaluation={after} />}
    </div>
  );
}

/** Counts [true][predicted] on the test set; the diagonal is right. Shade = share of the true class's images. */
export function Confusion({ evaluation }: { evaluation: Evaluation }) {
  const c = evaluation.confusion!;
  const rowTotal = (t: number) => c.slice(t * K, t * K + K).reduce((a, b) => a + b, 0);
  return (
    // Wider than a phone: its own sideways scroll, reachable from the keyboard (issue 23).
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Confusion matrix (scrolls sideways on a narrow screen)">
      <table className="confusion" data-testid="confusion">
        <caption>Confusion matrix of the pruned model ({evaluation.count.toLocaleString('en-US')} test images): rows are the true class, columns the answer</caption>
        <thead>
          <tr>
            <th scope="col">true ↓ / answer →</th>
            {CLASS_NAMES.map((n) => (
              <th key={n} scope="col" className="rot">
                {n.slice(0, 5)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {CLASS_NAMES.map((n, t) => {
            const total = rowTotal(t) || 1;
            return (
              <tr key={n}>
                <th scope="row">{n}</th>
                {CLASS_NAMES.map((_, p) => {
                  const v = c[t * K + p];
                  const share = v / total;
                  const bg = t === p ? `rgba(16,185,129,${share})` : `rgba(239,68,68,${share})`;
                  return (
                    <td key={p} data-testid={`confusion-${t}-${p}`} style={{ background: bg }} title={`${n} answered as ${CLASS_NAMES[p]}: ${v}`}>
                      {v}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
