/**
 * The engine's look inside the models (issue 23): each conv layer's feature maps for one image, and the
 * speed lab's timings. Kept out of engine.ts, which only hands over what these need.
 */
import * as tf from '@tensorflow/tfjs';
import { type ChannelStats, type Cifar10Set, normalisedBatch } from '../core/data/cifar10';
import { convActivations } from '../core/model/activations';
import { initialWeights } from '../core/model/init';
import { Net } from '../core/model/net';
import type { ModelSpec, NetWeights } from '../core/model/spec';
import { uniformWidthFor } from '../core/model/width';
import { type PruneResult, measureCosts, prune } from '../core/pruning';
import type { Mode } from '../core/pruning/settings';
import type { FeatureMapsReply, FeatureMapsRequest, ModelMapsView, ModelRole, SpeedLabReply, SpeedLabRequest, SpeedRow } from './protocol';

const IMAGE_BYTES = 32 * 32 * 3;

export function testImages(set: Cifar10Set | undefined, count: number): { pixels: Uint8Array; labels: number[] } {
  if (!set) throw new Error('Load the test data first.');
  const n = Math.max(0, Math.min(count, set.count));
  return { pixels: set.pixels.slice(0, n * IMAGE_BYTES), labels: Array.from(set.labels.subarray(0, n)) };
}

export interface FeatureMapsContext {
  spec: ModelSpec;
  stats: ChannelStats | null;
  test: Cifar10Set | undefined;
  baseline: Net;
  pruned: { model: Net; result: PruneResult; mode: Mode } | null;
}

export async function featureMaps(ctx: FeatureMapsContext, req: FeatureMapsRequest): Promise<FeatureMapsReply> {
  if (!ctx.stats) throw new Error('Load the training data first: images are normalised with its statistics.');
  let pixels: Uint8Array;
  let label: number | null = null;
  if ('testIndex' in req) {
    const t = ctx.test;
    if (!t) throw new Error('Load the test data first.');
    if (!(Number.isInteger(req.testIndex) && req.testIndex >= 0 && req.testIndex < t.count)) throw new RangeError(`test image ${req.testIndex}: there are ${t.count}`);
    pixels = t.pixels.subarray(req.testIndex * IMAGE_BYTES, (req.testIndex + 1) * IMAGE_BYTES);
    label = t.labels[req.testIndex];
  } else {
    if (req.pixels.length !== IMAGE_BYTES) throw new RangeError(`an image must be 32×32 RGB (${IMAGE_BYTES} bytes), got ${req.pixels.length} bytes`);
    pixels = req.pixels;
  }
  const { images } = normalisedBatch({ count: 1, pixels, labels: new Uint8Array(1), source: 'image' }, ctx.stats, null, 0, 1);
  const x = tf.tensor4d(images, [1, 32, 32, 3]);
  try {
    const models: ModelMapsView[] = [await mapsOf(ctx.spec, ctx.baseline, 'baseline', x, null)];
    if (ctx.pruned) models.push(await mapsOf(ctx.spec, ctx.pruned.model, 'pruned', x, ctx.pruned.mode === 'remove' ? ctx.pruned.result.kept : null));
    return { label, mode: ctx.pruned?.mode ?? null, models };
  } finally {
    x.dispose();
  }
}

async function mapsOf(spec: ModelSpec, net: Net, role: ModelRole, x: tf.Tensor4D, kept: Record<string, number[]> | null): Promise<ModelMapsView> {
  const { logits, layers } = convActivations(net, x);
  const probsT = tf.softmax(logits);
  try {
    const probs = Array.from(await probsT.data());
    const groups = net.graph.groups;
    const out = await Promise.all(
      layers.map(async (l) => {
        const g = groups[net.graph.byName.get(l.layer)!.group!];
        const channels = l.maps.shape[3];
        const units = kept ? kept[g.id] : Array.from({ length: channels }, (_, j) => j);
        if (units.length !== channels) throw new Error(`${spec.id}: ${l.layer} has ${channels} channels but ${units.length} kept units`);
        return { layer: l.layer, shown: l.shown, size: l.maps.shape[1], units, maps: (await l.maps.data()) as Float32Array };
      }),
    );
    return { role, probs, layers: out };
  } finally {
    tf.dispose([logits, probsT, ...layers.map((l) => l.maps)]);
  }
}

export interface SpeedLabContext {
  spec: ModelSpec;
  baseline: NetWeights;
  backend: string;
  shouldStop: () => boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times inference (logits read back, as evaluation does) of three models of the current setting: the
 * masked one (the baseline's shapes, zeros inside), the removed one (smaller tensors), and a dense model
 * as narrow as needed for the removed one's parameter count, spread evenly over every layer. Every batch
 * size: `warmup` untimed runs of each (kernel compilation, buffer allocation), then the median of `runs`.
 */
export async function speedLab(ctx: SpeedLabContext, req: SpeedLabRequest): Promise<SpeedLabReply> {
  const masked = prune(ctx.spec, ctx.baseline, { ...req.settings, mode: 'mask' });
  const removed = prune(ctx.spec, ctx.baseline, { ...req.settings, mode: 'remove' });
  const denseChannels = uniformWidthFor(ctx.spec, removed.costs.params);
  const dense = initialWeights(ctx.spec, 1, denseChannels);
  const models: [SpeedRow['model'], NetWeights, PruneResult['costs']][] = [
    ['masked', masked.weights, masked.costs],
    ['removed', removed.weights, removed.costs],
    ['dense', dense, measureCosts(ctx.spec, dense)],
  ];
  const rows: SpeedRow[] = models.map(([model, w, c]) => ({ model, channels: [...w.channels], params: c.params, macs: c.macs, nonzeroMacs: c.nonzeroMacs, ms: req.batches.map(() => null) }));
  let cancelled = false;
  // Per batch size, the three models take turns run by run (after their warm-ups): a burst of load from
  // elsewhere on the machine then slows all three alike instead of whichever happened to be running.
  outer: for (let bi = 0; bi < req.batches.length; bi++) {
    const b = req.batches[bi];
    const x = tf.randomNormal([b, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const nets = models.map(([, w]) => new Net(ctx.spec, w));
    const times: number[][] = nets.map(() => []);
    try {
      for (let r = 0; r < req.warmup + req.runs; r++)
        for (let mi = 0; mi < nets.length; mi++) {
          // A macrotask between runs lets the worker take 'cancel' in.
          await new Promise((res) => setTimeout(res, 0));
          if (ctx.shouldStop()) {
            cancelled = true;
            break outer;
          }
          const t0 = performance.now();
          const y = nets[mi].predict(x);
          await y.data();
          const t = performance.now() - t0;
          y.dispose();
          if (r >= req.warmup) times[mi].push(t);
        }
      times.forEach((t, mi) => (rows[mi].ms[bi] = median(t)));
    } finally {
      x.dispose();
      for (const n of nets) n.dispose();
    }
  }
  return { backend: ctx.backend, batches: req.batches, runs: req.runs, rows, cancelled };
}
