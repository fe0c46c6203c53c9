import { type ConvNode, structure } from '../core/model/graph';
import { specFor } from '../core/model/zoo';
import { previewCosts } from '../core/pruning/costs';
import { amountKeysOf } from '../state/urlState';
import { int } from '../state/vocabulary';
import { useActions, useStore } from './context';

/**
 * The article's mistake, with numbers computed by the engine: global_unstructured with
 * RandomUnstructured zeroes single weights, and its nonzero count reads weight_orig.
 */
export function GotchaPanel() {
  const actions = useActions();
  const seed = useStore((s) => s.settings.seed);
  const busy = useStore((s) => s.job !== null);
  const model = useStore((s) => s.settings.model);
  const spec = specFor(model);
  const st = structure(spec);
  const convs = st.nodes.filter((n): n is ConvNode => n.op === 'conv');
  const first = convs[0];
  // The first channel group's amount is global mode's one (a chain model's first group: its first conv layer).
  const group = st.groups[0];
  const c = previewCosts(spec, { method: 'random', mode: 'global', amounts: { [group.id]: 0.2 }, seed });
  const zeroed = c.articlePrints - c.nonzeroParams;
  const removed = previewCosts(spec, { method: 'l1', mode: 'remove', amounts: { [group.id]: 0.2 }, seed });
  const convWeights = convs.reduce((a, x) => a + c.layers[x.name].weights, 0);
  const showMe = () => {
    actions.setSetting('mode', 'global');
    actions.setSetting('method', 'random');
    actions.setAmounts(amountKeysOf(model), 0);
    actions.setAmount(group.id, 20);
    actions.showView('prune');
  };
  return (
    <section className="panel gotcha" aria-labelledby="gotcha-h">
      <h2 id="gotcha-h">The article's gotcha</h2>
      <p>The article this playground grew from “prunes filters” like this:</p>
      <pre>
        <code>{`prune.global_unstructured([(model.conv1, 'weight')],
                        pruning_method=prune.RandomUnstructured, amount=0.2)
print(parameters_to_vector(model.parameters()).nonzero().size(0))`}</code>
      </pre>
      <ul>
        <li>
          It prints <strong data-testid="gotcha-prints">{int(c.articlePrints)}</strong> — the same as before pruning. After
          pruning, <code>model.parameters()</code> holds <code>conv1.weight_orig</code>, the untouched original; the zeros
          live in <code>conv1.weight = weight_orig × weight_mask</code>, which is not a parameter.
        </li>
        <li>
          The true count of nonzero parameters is <strong data-testid="gotcha-true">{int(c.nonzeroParams)}</strong>:{' '}
          {int(zeroed)} of the {int(convWeights)} conv weights (20%, rounded as torch rounds) were zeroed.
        </li>
        <li>
          Those zeros are single weights scattered over all {first.outChannels} filters: no filter is gone, the network has the
          same shape, the same {int(c.macs)} MACs per image and the same size. That is unstructured pruning, not filter
          pruning. To remove filters, use the Remove mode above: at 20% of {group.id} it drops{' '}
          {group.units - removed.channels[0]} {group.unitName} and {int(c.params - removed.params)} parameters.
        </li>
      </ul>
      <button onClick={showMe} disabled={busy} data-testid="show-article">
        Set the sliders to the article's step
      </button>
    </section>
  );
}
