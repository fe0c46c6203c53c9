/**
 * Any network a NetSpec or GraphSpec describes, living on the active tfjs backend: one named tf.Variable per tensor
 * and a forward pass written out, rather than a tf.LayersModel — pruning reads, masks and rebuilds
 * individual tensors, and a plain forward pass avoids the layers API's per-call overhead.
 *
 * Evaluation folds each BatchNorm into its conv (W·s, β − μ·s with s = γ/√(var + ε)), so every conv
 * block is one fused conv + bias + ReLU kernel. Training normalises with the batch's statistics and,
 * after the optimiser step, moves the running statistics as PyTorch does (momentum 0.1, unbiased
 * variance). A layer with no filters left outputs nothing; the next layer then sees zeros.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormAdd, batchNormEval, batchNormRelu, conv1x1Stride2, conv2dSame, conv3x3Stride2, convBiasRelu, convBiasReluPool, globalAvgPool } from '../backend/convBlock';
import { simdDense } from '../backend/wasmSimd/denseLayer';
import { type ConvNode, type GraphStructure, type NodeShape, batchNormAfter, isGraphSpec, shapes, structure } from './graph';
import { initialWeights } from './init';
import {
  BN_EPS, BN_MOMENTUM, type Channels, type ConvInfo, type Geometry, type ModelSpec, type NetSpec, type NetWeights, checkWeights, geometry,
  parameterCount, tensors,
} from './spec';

export * from './spec';

/** What the fused conv blocks need of a conv layer (a chain's ConvInfo, or a graph conv with its BatchNorm, ReLU and pool). */
type ConvBlock = Pick<ConvInfo, 'name' | 'bias' | 'batchNorm' | 'size' | 'outChannels' | 'pool'>;

interface BatchStats {
  batchNorm: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D; // biased, as used to normalise
  count: number; // values per channel: N·H·W
}

/**
 * A/B switch (bench, tests) for the graph models' fused BatchNorm ops (forwardGraph): off, a BatchNorm
 * not in a conv block runs as stock ops (tf.moments, broadcast factors), the add and the ReLU apart,
 * and strided convs in evaluation through the stride-1 route.
 */
let graphFusion = true;
export function setGraphFusion(on: boolean): void {
  graphFusion = on;
}

/**
 * Whether the fused ops run: in training not on WebGL, where (SwiftShader, e2e/resnet20-backends.spec.ts)
 * one ResNet-20 gradient entry of the fused op's tfjs-op path differed from the cpu backend's by 1.7e-3
 * (WebGPU: 8e-7; cpu and wasm: unit tests) — not explained yet, so WebGL keeps the verified stock path.
 */
const fusionOn = (training: boolean) => graphFusion && !(training && tf.getBackend() === 'webgl');

export class Net<S extends ModelSpec = ModelSpec> {
  readonly spec: S;
  readonly channels: Channels;
  /** A chain model's layers (null for a graph model: see `graph`). */
  readonly geometry: Geometry | null;
  readonly graph: GraphStructure;
  private readonly shapes: Map<string, NodeShape>;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly params: string[] = [];
  private pending: BatchStats[] = [];

  constructor(spec: S, w: NetWeights) {
    checkWeights(spec, w);
    this.spec = spec;
    this.channels = [...w.channels];
    this.geometry = isGraphSpec(spec) ? null : geometry(spec as NetSpec, w.channels);
    this.graph = structure(spec);
    this.shapes = shapes(this.graph, w.channels);
    // tf.variable() keeps its initial tensor registered; tidy disposes those, the variables stay.
    tf.tidy(() => {
      for (const t of tensors(spec, w.channels)) {
        this.vars.set(t.name, tf.variable(tf.tensor(w.tensors[t.name], t.shape, 'float32'), t.parameter, uniqueName(t.name)));
        if (t.parameter) this.params.push(t.name);
      }
    });
  }

  static create<T extends ModelSpec>(spec: T, seed: number, channels?: Channels): Net<T> {
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
        const bn = s.batchNorm;
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
    if (!this.geometry) return this.forwardGraph(x, training);
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
    return this.linear(tf.reshape(act, [n, -1]), this.variable(`${f.name}.weight`) as tf.Tensor2D, bias as tf.Tensor1D, training);
  }

