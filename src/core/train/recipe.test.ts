/**
 * The training recipe: learning rate of every step (against PyTorch's schedulers when torch is here,
 * and hand values), weight decay only on conv/linear weights, label smoothing against a hand computation
 * and torch's CrossEntropyLoss(label_smoothing), Nesterov against PyTorch's SGD formula, and the trainer
 * using them (the LR each step reports, seeded and leak-free).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPython, torchOrSkip } from '../io/pythonForTests';
import { Net } from '../model/net';
import { convNet3, simpleCnn } from '../model/zoo';
import { DEFAULT_RECIPE, type Recipe, type ScheduleName, decayedTensorNames, learningRateAt, recipeProblem, warmupSteps } from './recipe';
import { type DeviceSet, createOptimizer, decayedVariableNames, disposeOptimizer, train, trainStep } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const lrs = (s: ScheduleName, peak: number, total: number, warm: number) => Array.from({ length: total }, (_, i) => learningRateAt(s, peak, i, total, warm));

describe('learning-rate schedule', () => {
  it('constant: the peak every step, or a linear warm-up to it', () => {
    expect(lrs('constant', 0.1, 4, 0)).toEqual([0.1, 0.1, 0.1, 0.1]);
    expect(lrs('constant', 0.1, 5, 2)).toEqual([0.05, 0.1, 0.1, 0.1, 0.1]);
  });
  it('cosine with warm-up: (s+1)/W · peak, then ½(1 + cos(π (s−W)/(T−W))) · peak', () => {
    const got = lrs('cosine', 0.1, 6, 2);
    const want = [0.05, 0.1, 0.1, 0.05 * (1 + Math.cos(Math.PI / 4)), 0.05, 0.05 * (1 + Math.cos((3 * Math.PI) / 4))];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 15));
  });
  it('one-cycle: starts at peak/25, reaches the peak at 30 %, ends at peak/25/1e4', () => {
    const got = lrs('onecycle', 0.1, 10, 0);
    expect(got[0]).toBeCloseTo(0.004, 15);
    expect(got[2]).toBeCloseTo(0.1, 15); // pct_start · T − 1 = 2
    expect(got[9]).toBeCloseTo(0.004 / 1e4, 15);
  });
  it('warm-up epochs → steps as pretrain_full.py (max(1, round(e · steps)))', () => {
    expect(warmupSteps(0, 391)).toBe(0);
    expect(warmupSteps(5, 391)).toBe(1955);
    expect(warmupSteps(0.001, 10)).toBe(1);
    expect(warmupSteps(1.5, 7)).toBe(10); // Python's round(10.5)
    expect(warmupSteps(2.5, 3)).toBe(8); // round(7.5)
  });
  it('rejects impossible recipes with a message', () => {
    expect(recipeProblem(DEFAULT_RECIPE)).toBeNull();
    expect(recipeProblem({ ...DEFAULT_RECIPE, weightDecay: -1 })).toMatch(/weight decay/);
    expect(recipeProblem({ ...DEFAULT_RECIPE, labelSmoothing: 1 })).toMatch(/label smoothing/);
    expect(recipeProblem({ ...DEFAULT_RECIPE, schedule: 'steps' as ScheduleName })).toMatch(/schedule/);
  });

  describe('equals PyTorch per step', () => {
    const py = torchOrSkip('the learning-rate schedules against torch');
    if (py === null) return;
    it('cosine (pretrain_full.py lr_factor via LambdaLR) and OneCycleLR, every step', () => {
      const cases: Array<[ScheduleName, number, number, number]> = [
        ['cosine', 0.1, 50, 7],
        ['cosine', 0.05, 13, 0],
        ['onecycle', 0.1, 50, 0],
        ['onecycle', 0.2, 40, 10],
      ];
      const script = `
import json, sys, torch
sys.path.insert(0, 'scripts')
from pretrain_full import lr_factor
out = []
for sched, peak, total, warm in json.loads(sys.stdin.read()):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=peak, momentum=0.9, nesterov=True)
    if sched == 'cosine':
        s = torch.optim.lr_scheduler.LambdaLR(opt, lambda i, w=warm, t=total: lr_factor(i, w, t))
    else:
        s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=total, pct_start=(warm / total if warm else 0.3), anneal_strategy='cos', cycle_momentum=False)
    seq = []
    for i in range(total):
        seq.append(opt.param_groups[0]['lr'])
        opt.step()
        s.step()
    out.append(seq)
print(json.dumps(out))
`;
      const torchLrs = JSON.parse(runPython(py, ['-c', script], { input: JSON.stringify(cases) })) as number[][];
      cases.forEach(([s, peak, total, warm], k) => {
        const ours = lrs(s, peak, total, warm);
        ours.forEach((v, i) => expect(Math.abs(v - torchLrs[k][i])).toBeLessThan(1e-12 * peak));
      });
    });
  });
});

describe('weight decay', () => {
  it('applies to conv and linear weights, never to BatchNorm γ/β or biases', () => {
    expect(decayedTensorNames(convNet3)).toEqual(['conv1.weight', 'conv2.weight', 'conv3.weight', 'fc1.weight']);
    expect(decayedTensorNames(simpleCnn)).toEqual(['conv1.weight', 'fc1.weight']);
  });

  it('a plain SGD step: w − lr·(g + wd·w) on decayed weights, w − lr·g on BN and biases', () => {
    const net = Net.create(convNet3, 4, [2, 2, 2]);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const lr = 0.5;
    const wd = 0.1;
    const names = net.trainableVariables.map((v) => v.name);
    const before = net.trainableVariables.map((v) => v.dataSync().slice());
    const grads = tf.tidy(() => {
      const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), net.trainLogits(x)) as tf.Scalar, net.trainableVariables);
      return names.map((n) => tf.keep(g[n]));
    });
    const g = grads.map((t) => t.dataSync().slice());
    net.commitBatchStatistics();
    const opt = createOptimizer({ optimizer: 'sgd', learningRate: lr, momentum: 0 });
    const decay = decayedVariableNames(net);
    tf.tidy(() => trainStep(net, opt, x, y, undefined, { decay: { rate: wd, variables: decay } }));
    const after = net.trainableVariables.map((v) => v.dataSync().slice());
    names.forEach((n, k) => {
      const decays = decay.has(n);
      for (let i = 0; i < before[k].length; i++) {
        const want = before[k][i] - lr * (g[k][i] + (decays ? wd * before[k][i] : 0));
        expect(after[k][i]).toBeCloseTo(want, 5);
      }
    });
    expect([...decay].length).toBe(4);
    disposeOptimizer(opt);
    tf.dispose([x, y, ...grads]);
    net.dispose();
  });
});

describe('label smoothing', () => {
  const logits = [
    [2, 0.5, -1, 0, 0, 0, 0, 0, 0, 0.25],
    [-0.5, 0, 3, 1, 0, 0, 0, 0, -2, 0],
  ];
  const labels = [0, 2];
  const ours = (eps: number) => tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), tf.tensor2d(logits), undefined, eps).dataSync()[0]);
  /** −Σ q log p with q = (1−ε)·onehot + ε/10, mean over the batch, in float64. */
  const hand = (eps: number) =>
    logits.reduce((acc, row, b) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      return acc - row.reduce((a, v, k) => a + ((k === labels[b] ? 1 - eps : 0) + eps / 10) * (v - lse), 0);
    }, 0) / logits.length;
  it('matches −Σ q log softmax with q = (1−ε)·one-hot + ε/K', () => {
    for (const eps of [0, 0.1, 0.3]) expect(ours(eps)).toBeCloseTo(hand(eps), 5);
    expect(ours(0.1)).not.toBeCloseTo(ours(0), 3);
  });
  describe('equals torch', () => {
    const py = torchOrSkip('label smoothing against torch');
    if (py === null) return;
    it("CrossEntropyLoss(label_smoothing=0.1)", () => {
      const t = Number(runPython(py, ['-c', `import torch,json; l=torch.tensor(${JSON.stringify(logits)}); print(torch.nn.CrossEntropyLoss(label_smoothing=0.1)(l, torch.tensor(${JSON.stringify(labels)})).item())`]));
      expect(ours(0.1)).toBeCloseTo(t, 5);
    });
  });
});

