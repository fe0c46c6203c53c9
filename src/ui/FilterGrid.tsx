import { memo, useEffect, useRef } from 'react';

const COLS = 8;
const PX = 8; // screen pixels per kernel pixel
const TILE = 3 * PX;
const GAP = 4;

/**
 * conv1's filters as 3×3 RGB tiles (each scaled to its own largest weight; mid-grey is zero).
 * Pruned weights draw as zero; a filter with every weight pruned is crossed out.
 */
export const FilterGrid = memo(function FilterGrid({ kernel, kept }: { kernel: Float32Array; kept: Uint8Array }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const filters = kernel.length / 27;
  const rows = Math.ceil(filters / COLS);
  let keptFilters = 0;
  for (let c = 0; c < filters; c++) {
    for (let t = 0; t < 27; t++) {
      if (kept[t * filters + c]) {
        keptFilters++;
        break;
      }
    }
  }
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    for (let c = 0; c < filters; c++) {
      // Layout [kh, kw, in, out]: weight (ky, kx, ch) of filter c sits at ((ky·3 + kx)·3 + ch)·filters + c.
      let max = 1e-12;
      let alive = false;
      for (let t = 0; t < 27; t++) {
        max = Math.max(max, Math.abs(kernel[t * filters + c]));
        alive ||= kept[t * filters + c] === 1;
      }
      const x0 = (c % COLS) * (TILE + GAP);
      const y0 = Math.floor(c / COLS) * (TILE + GAP);
      for (let p = 0; p < 9; p++) {
        const rgb = [0, 1, 2].map((ch) => {
          const i = (p * 3 + ch) * filters + c;
          return kept[i] ? Math.round(128 + (127 * kernel[i]) / max) : 128;
        });
        ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
        ctx.fillRect(x0 + (p % 3) * PX, y0 + Math.floor(p / 3) * PX, PX, PX);
      }
      if (!alive) {
        ctx.strokeStyle = '#dc2626';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x0 + TILE, y0 + TILE);
        ctx.moveTo(x0 + TILE, y0);
        ctx.lineTo(x0, y0 + TILE);
        ctx.stroke();
      }
    }
  }, [kernel, kept, filters]);
  return (
    <figure className="chart filter-grid" data-testid="filter-grid" data-kept={keptFilters}>
      <figcaption>
        conv1's {filters} filters: {keptFilters} with weights left
      </figcaption>
      <canvas
        ref={ref}
        width={COLS * (TILE + GAP) - GAP}
        height={rows * (TILE + GAP) - GAP}
        role="img"
        aria-label={`${filters} conv1 filters drawn as 3 by 3 colour tiles; ${filters - keptFilters} fully pruned ones are crossed out`}
      />
      <p className="help small">Each tile is one 3×3 RGB filter (grey = 0). Crossed-out filters are pruned entirely.</p>
    </figure>
  );
});
