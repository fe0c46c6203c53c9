#!/usr/bin/env python3
"""Where PyTorch's training step spends its time, per op and input shape (a development tool).

The counterpart of the page's `bench.profile` (per kernel and shape, docs/performance.md): the
same networks and step as torch_bench.py, three steps under torch.autograd.profiler with shapes
recorded, printed per step. Self CPU time per op, so a conv's backward is one row (both gradients).

  /usr/bin/python3 bench/torch_profile.py [--model resnet20] [--optimizer sgd] [--threads 2] [--rows 25]
"""
import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from torch_bench import MODELS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='resnet20', choices=sorted(MODELS))
    ap.add_argument('--optimizer', default='sgd', choices=['sgd', 'adam'])
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--rows', type=int, default=25)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = MODELS[a.model]()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if a.optimizer == 'sgd' else torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    print(f'{a.model} b{a.batch} {a.optimizer}, {a.threads} threads: median step {statistics.median(times):.1f} ms (10 steps)')
    steps = 3
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        for _ in range(steps):
            step()
    rows = sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)[: a.rows]
    print(f'{"op":34s} {"calls":>5s} {"ms/step":>8s} {"ms/call":>8s}  input shapes')
    for e in rows:
        shapes = [s for s in e.input_shapes if s]
        print(f'{e.key[:34]:34s} {e.count // steps:5d} {e.self_cpu_time_total / 1000 / steps:8.2f} {e.self_cpu_time_total / 1000 / e.count:8.3f}  {shapes}')


if __name__ == '__main__':
    main()
