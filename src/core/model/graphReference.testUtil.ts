/**
 * Forward pass (evaluation, or training with batch statistics) of any graph model written from stock tfjs ops, node by node, with nothing
 * folded or fused: PyTorch's symmetric padding by tf.pad + a 'valid' conv at the node's stride,
 * BatchNorm with the running statistics by tf.batchNorm, the add, the ReLU, global average pooling.
 * The reference for Net.predict, whose evaluation folds BatchNorms into convs and fuses
 * BatchNorm → add → ReLU (net.ts forwardGraph).
 */
import * as tf from '@tensorflow/tfjs';
import { structure } from './graph';
import type { Net } from './net';
import { BN_EPS } from './spec';

export function referenceEval(net: Net, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => referenceForward(net, x, 'running'));
}

/** Batch statistics per BatchNorm node, as a training forward pass computed them. */
export type BatchStatsByNode = Map<string, { mean: Float32Array; variance: Float32Array; count: number }>;

/**
 * The stock-op forward pass, node by node: BatchNorm with the running statistics ('running', evaluation)
 * or with the batch's (training; each node's batch statistics go to `stats` when given). Not tidied, so
 * a training caller can take gradients through it.
 */
export function referenceForward(net: Net, x: tf.Tensor4D, bn: 'running' | 'batch', stats?: BatchStatsByNode): tf.Tensor2D {
  const st = structure(net.spec);
  const v = (name: string) => net.variable(name);
  const n = x.shape[0];
  const acts = new Map<string, tf.Tensor>([['input', x]]);
  for (const name of st.order) {
    const node = st.byName.get(name)!.node;
    const a = node.op === 'add' ? null : (acts.get(node.input) as tf.Tensor4D);
    switch (node.op) {
      case 'conv': {
        const p = node.padding;
        const w = v(`${name}.weight`) as tf.Tensor4D;
        const [size, cout] = [Math.floor((a!.shape[1] + 2 * p - node.kernel) / node.stride) + 1, w.shape[3]];
        // A layer or an input with no channels left: the conv sums over nothing.
        const out = w.shape[2] === 0 || cout === 0 ? tf.zeros([n, size, size, cout]) : tf.conv2d(tf.pad(a!, [[0, 0], [p, p], [p, p], [0, 0]]), w, node.stride, 'valid');
        acts.set(name, node.bias ? tf.add(out, v(`${name}.bias`)) : out);
        break;
      }
      case 'batchNorm':
        if (a!.shape[3] === 0) acts.set(name, a!);
        else if (bn === 'running')
          acts.set(name, tf.batchNorm(a!, v(`${name}.running_mean`) as tf.Tensor1D, v(`${name}.running_var`) as tf.Tensor1D, v(`${name}.bias`) as tf.Tensor1D, v(`${name}.weight`) as tf.Tensor1D, BN_EPS));
        else {
          const { mean, variance } = tf.moments(a!, [0, 1, 2]);
          stats?.set(name, { mean: mean.dataSync() as Float32Array, variance: variance.dataSync() as Float32Array, count: a!.size / a!.shape[3] });
          acts.set(name, tf.add(tf.mul(tf.div(tf.sub(a!, mean), tf.sqrt(tf.add(variance, BN_EPS))), v(`${name}.weight`)), v(`${name}.bias`)));
        }
        break;
      case 'relu':
        acts.set(name, tf.relu(a!));
        break;
      case 'add':
        acts.set(name, node.inputs.map((i) => acts.get(i)!).reduce((s, t) => tf.add(s, t)));
        break;
      case 'maxPool':
        acts.set(name, tf.maxPool(a!, 2, 2, 'valid'));
        break;
      case 'globalAvgPool':
        acts.set(name, tf.mean(a!, [1, 2], true));
        break;
      case 'flatten':
        acts.set(name, tf.reshape(a!, [n, -1]));
        break;
      case 'linear': {
        const w = v(`${name}.weight`) as tf.Tensor2D;
        const y = acts.get(node.input) as tf.Tensor2D;
        acts.set(name, tf.add(w.shape[0] === 0 ? tf.zeros([n, w.shape[1]]) : tf.matMul(y, w), v(`${name}.bias`)));
      }
    }
  }
  return acts.get(st.output.name) as tf.Tensor2D;
}

/** Largest |a − b| / max(1, |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return a.length === b.length ? m : Infinity;
}
