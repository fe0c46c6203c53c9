/**
 * Training gradients on one backend against another (the cpu backend as the reference): the loss of a
 * real training step of a playground model — Net.trainLogits (the conv blocks with their own gradients
 * when the custom kernels are installed, BatchNorm on batch statistics) and softmax cross-entropy — and
 * its gradient for every trainable variable, from the same seeded weights and batch on both backends.
 *
 * Why: WebGPU exists only in a browser, so its gradients cannot be unit-tested in Node; the bench page
 * exposes this check (window.bench.gradientCheck) and e2e/webgpu.spec.ts runs it on webgpu.
 */
import * as tf from '@tensorflow/tfjs';
import { Net } from '../model/net';
import type { ModelId } from '../model/spec';
import { specFor } from '../model/zoo';
import { deriveSeed, mulberry32 } from '../random';

/** Largest accepted difference, relative to max(1, |reference|) (as the kernels' self-check). */
export const GRADIENT_TOLERANCE = 1e-4;

export interface GradientComparison {
  backend: string;
  reference: string;
  model: ModelId;
  /** Largest |value − reference| / max(1, |reference|) over the loss and every gradient entry. */
  maxDiff: number;
  /** Where the largest difference is. */
  worst: string;
  /** Entries compared (the loss and every gradient's). */
  entries: number;
  /** Largest |reference| entry: the gradients are not all (near) zero. */
  largest: number;
}

/** The loss and each trainable variable's gradient for a seeded model and batch, on the active backend. */
export async function trainingGradients(model: ModelId, seed = 1, batch = 8, channels?: number[]): Promise<Map<string, Float32Array>> {
  const spec = specFor(model);
  const net = Net.create(spec, seed, channels);
  const rand = mulberry32(deriveSeed(seed, 'gradient check'));
  const [height, width, depth] = [32, 32, 3];
  const x = tf.tensor4d(Float32Array.from({ length: batch * height * width * depth }, () => rand() * 2 - 1), [batch, height, width, depth]);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  const out = new Map<string, Float32Array>();
  try {
    const vars = net.trainableVariables;
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), net.trainLogits(x)) as tf.Scalar, vars);
    net.commitBatchStatistics(); // releases the batch statistics the forward pass kept
    out.set('loss', (await value.data()) as Float32Array);
    value.dispose();
    for (const v of vars) {
      out.set(`∂${v.name.replace(/_\d+$/, '')}`, (await grads[v.name].data()) as Float32Array);
    }
    tf.dispose(Object.values(grads));
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
  return out;
}

/** The largest relative difference between two sets of named arrays (same names and lengths required). */
export function maxRelativeDifference(got: Map<string, Float32Array>, reference: Map<string, Float32Array>): { maxDiff: number; worst: string; entries: number; largest: number } {
  let maxDiff = 0;
  let worst = '';
  let entries = 0;
  let largest = 0;
  if (got.size !== reference.size) throw new Error(`${got.size} arrays against ${reference.size}`);
  for (const [name, ref] of reference) {
    const g = got.get(name);
    if (!g || g.length !== ref.length) throw new Error(`${name}: ${g ? `${g.length} entries against ${ref.length}` : 'missing'}`);
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(g[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
      largest = Math.max(largest, Math.abs(ref[i]));
      if (!(d <= maxDiff)) {
        maxDiff = Number.isNaN(d) ? Infinity : d;
        worst = `${name}[${i}]`;
      }
    }
    entries += ref.length;
  }
  return { maxDiff, worst, entries, largest };
}

/**
 * The model's training gradients on `backend` against `reference` (default cpu). Both backends must be
 * registered (and initialisable); the active backend is restored afterwards.
 */
export async function compareGradients(
  backend: string,
  model: ModelId,
  { reference = 'cpu', seed = 1, batch = 8, channels }: { reference?: string; seed?: number; batch?: number; channels?: number[] } = {},
): Promise<GradientComparison> {
  const before = tf.getBackend();
  try {
    const on = async (name: string) => {
      if (!(await tf.setBackend(name)) || tf.getBackend() !== name) throw new Error(`${name} did not initialise`);
      return trainingGradients(model, seed, batch, channels);
    };
    const got = await on(backend);
    const ref = await on(reference);
    return { backend, reference, model, ...maxRelativeDifference(got, ref) };
  } finally {
    if (before && tf.getBackend() !== before) await tf.setBackend(before);
  }
}
