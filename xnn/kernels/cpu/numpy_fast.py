"""NumPy-only fast paths for the CPU kernels (same contract as :mod:`xnn.kernels.generic`).

* ``im2col``: one ``as_strided`` window view of the padded input, copied once into a reused buffer.
* ``maxpool_forward``: pairwise in-place ``np.maximum`` over the window's strided slices, then a
  branch-free first-maximum count (masked copies on random masks stall on branch mispredictions).
* ``maxpool_backward``: the routing mask multiplied straight into the output slices when the
  windows do not overlap, into one reused buffer that is then added when they do.
* ``conv_forward`` / ``conv_backward``: the columns as one ``(C*HH*WW, N*Ho*Wo)`` matrix, so the
  output, dw and dcols are one large GEMM each (BLAS is far better at that than at N small ones).
* ``relu_backward``: ``dout * (x > 0)`` instead of ``where`` (branch-free; NaN fallback).
* Every array of 1 MiB or more comes from :data:`.buffers.buffer_pool`, which hands a buffer out
  again once nothing references it (fresh large arrays are page-faulted on every call).
* ``col2im`` is left to the generic kernel: its adds are bound by reading the column matrix.
* ``embedding_backward``: a stable ``argsort`` of the indices, then ``np.add.reduceat`` over the
  sorted rows, one segment per distinct index (no scatter with repeated indices).

``benchmarks/README.md`` records what each choice measured and the variants that were dropped.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import generic
from ..geometry import conv_output_hw, pool_output_hw, window_slices, zero_pad
from .buffers import buffer_pool

OPS = ("im2col", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward", "relu_backward",
       "embedding_backward")

__all__ = [*OPS, "OPS"]


def im2col(x: np.ndarray, HH: int, WW: int, stride: int, pad: int, *, xp=None) -> np.ndarray:
    """Columns ``(N, C*HH*WW, Ho*Wo)`` of ``x`` ``(N, C, H, W)``: one strided view, one copy."""
    N, C, H, W = x.shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    xpad = zero_pad(np, x, pad)
    sN, sC, sH, sW = xpad.strides
    windows = as_strided(xpad, shape=(N, C, HH, WW, Ho, Wo),
                         strides=(sN, sC, sH, sW, sH * stride, sW * stride), writeable=False)
    cols = buffer_pool.empty((N, C, HH, WW, Ho, Wo), x.dtype)
    np.copyto(cols, windows)
    return cols.reshape(N, C * HH * WW, Ho * Wo)


def maxpool_forward(x: np.ndarray, pool_height: int, pool_width: int, stride: int, *, xp=None):
    """``(out, argmax)`` ``(N, C, Ho, Wo)``; argmax (int32) indexes the first maximum of each window.

    Branch-free: ``out`` is the pairwise ``np.maximum`` of the window's strided slices, then the
    index of the first slice equal to it is counted up with boolean ANDs (``np.copyto(where=)``
    on random masks stalls on branch mispredictions). Windows holding a NaN are rare; when the
    output has one, the generic kernel recomputes the result so that argmax points at the NaN.
    """
    N, C, H, W = x.shape
    Ho, Wo = pool_output_hw(H, W, pool_height, pool_width, stride)
    n_win = pool_height * pool_width
    slices = [x[(slice(None), slice(None)) + window_slices(*divmod(k, pool_width), Ho, Wo, stride)]
              for k in range(n_win)]
    out = np.array(slices[0], copy=True)
    for s in slices[1:]:
        np.maximum(out, s, out=out)
    if np.isnan(out).any():
        return generic.maxpool_forward(x, pool_height, pool_width, stride)
    count = np.uint8 if n_win < 256 else np.int32
    argmax = np.zeros((N, C, Ho, Wo), dtype=count)
    before = np.empty((N, C, Ho, Wo), dtype=bool)   # no maximum among the slices seen so far
    hit = np.empty((N, C, Ho, Wo), dtype=bool)
    for k, s in enumerate(slices[:-1]):
        np.not_equal(s, out, out=hit if k else before)
        if k:
            np.logical_and(before, hit, out=before)
        np.add(argmax, before.view(np.uint8), out=argmax, casting="unsafe")
    return out, argmax.astype(np.int32, copy=False)


def maxpool_backward(dout: np.ndarray, argmax: np.ndarray, x_shape: tuple[int, int, int, int],
                     pool_height: int, pool_width: int, stride: int, *, xp=None) -> np.ndarray:
    """dx of ``x_shape``: each ``dout`` ``(N, C, Ho, Wo)`` element goes to its window's argmax.

    Uses ``mask * dout``, so a non-finite ``dout`` (where ``0 * inf`` would be NaN) goes through
    the generic kernel instead.
    """
    if not np.isfinite(dout).all():
        return generic.maxpool_backward(dout, argmax, x_shape, pool_height, pool_width, stride)
    Ho, Wo = dout.shape[2], dout.shape[3]
    tiling = pool_height == pool_width == stride and Ho * stride == x_shape[2] and Wo * stride == x_shape[3]
    # Tiling windows write every element of dx, so only overlapping or cropped ones need zeros.
    dx = (buffer_pool.empty if tiling else buffer_pool.zeros)(tuple(x_shape), dout.dtype)
    mask = np.empty(dout.shape, dtype=bool)
    overlapping = stride < pool_height or stride < pool_width
    routed = np.empty_like(dout) if overlapping else None
    for k in range(pool_height * pool_width):
        i, j = divmod(k, pool_width)
        rows, colz = window_slices(i, j, Ho, Wo, stride)
        np.equal(argmax, k, out=mask)
        target = dx[:, :, rows, colz]
        if routed is None:  # disjoint windows: every slice is written once
            np.multiply(dout, mask, out=target)
        else:
            np.multiply(dout, mask, out=routed)
            target += routed
    return dx


def relu_backward(dout: np.ndarray, x: np.ndarray, *, xp=None) -> np.ndarray:
    """``dout`` where ``x > 0``, else 0: one branch-free ``dout * (x > 0)``.

    ``np.where`` on a random mask is ~8x slower (branch mispredictions). ``0 * inf`` would be NaN
    where ``where`` gives 0, so a result holding a NaN is recomputed by the generic kernel.
    """
    with np.errstate(invalid="ignore"):
        dx = np.multiply(dout, np.greater(x, 0))
    if dx.dtype != dout.dtype or np.isnan(dx).any():
        return generic.relu_backward(dout, x)
    return dx


# --------------------------------------------------------------------------- convolution
# The conv ops keep the columns as one matrix ``(K, N*P)`` (row ``k = c*HH*WW + i*WW + j``,
# column ``n*P + ho*Wo + wo``), so forward and both backward products are single large GEMMs;
# the batched ``(N, K, P)`` layout of :func:`im2col` costs N small GEMMs instead.

# Column bytes per batch chunk of the backward's dcols GEMM + col2im (bounds that scratch matrix;
# smaller chunks measured slower: the GEMMs get too narrow). The forward uses one chunk.
_CHUNK_BYTES = 16 << 20


def _batch_chunks(N: int, bytes_per_image: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """``[(n0, n1), ...]`` covering ``range(N)`` in chunks of about ``chunk_bytes``."""
    step = max(1, chunk_bytes // max(1, bytes_per_image))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def _window_view(x: np.ndarray, HH: int, WW: int, stride: int, pad: int, Ho: int, Wo: int) -> np.ndarray:
    """Read-only ``(C, HH, WW, N, Ho, Wo)`` view of the padded ``x``: the columns before the copy."""
    N, C = x.shape[:2]
    xpad = zero_pad(np, x, pad)
    sN, sC, sH, sW = xpad.strides
    return as_strided(xpad, shape=(C, HH, WW, N, Ho, Wo),
                      strides=(sC, sH, sW, sN, sH * stride, sW * stride), writeable=False)


def _conv_col2im(dcols: np.ndarray, dxpad: np.ndarray, HH: int, WW: int, stride: int, Ho: int,
                 Wo: int) -> None:
    """Adds ``dcols`` ``(K, n*Ho*Wo)`` into ``dxpad`` ``(C, n, Hp, Wp)``: one contiguous block per offset."""
    C, n = dxpad.shape[:2]
    d6 = dcols.reshape(C, HH, WW, n, Ho, Wo)
    for i in range(HH):
        for j in range(WW):
            rows, colz = window_slices(i, j, Ho, Wo, stride)
            dxpad[:, :, rows, colz] += d6[:, i, j]


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int, *, xp=None):
    """Convolution forward: ``(out (N, F, Ho, Wo), cols (C*HH*WW, N*Ho*Wo))``.

    The columns are one copy of the strided window view; ``w (F, K) @ cols (K, N*P)`` is one GEMM
    (batch chunks measured slower), and its ``(F, N, P)`` product is written into the NCHW output
    with the bias added in the same pass.
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    K, P = C * HH * WW, Ho * Wo
    cols = buffer_pool.empty((C, HH, WW, N, Ho, Wo), x.dtype)
    np.copyto(cols, _window_view(x, HH, WW, stride, pad, Ho, Wo))
    cols = cols.reshape(K, N * P)
    prod = np.matmul(np.ascontiguousarray(w).reshape(F, K), cols,
                     out=buffer_pool.empty((F, N * P), x.dtype))                # (F, N*P)
    out = buffer_pool.empty((N, F, Ho, Wo), x.dtype)
    np.add(prod.reshape(F, N, P).transpose(1, 0, 2), b.reshape(F, 1), out=out.reshape(N, F, P))
    return out, cols


