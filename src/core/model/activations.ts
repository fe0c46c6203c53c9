/**
 * What each filter sees: every conv layer's feature maps for one batch of images, from a plain
 * evaluation-mode forward pass over the graph (no fused kernels, so it shares nothing with Net's
 * optimised forward and its logits double-check it: activations.test.ts). A conv's map is taken after
 * the BatchNorm and ReLU that directly follow it (what the next layer reads; a conv feeding an add
 * shows its BatchNorm's output, before the sum). Only used for one image at a time, so speed is moot.
 */
import * as tf from '@tensorflow/tfjs';
import { BN_EPS } from './spec';
import { batchNormAfter, type ConvNode } from './graph';
import type { Net } from './net';

export interface LayerMaps {
  /** The conv layer. */
  layer: string;
  /** The node whose output is shown (the conv, its BatchNorm or the ReLU after that). */
  shown: string;
  /** NHWC [n, size, size, channels]; channels 0 when the layer has none left. */
  maps: tf.Tensor4D;
}

/** The node shown for a conv: conv → [its BatchNorm] → [a ReLU right after]. */
export function shownNode(net: Net, conv: string): string {
  const st = net.graph;
  let at = batchNormAfter(st, conv)?.name ?? conv;
  const cs = st.byName.get(at)!.consumers;
  if (cs.length === 1 && st.byName.get(cs[0])!.node.op === 'relu') at = cs[0];
  return at;
}

/** Logits and each conv's maps for NHWC images x (normalised as for training). The caller disposes. */
export function convActivations(net: Net, x: tf.Tensor4D): { logits: tf.Tensor2D; layers: LayerMaps[] } {
  return tf.tidy(() => {
    const st = net.graph;
    const n = x.shape[0];
    const acts = new Map<string, tf.Tensor>([['input', x]]);
    const channelsOf = (t: tf.Tensor) => t.shape[t.shape.length - 1];
    for (const name of st.order) {
      const node = st.byName.get(name)!.node;
      const inp = node.op === 'add' ? null : acts.get(node.input)!;
      let y: tf.Tensor;
      switch (node.op) {
        case 'conv': {
          const c = node as ConvNode;
          const w = net.variable(`${name}.weight`) as tf.Tensor4D;
          const xin = inp as tf.Tensor4D;
          const [outSize] = [Math.floor((xin.shape[1] + 2 * c.padding - c.kernel) / c.stride) + 1];
          if (w.size === 0 || channelsOf(xin) === 0) y = tf.zeros([n, outSize, outSize, w.shape[3]]) as tf.Tensor4D;
          else {
            const padded = c.padding ? tf.pad(xin, [[0, 0], [c.padding, c.padding], [c.padding, c.padding], [0, 0]]) : xin;
            y = tf.conv2d(padded, w, c.stride, 'valid');
          }
          if (c.bias) y = tf.add(y, net.variable(`${name}.bias`)) as tf.Tensor4D;
          break;
        }
        case 'batchNorm': {
          const v = (k: string) => net.variable(`${name}.${k}`);
          y = tf.add(tf.mul(tf.div(tf.sub(inp!, v('running_mean')), tf.sqrt(tf.add(v('running_var'), BN_EPS))), v('weight')), v('bias')) as tf.Tensor4D;
          break;
        }
        case 'relu':
          y = tf.relu(inp!);
          break;
        case 'maxPool':
          y = tf.maxPool(inp as tf.Tensor4D, 2, 2, 'valid');
          break;
        case 'globalAvgPool':
          y = tf.mean(inp!, [1, 2], true) as tf.Tensor4D;
          break;
        case 'add':
          y = tf.addN(node.inputs.map((i) => acts.get(i)!)) as tf.Tensor4D;
          break;
        case 'flatten':
          y = tf.reshape(inp!, [n, -1]);
          break;
        case 'linear': {
          const w = net.variable(`${name}.weight`);
          const b = net.variable(`${name}.bias`);
          y = (inp!.shape[1] === 0 ? tf.add(tf.zeros([n, node.outFeatures]), b) : tf.add(tf.matMul(inp as tf.Tensor2D, w as tf.Tensor2D), b)) as tf.Tensor2D;
          break;
        }
      }
      acts.set(name, y);
    }
    const layers = st.nodes
      .filter((nd) => nd.op === 'conv')
      .map((c) => {
        const shown = shownNode(net, c.name);
        return { layer: c.name, shown, maps: tf.keep(acts.get(shown) as tf.Tensor4D) };
      });
    return { logits: tf.keep(acts.get(st.output.name) as tf.Tensor2D), layers };
  });
}
