"""Sweep scaling: the same trials one after another in one process vs on a 2-worker Dask LocalCluster.

Run on a quiet machine (nothing else busy):

    python benchmarks/sweep_scaling.py                       # 8 trials, FC net, bundled sample, 5 epochs
    python benchmarks/sweep_scaling.py --json benchmarks/sweep-$(date +%F).json
    python benchmarks/sweep_scaling.py --trials 2 --epochs 1 --num-train 200   # smoke test

It prints the CPU model and core count, then the wall time of

* ``sequential``          the trials in a plain loop in this process, threads left as they are (what a
                          notebook's nested loop does: xnn's CPU kernels and BLAS use every core
                          inside one trial);
* ``sequential-1thread``  the same loop with xnn's kernels and BLAS on one thread (one trial = one
                          core, the unit the sweep parallelises);
* ``dask``                ``xnn.sweep.run`` on a ``LocalCluster`` of ``--workers`` single-threaded
                          processes, cluster start-up included (and also without it);

the speed-up ``sequential / dask``, whether every trial gave identical numbers in the loop and on
the cluster, and the two costs that bound scaling to more machines: the bytes scattered to each
worker once, and the scheduler's round trip per task (measured with no-op tasks).

Scaling model: with W single-threaded workers, T trials of t seconds each, start-up S, scatter
of B bytes at bandwidth b and a per-task overhead o, the wall time is about
``S + W * B / b + ceil(T / W) * (t + o)``. Trials are independent and share only the scattered
data, so N machines help as long as ``t >> o`` (milliseconds of scheduling per task against
seconds of training) and there are at least as many trials as workers; the data is sent once per
worker, so for the full CIFAR-10 split (~600 MB in float32) the scatter, not the scheduler, is
what a slow network makes expensive. The last batch of trials leaves workers idle when T is not a
multiple of W.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

from xnn import sweep
from xnn.bench.report import cpu_model
from xnn.data import load_sample
from xnn.sweep.cluster import local_cluster, usable_cpus

SPACE = {"learning_rate": ("log", 1e-4, 1e-2), "reg": ("log", 1e-5, 1e-1)}
VARYING = ("seconds", "worker", "state")


def sequential(tasks: list[dict[str, Any]], data: dict[str, Any], threads: int | None) -> tuple[float, list]:
    start = time.perf_counter()
    results = [sweep.run_trial(task, data, threads=threads) for task in tasks]
    return time.perf_counter() - start, results


def task_overhead(address: str, tasks: int = 200) -> float:
    """Seconds per no-op task through the scheduler (submit, run, gather), after a warm-up."""
    from distributed import Client
    with Client(address) as client:
        client.gather(client.map(abs, range(-10, 0)))
        start = time.perf_counter()
        client.gather(client.map(abs, range(-tasks, 0)))
        return (time.perf_counter() - start) / tasks


def comparable(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k not in VARYING} for r in results), key=lambda r: r["trial"])


def measure(args: argparse.Namespace) -> dict[str, Any]:
    data = sweep.load_data(load_sample(args.num_train, args.num_val, 0))
    kwargs = {"model": "fc", "trials": args.trials, "epochs": args.epochs, "seed": args.seed}
    tasks = sweep.plan_tasks(SPACE, **kwargs)
    sweep.run_trial(tasks[0], data)  # warm-up: imports, kernel set-up and caches are not the loop's cost
    seq_s, seq = sequential(tasks, data, None)
    one_s, one = sequential(tasks, data, 1)
    start = time.perf_counter()
    with local_cluster(args.workers) as cluster:
        started = time.perf_counter()
        parallel = sweep.run(SPACE, data=data, scheduler=cluster.scheduler_address, **kwargs)
        dask_trials_s = time.perf_counter() - started
        overhead = task_overhead(cluster.scheduler_address)
    dask_s = time.perf_counter() - start
    return {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "usable_cpus": usable_cpus(),
            "python": platform.python_version(), "trials": args.trials, "epochs": args.epochs,
            "num_train": int(data["X_train"].shape[0]), "workers": args.workers,
            "sequential_s": seq_s, "sequential_1thread_s": one_s, "dask_s": dask_s,
            "dask_without_startup_s": dask_trials_s, "speedup": seq_s / dask_s,
            "speedup_vs_1thread": one_s / dask_s, "mean_trial_s": sum(r["seconds"] for r in one) / len(one),
            "identical_results": comparable(one) == comparable(parallel),
            "scatter_bytes": int(sum(a.nbytes for a in data.values())), "task_overhead_ms": overhead * 1e3,
            "ok_trials": sum(r["status"] == "ok" for r in parallel),
            "sequential_ok": sum(r["status"] == "ok" for r in seq)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--num-train", type=int, default=None, help="training images (default: all 2000 of the sample)")
    p.add_argument("--num-val", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the numbers to this file")
    args = p.parse_args()
    r = measure(args)
    print(f"cpu: {r['cpu']}; {r['cpu_count']} logical CPUs, {r['usable_cpus']} usable; python {r['python']}")
    print(f"{r['trials']} trials of FullyConnectedNet, {r['epochs']} epochs on {r['num_train']} images "
          f"(mean {r['mean_trial_s']:.2f} s per trial on one core)")
    print(f"sequential, threads as is:   {r['sequential_s']:8.2f} s")
    print(f"sequential, 1 thread:        {r['sequential_1thread_s']:8.2f} s")
    print(f"dask, {r['workers']} workers:             {r['dask_s']:8.2f} s  "
          f"({r['dask_without_startup_s']:.2f} s without cluster start-up)")
    print(f"ratio sequential / dask:     {r['speedup']:8.2f}x  (vs 1-thread loop: {r['speedup_vs_1thread']:.2f}x)")
    print(f"identical trial results in the loop and on the cluster: {r['identical_results']}")
    print(f"scattered once per worker: {r['scatter_bytes'] / 2**20:.1f} MiB; scheduler overhead per task: "
          f"{r['task_overhead_ms']:.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":  # Dask's worker processes start by importing this file: keep the run guarded
    main()
