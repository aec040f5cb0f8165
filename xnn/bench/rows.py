"""The result rows of ``xnn bench``: one dict per (case, op, dtype) with times, ratios, errors, target.

Keys of every row: ``case, label, op, dtype, device, shapes``; ``ms`` / ``ms_min`` / ``gflops``
(path -> value or None); ``ratio_fast_torch``, ``ratio_generic_fast``, ``flops``; ``errors``
(path -> output name -> :func:`scaled_error` vs fast) and ``max_rel_err`` (path -> the largest),
``errors_elementwise`` (the same with the notebooks' :func:`rel_error`); ``peak_mem_bytes`` and
``im2col_bytes`` (conv fwd rows on the CPU); ``extra`` (case-specific numbers: the idle time of the
contended step, the warm time of the first call); ``target``; ``repeat`` and ``warmup``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from .cases import Case, conv_flops
from .report import target_for
from .timing import rel_error, scaled_error
from .torch_side import to_host

__all__ = ["PATHS", "base_row", "host_copy", "result_row", "sum_row"]

PATHS = ("fast", "generic", "torch")


def host_copy(a: Any) -> np.ndarray:
    """A host NumPy copy of a result (torch tensor, array of any namespace, or number)."""
    if hasattr(a, "detach"):
        return to_host(a)
    # a copy: a later run may update (sgd) or reuse (buffer pool) the array in place
    return np.array(backend.to_numpy(a) if not isinstance(a, (int, float)) else a, copy=True)


def base_row(case: Case, op: str, dtype: str, device: str, ms: dict[str, float | None],
             ms_min: dict[str, float | None] | None = None, extra: dict | None = None, **settings: Any) -> dict:
    """A row with the given times and no errors; ratios, FLOP rates and the target filled in."""
    flops = conv_flops(case)[op] if case.kind == "conv" and op in ("fwd", "bwd", "fwd+bwd") else None
    row = {"case": case.name, "label": case.label, "op": op, "dtype": dtype, "device": device,
           "shapes": {k: list(v) if isinstance(v, tuple) else v for k, v in case.shapes.items()},
           "ms": ms, "ms_min": ms_min or dict(ms), "flops": flops,
           "gflops": {p: (flops / (v * 1e6) if flops and v else None) for p, v in ms.items()},
           "ratio_fast_torch": ms["fast"] / ms["torch"] if ms.get("fast") and ms.get("torch") else None,
           "ratio_generic_fast": ms["generic"] / ms["fast"] if ms.get("generic") and ms.get("fast") else None,
           "errors": {}, "max_rel_err": {}, "errors_elementwise": {}, "peak_mem_bytes": None,
           "im2col_bytes": None, "extra": extra, **settings}
    row["target"] = target_for(row)
    return row


def _errors(case: Case, op: str, runs: dict, metric: Callable[[Any, Any], float]) -> dict[str, dict[str, float]]:
    """path -> output name -> ``metric(path's output, fast's output)`` for every path but fast."""
    ref = runs["fast"][op]["out"]
    names = case.outputs[op]
    return {path: {n: metric(a, b) for n, a, b in zip(names, r[op]["out"], ref)}
            for path, r in runs.items() if path != "fast"}


def result_row(case: Case, op: str, dtype: str, device: str, runs: dict, settings: dict,
               extra: dict | None = None) -> dict:
    """The row of one timed op: medians and minima per path, and each path's errors against fast."""
    ms = {p: (runs[p][op]["s"] * 1e3 if p in runs else None) for p in PATHS}
    ms_min = {p: (runs[p][op]["s_min"] * 1e3 if p in runs else None) for p in PATHS}
    row = base_row(case, op, dtype, device, ms, ms_min, extra, **settings)
    row["errors"] = _errors(case, op, runs, scaled_error)
    row["max_rel_err"] = {p: max(e.values()) for p, e in row["errors"].items()}
    row["errors_elementwise"] = _errors(case, op, runs, rel_error)
    return row


def sum_row(fwd: dict, bwd: dict, case: Case) -> dict:
    """The ``fwd+bwd`` row: sums of the fwd and bwd medians, the larger errors."""
    def add(a: float | None, b: float | None) -> float | None:
        return a + b if a is not None and b is not None else None
    ms = {p: add(fwd["ms"][p], bwd["ms"][p]) for p in PATHS}
    ms_min = {p: add(fwd["ms_min"][p], bwd["ms_min"][p]) for p in PATHS}
    # base_row derives the FLOPs, rates, ratios and target from the summed times, as for any other row
    row = base_row(case, "fwd+bwd", fwd["dtype"], fwd["device"], ms, ms_min, fwd["extra"],
                   repeat=fwd["repeat"], warmup=fwd["warmup"])
    for key in ("errors", "errors_elementwise"):
        row[key] = {p: {**fwd[key][p], **bwd[key][p]} for p in fwd[key]}
    row["max_rel_err"] = {p: max(e.values()) for p, e in row["errors"].items()}
    return row
