import { memo, useEffect, useRef } from 'react';
import type { FilterView } from '../worker/protocol';

const PX = 8; // screen pixels per kernel pixel of an RGB tile

/** One RGB filter (3×3×3) as a colour tile, scaled to its own largest weight; grey is zero, pruned weights draw as zero. */
function RgbTile({ view, j }: { view: FilterView; j: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { kernel, kept } = view.rgb!;
  const [kh, kw, cin, cout] = view.shape;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    // Layout [kh, kw, in, out]: weight (ky, kx, ch) of filter j sits at ((ky·kw + kx)·in + ch)·out + j.
    let max = 1e-12;
    for (let t = 0; t < kh * kw * cin; t++) max = Math.max(max, Math.abs(kernel[t * cout + j]));
    for (let p = 0; p < kh * kw; p++) {
      const rgb = [0, 1, 2].map((ch) => {
        const i = (p * cin + Math.min(ch, cin - 1)) * cout + j;
        return kept[i] ? Math.round(128 + (127 * kernel[i]) / max) : 128;
      });
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      ctx.fillRect((p % kw) * PX, Math.floor(p / kw) * PX, PX, PX);
    }
  }, [kernel, kept, j, kh, kw, cin, cout]);
  return <canvas ref={ref} width={kw * PX} height={kh * PX} aria-hidden />;
}

/**
 * A conv layer's filters as clickable tiles: the first layer's as RGB colour tiles, deeper layers' as
 * grey cells whose shade is the filter's L2 norm within the layer's range (darker = larger). Pruned filters are crossed out.
 * Clicking a tile prunes or restores that filter by hand (the "manual" criterion).
 */
export const FilterGrid = memo(function FilterGrid({ view, onToggle, disabled }: { view: FilterView; onToggle: (layer: string, j: number) => void; disabled: boolean }) {
  const n = view.alive.length;
  let kept = 0;
  for (let j = 0; j < n; j++) kept += view.alive[j];
  // Shades span the layer's own range of norms (min → light, max → dark): norms of one layer are close,
  // so scaling by the largest alone would draw every cell nearly the same dark grey.
  let minNorm = Infinity;
  let maxNorm = -Infinity;
  for (let j = 0; j < n; j++) {
    minNorm = Math.min(minNorm, view.norms[j]);
    maxNorm = Math.max(maxNorm, view.norms[j]);
  }
  const span = maxNorm - minNorm || 1;
  // A chain model's layer: "conv2's 32 filters", "conv2 filter 5"; a coupled group: its label and unit name.
  const unit = view.group ? view.group.unitName.replace(/s$/, '') : 'filter';
  const name = view.group ? view.group.label : view.layer;
  return (
    <figure className="chart filter-grid" data-testid={`filter-grid-${view.layer}`} data-kept={kept}>
      <figcaption>
        {view.group ? `${name.charAt(0).toUpperCase()}${name.slice(1)} (${view.layer}): ${n} ${view.group.unitName}` : `${view.layer}'s ${n} filters`}: {kept} with weights left
      </figcaption>
      <div className={`tiles ${view.rgb ? 'rgb' : 'grey'}`} role="group" aria-label={view.group ? `${name} ${view.group.unitName}` : `${view.layer} filters`}>
        {Array.from({ length: n }, (_, j) => {
          const alive = view.alive[j] === 1;
          const shade = Math.round(235 - 200 * ((view.norms[j] - minNorm) / span));
          return (
            <button
              key={j}
              className={`tile ${alive ? '' : 'pruned'}`}
              data-testid={`tile-${view.layer}-${j}`}
              data-pruned={alive ? 'false' : 'true'}
              disabled={disabled}
              title={`${view.group ? name : view.layer} ${unit} ${j}: L2 norm ${view.norms[j].toFixed(3)}, ${alive ? 'kept' : 'pruned'}. Click to ${alive ? 'prune' : 'restore'} it.`}
              aria-label={`${view.group ? name : view.layer} ${unit} ${j}, ${alive ? 'kept' : 'pruned'}`}
              aria-pressed={!alive}
              style={view.rgb ? undefined : { background: `rgb(${shade},${shade},${shade})` }}
              onClick={() => onToggle(view.layer, j)}
            >
              {view.rgb && <RgbTile view={view} j={j} />}
            </button>
          );
        })}
      </div>
      <p className="help small">
        {view.rgb
          ? `Each tile is one 3×3 RGB filter (grey = 0)${view.group ? ' of the first conv; the channel also goes from every other conv writing into the stream' : ''}.`
          : `Shade = the ${view.group ? `channel’s L2 norm summed over the convs writing into it` : 'filter’s L2 norm'}, from ${minNorm.toFixed(2)} (light) to ${maxNorm.toFixed(2)} (dark).`}{' '}
        Crossed-out
        filters are pruned. Click a tile to prune or restore it by hand.
      </p>
    </figure>
  );
});
