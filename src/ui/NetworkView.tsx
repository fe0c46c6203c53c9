import { useEffect, useMemo, useState } from 'react';
import type { ELK } from 'elkjs/lib/elk-api';
import { INPUT, structure } from '../core/model/graph';
import type { ModelSpec } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import { breakGroup } from '../core/pruning/breakGroup';
import { describeGroup } from '../core/pruning/groups';
import type { Mode } from '../core/pruning/settings';
import { type Block, COMPACT_STRIPE, LABEL_HEIGHT, type NetworkLayout, STRIPE, layoutNetwork, networkBlocks } from './networkLayout';
import { useStore } from './context';

/**
 * elkjs in its own web worker in the page (the layout never blocks the main thread); where there are no
 * workers (jsdom in the component tests) its in-thread bundled build.
 */
let elkInstance: Promise<ELK> | null = null;
let elkGate: Promise<unknown> = Promise.resolve();

/**
 * Holds elkjs's download and start back until `gate` settles (the composition root, main.tsx: the page's
 * first accuracy). Its worker script is 1.6 MB to fetch and compile, on one of two cores, while the
 * engine's worker starts tfjs: cold loads of a pruning link with it held back entirely took a median 2.9
 * against 3.5 s (9 each, both cores busy).
 */
export function holdElkUntil(gate: Promise<unknown>): void {
  elkGate = gate;
}

export function defaultElk(): Promise<ELK> {
  elkInstance ??= elkGate.then(() =>
    typeof Worker !== 'undefined'
      ? Promise.all([import('elkjs/lib/elk-api'), import('elkjs/lib/elk-worker.min.js?url')]).then(([api, url]) => new api.default({ workerUrl: url.default }))
      : import('elkjs/lib/elk.bundled.js').then((m) => new m.default()),
  );
  return elkInstance;
}

/** Which units survive, per channel group id (baseline indices), and how they went. null: nothing pruned yet. */
export interface PruneState {
  mode: Mode;
  kept: Record<string, number[]>;
}

interface Selection {
  group: number;
  unit: number;
  /** "Break it": the conv that lost the unit alone. */
  broken: string | null;
}

/**
 * The network drawn from its graph: blocks sized by channels, a stripe per channel, the selected channel's
 * group lit. Hovering a channel, or focusing a layer (Tab, then the arrow keys), lights its group the same
 * way while the pointer or focus stays; a click or Enter selects it. `maxHeight` scales the drawing down
 * (the prune view's compact one).
 */
