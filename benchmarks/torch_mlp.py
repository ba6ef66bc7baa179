#!/usr/bin/env python3
"""The reference experiment in PyTorch, timed epoch by epoch: the PyTorch side of
benchmarks/compare_frameworks.py (bnlab_epoch and libtorch_mlp print the same JSON lines).

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        /usr/bin/python3 benchmarks/torch_mlp.py --variant batchnorm --batch 32 --threads 1 --epochs 3
    {"framework": "pytorch", "variant": "batchnorm", "batch": 32, "threads": 1, "epoch": 1, "epoch_seconds": 1.41, ...}

The model: 784-128-64-10 MLP with ReLU, and for "batchnorm" a BatchNorm1d (momentum 0.1, eps 1e-5)
after each hidden ReLU; Glorot-uniform weights, zero biases; mean cross-entropy; Adam lr 1e-3, eps
1e-7. The data: 48,000 samples of 784 floats in [0,1) with uniform labels (or the real
Fashion-MNIST training split with --data fashion-mnist), one float tensor in memory, reshuffled
every epoch (randperm + index_select, as a DataLoader-free loop would). One untimed warm-up epoch
by default. Needs Debian's python3-torch; the environment variables above are set by the runner
(this script only fills in those that are missing, before torch is imported).
"""

import argparse
import json
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variant", choices=["plain", "batchnorm"], default="plain")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=3, help="timed epochs")
    p.add_argument("--warmup", type=int, default=1, help="untimed epochs first")
    p.add_argument("--samples", type=int, default=48000)
    p.add_argument("--data", choices=["synthetic", "fashion-mnist"], default="synthetic")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def fashion_mnist_train(samples, seed):
    """The first `samples` rows of a seeded permutation of Fashion-MNIST's 60,000 training images."""
    import gzip
    import numpy as np

    root = "/usr/share/datasets/fashion-mnist"

    def read(name, offset):
        for path in (os.path.join(root, name), os.path.join(root, name + ".gz")):
            if os.path.exists(path):
                opener = gzip.open if path.endswith(".gz") else open
                with opener(path, "rb") as f:
                    return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
        sys.exit(f"torch_mlp.py: {name}[.gz] not found in {root} (Debian package dataset-fashion-mnist)")

    x = read("train-images-idx3-ubyte", 16).reshape(-1, 784).astype(np.float32) / 255.0
    y = read("train-labels-idx1-ubyte", 8).astype(np.int64)
    rows = np.random.default_rng(seed).permutation(len(y))[:samples]
    return x[rows], y[rows]


def loaded_blas():
    """The BLAS shared library this process mapped (torch's GEMMs go through it), for the record."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.split()[-1].lower()}
        return ",".join(sorted(os.path.realpath(l) for l in libs)) or "none"
    except OSError:
        return "unknown"


def main():
    args = parse_args()
    # The runner sets these; fill in any that are missing before torch (and its OpenMP) starts.
    for var, value in (("OMP_NUM_THREADS", str(args.threads)), ("OMP_WAIT_POLICY", "PASSIVE"),
                       ("OPENBLAS_NUM_THREADS", "1"), ("MKL_NUM_THREADS", str(args.threads))):
        os.environ.setdefault(var, value)

    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    layers = [nn.Linear(784, 128), nn.ReLU()]
    if args.variant == "batchnorm":
        layers.append(nn.BatchNorm1d(128, momentum=0.1, eps=1e-5))
    layers += [nn.Linear(128, 64), nn.ReLU()]
    if args.variant == "batchnorm":
        layers.append(nn.BatchNorm1d(64, momentum=0.1, eps=1e-5))
    layers.append(nn.Linear(64, 10))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    if args.data == "synthetic":
        g = torch.Generator().manual_seed(1)
        x = torch.rand(args.samples, 784, generator=g)
        y = torch.randint(0, 10, (args.samples,), generator=g)
    else:
        xn, yn = fashion_mnist_train(args.samples, args.seed)
        x, y = torch.from_numpy(xn), torch.from_numpy(yn)
    n = x.shape[0]

    def epoch():
        perm = torch.randperm(n)
        total = 0.0
        for start in range(0, n, args.batch):
            idx = perm[start:start + args.batch]
            xb = x.index_select(0, idx)
            yb = y.index_select(0, idx)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * idx.numel()  # what a training loop reports (and it syncs)
        return total / n

    blas = None
    for e in range(args.warmup + args.epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = epoch()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if blas is None:
            blas = loaded_blas()
        if e < args.warmup:
            continue
        print(json.dumps({
            "framework": "pytorch", "variant": args.variant, "batch": args.batch, "threads": args.threads,
            "epoch": e - args.warmup + 1, "epoch_seconds": round(seconds, 6),
            "cpu_seconds": round(cpu_seconds, 6), "samples": n, "data": args.data,
            "loss": round(loss, 6), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "blas": blas,
        }), flush=True)


if __name__ == "__main__":
    main()
