import { memo, useEffect, useRef, useState } from 'react';
import { CLASS_NAMES } from '../core/data/cifar10';
import { structure } from '../core/model/graph';
import type { ZooModelId } from '../core/model/spec';
import { specFor } from '../core/model/zoo';
import type { FeatureMapsReply, LayerMapsView, ModelMapsView } from '../worker/protocol';
import { pct } from '../state/vocabulary';
import { ClassResults } from './ClassResults';
import { useActions, useStore } from './context';
import { useViewActive } from './Views';

const STRIP = 12;
const IMAGE_BYTES = 32 * 32 * 3;

type Choice = { testIndex: number } | { pixels: Uint8Array; name: string };

/** RGB bytes (NHWC) of one 32×32 image drawn on a canvas. */
function ImageCanvas({ pixels, label }: { pixels: Uint8Array; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(32, 32);
    for (let p = 0; p < 1024; p++) {
      img.data.set(pixels.subarray(p * 3, p * 3 + 3), p * 4);
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [pixels]);
  return <canvas ref={ref} width={32} height={32} className="thumb" role="img" aria-label={label} />;
}

/**
 * Decodes a PNG or JPEG in the page and scales it to 32×32 on a canvas (the browser's own decoder and
 * smoothing: no library needed). Throws a sentence for the page when the file is no such image.
 */
export async function imageFileTo32(file: File): Promise<Uint8Array> {
  if (!/^image\/(png|jpeg)$/.test(file.type)) throw new Error(`“${file.name}” is not a PNG or JPEG image (${file.type || 'unknown type'}).`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`“${file.name}” could not be decoded as an image: the file is damaged or not really a ${file.type === 'image/png' ? 'PNG' : 'JPEG'}.`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 32;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, 32, 32);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, 32, 32).data;
  const rgb = new Uint8Array(IMAGE_BYTES);
  for (let p = 0; p < 1024; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  return rgb;
}

/** One channel's map, grey-scale between the layer's lo and hi (shared by before and after, so they compare). */
const MapCanvas = memo(function MapCanvas({ l, j, lo, hi, state, testId }: { l: LayerMapsView; j: number; lo: number; hi: number; state: string; testId: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const c = l.units.length;
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < l.size * l.size; p++) {
    const v = l.maps[p * c + j];
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(l.size, l.size);
    const span = hi - lo || 1;
    for (let p = 0; p < l.size * l.size; p++) {
      const g = Math.round((255 * Math.min(1, Math.max(0, l.maps[p * c + j] - lo))) / span);
      img.data[p * 4] = img.data[p * 4 + 1] = img.data[p * 4 + 2] = g;
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [l, j, c, lo, hi]);
  return (
    <canvas
      ref={ref}
      width={l.size}
      height={l.size}
      className={`fmap ${state}`}
      data-testid={testId}
      data-state={state}
      data-flat={max - min < 1e-6 ? 'true' : 'false'}
      title={`${l.layer} channel ${l.units[j]} (${l.shown}): ${min.toFixed(2)} … ${max.toFixed(2)}${max - min < 1e-6 ? ' — one constant value: no feature' : ''}`}
    />
  );
});

function Top3({ m, label }: { m: ModelMapsView; label: number | null }) {
  const top = m.probs
    .map((p, k) => ({ p, k }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 3);
  return (
    <ol className="top3" data-testid={`top3-${m.role}`}>
      {top.map(({ p, k }) => (
        <li key={k} className={k === label ? 'right' : ''}>
          {CLASS_NAMES[k]} <strong>{pct(p)}</strong>
        </li>
      ))}
    </ol>
  );
}

function LayerRows({ base, after, keptMask }: { base: LayerMapsView; after: LayerMapsView | null; keptMask: Set<number> | null }) {
  let lo = 0;
  let hi = 0;
  for (const l of after ? [base, after] : [base])
    for (const v of l.maps) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  const col = after ? new Map(after.units.map((u, j) => [u, j])) : null;
  return (
    <div className="fmap-layer" data-testid={`fmaps-${base.layer}`}>
      <div className="fmap-title">
        {base.layer} <span className="muted small">({base.size}×{base.size}, shown after {base.shown})</span>
      </div>
      <div className="fmap-row" aria-label={`${base.layer} before pruning`}>
        <span className="fmap-side small muted">before</span>
        {base.units.map((u, j) => (
          <MapCanvas key={u} l={base} j={j} lo={lo} hi={hi} state="kept" testId={`fmap-baseline-${base.layer}-${u}`} />
        ))}
      </div>
      {after && col && (
        <div className="fmap-row" aria-label={`${base.layer} after pruning`}>
          <span className="fmap-side small muted">after</span>
          {base.units.map((u) => {
            const j = col.get(u);
            if (j === undefined) return <span key={u} className="fmap removed" data-testid={`fmap-pruned-${base.layer}-${u}`} data-state="removed" title={`${base.layer} channel ${u}: removed`} />;
            const masked = keptMask !== null && !keptMask.has(u);
            return <MapCanvas key={u} l={after} j={j} lo={lo} hi={hi} state={masked ? 'masked' : 'kept'} testId={`fmap-pruned-${base.layer}-${u}`} />;
          })}
        </div>
      )}
    </div>
  );
}

/** What each filter sees: a test image (or the user's own) through every conv layer, before and after pruning. */
export function FeatureMaps() {
  const actions = useActions();
  const ready = useStore((s) => s.data.test.status === 'ready' && s.data.train.status === 'ready' && s.baselineEval !== null);
  const reply = useStore((s) => s.preview.reply);
  const model = useStore((s) => s.settings.model);
  const [strip, setStrip] = useState<{ pixels: Uint8Array; labels: number[] } | null>(null);
  const [choice, setChoice] = useState<Choice>({ testIndex: 0 });
  const [maps, setMaps] = useState<FeatureMapsReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    if (!ready || strip) return;
    actions
      .engine()
      .request('testImages', { count: STRIP })
      .then(setStrip)
      .catch((e: unknown) => setError(String(e instanceof Error ? e.message : e)));
  }, [ready, strip, actions]);

  // Kept but hidden in another view: no engine work for maps nobody sees (the prune loop's previews go first).
  const active = useViewActive();
  useEffect(() => {
    if (!ready || !active) return;
    const mine = ++seq.current;
    const req = 'testIndex' in choice ? { testIndex: choice.testIndex } : { pixels: choice.pixels };
    actions
      .engine()
      .request('featureMaps', req)
      .then((r) => {
        if (mine !== seq.current) return;
        setMaps(r);
        setError(null);
      })
      .catch((e: unknown) => mine === seq.current && setError(String(e instanceof Error ? e.message : e)));
  }, [ready, active, choice, reply, model, actions]);

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    try {
      setChoice({ pixels: await imageFileTo32(file), name: file.name });
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e)); // the earlier choice and its maps stay
    }
  };

  const base = maps?.models.find((m) => m.role === 'baseline');
  const after = maps?.models.find((m) => m.role === 'pruned') ?? null;
  const label = maps?.label ?? null;
  return (
    <section className="panel" aria-labelledby="fmaps-h" data-testid="feature-maps">
      <h2 id="fmaps-h">What each filter sees</h2>
      <p className="help">
        Pick an image: every conv layer’s channels are drawn as grey-scale maps (white = strong), before pruning and after. A removed channel is
        gone; a masked one still sends one constant value everywhere (its bias or BatchNorm shift after ReLU), a map with no feature in it.
      </p>
      {!ready ? (
        <p className="muted small">Load the data and a baseline first.</p>
      ) : (
        <>
          <div className="strip" role="group" aria-label="Test images">
            {strip &&
              Array.from({ length: strip.labels.length }, (_, i) => (
                <button
                  key={i}
                  type="button"
                  className={`thumb-button${'testIndex' in choice && choice.testIndex === i ? ' chosen' : ''}`}
                  aria-pressed={'testIndex' in choice && choice.testIndex === i}
                  data-testid={`test-image-${i}`}
                  onClick={() => setChoice({ testIndex: i })}
                >
                  <ImageCanvas pixels={strip.pixels.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES)} label={`test image ${i}: ${CLASS_NAMES[strip.labels[i]]}`} />
                </button>
              ))}
            <label className="field inline small">
              <span>or your own PNG/JPEG</span>
              <input type="file" accept="image/png,image/jpeg" data-testid="own-image" onChange={(e) => void onFile(e.target.files?.[0])} />
            </label>
          </div>
          {error && (
            <p className="error small" role="alert" data-testid="fmaps-error">
              {error}
            </p>
          )}
          {maps && base && (
            <>
              <div className="fmap-preds">
                <div>
                  <strong>{'name' in choice ? choice.name : label !== null ? `test image, a ${CLASS_NAMES[label]}` : ''}</strong>
                </div>
                <div>
                  Before pruning: <Top3 m={base} label={label} />
                </div>
                {after && (
                  <div>
                    After pruning: <Top3 m={after} label={label} />
                  </div>
                )}
              </div>
              {base.layers.map((l, i) => (
                <LayerRows
                  key={l.layer}
                  base={l}
                  after={after?.layers[i] ?? null}
                  keptMask={maps.mode !== 'remove' && reply ? keptUnits(reply.kept, l.layer, model) : null}
                />
              ))}
            </>
          )}
          <ClassResults />
        </>
      )}
    </section>
  );
}

/** For mask/global mode: which baseline units of the conv's channel group the preview kept. */
function keptUnits(kept: Record<string, number[]>, layer: string, model: ZooModelId): Set<number> | null {
  const st = structure(specFor(model));
  const g = st.byName.get(layer)?.group;
  const k = g !== undefined && g !== null && g >= 0 ? kept[st.groups[g].id] : undefined;
  return k ? new Set(k) : null;
}
