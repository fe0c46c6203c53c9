#!/usr/bin/env python3
"""PyTorch reference for the playground's default recipe: the same network, data and recipe
(Adam 1e-3, batch 64, 10 epochs on public/data/cifar10/train_5000.bin, inputs normalised with the
training set's per-channel mean and population std, PyTorch's default initialisation), test
accuracy on test_1000.bin. PyTorch's own shuffling and initial weights, so it is a statistical
reference: run a few seeds.

  /usr/bin/python3 bench/torch_recipe.py [--models simplecnn,convnet3] [--seeds 42,1,2] [--epochs 10]
Prints one JSON object.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_bench import MODELS  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..')


def load(name):
    raw = np.fromfile(os.path.join(ROOT, 'public/data/cifar10', name), dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255, raw[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='simplecnn,convnet3')
    ap.add_argument('--seeds', default='42,1,2')
    ap.add_argument('--epochs', type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    xtr, ytr = load('train_5000.bin')
    xte, yte = load('test_1000.bin')
    mean = xtr.mean(axis=(0, 2, 3), keepdims=True)
    std = xtr.std(axis=(0, 2, 3), keepdims=True)
    xtr = torch.from_numpy((xtr - mean) / std)
    xte = torch.from_numpy((xte - mean) / std)
    ytr = torch.from_numpy(ytr)
    yte = torch.from_numpy(yte)
    out = {'torch': torch.__version__, 'recipe': {'optimizer': 'adam', 'learningRate': 1e-3, 'batchSize': 64, 'epochs': args.epochs}, 'results': []}
    for name in args.models.split(','):
        for seed in [int(s) for s in args.seeds.split(',')]:
            torch.manual_seed(seed)
            model = MODELS[name]()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            for _ in range(args.epochs):
                model.train()
                perm = torch.randperm(len(xtr))
                for i in range(0, len(xtr), 64):
                    idx = perm[i:i + 64]
                    opt.zero_grad()
                    F.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
                    opt.step()
            model.eval()
            with torch.no_grad():
                acc = (model(xte).argmax(1) == yte).float().mean().item()
            out['results'].append({'model': name, 'seed': seed, 'testAccuracy': acc})
            print(json.dumps(out['results'][-1]), file=sys.stderr, flush=True)
    for name in args.models.split(','):
        accs = [r['testAccuracy'] for r in out['results'] if r['model'] == name]
        out.setdefault('mean', {})[name] = sum(accs) / len(accs)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
