import { memo, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { CurvePoint } from '../state/types';

/*
 * The training curve drawn as plain SVG (scales and paths from d3-scale / d3-shape), not with recharts:
 * one recharts 3 redraw of this chart was 100–150 ms of synchronous main-thread work (its internal store
 * dispatches from effects and re-renders every axis, tick and label), the long task the bench measured
 * while the app trains (issue 19; scripts/profile-app-training.mjs shows it). This drawing is three
 * paths, a few ticks and a hover readout: a redraw is a millisecond or two.
 */

const HEIGHT = 220;
const MARGIN = { top: 30, right: 44, bottom: 34, left: 44 };
const COLORS = { loss: '#dc2626', trainAcc: '#93c5fd', testAcc: '#1d4ed8', grid: '#e5e7eb', text: '#4b5563' };
const LEGEND: [keyof typeof COLORS, string][] = [
  ['loss', 'train loss'],
  ['trainAcc', 'train acc (batch)'],
  ['testAcc', 'test acc'],
];
/** Width drawn before the container has been measured (jsdom, first paint). */
const FALLBACK_WIDTH = 480;

/** The container's width in CSS pixels, followed as the layout changes. */
function useWidth(): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(FALLBACK_WIDTH);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const w = Math.round(el.clientWidth);
      if (w > 0) setWidth(w);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

const fmt3 = (v: number) => v.toFixed(3);

/** Loss (left axis) and train/test accuracy (right axis, 0–100 %) against thousands of images seen. */
export const CurveLines = memo(function CurveLines({ points }: { points: CurvePoint[] }) {
  const [ref, width] = useWidth();
  const [hover, setHover] = useState<number | null>(null);
  const plotW = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const drawing = useMemo(() => {
    const xMax = points.length ? points[points.length - 1].step : 0;
    const x = scaleLinear()
      .domain([0, xMax > 0 ? xMax : 1])
      .nice()
      .range([0, plotW]);
    const lossMax = points.reduce((m, p) => (p.loss !== undefined && Number.isFinite(p.loss) ? Math.max(m, p.loss) : m), 0);
    const yLoss = scaleLinear()
      .domain([0, lossMax > 0 ? lossMax : 1])
      .nice()
      .range([plotH, 0]);
    const yAcc = scaleLinear().domain([0, 1]).range([plotH, 0]);
    const lossPath = line<CurvePoint>()
      .defined((p) => p.loss !== undefined && Number.isFinite(p.loss))
      .x((p) => x(p.step))
      .y((p) => yLoss(p.loss ?? 0))(points);
    const trainPath = line<CurvePoint>()
      .defined((p) => p.trainAcc !== undefined && Number.isFinite(p.trainAcc))
      .x((p) => x(p.step))
      .y((p) => yAcc(p.trainAcc ?? 0))(points);
    const tested = points.filter((p) => p.testAcc !== undefined);
    const testPath = line<CurvePoint>()
      .x((p) => x(p.step))
      .y((p) => yAcc(p.testAcc ?? 0))(tested);
    return { x, yLoss, yAcc, lossPath, trainPath, tested, testPath };
  }, [points, plotW, plotH]);
  const { x, yLoss, yAcc, lossPath, trainPath, tested, testPath } = drawing;
  const xTicks = x.ticks(Math.max(2, Math.floor(plotW / 70)));
  const lossTicks = yLoss.ticks(5);
  const accTicks = [0, 0.25, 0.5, 0.75, 1];

  // The hover readout (recharts' tooltip before): the point nearest the pointer.
  const onMove = (e: React.MouseEvent<SVGRectElement>) => {
    if (!points.length) return;
    const box = e.currentTarget.getBoundingClientRect();
    const step = x.invert(e.clientX - box.left);
    let best = 0;
    for (let i = 1; i < points.length; i++) if (Math.abs(points[i].step - step) < Math.abs(points[best].step - step)) best = i;
    setHover(best);
  };
  const h = hover !== null && hover < points.length ? points[hover] : null;
  const hx = h ? x(h.step) : 0;

  return (
    <div ref={ref} style={{ width: '100%', height: HEIGHT }}>
      <svg width={width} height={HEIGHT} role="img" aria-label={`Training curve: ${points.length} points`} data-testid="curve-svg" style={{ display: 'block', fontSize: 11 }}>
        <g transform={`translate(${MARGIN.left},8)`}>
          {LEGEND.map(([k, name], i) => (
            <g key={k} transform={`translate(${i * 120},0)`}>
              <line x1={0} x2={14} y1={6} y2={6} stroke={COLORS[k]} strokeWidth={2} />
              <text x={18} y={10} fill={COLORS.text}>
                {name}
              </text>
            </g>
          ))}
        </g>
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          {lossTicks.map((t) => (
            <line key={`g${t}`} x1={0} x2={plotW} y1={yLoss(t)} y2={yLoss(t)} stroke={COLORS.grid} strokeDasharray="3 3" />
          ))}
          {xTicks.map((t) => (
            <line key={`v${t}`} x1={x(t)} x2={x(t)} y1={0} y2={plotH} stroke={COLORS.grid} strokeDasharray="3 3" />
          ))}
          <line x1={0} x2={plotW} y1={plotH} y2={plotH} stroke={COLORS.text} />
          {xTicks.map((t) => (
            <text key={`x${t}`} x={x(t)} y={plotH + 14} textAnchor="middle" fill={COLORS.text}>
              {`${t}k`}
            </text>
          ))}
          <text x={plotW / 2} y={plotH + 29} textAnchor="middle" fill={COLORS.text}>
            images seen
          </text>
          {lossTicks.map((t) => (
            <text key={`l${t}`} x={-6} y={yLoss(t) + 4} textAnchor="end" fill={COLORS.text}>
              {t}
            </text>
          ))}
          {accTicks.map((t) => (
            <text key={`a${t}`} x={plotW + 6} y={yAcc(t) + 4} textAnchor="start" fill={COLORS.text}>
              {`${Math.round(t * 100)}%`}
            </text>
          ))}
          {lossPath && <path d={lossPath} fill="none" stroke={COLORS.loss} strokeWidth={1.5} data-line="loss" />}
          {trainPath && <path d={trainPath} fill="none" stroke={COLORS.trainAcc} strokeWidth={1} data-line="trainAcc" />}
          {testPath && <path d={testPath} fill="none" stroke={COLORS.testAcc} strokeWidth={2} data-line="testAcc" />}
          {tested.map((p) => (
            <circle key={p.step} className="test-dot" cx={x(p.step)} cy={yAcc(p.testAcc ?? 0)} r={3} fill="#fff" stroke={COLORS.testAcc} strokeWidth={2} />
          ))}
          {h && (
            <g pointerEvents="none" data-testid="curve-hover">
              <line x1={hx} x2={hx} y1={0} y2={plotH} stroke="#9ca3af" />
              <g transform={`translate(${hx > plotW / 2 ? hx - 150 : hx + 8},4)`}>
                <rect width={142} height={h.testAcc !== undefined ? 62 : 48} rx={3} fill="#fff" stroke="#cbd5e1" />
                <text x={6} y={14} fill="#111827">{`${h.step}k images`}</text>
                {h.loss !== undefined && <text x={6} y={28} fill={COLORS.loss}>{`train loss ${fmt3(h.loss)}`}</text>}
                {h.trainAcc !== undefined && <text x={6} y={42} fill="#1e40af">{`train acc ${fmt3(h.trainAcc)}`}</text>}
                {h.testAcc !== undefined && <text x={6} y={56} fill={COLORS.testAcc}>{`test acc ${fmt3(h.testAcc)}`}</text>}
              </g>
            </g>
          )}
          <rect width={plotW} height={plotH} fill="transparent" onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
        </g>
      </svg>
    </div>
  );
});
