#!/usr/bin/env python3
"""The reference experiments in PyTorch, timed epoch by epoch: the PyTorch side of
benchmarks/compare_frameworks.py (bnlab_epoch and libtorch_models print the same JSON lines).

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        /usr/bin/python3 benchmarks/torch_models.py --variant batchnorm --batch 32 --threads 1 --epochs 3
    {"framework": "pytorch", "variant": "batchnorm", "batch": 32, "threads": 1, "epoch": 1, "epoch_seconds": 1.41, ...}

The models (bnlab's presets of the same names, models/presets.hpp and models/cnn.hpp):
  plain, batchnorm  784-128-64-10 MLP with ReLU, and for "batchnorm" a BatchNorm1d (momentum 0.1,
                    eps 1e-5) after each hidden ReLU.
  cnn-plain         conv 3x3 32 filters padding 1 -> ReLU -> max-pool 2x2 stride 2 -> conv 3x3 64
                    padding 1 -> ReLU -> max-pool 2x2 -> flatten (3136) -> dense 128 -> ReLU ->
                    dense 10, a bias on every conv and dense layer.
  cnn-batchnorm     cnn-plain with BatchNorm2d(32), BatchNorm2d(64) and BatchNorm1d(128) between each
                    conv / hidden dense layer and its ReLU (momentum 0.1, eps 1e-5).
Glorot-uniform weights (xavier_uniform_: for a conv fan_in = C_in*9, fan_out = C_out*9), zero
biases; mean cross-entropy; Adam lr 1e-3, eps 1e-7. The data: 48,000 samples of 784 floats in
[0,1) with uniform labels (or the real Fashion-MNIST training split with --data fashion-mnist), one
float tensor in memory, reshuffled every epoch (randperm + index_select, as a DataLoader-free loop
would); a CNN sees the same values as [N,1,28,28] (NCHW, PyTorch's default layout; bnlab's NHWC
[N,28,28,1] is the same memory for one channel; the flatten orders its 3136 values C,H,W here and
H,W,C in bnlab, a permutation of the dense layer's inputs). One untimed warm-up epoch by default.
Needs Debian's python3-torch; the environment variables above are set by the runner (this script
only fills in those that are missing, before torch is imported). PyTorch runs its float
convolutions on CPU through oneDNN (MKLDNN) when it was built with it: "mkldnn" in the JSON.
"""

import argparse
import json
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variant", choices=["plain", "batchnorm", "cnn-plain", "cnn-batchnorm"], default="plain")
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
        sys.exit(f"torch_models.py: {name}[.gz] not found in {root} (Debian package dataset-fashion-mnist)")

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


def build_model(variant, nn):
    """The variant as an nn.Sequential, Glorot-uniform weights and zero biases."""
    bn1 = lambda n: nn.BatchNorm1d(n, momentum=0.1, eps=1e-5)
    if variant in ("plain", "batchnorm"):
        layers = [nn.Linear(784, 128), nn.ReLU()]
        if variant == "batchnorm":
            layers.append(bn1(128))
        layers += [nn.Linear(128, 64), nn.ReLU()]
        if variant == "batchnorm":
            layers.append(bn1(64))
        layers.append(nn.Linear(64, 10))
    else:
        bn = variant == "cnn-batchnorm"
        layers = []
        for c_in, c_out in ((1, 32), (32, 64)):
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=True))
            if bn:
                layers.append(nn.BatchNorm2d(c_out, momentum=0.1, eps=1e-5))
            layers += [nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2)]
        layers += [nn.Flatten(), nn.Linear(64 * 7 * 7, 128)]
        if bn:
            layers.append(bn1(128))
        layers += [nn.ReLU(), nn.Linear(128, 10)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


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

    model = build_model(args.variant, nn)
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
    if args.variant.startswith("cnn-"):
        x = x.reshape(n, 1, 28, 28).contiguous()  # NCHW; the same values in the same order

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
            "blas": blas, "mkldnn": torch.backends.mkldnn.is_available(),
        }), flush=True)


if __name__ == "__main__":
    main()
