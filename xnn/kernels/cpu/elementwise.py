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


def matmul(a: np.ndarray, b: np.ndarray, *, xp=None) -> np.ndarray:
    """``a (M, K) @ b (K, N)``: row blocks of ``a`` (or column blocks of ``b`` when ``b`` is the
    larger operand) on the worker threads, each a single-threaded BLAS call; small products in one
    call."""
    if num_threads() == 1:
        return np.matmul(a, b)   # BLAS as configured: xnn runs no threads of its own
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] * a.shape[1] * b.shape[-1] < _MIN_PARALLEL_FLOPS:
        with blas_single_threaded():
            return np.matmul(a, b)
    M, K = a.shape
    N = b.shape[1]
    out = np.empty((M, N), dtype=np.result_type(a.dtype, b.dtype))
    # Split the free dimension of the larger operand, so each chunk reads its own part of it and
    # only the smaller operand is read by every chunk.
    if a.size >= b.size:
        def rows(m0: int, m1: int) -> None:
            np.matmul(a[m0:m1], b, out=out[m0:m1])
        run_chunks(rows, M, work=M * K * N)
    else:
        def cols(n0: int, n1: int) -> None:
            np.matmul(a, b[:, n0:n1], out=out[:, n0:n1])
        run_chunks(cols, N, work=M * K * N)
    return out