export function NetworkDiagram({
  spec,
  prune,
  elk = defaultElk,
  maxHeight,
  stripe = STRIPE,
}: {
  spec: ModelSpec;
  prune: PruneState | null;
  elk?: () => Promise<ELK>;
  maxHeight?: number;
  /** Pixels per channel before any scaling (networkLayout's STRIPE; COMPACT_STRIPE for the prune view's residual networks). */
  stripe?: number;
}) {
  const st = structure(spec);
  const [layout, setLayout] = useState<{ id: string; layout: NetworkLayout } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sel, setSel] = useState<Selection | null>(null);
  /** The channel under the pointer or the keyboard's focus: lit like a click while it stays. */
  const [hover, setHover] = useState<Selection | null>(null);
  const [breakIt, setBreakIt] = useState(false);
  useEffect(() => {
    let live = true;
    elk()
      .then((e) => layoutNetwork(spec, e, stripe))
      .then((l) => live && setLayout({ id: spec.id, layout: l }))
      .catch((e: unknown) => live && setError(`The network could not be laid out: ${e instanceof Error ? e.message : String(e)}`));
    return () => {
      live = false;
    };
  }, [spec, elk, stripe]);
  const chosen = hover ?? sel;
  const current = chosen && chosen.group < st.groups.length ? chosen : null;
  const keptOf = useMemo(() => {
    const m = new Map<number, Set<number>>();
    st.groups.forEach((g, gi) => {
      const k = prune?.kept[g.id];
      if (k && k.every((j) => j < g.units)) m.set(gi, new Set(k));
    });
    return m;
  }, [st, prune]);
  const isKept = (g: number, j: number) => keptOf.get(g)?.has(j) ?? true;
  const remove = prune?.mode === 'remove';
  const group = current ? st.groups[current.group] : null;
  const litLayers = new Set(group ? [...group.producers, ...group.consumers, ...group.adds, ...group.linears.map((l) => l.name)] : []);
  const broken = current?.broken ? breakGroup(spec, current.broken) : null;
  const pick = (b: Block, unit: number) => {
    setHover(null);
    setSel({ group: b.group, unit, broken: breakIt && b.kind === 'conv' ? b.id : null });
  };
  const scale = maxHeight && layout && layout.layout.height > maxHeight ? maxHeight / layout.layout.height : 1;
  return (
    <div className="network-view">
      <label className="inline small" title="Remove the channel you click from that one layer only, not from the rest of its group.">
        <input type="checkbox" checked={breakIt} onChange={(e) => setBreakIt(e.target.checked)} data-testid="break-it" /> Break it: remove a channel from
        only the layer I click
      </label>
      {error && <p className="error">{error}</p>}
      {!layout || layout.id !== spec.id ? (
        !error && <p className="muted small">Laying out the network…</p>
      ) : (
        // Wider than the page for ResNet-20: a scrollable region the keyboard can reach (focus, then arrow keys).
        <div className="network-scroll" tabIndex={0} role="region" aria-label={`${spec.label}: the network drawing (scrolls sideways)`}>
          <svg
            width={Math.ceil(layout.layout.width * scale)}
            height={Math.ceil(layout.layout.height * scale)}
            viewBox={`0 0 ${layout.layout.width} ${layout.layout.height}`}
            role="group"
            aria-label={`${spec.label} drawn as a graph (each layer focusable: arrow keys pick a channel and light its group); the table below lists the same layers`}
            data-testid="network-svg"
          >
            {layout.layout.edges.map((e) => (
              <polyline key={e.id} className={`net-edge${litLayers.has(e.to) && litLayers.has(e.from) ? ' lit' : ''}`} points={e.points.map((p) => `${p.x},${p.y}`).join(' ')} />
            ))}
            {layout.layout.blocks.map((b) => (
              <BlockShape
                key={b.id}
                b={b}
                isKept={isKept}
                remove={remove}
                lit={litLayers.has(b.id)}
                sel={current}
                onPick={pick}
                onHover={(blk, unit) => setHover(unit === null ? null : { group: blk.group, unit, broken: null })}
              />
            ))}
          </svg>
        </div>
      )}
      {group && current && (
        <div className="help small group-note" role="status" data-testid="network-group">
          <strong>
            {group.label}, channel {current.unit}
          </strong>
          {group.producers.length + group.consumers.length > 1 || group.linears.length ? ` — one group across ${litLayers.size} layers: ` : ': '}
          {describeGroup(spec, group.id, 1).replace(/^removing/, 'removing')}.
        </div>
      )}
      {broken && (
        <div className="break-result" role="alert" data-testid="break-result">
          <p className="small">
            {broken.conv} lost channel {current!.unit} alone. PyTorch stops at <strong>{broken.at}</strong>: {broken.explanation}
          </p>
          <pre data-testid="break-error">{broken.error}</pre>
          <p className="help small">Removing the channel from the whole group instead ({litLayers.size} layers) keeps every shape consistent: that is what Remove does.</p>
        </div>
      )}
      <NetworkTable spec={spec} isKept={isKept} remove={remove} onPick={(gi) => setSel({ group: gi, unit: firstKept(gi), broken: null })} />
    </div>
  );

  function firstKept(gi: number): number {
    const k = keptOf.get(gi);
    return k && k.size ? Math.min(...k) : 0;
  }
}

function BlockShape({
  b,
  isKept,
  remove,
  lit,
  sel,
  onPick,
  onHover,
}: {
  b: Block;
  isKept: (g: number, j: number) => boolean;
  remove: boolean;
  lit: boolean;
  sel: Selection | null;
  onPick: (b: Block, unit: number) => void;
  /** The channel under the pointer or focus (null: none any more). */
  onHover: (b: Block, unit: number | null) => void;
}) {
  // The channel the keyboard is on in this layer (arrow keys move it over the drawn channels).
  const [focusUnit, setFocusUnit] = useState(0);
  if (b.kind === 'add')
    return (
      <g data-testid={`net-block-${b.id}`} className={`net-add${lit ? ' lit' : ''}`}>
        <title>{b.title}</title>
        <circle cx={b.x + b.width / 2} cy={b.y + b.height / 2} r={b.width / 2} />
        <text x={b.x + b.width / 2} y={b.y + b.height / 2 + 4} textAnchor="middle">
          +
        </text>
      </g>
    );
  const h = (b.height - LABEL_HEIGHT) / Math.max(1, b.channels);
  const prunable = b.kind === 'conv' && b.group >= 0;
  const stripes: React.ReactNode[] = [];
  let kept = 0;
  for (let j = 0; j < b.channels; j++) {
    const alive = !prunable || isKept(b.group, j);
    if (alive) kept++;
    if (!alive && remove) continue;
    const on = prunable && sel?.group === b.group && sel.unit === j;
    const state = on ? (sel.broken === b.id ? 'broken' : 'lit') : alive ? 'kept' : 'pruned';
    stripes.push(
      <rect
        key={j}
        className={`stripe ${state}`}
        data-testid={`stripe-${b.id}-${j}`}
        data-state={state}
        x={b.x}
        y={b.y + j * h}
        width={b.width}
        height={Math.max(1, h - (h > 2 ? 0.6 : 0))}
        onClick={prunable ? () => onPick(b, j) : undefined}
        onMouseEnter={prunable ? () => onHover(b, j) : undefined}
      >
        <title>{`${b.id} channel ${j}${prunable ? (alive ? ', kept' : ', pruned') : ''}`}</title>
      </rect>,
    );
  }
  const drawn = prunable ? Array.from({ length: b.channels }, (_, j) => j).filter((j) => !remove || isKept(b.group, j)) : [];
  const keyboard = prunable && drawn.length > 0
    ? {
        tabIndex: 0,
        role: 'button',
        'aria-label': `${b.id}: ${kept} of ${b.channels} channels ${remove ? 'left' : 'kept'}. Arrow keys light a channel's group, Enter selects it.`,
        onFocus: () => onHover(b, drawn.includes(focusUnit) ? focusUnit : drawn[0]),
        onBlur: () => onHover(b, null),
        onMouseLeave: () => onHover(b, null),
        onKeyDown: (e: React.KeyboardEvent) => {
          const at = Math.max(0, drawn.indexOf(focusUnit));
          if (e.key === 'ArrowDown' || e.key === 'ArrowRight' || e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
            const next = drawn[Math.min(drawn.length - 1, Math.max(0, at + (e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : -1)))];
            setFocusUnit(next);
            onHover(b, next);
            e.preventDefault();
          } else if (e.key === 'Enter' || e.key === ' ') {
            onPick(b, drawn[at]);
            e.preventDefault();
          }
        },
      }
    : { onMouseLeave: prunable ? () => onHover(b, null) : undefined };
  return (
    <g data-testid={`net-block-${b.id}`} data-kept={kept} data-units={b.channels} className={`net-block ${b.kind}${lit ? ' lit' : ''}`} {...keyboard}>
      <title>{b.title}</title>
      <rect className="outline" x={b.x - 1} y={b.y - 1} width={b.width + 2} height={b.height - LABEL_HEIGHT + 2} />
      {stripes}
      <text x={b.x + b.width / 2} y={b.y + b.height - LABEL_HEIGHT + 10} textAnchor="middle">
        {b.label}
      </text>
      <text x={b.x + b.width / 2} y={b.y + b.height - LABEL_HEIGHT + 20} textAnchor="middle" className="muted">
        {prunable && kept !== b.channels ? `${kept}/${b.channels}` : b.channels}
      </text>
    </g>
  );
}

