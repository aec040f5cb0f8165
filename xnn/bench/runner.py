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

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from .cases import (
    CASE_NAMES,
    Case,
    conv_flops,
    conv_forward_memory,
    host_inputs,
    im2col_bytes,
    make_cases,
    prepare_xnn,
)
from .report import (
    busy_warning,
    format_machine,
    format_table,
    load_average,
    machine_info,
    target_for,
)
from .timing import gpu_sync, kernels_env, rel_error, scaled_error, time_paths, with_kernels
from .torch_side import (
    configure_cuda,
    cuda_settings,
    import_torch,
    prepare_torch,
    set_threads,
    to_host,
    torch_device,
    torch_sync,
)

__all__ = ["PATHS", "add_arguments", "main_bench", "run_bench", "write_json"]

PATHS = ("fast", "generic", "torch")
DEFAULT_REPEAT = 9


def _host(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        return to_host(a)
    # a copy: a later run may update (sgd) or reuse (buffer pool) the array in place
    return np.array(backend.to_numpy(a) if not isinstance(a, (int, float)) else a, copy=True)


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
    """path -> op -> ``{"out": [host arrays of the first call], "s": median, "s_min": min}``."""
    prepared, runs = {}, {}
    for path in paths:
        found = _prepare_path(case, path, inputs, device, dtype, torch)
        if found is None:
            continue
        prepared[path] = found
        ops, sync = found
        runs[path] = {op: {"out": [_host(a) for a in fn()]} for op, fn in ops.items()}
        sync()
    for op in case.outputs:
        timed = time_paths({p: (ops[op], sync) for p, (ops, sync) in prepared.items()}, warmup, repeat)
        for path, (median, fastest) in timed.items():
            runs[path][op]["s"], runs[path][op]["s_min"] = median, fastest
    return runs


def _errors(case: Case, op: str, runs: dict, metric: Callable[[Any, Any], float]) -> dict[str, dict[str, float]]:
    """path -> output name -> ``metric(path's output, fast's output)`` for every path but fast."""
    ref = runs["fast"][op]["out"]
    names = case.outputs[op]
    return {path: {n: metric(a, b) for n, a, b in zip(names, r[op]["out"], ref)}
            for path, r in runs.items() if path != "fast"}


def _row(case: Case, op: str, dtype: str, device: str, runs: dict, settings: dict) -> dict:
    errors = _errors(case, op, runs, scaled_error)
    ms = {p: (runs[p][op]["s"] * 1e3 if p in runs else None) for p in PATHS}
    ms_min = {p: (runs[p][op]["s_min"] * 1e3 if p in runs else None) for p in PATHS}
    flops = conv_flops(case)[op] if case.kind == "conv" else None
    gflops = {p: (flops / (v * 1e6) if flops and v else None) for p, v in ms.items()}
    ratio = ms["fast"] / ms["torch"] if ms["fast"] and ms["torch"] else None
    row = {"case": case.name, "label": case.label, "op": op, "dtype": dtype, "device": device,
           "shapes": {k: list(v) if isinstance(v, tuple) else v for k, v in case.shapes.items()},
           "ms": ms, "ms_min": ms_min, "ratio_fast_torch": ratio,
           "ratio_generic_fast": ms["generic"] / ms["fast"] if ms["generic"] and ms["fast"] else None,
           "flops": flops, "gflops": gflops, "errors": errors,
           "max_rel_err": {p: max(e.values()) for p, e in errors.items()},
           "errors_elementwise": _errors(case, op, runs, rel_error),
           "peak_mem_bytes": None, "im2col_bytes": None, **settings}
    row["target"] = target_for(row)
    return row


def _sum_row(fwd: dict, bwd: dict, case: Case) -> dict:
    """The ``fwd+bwd`` row: sums of the fwd and bwd medians, the larger errors."""
    def add(a: float | None, b: float | None) -> float | None:
        return a + b if a is not None and b is not None else None
    row = {**fwd, "op": "fwd+bwd", "peak_mem_bytes": None, "im2col_bytes": None}
    row["ms"] = {p: add(fwd["ms"][p], bwd["ms"][p]) for p in PATHS}
    row["ms_min"] = {p: add(fwd["ms_min"][p], bwd["ms_min"][p]) for p in PATHS}
    for key in ("errors", "errors_elementwise"):
        row[key] = {p: {**fwd[key][p], **bwd[key][p]} for p in fwd[key]}
    row["max_rel_err"] = {p: max(e.values()) for p, e in row["errors"].items()}
    ms = row["ms"]
    row["ratio_fast_torch"] = ms["fast"] / ms["torch"] if ms["fast"] and ms["torch"] else None
    row["ratio_generic_fast"] = ms["generic"] / ms["fast"] if ms["generic"] and ms["fast"] else None
    row["flops"] = conv_flops(case)["fwd+bwd"] if case.kind == "conv" else None
    row["gflops"] = {p: (row["flops"] / (v * 1e6) if row["flops"] and v else None) for p, v in ms.items()}
    row["target"] = target_for(row)
    return row


def _run_case(case: Case, dtype: str, device: str, paths: Sequence[str], torch, warmup: int,
              repeat: int) -> list[dict]:
    inputs = host_inputs(case, dtype)
    repeat = case.repeat if case.repeat is not None else repeat
    warmup = case.warmup if case.warmup is not None else warmup
    runs = _run_paths(case, paths, inputs, device, dtype, torch, warmup, repeat)
    settings = {"repeat": repeat, "warmup": warmup}
    rows = [_row(case, op, dtype, device, runs, settings) for op in case.outputs]
    if case.kind == "conv" and device == "cpu" and "fast" in paths:
        with kernels_env(None):
            rows[0]["peak_mem_bytes"] = conv_forward_memory(inputs)
        rows[0]["im2col_bytes"] = im2col_bytes(case, dtype)
    if len(rows) == 2:
        rows.append(_sum_row(rows[0], rows[1], case))
    return rows


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
