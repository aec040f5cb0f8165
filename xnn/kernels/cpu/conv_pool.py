"""NumPy convolution followed by max-pooling, fused per batch chunk.

Every chunk of images pools its convolution output right after the chunk's GEMM, while that output
is in cache, so the full ``(N, F, Ho, Wo)`` convolution output is never written to memory or read
back; the backward routes the pooled gradient into a chunk-sized scratch array and feeds it to the
conv backward of the same chunk. The values are those of :func:`.conv.conv_forward` followed by
:func:`.pool.maxpool_forward` (the same GEMMs, bias adds and first-maximum rule), and the state
kept for the backward is the conv's (the padded input), so the unfused backward reads it too.
"""

from __future__ import annotations

import numpy as np

from ...validation import conv_output_hw, pool_output_hw
from .. import generic
from .buffers import buffer_pool
from .conv import backward_chunks, conv_backward, conv_forward, forward_chunks
from .pool import _backward_chunk, _forward_chunk, _new_counts, maxpool_backward
from .threads import scratch

__all__ = ["conv_pool_backward", "conv_pool_forward"]


def conv_pool_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int, pool_height: int,
                      pool_width: int, pool_stride: int, *, xp=None):
    """``(pooled (N, F, Hq, Wq), argmax (N, F, Hq, Wq) int32, xpad)``: convolution, then max-pool.

    A pooled window holding a NaN sends the whole batch through the unfused kernels (the generic
    pool, which points argmax at the first NaN).
    """
    N, F = x.shape[0], w.shape[0]
    Ho, Wo = conv_output_hw(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad)
    Hq, Wq = pool_output_hw(Ho, Wo, pool_height, pool_width, pool_stride)
    pooled = buffer_pool.empty((N, F, Hq, Wq), x.dtype)
    counts = _new_counts((N, F, Hq, Wq), pool_height, pool_width)

    bias = b.reshape(F, 1)

    def target(n0: int, n1: int) -> np.ndarray:
        return scratch("conv_out", (n1 - n0, F, Ho * Wo), x.dtype)

    def finish(n0: int, n1: int, conv_out: np.ndarray) -> bool:
        conv_out += bias
        return _forward_chunk(conv_out.reshape(n1 - n0, F, Ho, Wo), pooled[n0:n1], counts[n0:n1], pool_height,
                              pool_width, pool_stride)

    xpad, nan_chunks = forward_chunks(x, w, stride, pad, target, finish)
    if any(nan_chunks):
        out, xpad = conv_forward(x, w, b, stride, pad)
        pooled, argmax = generic.maxpool_forward(out, pool_height, pool_width, pool_stride)
        return pooled, argmax, xpad
    return pooled, counts.astype(np.int32, copy=False), xpad


def conv_pool_backward(dout: np.ndarray, argmax: np.ndarray, xpad: np.ndarray, x_shape: tuple[int, int, int, int],
                       w: np.ndarray, stride: int, pad: int, pool_height: int, pool_width: int, pool_stride: int,
                       need_dx: bool = True, *, xp=None):
    """``(dx, dw, db)`` from the pooled gradient ``dout (N, F, Hq, Wq)`` and the forward's
    ``argmax`` and ``xpad`` (dx ``None`` without ``need_dx``). A non-finite ``dout`` takes the
    unfused kernels (the routing multiplies by masks, and ``0 * inf`` is NaN)."""
    N, F = x_shape[0], w.shape[0]
    Ho, Wo = conv_output_hw(x_shape[2], x_shape[3], w.shape[2], w.shape[3], stride, pad)
    if not np.isfinite(dout).all():
        dconv = maxpool_backward(dout, argmax, (N, F, Ho, Wo), pool_height, pool_width, pool_stride)
        return conv_backward(dconv, xpad, x_shape, w, stride, pad, need_dx)

    def grad(n0: int, n1: int) -> np.ndarray:
        dconv = scratch("dconv_out", (n1 - n0, F, Ho, Wo), dout.dtype)
        _backward_chunk(dout[n0:n1], argmax[n0:n1], dconv, pool_height, pool_width, pool_stride)
        return dconv.reshape(n1 - n0, F, Ho * Wo)

    dx, dw = backward_chunks(xpad, x_shape, w, stride, pad, (Ho, Wo), dout.dtype, grad, need_dx)
    # Every pooled gradient lands on exactly one conv output, so the bias gradient is their sum.
    db = np.sum(dout.reshape(N, F, dout.shape[2] * dout.shape[3]), axis=(0, 2))
    return dx, dw, db