def conv_backward(dout: np.ndarray, cols: np.ndarray, x_shape: tuple[int, int, int, int], w: np.ndarray,
                  stride: int, pad: int, need_dx: bool = True, *, xp=None):
    """Convolution backward: ``(dx, dw, db)`` from dout ``(N, F, Ho, Wo)`` and ``cols`` ``(K, N*P)``.

    dout is transposed once to ``g (F, N*P)``; ``dw = (cols @ g.T).T`` is one GEMM (the ``(K, F)``
    orientation measured ~1.6x faster in float32 than ``g @ cols.T``); ``dcols = w.T @ g``
    is one GEMM per batch chunk of ~16 MB of columns, each added back (col2im) while in cache. dx is
    ``None`` (and not computed) when ``need_dx`` is false.
    """
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    K, P = C * HH * WW, Ho * Wo
    g = buffer_pool.empty((F, N, P), dout.dtype)
    np.copyto(g, dout.reshape(N, F, P).transpose(1, 0, 2))
    g = g.reshape(F, N * P)
    db = np.sum(dout.reshape(N, F, P), axis=(0, 2))   # the generic kernel's summation order
    dw = np.matmul(cols, g.T).T.reshape(w.shape)   # (K, F) product: faster than g @ cols.T in sgemm
    if not need_dx:
        return None, dw, db
    w_cols = np.ascontiguousarray(w).reshape(F, K).T                      # (K, F)
    dxpad = buffer_pool.zeros((C, N, H + 2 * pad, W + 2 * pad), dout.dtype)
    chunks = _batch_chunks(N, K * P * dout.itemsize, _CHUNK_BYTES)
    dcols = buffer_pool.empty((K, (chunks[0][1] - chunks[0][0]) * P), dout.dtype)
    for n0, n1 in chunks:
        part = dcols[:, :(n1 - n0) * P]
        np.matmul(w_cols, g[:, n0 * P:n1 * P], out=part)
        _conv_col2im(part, dxpad[:, n0:n1], HH, WW, stride, Ho, Wo)
    dx = np.ascontiguousarray(dxpad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3))
    return dx, dw, db


# --------------------------------------------------------------------------- embedding
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
