"""NumPy convolution kernels: im2col, and conv forward/backward as GEMMs over cache-sized batch chunks.

The batch is cut into chunks of images whose columns (per image a ``K x P`` matrix, ``K = C*HH*WW``
rows ordered like ``w.reshape(F, -1)``, one column per output position) fit in a core's caches,
and the worker threads of :mod:`.threads` process the chunks at once. A chunk copies its windows
into a per-thread scratch array ``(n, K, P)`` and multiplies it right away, while it is in cache,
one image at a time inside one batched ``matmul`` (so results land in NCHW order, no transposes):

* forward: ``w (F, K) @ cols[i]`` into image ``i`` of the output, then the bias;
* backward: the same columns rebuilt from the padded input; the chunk's partial
  ``dw = sum_i cols[i] @ g[i].T`` (``g`` its ``(n, F, P)`` output gradient) and
  ``dcols[i] = w.T @ g[i]``, added back into its images (col2im).

So the full ``(K, N*P)`` column matrix (49x the input for a 7x7 filter) is never materialised:
the forward keeps only the padded input for its backward. The partial ``dw`` of the chunks are
summed in chunk order over chunks that depend only on the sizes, so every output is the same bits
at any thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...validation import conv_output_hw
from ..geometry import window_slices, zero_pad
from .buffers import buffer_pool
from .threads import num_threads, run_chunks, scratch

__all__ = ["backward_chunks", "conv_backward", "conv_forward", "forward_chunks", "im2col"]

# Bytes of one chunk's column matrix: small enough to stay in a core's L2/L3 between the copy and
# the products, large enough that the GEMMs stay efficient. The backward's chunks are larger: each
# pays a Python loop over the HH*WW kernel offsets in col2im (conv B, 50 images: 4 chunks of 8 MB
# ran 12.7 ms float32 / 25 ms float64, 15 chunks of 2 MB 15.9 / 34 ms, on the 2-core Xeon). With
# one thread (XNN_NUM_THREADS=1, BLAS left to its own threads) the forward's chunks are larger
# still, so BLAS gets GEMMs worth splitting.
FORWARD_CHUNK_BYTES = 2 << 20
BACKWARD_CHUNK_BYTES = 8 << 20
# Without dx there is no col2im loop, and cache-sized chunks are a little faster (conv B float32
# parameter gradients: 5.1 ms in 4 MB chunks, 5.7 ms in 8 MB).
PARAMS_CHUNK_BYTES = 4 << 20
SERIAL_CHUNK_BYTES = 16 << 20
# Enough backward chunks for two threads taking two chunks each.
MIN_BACKWARD_CHUNKS = 4


def _window_view(xpad: np.ndarray, HH: int, WW: int, stride: int, Ho: int, Wo: int) -> np.ndarray:
    """Read-only ``(n, C, HH, WW, Ho, Wo)`` view of padded images ``(n, C, Hp, Wp)``: their columns."""
    n, C = xpad.shape[:2]
    sN, sC, sH, sW = xpad.strides
    return as_strided(xpad, shape=(n, C, HH, WW, Ho, Wo),
                      strides=(sN, sC, sH, sW, sH * stride, sW * stride), writeable=False)


def im2col(x: np.ndarray, HH: int, WW: int, stride: int, pad: int, *, xp=None) -> np.ndarray:
    """Columns ``(N, C*HH*WW, Ho*Wo)`` of ``x`` ``(N, C, H, W)``: one strided view, one copy."""
    N, C, H, W = x.shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    cols = buffer_pool.empty((N, C, HH, WW, Ho, Wo), x.dtype)
    np.copyto(cols, _window_view(zero_pad(np, x, pad), HH, WW, stride, Ho, Wo))
    return cols.reshape(N, C * HH * WW, Ho * Wo)


def _by_size(N: int, K: int, P: int, itemsize: int, budget: int) -> int:
    """Chunks of about ``budget`` bytes of columns each."""
    return -(-N // max(1, budget // max(1, K * P * itemsize)))


def _forward_parts(N: int, K: int, P: int, itemsize: int) -> int:
    """Forward chunks: :data:`FORWARD_CHUNK_BYTES` each and at least two per thread (one thread:
    :data:`SERIAL_CHUNK_BYTES`). Each chunk writes only its own images, so the split does not change
    the result."""
    threads = num_threads()
    if threads == 1:
        return min(N, _by_size(N, K, P, itemsize, SERIAL_CHUNK_BYTES))
    return min(N, max(_by_size(N, K, P, itemsize, FORWARD_CHUNK_BYTES), 2 * threads))


def _backward_parts(N: int, K: int, P: int, itemsize: int, need_dx: bool) -> int:
    """Backward chunks: :data:`BACKWARD_CHUNK_BYTES` each (:data:`PARAMS_CHUNK_BYTES` without dx),
    at least :data:`MIN_BACKWARD_CHUNKS`.

    The partial ``dw`` of the chunks are summed, so the split must not depend on the thread count:
    the same chunks at any count give the same bits on every machine."""
    budget = BACKWARD_CHUNK_BYTES if need_dx else PARAMS_CHUNK_BYTES
    return min(N, max(_by_size(N, K, P, itemsize, budget), MIN_BACKWARD_CHUNKS))


def _columns(xpad: np.ndarray, n0: int, n1: int, HH: int, WW: int, stride: int, Ho: int, Wo: int) -> np.ndarray:
    """The columns ``(n, K, P)`` of images ``n0:n1`` (one ``K x P`` matrix per image), in this
    thread's scratch space."""
    C, n = xpad.shape[1], n1 - n0
    cols = scratch("cols", (n, C * HH * WW, Ho * Wo), xpad.dtype)
    np.copyto(cols.reshape(n, C, HH, WW, Ho, Wo), _window_view(xpad[n0:n1], HH, WW, stride, Ho, Wo))
    return cols


