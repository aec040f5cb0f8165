"""NumPy word-embedding backward: a scatter-add of gradient rows without a scatter."""

from __future__ import annotations

import numpy as np

__all__ = ["embedding_backward"]


def embedding_backward(dout: np.ndarray, idx: np.ndarray, V: int, *, xp=None) -> np.ndarray:
    """dW ``(V, D)``: the rows of dout ``(M, D)`` summed at rows ``idx (M,)`` (``0 <= idx < V``).

    A stable argsort groups equal indices (in position order), ``np.add.reduceat`` sums each
    group, and the sums land in a zero array at the distinct indices (no scatter with repeats).
    """
    M, D = dout.shape
    dW = np.zeros((V, D), dtype=dout.dtype)
    if M == 0 or D == 0:
        return dW
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_idx[1:] != sorted_idx[:-1])))
    dW[sorted_idx[starts]] = np.add.reduceat(dout[order], starts, axis=0)
    return dW
