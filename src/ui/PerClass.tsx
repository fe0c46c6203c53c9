import { CLASS_NAMES } from '../core/data/cifar10';
import type { Evaluation } from '../core/train/trainer';
import { pct } from '../state/vocabulary';

/** Per-class test accuracy as a compact bar list (text stays readable without the chart). */
export function PerClass({ evaluation }: { evaluation: Evaluation }) {
  return (
    <figure className="chart per-class" data-testid="per-class">
      <figcaption>Test accuracy per class</figcaption>
      <ul>
        {evaluation.perClass.map((a, i) => (
          <li key={i}>
            <span className="cls">{CLASS_NAMES[i]}</span>
            <span className="bar">
              <span style={{ width: `${a * 100}%` }} />
            </span>
            <span className="num">{pct(a, 0)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