describe('Nesterov momentum', () => {
  it("follows PyTorch's SGD(nesterov=True): buf = m·buf + g, w −= lr·(g + m·buf)", () => {
    const v = tf.variable(tf.tensor1d([1, -2, 0.5]), true, `nesterovTest${Math.random()}`);
    const opt = createOptimizer({ optimizer: 'sgd', learningRate: 0.1, momentum: 0.9, recipe: { ...DEFAULT_RECIPE, nesterov: true } });
    const w = [1, -2, 0.5];
    const buf = [0, 0, 0];
    for (let step = 0; step < 4; step++) {
      // loss = Σ w³ − step·w: gradient 3w² − step
      opt.minimize(() => tf.sum(tf.sub(tf.pow(v, 3), tf.mul(v, step))) as tf.Scalar, false, [v]);
      for (let i = 0; i < 3; i++) {
        const g = 3 * w[i] * w[i] - step;
        buf[i] = 0.9 * buf[i] + g;
        w[i] -= 0.1 * (g + 0.9 * buf[i]);
      }
    }
    // float32 against float64: relative 1e-5 (the values grow to ~1e4 over the steps).
    Array.from(v.dataSync()).forEach((x, i) => expect(Math.abs(x - w[i]) / Math.abs(w[i])).toBeLessThan(1e-5));
    disposeOptimizer(opt);
    v.dispose();
  });
});