def forward_chunks(x: np.ndarray, w: np.ndarray, stride: int, pad: int,
                   target: Callable[[int, int], np.ndarray],
                   finish: Callable[[int, int, np.ndarray], Any]) -> tuple[np.ndarray, list[Any]]:
    """Run the forward GEMMs chunk by chunk: ``target(n0, n1)`` gives the ``(n, F, Ho*Wo)`` array the
    chunk's product ``w @ cols`` is written into (image by image, so it lands in NCHW order with no
    transpose), then ``finish(n0, n1, that array)`` adds the bias and whatever else the caller needs.
    Returns the padded input (the backward's state) and ``finish``'s results in chunk order."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    K, P = C * HH * WW, Ho * Wo
    xpad = zero_pad(np, x, pad) if pad else np.array(x, copy=True)
    wk = np.ascontiguousarray(w).reshape(F, K)

    def chunk(n0: int, n1: int) -> Any:
        dest = target(n0, n1)
        np.matmul(wk, _columns(xpad, n0, n1, HH, WW, stride, Ho, Wo), out=dest)   # (n, F, P)
        return finish(n0, n1, dest)

    return xpad, run_chunks(chunk, N, work=(K + F) * N * P, parts=_forward_parts(N, K, P, x.itemsize))


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int, *, xp=None):
    """Convolution forward: ``(out (N, F, Ho, Wo), xpad (N, C, H + 2*pad, W + 2*pad))``.

    ``xpad``, the zero-padded input (an own copy), is what :func:`conv_backward` needs. Each chunk's
    product goes straight into its images of the NCHW output, then the bias is added in place.
    """
    N, F = x.shape[0], w.shape[0]
    Ho, Wo = conv_output_hw(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad)
    out = buffer_pool.empty((N, F, Ho, Wo), x.dtype)
    bias = b.reshape(F, 1)

    def target(n0: int, n1: int) -> np.ndarray:
        return out[n0:n1].reshape(n1 - n0, F, Ho * Wo)

    def finish(n0: int, n1: int, dest: np.ndarray) -> None:
        dest += bias

    xpad, _ = forward_chunks(x, w, stride, pad, target, finish)
    return out, xpad


def _col2im_into(dcols: np.ndarray, dxpad: np.ndarray, HH: int, WW: int, stride: int, Ho: int, Wo: int) -> None:
    """Adds ``dcols`` ``(n, K, Ho*Wo)`` into ``dxpad`` ``(n, C, Hp, Wp)``: one strided add per offset."""
    n, C = dxpad.shape[:2]
    d6 = dcols.reshape(n, C, HH, WW, Ho, Wo)
    for i in range(HH):
        for j in range(WW):
            rows, colz = window_slices(i, j, Ho, Wo, stride)
            dxpad[:, :, rows, colz] += d6[:, :, i, j]


def backward_chunks(xpad: np.ndarray, x_shape: tuple[int, int, int, int], w: np.ndarray, stride: int, pad: int,
                    out_hw: tuple[int, int], dtype: Any, grad: Callable[[int, int], np.ndarray],
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """``(dx, dw)`` chunk by chunk: ``grad(n0, n1)`` gives the chunk's output gradient as
    ``(n, F, Ho*Wo)``; the chunk's columns ``(n, K, P)`` are rebuilt from ``xpad``; its partial
    ``dw`` is the sum over its images of ``cols @ grad.T`` (kept for the in-order sum) and, with
    ``need_dx``, ``dcols = w.T @ grad`` (per image) is added into its padded images and copied into dx."""
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_hw
    K, P = C * HH * WW, Ho * Wo
    wk_t = np.ascontiguousarray(w).reshape(F, K).T                           # (K, F)
    dx = buffer_pool.empty((N, C, H, W), dtype) if need_dx else None

    def chunk(n0: int, n1: int) -> np.ndarray:
        n = n1 - n0
        g = grad(n0, n1)                                                     # (n, F, P)
        cols = _columns(xpad, n0, n1, HH, WW, stride, Ho, Wo)                 # (n, K, P)
        dw_part = np.matmul(cols, g.transpose(0, 2, 1), out=scratch("dw", (n, K, F), dtype)).sum(axis=0)
        if need_dx:
            dxpad = dx[n0:n1] if pad == 0 else scratch("dxpad", (n, C, xpad.shape[2], xpad.shape[3]), dtype)
            dxpad.fill(0)
            _col2im_into(np.matmul(wk_t, g, out=scratch("dcols", (n, K, P), dtype)), dxpad, HH, WW, stride, Ho, Wo)
            if pad:
                np.copyto(dx[n0:n1], dxpad[:, :, pad:pad + H, pad:pad + W])
        return dw_part

    parts = run_chunks(chunk, N, work=(2 * K + F) * N * P,
                       parts=_backward_parts(N, K, P, np.dtype(dtype).itemsize, need_dx))
    dw_kf = parts[0]
    for part in parts[1:]:
        dw_kf = dw_kf + part
    return dx, dw_kf.T.reshape(w.shape)


def conv_backward(dout: np.ndarray, xpad: np.ndarray, x_shape: tuple[int, int, int, int], w: np.ndarray,
                  stride: int, pad: int, need_dx: bool = True, *, xp=None):
    """Convolution backward: ``(dx, dw, db)`` from dout ``(N, F, Ho, Wo)`` and the ``xpad`` of
    :func:`conv_forward` (see :func:`backward_chunks`; dx is ``None`` without ``need_dx``)."""
    N, F, Ho, Wo = dout.shape
    dout3 = np.ascontiguousarray(dout).reshape(N, F, Ho * Wo)
    dx, dw = backward_chunks(xpad, x_shape, w, stride, pad, (Ho, Wo), dout.dtype, lambda n0, n1: dout3[n0:n1], need_dx)
    db = np.sum(dout3, axis=(0, 2))   # the generic kernel's order
    return dx, dw, db
