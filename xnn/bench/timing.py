"""Timing and comparison helpers for ``xnn bench``: errors, ``XNN_KERNELS`` switching, GPU sync,
and the median-of-repeats timer that runs every path side by side."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..gradient_check import rel_error

__all__ = ["rel_error", "scaled_error", "kernels_env", "gpu_sync", "with_kernels", "time_paths"]


def scaled_error(x: Any, y: Any) -> float:
    """``max |x - y| / max |y|`` in float64: the largest deviation relative to the reference's scale.

    Unlike :func:`rel_error` it does not blow up on outputs near zero (float32 sums that cancel),
    so it is the metric of the table; ``rel_error`` is recorded too.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    scale = float(np.max(np.abs(y))) if y.size else 0.0
    return float(np.max(np.abs(x - y))) / scale if scale > 0 else float(np.max(np.abs(x - y), initial=0.0))


@contextlib.contextmanager
def kernels_env(value: str | None) -> Iterator[None]:
    """Set ``XNN_KERNELS`` to ``value`` (``None``: unset) for the block, then restore it."""
    old = os.environ.get("XNN_KERNELS")
    if value is None:
        os.environ.pop("XNN_KERNELS", None)
    else:
        os.environ["XNN_KERNELS"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("XNN_KERNELS", None)
        else:
            os.environ["XNN_KERNELS"] = old


def gpu_sync(torch) -> Callable[[], None]:
    """Wait for all queued work of CuPy and (when it has CUDA) torch on the current device."""
    cupy = importlib.import_module("cupy")
    torch_cuda = torch is not None and torch.cuda.is_available()

    def sync() -> None:
        cupy.cuda.Device().synchronize()
        if torch_cuda:
            torch.cuda.synchronize()
    return sync


def with_kernels(fn: Callable[[], Any], value: str | None) -> Callable[[], Any]:
    """``fn`` run with ``XNN_KERNELS`` set to ``value`` (the dispatcher reads it at every call)."""
    def run() -> Any:
        with kernels_env(value):
            return fn()
    return run


def time_paths(fns: dict[str, tuple[Callable[[], Any], Callable[[], None]]], warmup: int,
               repeat: int) -> dict[str, tuple[float, float]]:
    """path -> (median, min) seconds of ``repeat`` timed runs of each ``(fn, sync)``.

    One path after the other: its ``warmup`` untimed runs, then its timed runs, with the garbage
    collector off; ``sync`` runs before and after each timed run (inside the timing only after).
    (Alternating the paths run by run was tried and rejected: on a 2-core machine
    the spinning worker threads of one library's pool (OpenBLAS, OpenMP) slow the other's next
    call, which doubled the torch times.)
    """
    out = {}
    gc_was_on = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for path, (fn, sync) in fns.items():
            for _ in range(warmup):
                fn()
                sync()
            times = []
            for _ in range(max(1, repeat)):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                times.append(time.perf_counter() - t0)
            out[path] = (statistics.median(times), min(times))
    finally:
        if gc_was_on:
            gc.enable()
    return out