describe('train with a recipe', () => {
  function tinySet(): DeviceSet {
    const n = 12;
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const xs = tf.randomNormal([n, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    return { xs, ys: tf.tensor1d(labels, 'int32'), count: n, blank: [-1.5, -1.25, -1] };
  }
  const recipe: Recipe = { augment: true, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', warmupEpochs: 1, labelSmoothing: 0.1 };

  it('reports the schedule’s learning rate for every step, is seeded, and leaks nothing', async () => {
    const data = tinySet();
    const run = async () => {
      const net = Net.create(simpleCnn, 3, [2]);
      const cfg = { epochs: 3, batchSize: 4, learningRate: 0.05, optimizer: 'sgd' as const, momentum: 0.9, seed: 7, recipe };
      const opt = createOptimizer(cfg);
      // The learning rate the optimiser really holds when it applies each step.
      const applied: number[] = [];
      const apply = opt.applyGradients.bind(opt);
      opt.applyGradients = (g) => {
        applied.push((opt.getConfig() as { learningRate: number }).learningRate);
        apply(g);
      };
      const got: number[] = [];
      const losses: number[] = [];
      const counts: number[] = [];
      await train(net, opt, data, cfg, {
        onBatch: (r) => {
          got.push(r.learningRate);
          losses.push(r.loss);
          counts.push(tf.memory().numTensors);
        },
      });
      const w = net.variable('conv1.weight').dataSync().slice();
      disposeOptimizer(opt);
      net.dispose();
      return { got, applied, losses, counts, w };
    };
    const a = await run();
    expect(a.applied).toEqual(a.got);
    // 3 steps per epoch, 9 in all, warm-up 3 steps.
    expect(a.got).toEqual(Array.from({ length: 9 }, (_, i) => learningRateAt('cosine', 0.05, i, 9, 3)));
    expect(a.got[0]).toBeCloseTo(0.05 / 3, 12);
    expect(new Set(a.counts.slice(1)).size).toBe(1);
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    tf.dispose([data.xs, data.ys]);
  });

  it('augmentation is applied (other losses than without it, the same again with it) and needs the data’s blank pixel', async () => {
    const data = tinySet();
    const lossesWith = async (augment: boolean, set: DeviceSet = data) => {
      const net = Net.create(simpleCnn, 3, [2]);
      const cfg = { epochs: 1, batchSize: 6, learningRate: 0.01, optimizer: 'adam' as const, momentum: 0, seed: 2, recipe: { ...DEFAULT_RECIPE, augment } };
      const opt = createOptimizer(cfg);
      const losses: number[] = [];
      try {
        await train(net, opt, set, cfg, { onBatch: (r) => losses.push(r.loss) });
      } finally {
        disposeOptimizer(opt);
        net.dispose();
      }
      return losses;
    };
    const plain = await lossesWith(false);
    const augmented = await lossesWith(true);
    expect(augmented).not.toEqual(plain);
    expect(await lossesWith(true)).toEqual(augmented);
    await expect(lossesWith(true, { ...data, blank: undefined })).rejects.toThrow(/augmentation needs/);
    tf.dispose([data.xs, data.ys]);
  });

  it('the optimiser’s learning rate is the peak again after a scheduled run', async () => {
    const data = tinySet();
    const net = Net.create(simpleCnn, 3, [2]);
    const cfg = { epochs: 1, batchSize: 6, learningRate: 0.02, optimizer: 'adam' as const, momentum: 0, seed: 1, recipe: { ...DEFAULT_RECIPE, schedule: 'cosine' as const } };
    const opt = createOptimizer(cfg);
    await train(net, opt, data, cfg);
    expect((opt.getConfig() as { learningRate: number }).learningRate).toBe(0.02);
    disposeOptimizer(opt);
    net.dispose();
    tf.dispose([data.xs, data.ys]);
  });
});