/** The view's text equivalent: every drawn layer, its channels kept of total, its group; a button lights the group. */
function NetworkTable({ spec, isKept, remove, onPick }: { spec: ModelSpec; isKept: (g: number, j: number) => boolean; remove: boolean; onPick: (group: number) => void }) {
  const st = structure(spec);
  const { blocks } = useMemo(() => networkBlocks(spec), [spec]);
  return (
    <details className="network-table">
      <summary>The network as a table</summary>
      <table data-testid="network-table">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">What it is</th>
            <th scope="col">Channels {remove ? 'left' : 'kept'} / total</th>
            <th scope="col">Channel group</th>
          </tr>
        </thead>
        <tbody>
          {blocks
            .filter((b) => b.id !== INPUT)
            .map((b) => {
              const g = b.group >= 0 ? st.groups[b.group] : null;
              let kept = b.channels;
              if (g && b.kind === 'conv') for (let j = 0; j < b.channels; j++) if (!isKept(b.group, j)) kept--;
              return (
                <tr key={b.id} data-testid={`network-row-${b.id}`}>
                  <th scope="row">{b.id}</th>
                  <td>{b.title.replace(/^[^:]*: /, '')}</td>
                  <td>{b.kind === 'add' ? '—' : `${kept} / ${b.channels}`}</td>
                  <td>
                    {g ? (
                      <button type="button" className="link" onClick={() => onPick(b.group)}>
                        {g.label}
                      </button>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              );
            })}
        </tbody>
      </table>
    </details>
  );
}

/** The drawing's height in the prune view, so the prune loop fits one 1280×800 screen (taller models are scaled down). */
const EMBEDDED_HEIGHT = 240;

/** The page's network view: the current model, pruned as the last preview says. `embedded`: inside the prune panel, compact. */
export function NetworkView({ embedded = false }: { embedded?: boolean }) {
  const model = useStore((s) => s.settings.model);
  const reply = useStore((s) => s.preview.reply);
  const spec = specFor(model) as ModelSpec;
  const prune = useMemo<PruneState | null>(() => (reply ? { mode: reply.settings.mode, kept: reply.kept } : null), [reply]);
  if (embedded)
    return (
      <section className="network-embedded" aria-labelledby="network-h" data-testid="network-view">
        <h3 id="network-h" className="sub">
          The network <span className="muted small">— a stripe per channel: hover or click one to light its group</span>
        </h3>
        <NetworkDiagram spec={spec} prune={prune} maxHeight={EMBEDDED_HEIGHT} stripe={structure(spec).hasAdd ? COMPACT_STRIPE : STRIPE} />
      </section>
    );
  return (
    <section className="panel" aria-labelledby="network-h" data-testid="network-view">
      <h2 id="network-h">The network, drawn</h2>
      <p className="help">
        Each block is a layer, as tall as its channels; each stripe is one channel (BatchNorm, ReLU and pooling are folded into the conv before them).
        Pruned channels are grey (mask) or gone (remove). Click a stripe: its whole dependency group lights up — every layer that must lose that
        channel together.
      </p>
      <NetworkDiagram spec={spec} prune={prune} />
    </section>
  );
}
