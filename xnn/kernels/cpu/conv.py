"""NumPy convolution kernels: im2col, and conv forward/backward as GEMMs over cache-sized batch chunks.

The batch is cut into chunks of images whose columns (``K = C*HH*WW`` rows ordered like
``w.reshape(F, -1)``, one column per output position of the chunk's images) fit in a core's
caches, and the worker threads of :mod:`.threads` process the chunks at once. A chunk copies its
windows into a per-thread scratch matrix and multiplies it right away, while it is in cache:

* forward: ``w (F, K) @ cols (K, n*P)``, written into the chunk's NCHW output with the bias;
* backward: the same columns rebuilt from the padded input, the chunk's partial
  ``dw = cols @ g.T`` (``g`` = its dout as ``(F, n*P)``), and ``dcols = w.T @ g`` added back
  into its images (col2im).

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
    """Read-only ``(C, HH, WW, n, Ho, Wo)`` view of padded images ``(n, C, Hp, Wp)``: their columns."""
    n, C = xpad.shape[:2]
    sN, sC, sH, sW = xpad.strides
    return as_strided(xpad, shape=(C, HH, WW, n, Ho, Wo),
                      strides=(sC, sH, sW, sN, sH * stride, sW * stride), writeable=False)


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
    """The columns ``(K, n*P)`` of images ``n0:n1``, in this thread's scratch matrix."""
    C, n = xpad.shape[1], n1 - n0
    cols = scratch("cols", (C * HH * WW, n * Ho * Wo), xpad.dtype)
    np.copyto(cols.reshape(C, HH, WW, n, Ho, Wo), _window_view(xpad[n0:n1], HH, WW, stride, Ho, Wo))
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
        cols = _columns(xpad, n0, n1, HH, WW, stride, Ho, Wo)                 # (K, n*P)
        dest = target(n0, n1)
        np.matmul(wk, cols.reshape(K, n1 - n0, P).transpose(1, 0, 2), out=dest)
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
    """Adds ``dcols`` ``(K, n*Ho*Wo)`` into ``dxpad`` ``(C, n, Hp, Wp)``: one strided add per offset."""
    C, n = dxpad.shape[:2]
    d6 = dcols.reshape(C, HH, WW, n, Ho, Wo)
    for i in range(HH):
        for j in range(WW):
            rows, colz = window_slices(i, j, Ho, Wo, stride)
            dxpad[:, :, rows, colz] += d6[:, i, j]


def backward_chunks(xpad: np.ndarray, x_shape: tuple[int, int, int, int], w: np.ndarray, stride: int, pad: int,
                    out_hw: tuple[int, int], dtype: Any, fill_g: Callable[[int, int, np.ndarray], None],
                    need_dx: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """``(dx, dw)`` chunk by chunk: ``fill_g(n0, n1, g)`` writes the chunk's output gradient into
    ``g (F, n*Ho*Wo)``; the chunk's columns are rebuilt from ``xpad``, its partial ``dw = cols @ g.T``
    (this ``(K, F)`` orientation is the faster one in float32 BLAS) kept for the in-order sum, and,
    with ``need_dx``, ``dcols = w.T @ g`` added into its padded images and copied into dx."""
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_hw
    K, P = C * HH * WW, Ho * Wo
    wk_t = np.ascontiguousarray(w).reshape(F, K).T                           # (K, F)
    dx = buffer_pool.empty((N, C, H, W), dtype) if need_dx else None

    def chunk(n0: int, n1: int) -> np.ndarray:
        n = n1 - n0
        g = scratch("g", (F, n * P), dtype)
        fill_g(n0, n1, g)
        dw_part = np.matmul(_columns(xpad, n0, n1, HH, WW, stride, Ho, Wo), g.T)   # (K, F)
        if need_dx:
            dxpad = scratch("dxpad", (C, n, xpad.shape[2], xpad.shape[3]), dtype)
            dxpad.fill(0)
            _col2im_into(np.matmul(wk_t, g, out=scratch("dcols", (K, n * P), dtype)), dxpad, HH, WW, stride, Ho, Wo)
            np.copyto(dx[n0:n1], dxpad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3))
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
    F = w.shape[0]
    Ho, Wo = dout.shape[2], dout.shape[3]

    def fill_g(n0: int, n1: int, g: np.ndarray) -> None:
        n = n1 - n0
        np.copyto(g.reshape(F, n, Ho * Wo), dout[n0:n1].reshape(n, F, Ho * Wo).transpose(1, 0, 2))

    dx, dw = backward_chunks(xpad, x_shape, w, stride, pad, (Ho, Wo), dout.dtype, fill_g, need_dx)
    db = np.sum(dout.reshape(dout.shape[0], F, Ho * Wo), axis=(0, 2))   # the generic kernel's order
    return dx, dw, db
