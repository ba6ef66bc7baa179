#!/usr/bin/env python3
"""bnlab side by side with PyTorch, LibTorch and the hand-written floor: epoch time of the reference
experiments (the 784-128-64-10 MLP and the reference CNN of models/cnn.hpp, each plain and with
batch norm, Adam, 48,000 samples), every framework run alternately, several times, per configuration.

    python3 benchmarks/compare_frameworks.py            # the MLP: batch 32 64 256 1024, both variants, 1 and 2 threads, 3 repeats
    python3 benchmarks/compare_frameworks.py --quick    # batch 32 and 256, 1 thread, 1 repeat, 1 epoch
    python3 benchmarks/compare_frameworks.py --models cnn --batches 32,256 --threads 1,2   # the CNN
    python3 benchmarks/compare_frameworks.py --models all                                  # both

--models mlp|cnn|all picks the families and --variants (default plain,batchnorm) the variants of
each: for cnn, "plain" and "batchnorm" are the presets cnn-plain and cnn-batchnorm (a full name such
as cnn-batchnorm in --variants is taken as it is). The CNN's data are the same synthetic values as
images ([28,28,1] channels last in bnlab, [1,28,28] in PyTorch and LibTorch).

It builds what it needs first: bnlab_epoch in --build-dir (configured with -DBNLAB_NATIVE=ON when
the directory has no build yet) and, when LibTorch's CMake package is installed, the separate
project benchmarks/libtorch in <build-dir>/libtorch. A peer that is not installed (python3-torch,
libtorch-dev) is skipped with a note. Every process gets OMP_NUM_THREADS=<threads>,
OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1 and MKL_NUM_THREADS=<threads>; OPENBLAS_CORETYPE is
left as the environment has it. With --malloc tuned (the default) every process also gets
MALLOC_MMAP_THRESHOLD_=64 MiB and MALLOC_TRIM_THRESHOLD_=1 GiB: PyTorch and LibTorch allocate fresh
tensors of up to 400 KB several times per step, and with glibc's defaults these were mmap'ed and
page-faulted in every time (on this VM 5.6 ms instead of 0.9 ms per PyTorch step at batch 32). bnlab
should allocate nothing in a step, but Eigen's products heap-allocate their packing buffers above
128 KB and glibc returns them to the kernel (docs/performance.md), so bnlab gains from the setting too;
--malloc peers gives it to the peers and the floor only (bnlab as it ships), --malloc default to none.

Per run: the median of its timed epochs (wall time; CPU time in a second table for 1-thread rows) (after --warmup untimed ones). Per configuration and
repeat, the frameworks run one after another, in an order rotated every repeat. Ratio columns are
the median over repeats of peer_time / bnlab_time from the same repeat (> 1: bnlab is faster);
bnlab/floor is bnlab_time / floor_time (1.0 would be the floor itself); the floor is single-threaded
and plain-MLP only, so it runs in the plain 1-thread rows only. Raw JSON lines go to
--raw (default <build-dir>/compare-frameworks.jsonl).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ints = lambda s: [int(v) for v in s.split(",") if v]
    names = lambda s: [v for v in s.split(",") if v]
    p.add_argument("--quick", action="store_true", help="batch 32,256; 1 thread; 1 repeat; 1 timed epoch")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=ints, default=[32, 64, 256, 1024])
    p.add_argument("--models", choices=["mlp", "cnn", "all"], default="mlp",
                   help="model families: the MLP (plain, batchnorm), the CNN (cnn-plain, cnn-batchnorm) or both")
    p.add_argument("--variants", type=names, default=["plain", "batchnorm"],
                   help="variants of each family (plain,batchnorm; for --models cnn these mean cnn-plain,cnn-batchnorm)")
    p.add_argument("--threads", type=ints, default=[1, 2])
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per run (the run's median is used)")
    p.add_argument("--warmup", type=int, default=1, help="untimed epochs per run")
    p.add_argument("--samples", type=int, default=48000)
    p.add_argument("--frameworks", type=names, default=["bnlab", "pytorch", "libtorch", "floor"],
                   help="which to run (bnlab is always run: it is the denominator)")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")
    p.add_argument("--python", help="python with torch (default: the first of /usr/bin/python3, this one)")
    p.add_argument("--raw", help="write every JSON line here")
    p.add_argument("--timeout", type=int, default=900, help="seconds per run")
    p.add_argument("--malloc", choices=["tuned", "default", "peers"], default="tuned",
                   help="glibc malloc thresholds: tuned for every process, default for every process, or "
                        "peers = tuned for PyTorch, LibTorch and the floor, glibc's defaults for bnlab (as it ships)")
    a = p.parse_args()
    if a.quick:
        a.batches, a.threads, a.repeats, a.epochs = [32, 256], [1], 1, 1
    if "bnlab" not in a.frameworks:
        a.frameworks.insert(0, "bnlab")
    a.raw = a.raw or os.path.join(a.build_dir, "compare-frameworks.jsonl")
    a.variants = model_variants(a.models, a.variants)
    return a


def model_variants(models, variants):
    """The preset names to run: each of `variants` in each family of `models` (cnn-<v> for the CNN)."""
    families = ["mlp", "cnn"] if models == "all" else [models]
    out = []
    for family in families:
        for v in variants:
            name = v if v.startswith("cnn-") else ("cnn-" + v if family == "cnn" else v)
            if (family == "cnn") != name.startswith("cnn-"):
                continue  # a full CNN name under --models mlp (or the reverse) belongs to the other family
            if name not in ("plain", "batchnorm", "cnn-plain", "cnn-batchnorm"):
                sys.exit(f"compare_frameworks: unknown variant '{v}' (known: plain, batchnorm, cnn-plain, cnn-batchnorm)")
            if name not in out:
                out.append(name)
    if not out:
        sys.exit(f"compare_frameworks: --variants {','.join(variants)} names no variant of --models {models}")
    return out


def run(cmd, **kw):
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def build_bnlab(a):
    exe = os.path.join(a.build_dir, "benchmarks", "bnlab_epoch")
    if a.no_build:
        return exe if os.path.exists(exe) else None
    if not os.path.exists(os.path.join(a.build_dir, "CMakeCache.txt")):
        run(["cmake", "-S", REPO, "-B", a.build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DBNLAB_NATIVE=ON",
             "-DBNLAB_BUILD_TESTS=OFF", "-DBNLAB_BUILD_BENCHMARKS=ON"], stdout=subprocess.DEVNULL)
    run(["cmake", "--build", a.build_dir, "--target", "bnlab_epoch", "-j", "2"], stdout=subprocess.DEVNULL)
    return exe


def build_libtorch(a):
    bdir = os.path.join(a.build_dir, "libtorch")
    exe = os.path.join(bdir, "libtorch_models")
    if a.no_build:
        return exe if os.path.exists(exe) else None
    try:
        if not os.path.exists(os.path.join(bdir, "CMakeCache.txt")):
            run(["cmake", "-S", os.path.join(HERE, "libtorch"), "-B", bdir], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        run(["cmake", "--build", bdir, "-j", "2"], stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        shutil.rmtree(bdir, ignore_errors=True)  # a failed configure leaves a cache that would stick
        return None
    return exe


def find_torch_python(a):
    candidates = [a.python] if a.python else ["/usr/bin/python3", sys.executable]
    for py in candidates:
        if py and os.path.exists(py):
            ok = subprocess.run([py, "-c", "import torch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if ok.returncode == 0:
                return py
    return None


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    a = parse_args()
    commands = {}
    notes = []
    exe = build_bnlab(a)
    if not exe or not os.path.exists(exe):
        sys.exit("compare_frameworks: bnlab_epoch was not built (see the build output above)")
    common = ["--epochs", str(a.epochs), "--warmup", str(a.warmup), "--samples", str(a.samples)]
    commands["bnlab"] = lambda v, b, t: [exe, "--engine", "trainer", "--variant", v, "--batch", str(b), "--threads", str(t)] + common
    if "floor" in a.frameworks and ("plain" not in a.variants or 1 not in a.threads):
        a.frameworks.remove("floor")  # it has the plain MLP on 1 thread only: no row here
    if "floor" in a.frameworks:
        commands["floor"] = lambda v, b, t: (None if v != "plain" or t != 1 else
                                             [exe, "--engine", "floor", "--variant", v, "--batch", str(b), "--threads", str(t)] + common)
    if "pytorch" in a.frameworks:
        py = find_torch_python(a)
        if py:
            script = os.path.join(HERE, "torch_models.py")
            commands["pytorch"] = lambda v, b, t: [py, script, "--variant", v, "--batch", str(b), "--threads", str(t)] + common
        else:
            notes.append("pytorch skipped: no python3 with torch (apt-get install python3-torch)")
    if "libtorch" in a.frameworks:
        lt = build_libtorch(a)
        if lt and os.path.exists(lt):
            commands["libtorch"] = lambda v, b, t: [lt, "--variant", v, "--batch", str(b), "--threads", str(t)] + common
        else:
            notes.append("libtorch skipped: LibTorch's CMake package not found or the build failed (apt-get install libtorch-dev)")
    for n in notes:
        log("note: " + n)
    frameworks = [f for f in a.frameworks if f in commands]

    started = datetime.datetime.now().astimezone()
    log(f"compare_frameworks: {started:%Y-%m-%d %H:%M %Z}, CPU {cpu_model()}, {os.cpu_count()} CPUs, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    results = {}  # (variant, batch, threads) -> framework -> [per-repeat median wall seconds per epoch]
    cpu_results = {}  # the same in process CPU seconds
    raw = open(a.raw, "w")
    for variant in a.variants:
        for threads in a.threads:
            base = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE",
                        OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS=str(threads))
            for var in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
                base.pop(var, None)
            tuned = dict(base, MALLOC_MMAP_THRESHOLD_=str(64 << 20), MALLOC_TRIM_THRESHOLD_=str(1 << 30))
            env_of = lambda f: tuned if a.malloc == "tuned" or (a.malloc == "peers" and f != "bnlab") else base
            for batch in a.batches:
                key = (variant, batch, threads)
                results[key] = {f: [] for f in frameworks}
                cpu_results[key] = {f: [] for f in frameworks}
                for r in range(a.repeats):
                    order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
                    for f in order:
                        cmd = commands[f](variant, batch, threads)
                        if cmd is None:
                            continue
                        out = subprocess.run(cmd, env=env_of(f), capture_output=True, text=True, timeout=a.timeout)
                        if out.returncode != 0:
                            log(f"  {f} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
                            results[key][f].append(float("nan"))
                            cpu_results[key][f].append(float("nan"))
                            continue
                        secs, cpus = [], []
                        for line in out.stdout.splitlines():
                            if line.startswith("{"):
                                rec = json.loads(line)
                                rec["repeat"] = r
                                raw.write(json.dumps(rec) + "\n")
                                secs.append(rec["epoch_seconds"])
                                cpus.append(rec.get("cpu_seconds", float("nan")))
                        raw.flush()
                        results[key][f].append(float("nan") if not secs else statistics.median(secs))
                        cpu_results[key][f].append(float("nan") if not cpus else statistics.median(cpus))
                        log(f"  {variant:13} batch {batch:4} threads {threads} repeat {r + 1}: {f:8} "
                            f"{results[key][f][-1]:.3f} s/epoch ({cpu_results[key][f][-1]:.3f} s CPU)")
    raw.close()

    def med(xs):
        xs = [x for x in xs if x == x]
        return statistics.median(xs) if xs else None

    def ratio(res, key, num, den):
        rs = [n / d for n, d in zip(res[key].get(num, []), res[key].get(den, [])) if n == n and d == d and d > 0]
        return med(rs)

    peers = [f for f in frameworks if f not in ("bnlab", "floor")]
    fmt = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"

    def table(res, unit, keys):
        head = ["variant", "batch", "threads", f"bnlab {unit}"] + [f"{p} {unit}" for p in peers]
        if "floor" in frameworks:
            head.append(f"floor {unit}")
        head += [f"{p}/bnlab" for p in peers]
        if "floor" in frameworks:
            head.append("bnlab/floor")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for key in keys:
            variant, batch, threads = key
            per = res[key]
            row = [variant, str(batch), str(threads), fmt(med(per["bnlab"]))]
            row += [fmt(med(per[p])) for p in peers]
            if "floor" in frameworks:
                row.append(fmt(med(per["floor"])))
            row += [fmt(ratio(res, key, p, "bnlab"), 2) for p in peers]
            if "floor" in frameworks:
                row.append(fmt(ratio(res, key, "bnlab", "floor"), 2))
            print("| " + " | ".join(row) + " |")

    print(f"# {started:%Y-%m-%d %H:%M %Z} · {cpu_model()} · {os.cpu_count()} CPUs · repeats {a.repeats} · "
          f"{a.epochs} timed + {a.warmup} warm-up epochs of {a.samples} samples per run")
    print("# env per run: OMP_NUM_THREADS=<threads> OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 "
          f"MKL_NUM_THREADS=<threads>; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          + {"tuned": "MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824 for every process",
             "default": "glibc malloc defaults for every process",
             "peers": "MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824 for pytorch, libtorch "
                      "and floor; glibc defaults for bnlab"}[a.malloc])
    for n in notes:
        print("# " + n)
    print("\nWall time per epoch (medians; ratios are medians of per-repeat pairs):\n")
    table(results, "s/epoch", list(results))
    one_thread = [k for k in cpu_results if k[2] == 1]
    if one_thread:
        print("\nProcess CPU time per epoch, 1-thread rows (steadier than wall time on a shared machine):\n")
        table(cpu_results, "CPU s", one_thread)
    log(f"raw JSON lines: {a.raw}")


if __name__ == "__main__":
    main()