  /**
   * x·W + b. Evaluation on wasm: one SIMD kernel with the bias, split with the conv kernels' helper
   * thread (backend/wasmSimd/dense.ts: tfjs's matMul and add each woke XNNPACK's pool thread, whose
   * spin afterwards slowed the next call's conv — a fixed cost per call). Else (training: the taped
   * ops and their gradients) tfjs's ops.
   */
  private linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D, training: boolean): tf.Tensor2D {
    return (training ? null : simdDense(x, weight, bias)) ?? (tf.add(tf.matMul(x, weight), bias) as tf.Tensor2D);
  }

  /** conv + bias + ReLU (+ 2×2 max-pool) in one fused kernel; a BatchNorm is folded in with its running statistics. */
  private convBlock(c: ConvBlock, x: tf.Tensor4D | null, n: number, pool: boolean): tf.Tensor4D {
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
  private convBlockTraining(c: ConvBlock, x: tf.Tensor4D | null, n: number): tf.Tensor4D {
    const filter = this.variable(`${c.name}.weight`) as tf.Tensor4D;
    const bias = c.bias ? (this.variable(`${c.name}.bias`) as tf.Tensor1D) : undefined;
    let y = x ? conv2dSame(x, filter) : (tf.zeros([n, c.size, c.size, c.outChannels]) as tf.Tensor4D);
    if (bias) y = tf.add(y, bias);
    const b = c.batchNorm!;
    // BatchNorm (batch statistics) + ReLU as one taped op with a broadcast-only gradient (backend/convBlock.ts).
    const { y: out, mean, variance } = batchNormRelu(y, this.variable(`${b}.weight`) as tf.Tensor1D, this.variable(`${b}.bias`) as tf.Tensor1D, BN_EPS, c.pool);
    this.pending.push({ batchNorm: b, mean: tf.keep(mean), variance: tf.keep(variance), count: n * c.size * c.size });
    return out;
  }

  /**
   * The forward pass of a graph model, node by node in topological order. conv (stride 1, 'same') →
   * [BatchNorm] → ReLU → [MaxPool] runs as the chain models' fused blocks; anything else (stride 2, a
   * 1×1 shortcut, a BatchNorm feeding an add) as stock tfjs ops: PyTorch's symmetric padding through
   * tf.pad + a 'valid' conv (tfjs 'same' pads a stride-2 conv asymmetrically), BatchNorm folded into
   * the conv in evaluation, batch statistics (kept for commitBatchStatistics) in training.
   * A BatchNorm that feeds an add whose only consumer is a ReLU (ResNet's bn2) waits for the add: the
   * BatchNorm, the add and the ReLU are one op there (backend/convBlock.ts batchNormAdd, batchNormEval),
   * in training and in evaluation; one that feeds a ReLU alone is the conv blocks' batchNormRelu.
   * null stands for a feature map with no channels left: a consumer then sees zeros.
   */
  private forwardGraph(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const st = this.graph;
    const n = x.shape[0];
    const acts = new Map<string, tf.Tensor | null>([['input', x]]);
    const done = new Set<string>();
    const act = (name: string) => acts.get(name) ?? null;
    /** BatchNorms waiting for their add (see above): name → their input. */
    const deferred = new Map<string, tf.Tensor4D | null>();
    const count = (name: string) => n * this.shapes.get(name)!.size ** 2;
    for (const name of st.order) {
      if (done.has(name)) continue;
      const node = st.byName.get(name)!.node;
      const s = this.shapes.get(name)!;
      switch (node.op) {
        case 'conv': {
          const block = this.fusibleBlock(node);
          if (block) {
            const out = s.channels === 0 ? null : training && block.batchNorm ? this.convBlockTraining(block, act(node.input) as tf.Tensor4D | null, n) : this.convBlock(block, act(node.input) as tf.Tensor4D | null, n, block.pool && !training);
            const y = out && training && block.pool && !block.batchNorm ? tf.maxPool(out, 2, 2, 'valid') : out;
            for (const m of block.members) done.add(m);
            acts.set(block.members[block.members.length - 1], y);
            break;
          }
          const bn = batchNormAfter(st, name);
          const follower = bn && this.bnFollower(bn.name);
          if (bn && follower && !training && (!fusionOn(training) || follower.kind !== 'addRelu')) {
            // Evaluation: the BatchNorm folded into the conv, and a ReLU after it into the same kernel.
            const relu = fusionOn(training) && follower.kind === 'relu';
            const out = s.channels === 0 ? null : this.conv(node, act(node.input) as tf.Tensor4D | null, s, n, bn.name, relu, training);
            acts.set(relu ? follower.relu : bn.name, out);
            done.add(bn.name);
            if (relu) done.add(follower.relu);
          } else acts.set(name, s.channels === 0 ? null : this.conv(node, act(node.input) as tf.Tensor4D | null, s, n, null, false, training));
          break;
        }
        case 'batchNorm': {
          const y = act(node.input) as tf.Tensor4D | null;
          const follower: ReturnType<Net['bnFollower']> = fusionOn(training) ? this.bnFollower(name) : { kind: 'plain' };
          if (follower.kind === 'addRelu') deferred.set(name, y);
          else if (follower.kind === 'relu' && training && y) {
            const { y: out, mean, variance } = batchNormRelu(y, this.variable(`${name}.weight`) as tf.Tensor1D, this.variable(`${name}.bias`) as tf.Tensor1D, BN_EPS, false);
            this.pending.push({ batchNorm: name, mean: tf.keep(mean), variance: tf.keep(variance), count: count(name) });
            acts.set(follower.relu, out);
            done.add(follower.relu);
          } else acts.set(name, y && this.batchNorm(name, y, training, count(name)));
          break;
        }
        case 'relu': {
          const y = act(node.input);
          acts.set(name, y && tf.relu(y));
          break;
        }
        case 'maxPool': {
          const y = act(node.input) as tf.Tensor4D | null;
          acts.set(name, y && tf.maxPool(y, 2, 2, 'valid'));
          break;
        }
        case 'globalAvgPool': {
          const y = act(node.input);
          acts.set(name, y && (fusionOn(training) ? globalAvgPool(y as tf.Tensor4D) : tf.mean(y, [1, 2], true)));
          break;
        }
        case 'add': {
          const fused = node.inputs.find((i) => deferred.get(i));
          // The other deferred BatchNorms of this add run alone.
          for (const i of node.inputs) {
            const z = deferred.get(i);
            if (i !== fused && z !== undefined) acts.set(i, z && this.batchNorm(i, z, training, count(i)));
          }
          if (fused) {
            const others = node.inputs.filter((i) => i !== fused).map(act).filter((y): y is tf.Tensor4D => y !== null);
            const residual = others.length === 0 ? null : others.length === 1 ? others[0] : (tf.addN(others) as tf.Tensor4D);
            const relu = this.bnFollower(fused) as { relu: string };
            acts.set(relu.relu, this.batchNormAddRelu(fused, deferred.get(fused)!, residual, training, count(fused)));
            done.add(relu.relu);
            break;
          }
          const ys = node.inputs.map(act).filter((y): y is tf.Tensor => y !== null);
          acts.set(name, ys.length === 0 ? null : ys.length === 1 ? ys[0] : tf.addN(ys));
          break;
        }
        case 'flatten': {
          const y = act(node.input);
          acts.set(name, y && tf.reshape(y, [n, -1]));
          break;
        }
        case 'linear': {
          const y = act(node.input) as tf.Tensor2D | null;
          const bias = this.variable(`${name}.bias`);
          acts.set(name, y ? this.linear(y, this.variable(`${name}.weight`) as tf.Tensor2D, bias as tf.Tensor1D, training) : tf.add(tf.zeros([n, s.channels]), bias));
        }
      }
    }
    return acts.get(st.output.name) as tf.Tensor2D;
  }

  /** conv (stride 1, 'same') → [BatchNorm] → ReLU → [MaxPool], each feeding only the next: one fused block. */
  private fusibleBlock(c: ConvNode): (ConvBlock & { members: string[] }) | null {
    if (c.stride !== 1 || c.padding * 2 + 1 !== c.kernel) return null;
    const st = this.graph;
    const only = (name: string) => {
      const cs = st.byName.get(name)!.consumers;
      return cs.length === 1 ? st.byName.get(cs[0])!.node : null;
    };
    const members = [c.name];
    let next = only(c.name);
    let batchNorm: string | null = null;
    if (next?.op === 'batchNorm') {
      batchNorm = next.name;
      members.push(next.name);
      next = only(next.name);
    }
    if (next?.op !== 'relu') return null;
    members.push(next.name);
    const after = only(next.name);
    const pool = after?.op === 'maxPool';
    if (pool) members.push(after.name);
    const s = this.shapes.get(c.name)!;
    return { name: c.name, bias: c.bias, batchNorm, size: s.size, outChannels: s.channels, pool, members };
  }

  /** What a BatchNorm alone (not in a fused block) feeds: a ReLU alone, an add whose only consumer is a ReLU, or else. */
  private bnFollower(name: string): { kind: 'relu'; relu: string } | { kind: 'addRelu'; add: string; relu: string } | { kind: 'plain' } {
    const st = this.graph;
    const only = (n: string) => {
      const cs = st.byName.get(n)!.consumers;
      return cs.length === 1 ? st.byName.get(cs[0])!.node : null;
    };
    const next = only(name);
    if (next?.op === 'relu') return { kind: 'relu', relu: next.name };
    if (next?.op === 'add') {
      const after = only(next.name);
      if (after?.op === 'relu') return { kind: 'addRelu', add: next.name, relu: after.name };
    }
    return { kind: 'plain' };
  }

  /** relu(BatchNorm(z) + residual): batch statistics in training (kept for commitBatchStatistics), running ones in evaluation. */
  private batchNormAddRelu(name: string, z: tf.Tensor4D, residual: tf.Tensor4D | null, training: boolean, count: number): tf.Tensor4D {
    const gamma = this.variable(`${name}.weight`) as tf.Tensor1D;
    const beta = this.variable(`${name}.bias`) as tf.Tensor1D;
    if (!training) return batchNormEval(z, gamma, beta, this.variable(`${name}.running_mean`) as tf.Tensor1D, this.variable(`${name}.running_var`) as tf.Tensor1D, BN_EPS, residual, true);
    const { y, mean, variance } = batchNormAdd(z, gamma, beta, BN_EPS, residual, true);
    this.pending.push({ batchNorm: name, mean: tf.keep(mean), variance: tf.keep(variance), count });
    return y;
  }

  /** conv2d with PyTorch's symmetric padding (+ bias), with the BatchNorm `foldBn` folded in (evaluation). */
  private conv(c: ConvNode, x: tf.Tensor4D | null, s: NodeShape, n: number, foldBn: string | null, relu: boolean, training: boolean): tf.Tensor4D {
    let filter = this.variable(`${c.name}.weight`) as tf.Tensor4D;
    let bias: tf.Tensor1D | undefined = c.bias ? (this.variable(`${c.name}.bias`) as tf.Tensor1D) : undefined;
    if (foldBn) {
      const scale = tf.mul(this.variable(`${foldBn}.weight`), tf.rsqrt(tf.add(this.variable(`${foldBn}.running_var`), BN_EPS))) as tf.Tensor1D;
      filter = tf.mul(filter, scale);
      const shift = tf.sub(this.variable(`${foldBn}.bias`), tf.mul(this.variable(`${foldBn}.running_mean`), scale));
      bias = (bias ? tf.add(tf.mul(bias, scale), shift) : shift) as tf.Tensor1D;
    }
    let y: tf.Tensor4D;
    const same = c.padding * 2 + 1 === c.kernel; // PyTorch's symmetric padding that keeps the size at stride 1
    const even = s.inSize % 2 === 0;
    const p = c.padding;
    // Evaluation of a strided conv (no gradient needed): one fused conv + bias [+ ReLU] at the stride,
    // with explicit symmetric padding (on wasm XNNPACK: a quarter of the MACs of the stride-1 route below).
    if (x && !training && graphFusion && c.stride !== 1) {
      const pad = p > 0 ? ([[0, 0], [p, p], [p, p], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : 'valid';
      return tf.fused.conv2d({ x, filter, bias, strides: c.stride, pad, activation: relu ? 'relu' : 'linear' });
    }
    if (!x) y = tf.zeros([n, s.size, s.size, s.channels]) as tf.Tensor4D; // no input channels: the sum is over nothing
    else if (c.stride === 1 && same) y = conv2dSame(x, filter);
    // Stride 2 without tfjs's stride-2 gradients (Conv2DBackpropFilter/Input are plain loops on wasm), exactly:
    // a 1×1 conv of stride 2 reads the even pixels (conv1x1Stride2: SIMD kernels at the stride, its own
    // gradient); a 3×3 conv of stride 2 with padding 1 is conv3x3Stride2 (custom kernels, not in WebGL
    // training — see fusionOn: its own gradient, no stride-1 forward or slice), else the stride-1 'same'
    // conv read at the even pixels (4× this layer's MACs).
    else if (c.stride === 2 && c.kernel === 1 && c.padding === 0 && even) y = (fusionOn(training) ? conv1x1Stride2(x, filter) : null) ?? tf.conv2d(evenPixels(x), filter, 1, 'valid');
    else if (c.stride === 2 && same && even) y = (fusionOn(training) ? conv3x3Stride2(x, filter) : null) ?? evenPixels(conv2dSame(x, filter));
    else {
      const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
      y = tf.conv2d(padded, filter, c.stride, 'valid');
    }
    const out: tf.Tensor4D = bias ? tf.add(y, bias) : y;
    return relu ? tf.relu(out) : out;
  }

  /** BatchNorm alone (not fused with a ReLU): running statistics in evaluation, the batch's in training. */
  private batchNorm(name: string, y: tf.Tensor4D, training: boolean, count: number): tf.Tensor4D {
    const gamma = this.variable(`${name}.weight`) as tf.Tensor1D;
    const beta = this.variable(`${name}.bias`) as tf.Tensor1D;
    if (!fusionOn(training)) {
      if (!training) return tf.batchNorm(y, this.variable(`${name}.running_mean`) as tf.Tensor1D, this.variable(`${name}.running_var`) as tf.Tensor1D, beta, gamma, BN_EPS) as tf.Tensor4D;
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      this.pending.push({ batchNorm: name, mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count });
      // y·s + (β − μ·s), s = γ/√(σ² + ε), with per-channel factors that broadcast: tf.batchNorm's gradient
      // tiles them to the activation's shape (wasm's Tile is slow, see backend/convBlock.ts).
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
      return tf.add(tf.mul(y, scale), tf.sub(beta, tf.mul(mean, scale)));
    }
    if (!training) return batchNormEval(y, gamma, beta, this.variable(`${name}.running_mean`) as tf.Tensor1D, this.variable(`${name}.running_var`) as tf.Tensor1D, BN_EPS, null, false);
    // One taped op (two SIMD passes each way on wasm; stock: per-channel factors that broadcast).
    const { y: out, mean, variance } = batchNormAdd(y, gamma, beta, BN_EPS, null, false);
    this.pending.push({ batchNorm: name, mean: tf.keep(mean), variance: tf.keep(variance), count });
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

/**
 * x[:, ::2, ::2, :] of an NHWC map with even sides: viewed as [N·H/2, 2 rows, W/2, 2·C] (a pixel pair per
 * row of the last axis), the first row and the first C values of each pair — one rank-4 slice (its
 * gradient is a pad).
 */
function evenPixels(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const pairs = tf.reshape(x, [n * (h / 2), 2, w / 2, 2 * c]);
  return tf.reshape(tf.slice(pairs, [0, 0, 0, 0], [n * (h / 2), 1, w / 2, c]), [n, h / 2, w / 2, c]);
}

// tfjs variable names must be unique per engine; several models (baseline, pruned) coexist.
let nameCounter = 0;
function uniqueName(base: string): string {
  return `${base}_${nameCounter++}`;
}
