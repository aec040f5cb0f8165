"""Reusable large NumPy buffers for the CPU fast kernels.

glibc serves allocations above its mmap threshold (at most 32 MiB on 64-bit) with a fresh
``mmap`` every time, and gives freed heap tops back to the OS, so the OS zeroes and faults in
every page of a new large array on first touch, which costs as much as the copy that fills it
(measurements in ``benchmarks/README.md``). :class:`BufferPool` hands back such a buffer once
nothing references it any more (the layer caches hold the columns until the backward has run, and
every view of a NumPy array keeps its owning array alive), so a buffer is never reused while anyone
can still read it.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["BufferPool", "buffer_pool"]


def _refs(buffers: list, i: int) -> int:
    return sys.getrefcount(buffers[i])


def _calibrate() -> int:
    """The reference count :func:`_refs` reports for a buffer held only by its pool list."""
    held = [np.empty(1)]
    return _refs(held, 0)


_FREE_REFS = _calibrate()


class BufferPool:
    """``empty(shape, dtype)`` that reuses unreferenced buffers of at least ``min_bytes``.

    Keeps at most ``per_key`` buffers per ``(shape, dtype)``, ``max_keys`` keys (least recently
    used dropped) and ``max_bytes`` in all. Smaller requests, and requests beyond those caps while
    every pooled buffer is in use, are plain ``np.empty``. Thread-safe. Contents of a returned
    buffer are undefined.
    """

    def __init__(self, min_bytes: int = 1 << 20, per_key: int = 2, max_keys: int = 16,
                 max_bytes: int = 1 << 30) -> None:
        self.min_bytes, self.per_key, self.max_keys, self.max_bytes = min_bytes, per_key, max_keys, max_bytes
        self._buffers: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def held_bytes(self) -> int:
        """Bytes of the buffers the pool holds (in use or not)."""
        with self._lock:
            return sum(b.nbytes for held in self._buffers.values() for b in held)

    def empty(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize < self.min_bytes:
            return np.empty(shape, dtype=dtype)
        key = (shape, dtype.str)
        with self._lock:
            held = self._buffers.setdefault(key, [])
            self._buffers.move_to_end(key)
            for i in range(len(held)):
                if _refs(held, i) == _FREE_REFS:
                    return held[i]
            buffer = np.empty(shape, dtype=dtype)
            while len(self._buffers) > self.max_keys:
                self._buffers.popitem(last=False)
            total = sum(b.nbytes for bufs in self._buffers.values() for b in bufs)
            if len(held) < self.per_key and total + buffer.nbytes <= self.max_bytes:
                held.append(buffer)
            return buffer

    def clear(self) -> None:
        """Forget every pooled buffer (memory returns once nothing else references them)."""
        with self._lock:
            self._buffers.clear()


# The conv and max-pool kernels' large arrays (im2col columns, outputs, input gradients; the
# chunks' temporaries are per-thread scratch instead, see threads.scratch). Up to 2 buffers for each of
# 16 (shape, dtype) pairs, 1 GiB in all, stay allocated; ``buffer_pool.clear()`` lets them go.
buffer_pool = BufferPool()
