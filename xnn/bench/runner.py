"""``xnn bench``: xnn fast kernels vs the standard-only path vs PyTorch, side by side in one process.

Each case (see :mod:`xnn.bench.cases`) runs on every path from the same inputs: the output of the
first call of each path is compared with xnn fast (relative error), then every op is timed with
``time.perf_counter``: per path, ``warmup`` untimed runs, then the median of ``repeat`` runs (on
the GPU, CuPy's and torch's device is synchronized before and after every run). ``fwd+bwd`` rows
are the sums of the fwd and bwd medians. Epoch cases time one epoch (their first, compared epoch
is the warm-up). On the GPU torch runs with TF32 off (float32 is float32 in cuBLAS and cuDNN).

The generic path is xnn with ``XNN_KERNELS=generic`` (the kernel dispatcher reads it at every call;
it is set and restored around that path). PyTorch is imported lazily and its rows are empty
when it is not importable.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .. import backend
from .cases import (
    CASE_NAMES,
    Case,
    conv_forward_memory,
    host_inputs,
    im2col_bytes,
    make_cases,
)
from .report import (
    busy_warning,
    format_machine,
    format_table,
    load_average,
    machine_info,
)
from .rows import PATHS, base_row, host_copy, result_row, sum_row
from .timing import gpu_sync, kernels_env, time_paths, with_kernels
from .torch_side import (
    configure_cuda,
    cuda_settings,
    import_torch,
    prepare_torch,
    set_threads,
    torch_device,
    torch_sync,
)
from .user_cases import busy_core, cold_times
from .xnn_side import prepare_xnn

__all__ = ["PATHS", "add_arguments", "main_bench", "run_bench", "write_json"]

DEFAULT_REPEAT = 9


def _prepare_path(case: Case, path: str, inputs: dict, device: str, dtype: str, torch):
    """``(ops, sync)`` of one path (ops wrapped to run under its ``XNN_KERNELS``), or None (no torch)."""
    if path == "torch":
        tdev = torch_device(torch, device) if torch is not None else None
        if tdev is None:
            return None
        sync = gpu_sync(torch) if device == "gpu" else (lambda: torch_sync(torch, tdev))
        return prepare_torch(torch, case, inputs, tdev).ops, sync
    env = "generic" if path == "generic" else None
    with kernels_env(env):
        ops = prepare_xnn(case, inputs, device, dtype).ops
    sync = gpu_sync(torch) if device == "gpu" else (lambda: None)
    return {op: with_kernels(fn, env) for op, fn in ops.items()}, sync


def _run_paths(case: Case, paths: Sequence[str], inputs: dict, device: str, dtype: str, torch, warmup: int,
               repeat: int) -> dict[str, dict]:
    """path -> op -> ``{"out": [host arrays of the first call], "s": median, "s_min": min}``.

    A ``contended`` case also times the fast path alone first (``"s_idle"``), then every path while
    another process keeps a core busy.
    """
    prepared, runs = {}, {}
    for path in paths:
        found = _prepare_path(case, path, inputs, device, dtype, torch)
        if found is None:
            continue
        prepared[path] = found
        ops, sync = found
        runs[path] = {op: {"out": [host_copy(a) for a in fn()]} for op, fn in ops.items()}
        sync()
    for op in case.outputs:
        fns = {p: (ops[op], sync) for p, (ops, sync) in prepared.items()}
        if case.kind == "contended":
            runs["fast"][op]["s_idle"] = time_paths({"fast": fns["fast"]}, warmup, repeat)["fast"][0]
        with busy_core() if case.kind == "contended" else contextlib.nullcontext():
            timed = time_paths(fns, warmup, repeat)
        for path, (median, fastest) in timed.items():
            runs[path][op]["s"], runs[path][op]["s_min"] = median, fastest
    return runs


def _cold_rows(case: Case, dtype: str, device: str, paths: Sequence[str], repeat: int) -> list[dict]:
    """The ``cold`` case: first call vs warm median in fresh processes, xnn fast (and torch)."""
    found = {p: cold_times(case, dtype, p, repeat) for p in ("fast", "torch") if p in paths}
    ms = {p: (found[p]["cold_ms"] if found.get(p) else None) for p in PATHS}
    extra = {"warm_ms": {p: (found[p]["warm_ms"] if found.get(p) else None) for p in PATHS}}
    extra["cold_over_warm"] = ms["fast"] / extra["warm_ms"]["fast"]
    return [base_row(case, "first call", dtype, device, ms, extra=extra, repeat=repeat, warmup=0)]


def _run_case(case: Case, dtype: str, device: str, paths: Sequence[str], torch, warmup: int,
              repeat: int) -> list[dict]:
    repeat = case.repeat if case.repeat is not None else repeat
    warmup = case.warmup if case.warmup is not None else warmup
    if case.kind == "cold":
        return _cold_rows(case, dtype, device, paths, repeat)
    if case.kind == "contended":
        paths = tuple(p for p in paths if p != "generic")   # what users feel: xnn next to torch
    inputs = host_inputs(case, dtype)
    runs = _run_paths(case, paths, inputs, device, dtype, torch, warmup, repeat)
    settings = {"repeat": repeat, "warmup": warmup}
    rows = [result_row(case, op, dtype, device, runs, settings, _extra(case, runs, op)) for op in case.outputs]
    if case.kind == "conv" and device == "cpu" and "fast" in paths:
        with kernels_env(None):
            rows[0]["peak_mem_bytes"] = conv_forward_memory(inputs)
        rows[0]["im2col_bytes"] = im2col_bytes(case, dtype)
    if len(rows) == 2:
        rows.append(sum_row(rows[0], rows[1], case))
    return rows


def _extra(case: Case, runs: dict, op: str) -> dict | None:
    """The contended row's idle time of the fast path and the slowdown the busy core caused."""
    if case.kind != "contended":
        return None
    idle, busy = runs["fast"][op]["s_idle"] * 1e3, runs["fast"][op]["s"] * 1e3
    return {"fast_idle_ms": idle, "contended_over_idle": busy / idle}


