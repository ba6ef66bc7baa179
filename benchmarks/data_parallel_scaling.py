#!/usr/bin/env python3
"""Data-parallel scaling of bnlab, measured on this machine and projected to a cluster
(docs/distributed.md, "Scaling").

Measures, side by side in one run and alternating the configurations so that a change in the
machine's load affects them alike:
  * ms per training step at global batch 256 for one process with --threads 1 and --threads 2,
    and for 2 mpirun ranks with --data-parallel (sync and local statistics, one thread each);
  * ms per step of one process at the per-rank batches of 8, 16 and 64 ranks (256/N rows);
then projects the step time of N ranks as compute(256/N) + the step's allreduces under a stated
network model: the gradients by a ring, 2(N-1)·alpha + 2(N-1)/N · bytes / bandwidth; the small
ones (the step's numbers, and with sync statistics 3 per batch-norm layer: its sums Σx and count,
Σ(x-mu)², and in backward Σg, Σg·x̂) by recursive doubling, log2(N)·(alpha + bytes / bandwidth).

  python3 benchmarks/data_parallel_scaling.py --bnlab build/tools/bnlab [--rounds 2]
"""
import argparse
import json
import math
import os
import subprocess
import tempfile

MODELS = {
    # name: (bnlab flags, floats in the gradient allreduce, batch-norm channels per layer)
    "mlp batchnorm": (["--model", "batchnorm"], 109770, [128, 64]),
    "cnn-batchnorm": (["--model", "cnn-batchnorm", "--limit-train", "12800"], 422090, [32, 64, 128]),
}
NETWORKS = {  # alpha (s per message hop), bandwidth (bytes/s)
    "10 GbE (alpha 20 us, 1.1 GB/s)": (20e-6, 1.1e9),
    "100 Gb/s InfiniBand (alpha 2 us, 11 GB/s)": (2e-6, 11e9),
}


def step_ms(bnlab, flags, batch, ranks=0, threads=1, extra=()):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "m.json")
        cmd = [bnlab, "train", *flags, "--batch-size", str(batch), "--epochs", "1", "--threads", str(threads),
               "--quiet", "--json", out, *extra]
        if ranks:
            cmd = ["mpirun", "--allow-run-as-root", "-np", str(ranks), *cmd, "--data-parallel"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        epoch = json.load(open(out))["runs"][0]["epochs"][0]
        return 1000.0 * epoch["seconds"] / epoch["steps"]


def ring_seconds(ranks, nbytes, alpha, bandwidth):
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / bandwidth


def doubling_seconds(ranks, nbytes, alpha, bandwidth):
    return math.log2(ranks) * (alpha + nbytes / bandwidth)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bnlab", default="build/tools/bnlab")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    configs = [("1 process, 1 thread", dict(threads=1)), ("1 process, 2 threads", dict(threads=2)),
               ("2 ranks sync", dict(ranks=2)), ("2 ranks local", dict(ranks=2, extra=("--bn-stats", "local")))]
    for model, (flags, floats, channels) in MODELS.items():
        times = {name: [] for name, _ in configs}
        small = {n: [] for n in (8, 16, 64)}
        for _ in range(a.rounds):
            for name, kw in configs:
                times[name].append(step_ms(a.bnlab, flags, 256, **kw))
            for n in small:
                small[n].append(step_ms(a.bnlab, flags, 256 // n))
        best = {k: min(v) for k, v in times.items()}
        base = best["1 process, 1 thread"]
        print(f"\n{model}: ms per step at global batch 256 (best of {a.rounds}), speed-up against 1 thread")
        for name, _ in configs:
            print(f"  {name:22s} {best[name]:8.2f} ms  {base / best[name]:5.2f}x   runs: {', '.join(f'{t:.2f}' for t in times[name])}")
        nbytes = 4 * floats
        # The small sums of a step, in bytes: the step's numbers (doubles), then per batch-norm
        # layer (C+1), C and 2C floats.
        step_numbers = 8 * (3 + 3 * len(channels))
        bn_messages = [4 * m for c in channels for m in (c + 1, c, 2 * c)]
        print(f"  per step: gradients {floats} floats = {nbytes} bytes in one allreduce; the step's numbers {step_numbers} "
              f"bytes; with sync statistics {len(bn_messages)} more of {sum(bn_messages)} bytes in all")
        for net, (alpha, bw) in NETWORKS.items():
            print(f"  projected with sync statistics on {net}:")
            for n in (8, 16, 64):
                comp = min(small[n])
                grads = 1000 * ring_seconds(n, nbytes, alpha, bw)
                smalls = 1000 * sum(doubling_seconds(n, b, alpha, bw) for b in [step_numbers, *bn_messages])
                t = comp + grads + smalls
                print(f"    {n:3d} ranks × {256 // n:3d} rows: compute {comp:7.2f} ms + gradients {grads:6.2f} ms + small sums "
                      f"{smalls:5.2f} ms = {t:7.2f} ms  → {base / t:5.1f}x one process")


if __name__ == "__main__":
    main()
