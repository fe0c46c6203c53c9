/**
 * The only tfjs in the pruning engine: keeps pruned weights at zero while fine-tuning.
 * An optimizer step moves every weight, masked or not, so call this after each step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../model/net';

/** One-off: variable ← variable × mask for every masked tensor, inside tf.tidy. */
export function applyMasks(model: Net, masks: Record<string, Uint8Array>): void {
  const applier = createMaskApplier(model, masks);
  applier.apply();
  applier.dispose();
}

/** For the training loop: uploads the masks once, then apply() after every step. dispose() when done. */
export function createMaskApplier(model: Net, masks: Record<string, Uint8Array>): { apply(): void; dispose(): void } {
  const pairs = Object.entries(masks).map(([name, mask]) => {
    const v = model.variable(name);
    return { v, m: maskTensor(mask, v) };
  });
  return {
    apply: () => tf.tidy(() => pairs.forEach(({ v, m }) => v.assign(tf.mul(v, m)))),
    dispose: () => tf.dispose(pairs.map((p) => p.m)),
  };
}

function maskTensor(mask: Uint8Array, v: tf.Variable): tf.Tensor {
  if (mask.length !== v.size) throw new RangeError(`mask has ${mask.length} entries, ${v.name} has ${v.size}`);
  return tf.tensor(Float32Array.from(mask), v.shape, 'float32');
}
