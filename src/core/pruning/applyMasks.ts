/**
 * The only tfjs in the pruning engine: keeps pruned weights at zero while fine-tuning.
 * An optimizer step moves every weight, masked or not, so call this after each step.
 */
import * as tf from '@tensorflow/tfjs';
import type { SimpleCNN } from '../model/simpleCnn';
import type { PruneMasks } from './pruner';

/** One-off: variable ← variable × mask, inside tf.tidy (no tensor survives but the variables). */
export function applyMasks(model: SimpleCNN, masks: PruneMasks): void {
  tf.tidy(() => {
    if (masks.conv1Kernel) model.conv1Kernel.assign(tf.mul(model.conv1Kernel, maskTensor(masks.conv1Kernel, model.conv1Kernel)));
    if (masks.fc1Kernel) model.fc1Kernel.assign(tf.mul(model.fc1Kernel, maskTensor(masks.fc1Kernel, model.fc1Kernel)));
  });
}

/** For the training loop: uploads the masks once, then apply() after every step. dispose() when done. */
export function createMaskApplier(model: SimpleCNN, masks: PruneMasks): { apply(): void; dispose(): void } {
  const conv = masks.conv1Kernel ? maskTensor(masks.conv1Kernel, model.conv1Kernel) : null;
  const fc = masks.fc1Kernel ? maskTensor(masks.fc1Kernel, model.fc1Kernel) : null;
  return {
    apply: () =>
      tf.tidy(() => {
        if (conv) model.conv1Kernel.assign(tf.mul(model.conv1Kernel, conv));
        if (fc) model.fc1Kernel.assign(tf.mul(model.fc1Kernel, fc));
      }),
    dispose: () => tf.dispose([conv, fc].filter((t): t is tf.Tensor => t !== null)),
  };
}

function maskTensor(mask: Uint8Array, v: tf.Variable): tf.Tensor {
  if (mask.length !== v.size) throw new RangeError(`mask has ${mask.length} entries, ${v.name} has ${v.size}`);
  return tf.tensor(Float32Array.from(mask), v.shape, 'float32');
}
