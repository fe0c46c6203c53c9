/**
 * The article's SimpleCNN: conv1 (3→k, 3×3, stride 1, same padding) → ReLU → flatten → fc1 (k·32·32 → 10).
 * With k = 64 it has 657,162 parameters.
 *

 * The model is four named tf.Variables and a forward function rather than a tf.LayersModel:
 * pruning needs to read, mask and rebuild individual weights, and a plain forward pass avoids
 * the layers API's per-call overhead in the training loop.
 *
 * Layouts are TensorFlow.js's: conv kernel [kh, kw, in, out], dense kernel [in, out],
 * activations NHWC, so the flatten puts filter c of pixel (h, w) at row (h·32 + w)·k + c.
 */
import * as tf from '@tensorflow/tfjs';
import { FULL_FILTERS, NUM_CLASSES, type SimpleCnnWeights, initialWeights, parameterCount, shapes } from './architecture';

export * from './architecture';

/** A SimpleCNN living on the active tfjs backend. Call dispose() when done. */
export class SimpleCNN {
  readonly filters: number;
  readonly conv1Kernel: tf.Variable<tf.Rank.R4>;
  readonly conv1Bias: tf.Variable<tf.Rank.R1>;
  readonly fc1Kernel: tf.Variable<tf.Rank.R2>;
  readonly fc1Bias: tf.Variable<tf.Rank.R1>;

  constructor(w: SimpleCnnWeights) {
    const s = shapes(w.filters);
    this.filters = w.filters;
    // tf.variable() keeps its initial tensor registered; tidy disposes those, the variables stay.
    [this.conv1Kernel, this.conv1Bias, this.fc1Kernel, this.fc1Bias] = tf.tidy(() => [
      tf.variable(tf.tensor4d(w.conv1Kernel, s.conv1Kernel), true, uniqueName('conv1/kernel')),
      tf.variable(tf.tensor1d(w.conv1Bias), true, uniqueName('conv1/bias')),
      tf.variable(tf.tensor2d(w.fc1Kernel, s.fc1Kernel), true, uniqueName('fc1/kernel')),
      tf.variable(tf.tensor1d(w.fc1Bias), true, uniqueName('fc1/bias')),
    ]);
  }

  static create(seed: number, filters = FULL_FILTERS): SimpleCNN {
    return new SimpleCNN(initialWeights(seed, filters));
  }

  get variables(): tf.Variable[] {
    return [this.conv1Kernel, this.conv1Bias, this.fc1Kernel, this.fc1Bias];
  }

  /** Variables with at least one entry: a model with every filter removed trains only fc1's bias. */
  get trainableVariables(): tf.Variable[] {
    return this.variables.filter((v) => v.size > 0);
  }

  get parameterCount(): number {
    return parameterCount(this.filters);
  }

  /** Logits [n, 10] for NHWC images [n, 32, 32, 3]. */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      // Every filter removed: the network is a constant, fc1's bias (tfjs cannot convolve to 0 channels).
      if (this.filters === 0) return tf.add(tf.zeros([x.shape[0], NUM_CLASSES]), this.fc1Bias) as tf.Tensor2D;
      // One fused kernel for conv + bias + ReLU: saves two passes over the k·1,024 activations per image.
      const act = tf.fused.conv2d({ x, filter: this.conv1Kernel, strides: 1, pad: 'same', bias: this.conv1Bias, activation: 'relu' });
      const flat = tf.reshape(act, [x.shape[0], -1]);
      return tf.add(tf.matMul(flat, this.fc1Kernel), this.fc1Bias) as tf.Tensor2D;
    });
  }

  async readWeights(): Promise<SimpleCnnWeights> {
    const [a, b, c, d] = await Promise.all(this.variables.map((v) => v.data() as Promise<Float32Array>));
    return { filters: this.filters, conv1Kernel: a, conv1Bias: b, fc1Kernel: c, fc1Bias: d };
  }

  /** Overwrites the weights in place; shapes must match this model's. */
  assignWeights(w: SimpleCnnWeights): void {
    if (w.filters !== this.filters) throw new Error(`assignWeights: model has ${this.filters} filters, weights have ${w.filters}`);
    const s = shapes(w.filters);
    tf.tidy(() => {
      this.conv1Kernel.assign(tf.tensor4d(w.conv1Kernel, s.conv1Kernel));
      this.conv1Bias.assign(tf.tensor1d(w.conv1Bias));
      this.fc1Kernel.assign(tf.tensor2d(w.fc1Kernel, s.fc1Kernel));
      this.fc1Bias.assign(tf.tensor1d(w.fc1Bias));
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

// tfjs variable names must be unique per engine; several models (baseline, pruned) coexist.
let nameCounter = 0;
function uniqueName(base: string): string {
  return `${base}_${nameCounter++}`;
}