def run_bench(device: str = "cpu", dtypes: Sequence[str] = ("float32", "float64"), repeat: int = DEFAULT_REPEAT,
              warmup: int = 2, paths: Sequence[str] = PATHS, cases: Sequence[str] | None = None,
              quick: bool = False, on_rows: Callable[[list[dict]], None] | None = None,
              record: dict | None = None) -> list[dict]:
    """Run the benchmark cases and return one result dict per (case, op, dtype).

    ``device``: "cpu" or "gpu"; ``paths``: any of "fast", "generic", "torch" ("fast" is the
    reference of the error checks and is always run); ``cases``: a subset of ``CASE_NAMES``
    (None: ``DEFAULT_CASES[device]``, the GPU adds convL, poolL, epoch50, epoch256);
    ``quick=True`` shrinks every shape (for tests); ``on_rows`` is called with the rows of each
    (case, dtype) as they finish; ``record`` (a dict) receives ``torch_cuda``, torch's CUDA
    settings during the run (TF32 off; None off the GPU).
    Each dict has ``case, label, op, dtype, device, shapes``, ``ms`` / ``ms_min`` / ``gflops``
    (path -> value or None), ``ratio_fast_torch``, ``ratio_generic_fast``, ``flops``, ``errors``
    (path -> output name -> :func:`scaled_error` vs fast), ``max_rel_err`` (path -> the largest
    of those), ``errors_elementwise`` (the same with the notebooks' :func:`rel_error`), ``peak_mem_bytes`` and
    ``im2col_bytes`` (conv fwd rows on the CPU), ``target`` (the row's performance target, or None),
    ``repeat`` and ``warmup``.
    """
    unknown = set(paths) - set(PATHS)
    if unknown:
        raise ValueError(f"run_bench: unknown paths {sorted(unknown)}; expected some of {PATHS}")
    dev = backend.resolve_device(device)
    paths = ("fast",) + tuple(p for p in PATHS if p in paths and p != "fast")
    torch = import_torch() if "torch" in paths else None
    old_threads = set_threads(torch) if torch is not None else None
    gpu_torch = torch is not None and dev == "gpu" and torch.cuda.is_available()
    old_tf32 = configure_cuda(torch, False) if gpu_torch else None
    if record is not None:
        record["torch_cuda"] = cuda_settings(torch) if gpu_torch else None
    try:
        results = []
        for case in make_cases(quick, tuple(cases) if cases is not None else None, device=dev):
            for dtype in dtypes:
                rows = _run_case(case, str(np.dtype(dtype)), dev, paths, torch, warmup, repeat)
                results += rows
                if on_rows is not None:
                    on_rows(rows)
        return results
    finally:
        if torch is not None:
            torch.set_num_threads(old_threads)
        if old_tf32 is not None:
            configure_cuda(torch, old_tf32)


def write_json(path: str | os.PathLike, results: list[dict], info: dict | None = None,
               settings: dict | None = None) -> Path:
    """Write ``{"machine", "settings", "results"}`` as JSON to ``path`` (parents created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"xnn_bench": 1, "machine": info if info is not None else machine_info(), "settings": settings or {},
           "results": results}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return out


def add_arguments(parser) -> None:
    """Add the ``bench`` options to an argparse (sub)parser."""
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where xnn (and torch) run")
    parser.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per op (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per op first")
    parser.add_argument("--cases", nargs="+", choices=CASE_NAMES, default=None,
                        help="default: convA convB pool train on the cpu, all of them on the gpu "
                             "(the recurrent cases: --cases lstm caption)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--quick", action="store_true", help="tiny shapes (a smoke test, not a benchmark)")


def main_bench(args) -> int:
    """CLI entry: run, print the machine and the table, write ``--json``. Returns the exit status."""
    dtype = getattr(args, "dtype", "both")
    dtypes = ("float32", "float64") if dtype == "both" else (dtype,)
    settings = {"device": getattr(args, "device", "cpu"), "dtypes": list(dtypes),
                "repeat": getattr(args, "repeat", DEFAULT_REPEAT), "warmup": getattr(args, "warmup", 2),
                "quick": bool(getattr(args, "quick", False)), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                "loadavg_start": load_average()}
    warning = busy_warning(settings["loadavg_start"])
    if warning:
        print(warning, flush=True)
    info, done = machine_info(), []
    json_path = getattr(args, "json", None)

    def progress(rows: list[dict]) -> None:   # print and save each (case, dtype) as it finishes
        done.extend(rows)
        print("\n".join(format_table(rows).splitlines()[2:]), flush=True)
        if json_path:
            write_json(json_path, done, info, {**settings, "complete": False})

    results = run_bench(device=settings["device"], dtypes=dtypes, repeat=settings["repeat"],
                        warmup=settings["warmup"], paths=tuple(getattr(args, "paths", None) or PATHS),
                        cases=getattr(args, "cases", None), quick=settings["quick"], on_rows=progress,
                        record=settings)
    settings["complete"] = True
    print(format_machine(info))
    print(format_table(results))
    if json_path:
        print(f"wrote {write_json(json_path, results, info, settings)}")
    return 0
