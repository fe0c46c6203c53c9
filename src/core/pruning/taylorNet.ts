/**
 * Taylor scores and the oracle of a network on a batch, with TensorFlow.js (core/model/gated.ts):
 * what the engine runs for method 'taylor' and for the oracle chart. Every tensor made here is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { type Gates, gateGradients, gatedLoss } from '../model/gated';
import type { Net } from '../model/net';
import { groupTaylorScores } from './taylor';

/** Per channel group id, |Σ a·∂L/∂a| summed over the group's producers (Molchanov 2019), and the batch's loss. */
export function taylorGroupScores(net: Net, x: tf.Tensor4D, labels: tf.Tensor1D): { loss: number; scores: Record<string, Float64Array> } {
  const { loss, grads } = gateGradients(net, x, labels);
  return { loss, scores: groupTaylorScores(net.graph.groups, grads) };
}

/** The batch's loss with unit `unit` of group `groupId` switched off at every producer (= removed), or with nothing off (unit null). */
export function lossWithoutUnit(net: Net, x: tf.Tensor4D, labels: tf.Tensor1D, groupId: string, unit: number | null): number {
  const g = net.graph.groups.find((k) => k.id === groupId);
  if (!g) throw new Error(`${groupId} is not a channel group of ${net.spec.id}`);
  const units = net.channels[g.index];
  if (unit !== null && !(Number.isInteger(unit) && unit >= 0 && unit < units)) throw new RangeError(`${g.label} has no unit ${unit}`);
  const gates: Gates = {};
  if (unit !== null) {
    const v = new Float32Array(units).fill(1);
    v[unit] = 0;
    for (const p of g.producers) gates[p] = tf.tensor1d(v);
  }
  try {
    const loss = gatedLoss(net, x, labels, gates);
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  } finally {
    tf.dispose(Object.values(gates));
  }
}
