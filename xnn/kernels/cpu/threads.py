"""Worker threads for the NumPy kernels: batch chunks run in parallel, BLAS single-threaded inside.

NumPy releases the GIL in copies, ufuncs and BLAS calls, so Python threads can work on disjoint
chunks of a batch at the same time. The kernels split their work into contiguous chunks
(:func:`chunk_bounds`) and :func:`run_chunks` runs them on ``num_threads()`` threads: the caller
plus a persistent pool. Chunks are handed out one at a time from a shared counter, so when another
process keeps a core busy the free thread simply takes more chunks.

While chunks run, BLAS (OpenBLAS, MKL, ... found through threadpoolctl) is limited to one thread:
each chunk's GEMM runs on its own core, and BLAS never starts worker threads of its own that
would spin on the cores xnn's threads need. The previous limit is restored afterwards.

Determinism: chunks write disjoint parts of the outputs, and a sum over chunks (the conv weight
gradient) uses chunk boundaries that depend only on the sizes and is added in chunk order. So the
results are the same bits at any thread count (and run to run), as long as BLAS computes each
output element of a product the same way whatever the product's width (OpenBLAS does; the tests
check it at 1, 2 and 3 threads).

``XNN_NUM_THREADS`` sets the thread count (default: the CPUs this process may run on,
``os.sched_getaffinity``); ``XNN_NUM_THREADS=1`` runs everything inline and leaves BLAS alone.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["CHUNKS_PER_THREAD", "MIN_PARALLEL_WORK", "blas_single_threaded", "chunk_bounds", "num_threads",
           "prepare", "release_scratch", "run_chunks", "scratch"]

ENV = "XNN_NUM_THREADS"
#: Chunks per thread: more than one lets a thread on a free core take over work from one that
#: shares its core with another process.
CHUNKS_PER_THREAD = 2
#: Below this many elements of work a kernel runs inline: handing chunks to a thread costs tens of
#: microseconds, and far more when another process holds that thread's core (max-pool of
#: 100x3x32x32 float32, ~0.4 ms of work, ran slower on two threads than on one on the 2-core Xeon).
MIN_PARALLEL_WORK = 1 << 20

_local = threading.local()
_scratch_generation = 0   # bumped by release_scratch(); each thread drops older scratch arrays
_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def num_threads() -> int:
    """Threads the NumPy kernels use: ``XNN_NUM_THREADS`` or the CPUs this process may run on."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{ENV} must be a positive integer (1 = no worker threads), got {value!r}")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def scratch(name: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """A per-thread work array of ``shape`` (contents undefined), reused by the next chunk this thread
    runs: chunks sized to the caches keep their temporaries in cache and never page-fault again."""
    buffers = getattr(_local, "scratch", None)
    if buffers is None or getattr(_local, "generation", None) != _scratch_generation:
        buffers = _local.scratch = {}
        _local.generation = _scratch_generation
    size = 1
    for s in shape:
        size *= int(s)
    key = (name, np.dtype(dtype).str)
    flat = buffers.get(key)
    if flat is None or flat.size < size:
        flat = buffers[key] = np.empty(size, dtype=dtype)
    return flat[:size].reshape(shape)


def release_scratch() -> None:
    """Let every thread's scratch arrays go (each thread drops them at its next :func:`scratch`)."""
    global _scratch_generation
    _scratch_generation += 1


def chunk_bounds(n_items: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ``(start, stop)`` ranges covering ``range(n_items)``, sizes within one."""
    parts = max(1, min(parts, n_items))
    return [(n_items * i // parts, n_items * (i + 1) // parts) for i in range(parts)]


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xnn-kernel")
            _pool_size = workers
        return _pool


class _BlasLimit:
    """Process-wide "BLAS on one thread" while any xnn parallel region runs (re-entrant)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: list[tuple[Any, int]] = []
        self._controllers: list[Any] | None = None

    def _find(self) -> list[Any]:
        if self._controllers is None:
            try:
                from threadpoolctl import ThreadpoolController
                self._controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
            except Exception:  # no threadpoolctl, or a BLAS it cannot drive: nothing to limit
                self._controllers = []
        return self._controllers

    def enter(self) -> None:
        """Limit every BLAS to one thread (outermost call only). If a library refuses, the ones
        already limited are restored and the error propagates, leaving no region open."""
        with self._lock:
            if self._depth == 0:
                saved: list[tuple[Any, int]] = []
                try:
                    for c in self._find():
                        n = c.get_num_threads()
                        if n != 1:
                            c.set_num_threads(1)
                        saved.append((c, n))
                except BaseException:
                    self._restore(saved)
                    raise
                self._saved = saved
            self._depth += 1

    def exit(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                saved, self._saved = self._saved, []
                self._restore(saved)

    @staticmethod
    def _restore(saved: list[tuple[Any, int]]) -> None:
        """Give every library its saved thread count back (all of them, even if one fails)."""
        failure: BaseException | None = None
        for c, n in saved:
            if n != 1:
                try:
                    c.set_num_threads(n)
                except Exception as exc:  # pragma: no cover - a BLAS that refuses its own count back
                    failure = failure or exc
        if failure is not None:  # pragma: no cover
            raise failure


_blas = _BlasLimit()


def prepare() -> None:
    """Find the BLAS libraries to limit (an import and a scan of the loaded libraries) and start the
    worker threads, each running one tiny product (BLAS sets up its per-thread buffers on a thread's
    first call), so the first parallel kernel call does not pay for any of it."""
    _blas._find()
    try:
        count = num_threads()
    except ValueError:   # a bad XNN_NUM_THREADS is reported by the first kernel call, not at import
        return
    if count == 1:
        return
    everyone = threading.Barrier(count, timeout=1.0)

    def warm(start: int, stop: int) -> None:
        np.matmul(np.ones((8, 8)), np.ones((8, 8)))
        try:
            everyone.wait()   # one chunk per thread: every worker gets its first call now
        except threading.BrokenBarrierError:   # a worker did not start in time; it warms up later
            pass

    run_chunks(warm, count, work=MIN_PARALLEL_WORK, parts=count)


@contextlib.contextmanager
def blas_single_threaded() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (restored after; nested blocks are fine)."""
    _blas.enter()
    try:
        yield
    finally:
        _blas.exit()


def run_chunks(fn: Callable[[int, int], Any], n_items: int, work: int, *, parts: int | None = None) -> list[Any]:
    """``[fn(start, stop) for each chunk]`` in chunk order, the chunks run on the worker threads.

    ``parts`` sets the number of chunks (default ``num_threads() * CHUNKS_PER_THREAD``). ``work``
    (elements touched) decides whether threads pay off: below :data:`MIN_PARALLEL_WORK`, with one
    thread, or when called from inside a chunk, the chunks run inline one after the other (one
    chunk unless ``parts`` is given). ``fn`` must only write outputs that belong to its chunk. The
    first exception a chunk raises is re-raised after every chunk has stopped.
    """
    threads = num_threads()
    if threads == 1 or n_items < 2 or work < MIN_PARALLEL_WORK or getattr(_local, "inside", False):
        return [fn(start, stop) for start, stop in chunk_bounds(n_items, parts or 1)]
    bounds = chunk_bounds(n_items, parts or threads * CHUNKS_PER_THREAD)
    results: list[Any] = [None] * len(bounds)
    counter = itertools.count()  # next() is atomic under the GIL: each chunk is taken once

    def drain() -> None:
        _local.inside = True
        try:
            for i in iter(lambda: next(counter), None):
                if i >= len(bounds):
                    return
                results[i] = fn(*bounds[i])
        finally:
            _local.inside = False

    with blas_single_threaded():
        helpers = [_executor(threads - 1).submit(drain) for _ in range(min(threads, len(bounds)) - 1)]
        try:
            drain()
        finally:
            errors = [f.exception() for f in helpers]
        for error in errors:
            if error is not None:
                raise error
    return results
