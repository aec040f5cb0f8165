"""NumPy kernels for ReLU backward and matrix products, split over the worker threads (:mod:`.threads`).

``matmul`` exists so that every BLAS call of a training step goes through xnn: inside xnn's
parallel regions BLAS runs on one thread per chunk, and BLAS never starts (and then spins) worker
threads of its own next to xnn's.
"""

from __future__ import annotations

import numpy as np

from .. import generic
from .threads import blas_single_threaded, num_threads, run_chunks

__all__ = ["matmul", "relu_backward"]

# Below this many multiply-adds a product runs in one call (splitting costs more than it saves).
_MIN_PARALLEL_FLOPS = 1 << 21
# A product whose shared dimension K is its largest and at least K_SPLIT_MIN is computed as
# K_PARTS partial products over slices of K (50x8192 @ 8192x100 float32: 0.58 ms against 0.86 ms
# in one single-threaded call, on the 2-core Xeon). The parts do not depend on the thread count.
K_SPLIT_MIN = 2048
K_PARTS = 4


def relu_backward(dout: np.ndarray, x: np.ndarray, *, xp=None) -> np.ndarray:
    """``dout`` where ``x > 0``, else 0: one branch-free ``dout * (x > 0)`` per chunk of rows.

    ``np.where`` on a random mask is ~8x slower (branch mispredictions). ``0 * inf`` would be NaN
    where ``where`` gives 0, so a result holding a NaN is recomputed by the generic kernel.
    """
    if np.result_type(dout.dtype, np.bool_) != dout.dtype or dout.ndim == 0 or dout.shape != x.shape:
        return generic.relu_backward(dout, x)
    dx = np.empty_like(dout)

    def chunk(n0: int, n1: int) -> bool:
        with np.errstate(invalid="ignore"):
            np.multiply(dout[n0:n1], np.greater(x[n0:n1], 0), out=dx[n0:n1])
        return bool(np.isnan(dx[n0:n1]).any())

    if any(run_chunks(chunk, dout.shape[0], work=dout.size * 3)):
        return generic.relu_backward(dout, x)
    return dx


def _split_k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` as the sum, in order, of :data:`K_PARTS` products over slices of the shared
    dimension: each chunk reads its own parts of both operands (the best split when K is the large
    dimension, as in an affine forward pass)."""
    parts = run_chunks(lambda k0, k1: np.matmul(a[:, k0:k1], b[k0:k1]), a.shape[1],
                       work=a.shape[0] * a.shape[1] * b.shape[1], parts=K_PARTS)
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def matmul(a: np.ndarray, b: np.ndarray, *, xp=None) -> np.ndarray:
    """``a (M, K) @ b (K, N)`` split along its largest dimension: row blocks of ``a``, column blocks
    of ``b`` (disjoint outputs), or :data:`K_PARTS` slices of ``K`` summed in order; each block a
    single-threaded BLAS call on the worker threads. Small products are one call.

    The K split is the same at any thread count (one thread runs its chunks inline), so a product
    gives the same bits whatever ``XNN_NUM_THREADS`` says.
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] * a.shape[1] * b.shape[-1] < _MIN_PARALLEL_FLOPS:
        if num_threads() == 1:
            return np.matmul(a, b)   # BLAS as configured: xnn runs no threads of its own
        with blas_single_threaded():
            return np.matmul(a, b)
    M, K = a.shape
    N = b.shape[1]
    if K >= max(M, N) and K >= K_SPLIT_MIN:
        return _split_k(a, b)
    if num_threads() == 1:
        return np.matmul(a, b)
    out = np.empty((M, N), dtype=np.result_type(a.dtype, b.dtype))
    if M >= N:
        def rows(m0: int, m1: int) -> None:
            np.matmul(a[m0:m1], b, out=out[m0:m1])
        run_chunks(rows, M, work=M * K * N)
    else:
        def cols(n0: int, n1: int) -> None:
            np.matmul(a, b[:, n0:n1], out=out[:, n0:n1])
        run_chunks(cols, N, work=M * K * N)
    return out
