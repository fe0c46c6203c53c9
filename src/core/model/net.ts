/**
 * Any network a NetSpec describes, living on the active tfjs backend: one named tf.Variable per tensor
 * and a forward pass written out, rather than a tf.LayersModel — pruning reads, masks and rebuilds
 * individual tensors, and a plain forward pass avoids the layers API's per-call overhead.
 *
 * Evaluation folds each BatchNorm into its conv (W·s, β − μ·s with s = γ/√(var + ε)), so every conv
 * block is one fused conv + bias + ReLU kernel. Training normalises with the batch's statistics and,
 * after the optimiser step, moves the running statistics as PyTorch does (momentum 0.1, unbiased
 * variance). A layer with no filters left outputs nothing; the next layer then sees zeros.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormRelu, conv2dSame, convBiasRelu, convBiasReluPool } from '../backend/convBlock';
import { initialWeights } from './init';
import { BN_EPS, BN_MOMENTUM, type Channels, type ConvInfo, type Geometry, type NetSpec, type NetWeights, checkWeights, geometry, parameterCount, tensors } from './spec';

export * from './spec';

interface BatchStats {
  conv: ConvInfo;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D; // biased, as used to normalise
  count: number; // values per channel: N·H·W
}

export class Net {
  readonly spec: NetSpec;
  readonly channels: Channels;
  readonly geometry: Geometry;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly params: string[] = [];
  private pending: BatchStats[] = [];

  constructor(spec: NetSpec, w: NetWeights) {
    checkWeights(spec, w);
    this.spec = spec;
    this.channels = [...w.channels];
    this.geometry = geometry(spec, w.channels);
    // tf.variable() keeps its initial tensor registered; tidy disposes those, the variables stay.
    tf.tidy(() => {
      for (const t of tensors(spec, w.channels)) {
        this.vars.set(t.name, tf.variable(tf.tensor(w.tensors[t.name], t.shape, 'float32'), t.parameter, uniqueName(t.name)));
        if (t.parameter) this.params.push(t.name);
      }
    });
  }

  static create(spec: NetSpec, seed: number, channels?: Channels): Net {
    return new Net(spec, initialWeights(spec, seed, channels));
  }

  variable(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`${this.spec.id} has no tensor ${name}`);
    return v;
  }

  get variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Parameters with at least one entry (a layer with every filter removed has empty tensors). */
  get trainableVariables(): tf.Variable[] {
    return this.params.map((n) => this.variable(n)).filter((v) => v.size > 0);
  }

  get parameterCount(): number {
    return parameterCount(this.spec, this.channels);
  }

  /** Logits [n, classes] for NHWC images, with BatchNorm's running statistics (evaluation). */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.forward(x, false));
  }

  /**
   * Logits in training mode: BatchNorm uses the batch's statistics, which are kept until
   * commitBatchStatistics() folds them into the running ones (call it after the optimiser step).
   */
  trainLogits(x: tf.Tensor4D): tf.Tensor2D {
    return this.forward(x, true);
  }

  commitBatchStatistics(): void {
    const stats = this.pending;
    this.pending = [];
    // On the CPU backends the few hundred numbers are updated in JavaScript (float32 rounding after
    // every operation, as the tensor ops do): ~20 tiny ops per step cost more than the arithmetic.
    // On WebGL that would be a synchronous GPU read, so the tensor ops stay.
    const inJs = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
    const f = Math.fround;
    tf.tidy(() => {
      for (const s of stats) {
        const bn = s.conv.batchNorm!;
        const mean = this.variable(`${bn}.running_mean`);
        const variance = this.variable(`${bn}.running_var`);
        const k = s.count / Math.max(1, s.count - 1);
        if (inJs) {
          const [m, v, bm, bv] = [mean, variance, s.mean, s.variance].map((t) => t.dataSync() as Float32Array);
          const [keep, mom, kf] = [f(1 - BN_MOMENTUM), f(BN_MOMENTUM), f(k)];
          mean.assign(tf.tensor1d(m.map((x, i) => f(f(x * keep) + f(bm[i] * mom)))));
          variance.assign(tf.tensor1d(v.map((x, i) => f(f(x * keep) + f(f(bv[i] * kf) * mom)))));
          continue;
        }
        const unbiased = tf.mul(s.variance, k);
        mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
        variance.assign(tf.add(tf.mul(variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    });
    tf.dispose(stats.flatMap((s) => [s.mean, s.variance]));
  }

  private forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const n = x.shape[0];
    let act: tf.Tensor4D | null = x; // null: no channels left
    for (const c of this.geometry.convs) {
      if (c.outChannels === 0) {
        act = null;
        continue;
      }
      if (training && c.batchNorm) {
        act = this.convBlockTraining(c, act, n); // pools inside (one op with the BatchNorm and ReLU)
        continue;
      }
      // Evaluation: the pool can run inside the conv kernel (no gradient needed).
      act = this.convBlock(c, act, n, c.pool && !training);
      if (c.pool && training) act = tf.maxPool(act, 2, 2, 'valid');
    }
    const f = this.geometry.linear;
    const bias = this.variable(`${f.name}.bias`);
    if (!act) return tf.add(tf.zeros([n, f.outFeatures]), bias) as tf.Tensor2D;
    return tf.add(tf.matMul(tf.reshape(act, [n, -1]), this.variable(`${f.name}.weight`)), bias) as tf.Tensor2D;
  }

  /** conv + bias + ReLU (+ 2×2 max-pool) in one fused kernel; a BatchNorm is folded in with its running statistics. */
  private convBlock(c: ConvInfo, x: tf.Tensor4D | null, n: number, pool: boolean): tf.Tensor4D {
    let filter = this.variable(`${c.name}.weight`) as tf.Tensor4D;
    let bias: tf.Tensor1D | undefined = c.bias ? (this.variable(`${c.name}.bias`) as tf.Tensor1D) : undefined;
    if (c.batchNorm) {
      const b = c.batchNorm;
      const scale = tf.mul(this.variable(`${b}.weight`), tf.rsqrt(tf.add(this.variable(`${b}.running_var`), BN_EPS))) as tf.Tensor1D;
      filter = tf.mul(filter, scale);
      const shift = tf.sub(this.variable(`${b}.bias`), tf.mul(this.variable(`${b}.running_mean`), scale));
      bias = (bias ? tf.add(tf.mul(bias, scale), shift) : shift) as tf.Tensor1D;
    }
    if (!x) {
      // No input channels: the conv sums over nothing, so only the bias (or BatchNorm's shift) is left.
      const zeros = tf.zeros([n, c.size, c.size, c.outChannels]) as tf.Tensor4D;
      const y = tf.relu(bias ? tf.add(zeros, bias) : zeros) as tf.Tensor4D;
      return pool ? tf.maxPool(y, 2, 2, 'valid') : y;
    }
    if (pool) return convBiasReluPool(x, filter, bias);
    // One taped op (fused conv + bias + ReLU forward; its own gradient, see backend/convBlock.ts).
    return convBiasRelu(x, filter, bias);
  }

  /** conv → BatchNorm with the batch's statistics (kept for commitBatchStatistics) → ReLU → [MaxPool 2×2]. */
  private convBlockTraining(c: ConvInfo, x: tf.Tensor4D | null, n: number): tf.Tensor4D {
    const filter = this.variable(`${c.name}.weight`) as tf.Tensor4D;
    const bias = c.bias ? (this.variable(`${c.name}.bias`) as tf.Tensor1D) : undefined;
    let y = x ? conv2dSame(x, filter) : (tf.zeros([n, c.size, c.size, c.outChannels]) as tf.Tensor4D);
    if (bias) y = tf.add(y, bias);
    const b = c.batchNorm!;
    // BatchNorm (batch statistics) + ReLU as one taped op with a broadcast-only gradient (backend/convBlock.ts).
    const { y: out, mean, variance } = batchNormRelu(y, this.variable(`${b}.weight`) as tf.Tensor1D, this.variable(`${b}.bias`) as tf.Tensor1D, BN_EPS, c.pool);
    this.pending.push({ conv: c, mean: tf.keep(mean), variance: tf.keep(variance), count: n * c.size * c.size });
    return out;
  }

  async readWeights(): Promise<NetWeights> {
    const names = [...this.vars.keys()];
    const values = await Promise.all(names.map((k) => this.variable(k).data() as Promise<Float32Array>));
    return { model: this.spec.id, channels: [...this.channels], tensors: Object.fromEntries(names.map((k, i) => [k, values[i]])) };
  }

  /** Overwrites the weights in place; channels must match this network's. */
  assignWeights(w: NetWeights): void {
    if (w.channels.join() !== this.channels.join()) throw new Error(`assignWeights: network has channels ${this.channels}, weights have ${w.channels}`);
    checkWeights(this.spec, w);
    tf.tidy(() => {
      for (const t of tensors(this.spec, w.channels)) this.variable(t.name).assign(tf.tensor(w.tensors[t.name], t.shape, 'float32'));
    });
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    tf.dispose(this.pending.flatMap((s) => [s.mean, s.variance]));
    this.pending = [];
  }
}

// tfjs variable names must be unique per engine; several models (baseline, pruned) coexist.
let nameCounter = 0;
function uniqueName(base: string): string {
  return `${base}_${nameCounter++}`;
}
