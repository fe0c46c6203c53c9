import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomWeights } from '../pruning/testUtil';
import { convActivations, shownNode } from './activations';
import { Net } from './net';
import { convNet3, resnet20, simpleCnn } from './zoo';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('convActivations', () => {
  it('its plain forward gives Net.predict’s logits (all three models, and a pruned ConvNet-3), without leaks', () => {
    for (const [spec, ch] of [
      [simpleCnn, undefined],
      [convNet3, undefined],
      [convNet3, [16, 7, 3]],
      [resnet20, undefined],
    ] as const) {
      const net = new Net(spec, randomWeights(spec, 5, ch ? [...ch] : undefined));
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const { logits, layers } = convActivations(net, x);
      const want = net.predict(x);
      const [a, b] = [logits.arraySync(), want.arraySync()];
      for (let i = 0; i < 2; i++) for (let k = 0; k < 10; k++) expect(a[i][k]).toBeCloseTo(b[i][k], 3);
      const convs = net.graph.nodes.filter((n) => n.op === 'conv');
      expect(layers.map((l) => l.layer)).toEqual(convs.map((c) => c.name));
      layers.forEach((l, i) => expect(l.maps.shape[3]).toBe(net.channels[net.graph.byName.get(convs[i].name)!.group!]));
      tf.dispose([logits, want, ...layers.map((l) => l.maps)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(x);
      net.dispose();
    }
  });

  it('shows what the next layer reads: after BatchNorm and ReLU, before an add', () => {
    const r = Net.create(resnet20, 1);
    expect(shownNode(r, 'layers.0.conv1')).toBe('layers.0.relu1');
    expect(shownNode(r, 'layers.0.conv2')).toBe('layers.0.bn2');
    expect(shownNode(r, 'layers.3.shortcut.0')).toBe('layers.3.shortcut.1');
    r.dispose();
    const s = Net.create(simpleCnn, 1);
    expect(shownNode(s, 'conv1')).toBe('conv1.relu');
    s.dispose();
  });

  it('ReLU maps are non-negative', () => {
    const net = new Net(convNet3, randomWeights(convNet3, 2));
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { logits, layers } = convActivations(net, x);
    for (const l of layers) expect(l.maps.min().arraySync()).toBeGreaterThanOrEqual(0);
    tf.dispose([x, logits, ...layers.map((l) => l.maps)]);
    net.dispose();
  });
});
