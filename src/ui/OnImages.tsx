import { int } from '../state/vocabulary';

/**
 * Which test set an accuracy was measured on, beside the figure: " on 10,000" (the full CIFAR-10's test
 * set) or " on 1,000" (the shipped subset, and the slider previews of either). Nothing when unknown (older rows).
 */
export function OnImages({ count }: { count: number | undefined }) {
  if (!count) return null;
  return (
    <span className="muted small" data-testid="on-images" title={`measured on ${int(count)} test images`}>
      {' '}
      on {int(count)}
    </span>
  );
}
