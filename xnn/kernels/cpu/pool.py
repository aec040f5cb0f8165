"""NumPy max-pool kernels, run over batch chunks on the worker threads (:mod:`.threads`).

Forward: the pairwise in-place ``np.maximum`` of the window's strided slices, then a branch-free
count of the slices before the first one equal to the maximum (masked copies on random masks
stall on branch mispredictions). Backward: the routing mask multiplied straight into the output
slices when the windows do not overlap, or into a scratch array that is then added when they do.
Each chunk of images writes only its own part of the outputs, so any thread count gives the same
bits.
"""

from __future__ import annotations

import numpy as np

from ...validation import pool_output_hw
from .. import generic
from ..geometry import window_slices
from .buffers import buffer_pool
from .threads import run_chunks

__all__ = ["maxpool_backward", "maxpool_forward"]


def _window_slices_of(x: np.ndarray, pool_height: int, pool_width: int, stride: int, Ho: int, Wo: int) -> list:
    """Strided views ``x[:, :, i::stride, j::stride]`` (cropped to ``Ho x Wo``), one per window offset."""
    return [x[(slice(None), slice(None)) + window_slices(*divmod(k, pool_width), Ho, Wo, stride)]
            for k in range(pool_height * pool_width)]


def _new_counts(shape: tuple[int, ...], pool_height: int, pool_width: int) -> np.ndarray:
    """Uninitialised argmax counts for :func:`_forward_chunk`: uint8 while every window offset fits."""
    return np.empty(shape, dtype=np.uint8 if pool_height * pool_width < 256 else np.int32)


def _forward_chunk(x: np.ndarray, out: np.ndarray, argmax: np.ndarray, pool_height: int, pool_width: int,
                   stride: int) -> bool:
    """Max and first-argmax of the windows of ``x`` (n, C, H, W) into ``out``/``argmax``; True on a NaN."""
    slices = _window_slices_of(x, pool_height, pool_width, stride, out.shape[2], out.shape[3])
    np.copyto(out, slices[0])
    for s in slices[1:]:
        np.maximum(out, s, out=out)
    if np.isnan(out).any():
        return True
    argmax.fill(0)
    before = np.empty(out.shape, dtype=bool)   # no maximum among the slices seen so far
    hit = np.empty(out.shape, dtype=bool)
    for k, s in enumerate(slices[:-1]):
        np.not_equal(s, out, out=hit if k else before)
        if k:
            np.logical_and(before, hit, out=before)
        np.add(argmax, before.view(np.uint8), out=argmax, casting="unsafe")
    return False


def maxpool_forward(x: np.ndarray, pool_height: int, pool_width: int, stride: int, *, xp=None):
    """``(out, argmax)`` ``(N, C, Ho, Wo)``; argmax (int32) indexes the first maximum of each window.

    Windows holding a NaN are rare; when one has, the generic kernel recomputes the result so that
    argmax points at the (first) NaN.
    """
    N, C, H, W = x.shape
    Ho, Wo = pool_output_hw(H, W, pool_height, pool_width, stride)
    out = buffer_pool.empty((N, C, Ho, Wo), x.dtype)
    counts = _new_counts((N, C, Ho, Wo), pool_height, pool_width)

    def chunk(n0: int, n1: int) -> bool:
        return _forward_chunk(x[n0:n1], out[n0:n1], counts[n0:n1], pool_height, pool_width, stride)

    if any(run_chunks(chunk, N, work=x.size * 2)):
        return generic.maxpool_forward(x, pool_height, pool_width, stride)
    return out, counts.astype(np.int32, copy=False)


def _backward_chunk(dout: np.ndarray, argmax: np.ndarray, dx: np.ndarray, pool_height: int, pool_width: int,
                    stride: int) -> None:
    """Routes ``dout`` (n, C, Ho, Wo) to the argmax positions in ``dx`` (n, C, H, W)."""
    Ho, Wo = dout.shape[2], dout.shape[3]
    # Tiling windows write every element of dx, so only overlapping or cropped ones need zeros.
    if not (pool_height == pool_width == stride and Ho * stride == dx.shape[2] and Wo * stride == dx.shape[3]):
        dx.fill(0)
    mask = np.empty(dout.shape, dtype=bool)
    overlapping = stride < pool_height or stride < pool_width
    routed = np.empty_like(dout) if overlapping else None
    for k in range(pool_height * pool_width):
        rows, colz = window_slices(*divmod(k, pool_width), Ho, Wo, stride)
        np.equal(argmax, k, out=mask)
        target = dx[:, :, rows, colz]
        if routed is None:  # disjoint windows: every slice is written once
            np.multiply(dout, mask, out=target)
        else:
            np.multiply(dout, mask, out=routed)
            target += routed


def maxpool_backward(dout: np.ndarray, argmax: np.ndarray, x_shape: tuple[int, int, int, int],
                     pool_height: int, pool_width: int, stride: int, *, xp=None) -> np.ndarray:
    """dx of ``x_shape``: each ``dout`` ``(N, C, Ho, Wo)`` element goes to its window's argmax.

    Uses ``mask * dout``, so a non-finite ``dout`` (where ``0 * inf`` would be NaN) goes through
    the generic kernel instead.
    """
    if not np.isfinite(dout).all():
        return generic.maxpool_backward(dout, argmax, x_shape, pool_height, pool_width, stride)
    dx = buffer_pool.empty(tuple(x_shape), dout.dtype)

    def chunk(n0: int, n1: int) -> None:
        _backward_chunk(dout[n0:n1], argmax[n0:n1], dx[n0:n1], pool_height, pool_width, stride)

    run_chunks(chunk, x_shape[0], work=dx.size * 2)
    return dx
