/**
 * An evaluation-mode forward pass with a GATE on each conv's output (after its BatchNorm when it has
 * one): a per-channel factor, 1 leaves the network as it is, 0 switches the channel off. Two things
 * read the network through it:
 *
 * - First-order Taylor scores (Molchanov et al. 2019, core/pruning/taylor.ts). With y = gate ⊙ a,
 *   ∂L/∂gate_c at gate = 1 is Σ_{n,h,w} a·∂L/∂a over channel c — exactly the per-channel a·g sum, so
 *   one backward pass to the gates gives every member's |Σ a·g| without reading the activations out.
 *   (ReLU and max-pool commute with a positive per-channel factor, so the sum is the same whether the
 *   gate sits before or after them.)
 * - The oracle (core/experiments/oracle.ts): zeroing unit u's gate at every producer of its group
 *   zeroes that channel wherever it flows (a residual stream is the sum of its producers' outputs), so
 *   the loss is the loss of the network with the unit removed — checked against prune() + Net.
 *
 * Stock tfjs ops, node by node from the graph (chains compile to graphs), BatchNorm with its running
 * statistics: the scores and the oracle describe the model the page evaluates. Not the fused training
 * path of net.ts: it runs once per preview, not per step.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dSame } from '../backend/convBlock';
import { type ConvNode, batchNormAfter, shapes } from './graph';
import type { Net } from './net';
import { BN_EPS, NUM_CLASSES } from './spec';

/** Gate vectors by producer conv name (length: its output channels); a conv without one is ungated. */
export type Gates = Record<string, tf.Tensor1D>;

/** Logits of the gated network (evaluation mode). Call inside tf.tidy or dispose the result. */
export function gatedLogits(net: Net, x: tf.Tensor4D, gates: Gates): tf.Tensor2D {
  const st = net.graph;
  const sh = shapes(st, net.channels);
  const n = x.shape[0];
  const v = (name: string) => net.variable(name);
  // The conv whose gate goes after node `name` (its own output, or its BatchNorm's).
  const gateAfter = new Map<string, string>();
  for (const node of st.nodes)
    if (node.op === 'conv' && gates[node.name]) gateAfter.set(batchNormAfter(st, node.name)?.name ?? node.name, node.name);
  const acts = new Map<string, tf.Tensor | null>([['input', x]]);
  const act = (name: string) => acts.get(name) ?? null;
  for (const name of st.order) {
    const node = st.byName.get(name)!.node;
    const s = sh.get(name)!;
    let y: tf.Tensor | null;
    switch (node.op) {
      case 'conv':
        y = s.channels === 0 ? null : conv(net, node, act(node.input) as tf.Tensor4D | null, n, s.size, s.channels);
        break;
      case 'batchNorm': {
        const a = act(node.input) as tf.Tensor4D | null;
        y = a && tf.batchNorm(a, v(`${name}.running_mean`) as tf.Tensor1D, v(`${name}.running_var`) as tf.Tensor1D, v(`${name}.bias`) as tf.Tensor1D, v(`${name}.weight`) as tf.Tensor1D, BN_EPS);
        break;
      }
      case 'relu': {
        const a = act(node.input);
        y = a && tf.relu(a);
        break;
      }
      case 'maxPool': {
        const a = act(node.input) as tf.Tensor4D | null;
        y = a && tf.maxPool(a, 2, 2, 'valid');
        break;
      }
      case 'globalAvgPool': {
        const a = act(node.input);
        y = a && tf.mean(a, [1, 2], true);
        break;
      }
      case 'add': {
        const ys = node.inputs.map(act).filter((t): t is tf.Tensor => t !== null);
        y = ys.length === 0 ? null : ys.length === 1 ? ys[0] : tf.addN(ys);
        break;
      }
      case 'flatten': {
        const a = act(node.input);
        y = a && tf.reshape(a, [n, -1]);
        break;
      }
      case 'linear': {
        const a = act(node.input) as tf.Tensor2D | null;
        const bias = v(`${name}.bias`);
        y = a ? tf.add(tf.matMul(a, v(`${name}.weight`) as tf.Tensor2D), bias) : tf.add(tf.zeros([n, s.channels]), bias);
      }
    }
    const g = gateAfter.get(name);
    acts.set(name, y && g ? tf.mul(y, gates[g]) : y);
  }
  return acts.get(st.output.name) as tf.Tensor2D;
}

/** Mean cross-entropy of the gated network on a batch (a scalar; caller disposes). */
export function gatedLoss(net: Net, x: tf.Tensor4D, labels: tf.Tensor1D, gates: Gates): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, NUM_CLASSES), gatedLogits(net, x, gates)) as tf.Scalar);
}

/** The convs writing into each channel group (the units a gate per producer scores), by group id. */
export function producersByGroup(net: Net): Record<string, string[]> {
  return Object.fromEntries(net.graph.groups.map((g) => [g.id, [...g.producers]]));
}

/**
 * Per producer conv, Σ a·∂L/∂a per output channel (signed) at its (BatchNorm's) output, and the loss:
 * the gradient of the batch's loss at gates of ones. Every tensor is disposed.
 */
export function gateGradients(net: Net, x: tf.Tensor4D, labels: tf.Tensor1D): { loss: number; grads: Record<string, Float32Array> } {
  const st = net.graph;
  const sh = shapes(st, net.channels);
  const producers = st.nodes.filter((node): node is ConvNode => node.op === 'conv' && sh.get(node.name)!.channels > 0).map((c) => c.name);
  const ones = producers.map((p) => tf.ones([sh.get(p)!.channels]) as tf.Tensor1D);
  try {
    const { value, grads } = tf.valueAndGrads((...gs: tf.Tensor[]) => gatedLoss(net, x, labels, Object.fromEntries(producers.map((p, i) => [p, gs[i] as tf.Tensor1D]))))(ones);
    const loss = value.dataSync()[0];
    const out = Object.fromEntries(producers.map((p, i) => [p, grads[i].dataSync() as Float32Array]));
    tf.dispose([value, ...grads]);
    return { loss, grads: out };
  } finally {
    tf.dispose(ones);
  }
}

/** conv2d with PyTorch's symmetric padding, + bias; no input channels left: only the bias. */
function conv(net: Net, c: ConvNode, x: tf.Tensor4D | null, n: number, size: number, channels: number): tf.Tensor4D {
  const filter = net.variable(`${c.name}.weight`) as tf.Tensor4D;
  let y: tf.Tensor4D;
  if (!x) y = tf.zeros([n, size, size, channels]);
  else if (c.stride === 1 && c.padding * 2 + 1 === c.kernel) y = conv2dSame(x, filter);
  else {
    const p = c.padding;
    y = tf.conv2d(p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x, filter, c.stride, 'valid');
  }
  return c.bias ? tf.add(y, net.variable(`${c.name}.bias`)) : y;
}
