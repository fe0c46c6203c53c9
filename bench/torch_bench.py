#!/usr/bin/env python3
"""PyTorch reference timings for `npm run bench` (scripts/bench.mjs runs this when torch imports).

The same networks as the playground, in PyTorch's own layout (NCHW), timed on this CPU in the
same run as the browser so the bench can print the playground's throughput as a ratio:

- SimpleCNN: conv1 3->64 3x3 pad 1 (bias) -> ReLU -> flatten -> fc1 65,536->10 (657,162 params)
- ConvNet-3: [conv 3x3 pad 1 no bias -> BatchNorm2d -> ReLU -> MaxPool 2x2] x3 (3->16->32->64)
             -> flatten 1,024 -> fc1 1,024->10 (33,946 params)

Training step = zero_grad, forward, cross-entropy, backward, optimiser step (SGD momentum 0.9 or
Adam), on random normalised images with random labels; the input needs no gradient (as in a real
training loop). Inference = forward in eval mode under torch.inference_mode(), batch 250.
threads = os.cpu_count() unless --threads. Warm-up, then the median of --steps timed steps.
Prints one JSON object on stdout.

  /usr/bin/python3 bench/torch_bench.py [--quick] [--threads N] [--models simplecnn,convnet3]
  /usr/bin/python3 bench/torch_bench.py --serve [--threads N]

--serve keeps torch loaded and answers one JSON request per stdin line with one JSON line, e.g.
  {"kind": "train", "model": "convnet3", "optimizer": "adam", "batch": 64, "warmup": 5, "steps": 20}
  {"kind": "inference", "model": "simplecnn", "batch": 250, "warmup": 5, "runs": 20, "threads": 1}
("threads" defaults to --threads)
so scripts/bench.mjs can interleave PyTorch and browser measurements of the same configuration
(on a shared machine, load then hits both sides alike). The first line out is {"ready": …}.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SimpleCNN(nn.Module):
    def __init__(self, k=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, k, 3, padding=1)
        self.fc1 = nn.Linear(k * 32 * 32, 10)

    def forward(self, x):
        return self.fc1(torch.flatten(F.relu(self.conv1(x)), 1))


class ConvNet3(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [3, 16, 32, 64]
        layers = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(4 * 4 * 64, 10)

    def forward(self, x):
        return self.fc1(torch.flatten(self.features(x), 1))


class BasicBlock(nn.Module):
    """conv3x3 - BN - ReLU - conv3x3 - BN, plus the shortcut, then ReLU. Option B (He et al.): a 1x1
    stride-2 conv + BN projection only where the shape changes, identity elsewhere."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    """He et al. 2016's CIFAR ResNet-20 with the page's names (src/core/model/zoo/resnet20.ts): conv1, bn1,
    layers.0-8 (3 stages of 3 blocks, 16/32/64 channels; first block of stages 2 and 3 stride 2), global
    average pool, fc 64->10; no conv biases; 272,474 parameters."""

    PARAMS = 272474

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for b in range(3):
                blocks.append(BasicBlock(cin, cout, stride if b == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


MODELS = {'simplecnn': SimpleCNN, 'convnet3': ConvNet3, 'resnet20': ResNet20}


def macs_per_image(name):
    if name == 'simplecnn':
        return 27 * 64 * 1024 + 65536 * 10
    if name == 'resnet20':
        return 40_813_184  # src/core/model/zoo/resnet20.ts, checked against the graph's count in its tests
    # conv MACs at each resolution + fc
    return 27 * 16 * 1024 + 144 * 32 * 256 + 288 * 64 * 64 + 1024 * 10


def time_train(name, opt_name, batch, warmup, steps):
    torch.manual_seed(0)
    model = MODELS[name]()
    model.train()
    if opt_name == 'sgd':
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt * 1000)
    med = statistics.median(times)
    return {
        'model': name,
        'optimizer': opt_name,
        'batch': batch,
        'medianStepMs': med,
        'imagesPerSecond': batch * 1000 / med,
        'stepMs': [round(t, 2) for t in times],
        'params': sum(p.numel() for p in model.parameters()),
    }


def time_inference(name, batch, warmup, runs):
    torch.manual_seed(0)
    model = MODELS[name]()
    model.eval()
    x = torch.randn(batch, 3, 32, 32)
    times = []
    with torch.inference_mode():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            model(x).argmax(1).tolist()
            dt = time.perf_counter() - t0
            if i >= warmup:
                times.append(dt * 1000)
    med = statistics.median(times)
    return {'model': name, 'batch': batch, 'medianMs': med, 'imagesPerSecond': batch * 1000 / med, 'runsMs': [round(t, 2) for t in times]}


def info():
    return {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'cpuCount': os.cpu_count(),
        'mkldnn': torch.backends.mkldnn.is_available(),
        'python': sys.version.split()[0],
    }


def serve():
    default_threads = torch.get_num_threads()
    print(json.dumps({'ready': info()}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            q = json.loads(line)
            torch.set_num_threads(q.get('threads', default_threads))
            if q['kind'] == 'train':
                r = time_train(q['model'], q['optimizer'], q['batch'], q.get('warmup', 5), q.get('steps', 20))
            else:
                r = time_inference(q['model'], q.get('batch', 250), q.get('warmup', 5), q.get('runs', 20))
            r['threads'] = torch.get_num_threads()
            print(json.dumps(r), flush=True)
        except Exception as e:  # answer, do not die: the caller is waiting for a line
            print(json.dumps({'error': repr(e)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--serve', action='store_true')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--models', default='simplecnn,convnet3')
    ap.add_argument('--batches', default='32,64,128')
    ap.add_argument('--optimizers', default='sgd,adam')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve()
        return
    warmup, steps = (2, 5) if args.quick else (5, 20)
    out = {**info(), 'train': [], 'inference': []}
    models = [m for m in args.models.split(',') if m]
    for name in models:
        for batch in [int(b) for b in args.batches.split(',')]:
            for opt in args.optimizers.split(','):
                out['train'].append(time_train(name, opt, batch, warmup, steps))
        out['inference'].append(time_inference(name, 250, warmup, steps))
    for name in models:
        out.setdefault('macsPerImage', {})[name] = macs_per_image(name)
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
