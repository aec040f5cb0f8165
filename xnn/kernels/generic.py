"""Standard-only kernels: im2col, col2im and max-pool with Array API functions only.

Every function loops over the kernel (or pool window) offsets ``(i, j)`` and does one fully
vectorized strided-slice operation per offset, so the Python loop runs ``HH*WW`` times no matter
how large the batch is. Nothing here goes beyond the Array API standard, so these kernels serve
every namespace: NumPy (under ``XNN_KERNELS=generic``), array-api-strict, and CuPy as a fallback.

The conv operations (``conv_forward`` / ``conv_backward``) are im2col + one batched ``matmul``
(+ col2im), the path every backend without a faster one takes; ``conv_forward_with`` /
``conv_backward_with`` let another implementation (CUDA) reuse them around its own im2col/col2im.

``embedding_backward`` (the word-embedding scatter-add, which the standard has no function for)
is a one-hot matrix product, chunked over the vocabulary.

The exact contract (shapes, row/column order, floor semantics, argmax encoding) is documented in
:mod:`xnn.kernels`.
"""

from __future__ import annotations

from collections.abc import Callable

from array_api_compat import device as _device

from .. import backend
from ..validation import conv_output_hw, pool_output_hw
from .geometry import window_slices, zero_pad

OPS = ("im2col", "col2im", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward",
       "relu_backward", "matmul", "embedding_backward", "adam_step")

__all__ = [*OPS, "OPS", "conv_backward_with", "conv_forward_with"]


def im2col(x, HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Columns of ``x`` ``(N, C, H, W)`` for an ``HH x WW`` filter: ``(N, C*HH*WW, Ho*Wo)``.

    Row ``c*HH*WW + i*WW + j``, column ``ho*Wo + wo``; zero padding; floor semantics.
    """
    xp = xp or backend.namespace(x)
    N, C, H, W = x.shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    xpad = zero_pad(xp, x, pad)
    cols = xp.empty((N, C, HH, WW, Ho, Wo), dtype=x.dtype, device=_device(x))
    for i in range(HH):
        for j in range(WW):
            rows, colz = window_slices(i, j, Ho, Wo, stride)
            cols[:, :, i, j, :, :] = xpad[:, :, rows, colz]
    return xp.reshape(cols, (N, C * HH * WW, Ho * Wo))


def col2im(dcols, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Adjoint of :func:`im2col`: dcols ``(N, C*HH*WW, Ho*Wo)`` summed into dx ``x_shape``."""
    xp = xp or backend.namespace(dcols)
    N, C, H, W = x_shape
    Ho, Wo = conv_output_hw(H, W, HH, WW, stride, pad)
    d6 = xp.reshape(dcols, (N, C, HH, WW, Ho, Wo))
    dxpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype, device=_device(dcols))
    for i in range(HH):
        for j in range(WW):
            rows, colz = window_slices(i, j, Ho, Wo, stride)
            dxpad[:, :, rows, colz] += d6[:, :, i, j, :, :]
    if pad == 0:
        return dxpad
    return xp.asarray(dxpad[:, :, pad:pad + H, pad:pad + W], copy=True)


def maxpool_forward(x, pool_height: int, pool_width: int, stride: int, *, xp=None):
    """Max over each ``pool_height x pool_width`` window: ``(out, argmax)``, both ``(N, C, Ho, Wo)``.

    ``argmax`` (int32) is ``i*pool_width + j`` of the first maximum in row-major order. A NaN in
    a window wins (like ``max``/``argmax``), so NaNs propagate instead of vanishing.
    """
    xp = xp or backend.namespace(x)
    N, C, H, W = x.shape
    Ho, Wo = pool_output_hw(H, W, pool_height, pool_width, stride)
    rows, colz = window_slices(0, 0, Ho, Wo, stride)
    out = xp.asarray(x[:, :, rows, colz], copy=True)
    argmax = xp.zeros((N, C, Ho, Wo), dtype=xp.int32, device=_device(x))
    for k in range(1, pool_height * pool_width):
        i, j = divmod(k, pool_width)
        rows, colz = window_slices(i, j, Ho, Wo, stride)
        s = x[:, :, rows, colz]
        better = (s > out) | (xp.isnan(s) & ~xp.isnan(out))  # strict '>' keeps the first maximum
        out = xp.where(better, s, out)
        argmax = xp.where(better, xp.asarray(k, dtype=xp.int32), argmax)
    return out, argmax


def maxpool_backward(dout, argmax, x_shape: tuple[int, int, int, int], pool_height: int, pool_width: int,
                     stride: int, *, xp=None):
    """Route ``dout`` ``(N, C, Ho, Wo)`` to each window's ``argmax`` position; dx has ``x_shape``.

    One vectorized masked add per window offset; overlapping windows accumulate.
    """
    xp = xp or backend.namespace(dout=dout, argmax=argmax)
    Ho, Wo = dout.shape[2], dout.shape[3]
    dx = xp.zeros(tuple(x_shape), dtype=dout.dtype, device=_device(dout))
    zero = xp.zeros_like(dout)
    for k in range(pool_height * pool_width):
        i, j = divmod(k, pool_width)
        rows, colz = window_slices(i, j, Ho, Wo, stride)
        dx[:, :, rows, colz] += xp.where(argmax == k, dout, zero)
    return dx


def conv_forward_with(im2col_fn: Callable, x, w, b, stride: int, pad: int, *, xp=None):
    """Convolution forward through ``im2col_fn`` (same contract as :func:`im2col`).

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)`` of one dtype. Returns ``out``
    ``(N, F, Ho, Wo)`` and ``cols`` ``(N, C*HH*WW, Ho*Wo)`` (what :func:`conv_backward_with` reads).
    """
    xp = xp or backend.namespace(x=x, w=w, b=b)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    Ho, Wo = conv_output_hw(x.shape[2], x.shape[3], HH, WW, stride, pad)
    cols = im2col_fn(x, HH, WW, stride, pad, xp=xp)            # (N, K, P)
    out = xp.matmul(xp.reshape(w, (F, -1)), cols)               # (N, F, P)
    out += xp.reshape(b, (F, 1))
    return xp.reshape(out, (N, F, Ho, Wo)), cols


def conv_backward_with(col2im_fn: Callable, dout, cols, x_shape: tuple[int, int, int, int], w,
                       stride: int, pad: int, need_dx: bool = True, *, xp=None):
    """Convolution backward through ``col2im_fn`` (same contract as :func:`col2im`).

    dout ``(N, F, Ho, Wo)``, cols ``(N, K, P)`` from :func:`conv_forward_with`, w ``(F, C, HH, WW)``,
    all of one dtype.
    Returns ``(dx, dw, db)`` shaped ``x_shape``, ``w.shape``, ``(F,)``; dx is ``None`` (and not
    computed) when ``need_dx`` is false.
    """
    xp = xp or backend.namespace(dout=dout, cols=cols, w=w)
    N = x_shape[0]
    F, _, HH, WW = w.shape
    P = dout.shape[2] * dout.shape[3]
    g = xp.reshape(dout, (N, F, P))                                       # (N, F, P)
    db = xp.sum(g, axis=(0, 2))
    dw = xp.reshape(xp.sum(xp.matmul(g, xp.matrix_transpose(cols)), axis=0), tuple(w.shape))
    if not need_dx:
        return None, dw, db
    dcols = xp.matmul(xp.matrix_transpose(xp.reshape(w, (F, -1))), g)     # (N, K, P)
    dx = col2im_fn(dcols, tuple(x_shape), HH, WW, stride, pad, xp=xp)
    return dx, dw, db


def conv_forward(x, w, b, stride: int, pad: int, *, xp=None):
    """Convolution forward: im2col + one batched matmul; ``(out (N, F, Ho, Wo), cols (N, K, P))``."""
    return conv_forward_with(im2col, x, w, b, stride, pad, xp=xp)


def conv_backward(dout, cols, x_shape: tuple[int, int, int, int], w, stride: int, pad: int,
                  need_dx: bool = True, *, xp=None):
    """Convolution backward: two matmuls + col2im; ``(dx, dw, db)`` (dx ``None`` unless ``need_dx``)."""
    return conv_backward_with(col2im, dout, cols, x_shape, w, stride, pad, need_dx, xp=xp)


def adam_step(w, dw, m, v, t: int, lr: float, beta1: float, beta2: float, eps: float, *, xp=None):
    """One Adam update at step ``t`` (already incremented, ``t >= 1``): ``(next_w, m, v)``, new arrays.

    ``m = b1*m + (1-b1)*dw``; ``v = b2*v + (1-b2)*dw**2``;
    ``next_w = w - lr * (m/(1-b1**t)) / (sqrt(v/(1-b2**t)) + eps)``.
    """
    xp = xp or backend.namespace(w=w, dw=dw, m=m, v=v)
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * (dw * dw)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (xp.sqrt(v_hat) + eps), m, v


def matmul(a, b, *, xp=None):
    """``a @ b`` (``xp.matmul``)."""
    xp = xp or backend.namespace(a=a, b=b)
    return xp.matmul(a, b)


def relu_backward(dout, x, *, xp=None):
    """``dout`` where ``x > 0``, else 0 (same shape and dtype as ``dout``)."""
    xp = xp or backend.namespace(dout=dout, x=x)
    return xp.where(x > 0, dout, xp.zeros_like(dout))


# One-hot block size (positions x vocabulary rows) per matmul of embedding_backward: bounds its
# scratch memory to a few MiB whatever the vocabulary size.
_ONE_HOT_ELEMENTS = 1 << 21


def embedding_backward(dout, idx, V: int, *, xp=None):
    """Scatter-add of ``dout`` rows into a zero ``(V, D)`` array at rows ``idx``.

    dout ``(M, D)`` float, idx ``(M,)`` integer with ``0 <= idx < V`` (checked by the caller).
    Returns dW ``(V, D)`` in ``dout``'s dtype: ``dW[v] = sum of dout[m] over m with idx[m] == v``;
    rows no index names are exactly 0, repeated indices accumulate.

    Standard-only: for each chunk of vocabulary rows ``[v0, v1)`` a one-hot matrix
    ``(M, v1 - v0)`` (``idx == v``) multiplies dout, ``dW[v0:v1] = onehot.T @ dout``. Cost
    ``M * V * D`` multiply-adds (the products by 0 are wasted work, so it grows with the
    vocabulary; a sort-based scatter is ``O(M log M + (M + V) * D)`` but needs functions the
    standard lacks) and about ``min(M * V, 2**21)`` elements of scratch. Deterministic, and each
    sum adds exact products in the matmul's order.
    """
    xp = xp or backend.namespace(dout=dout, idx=idx)
    M, D = dout.shape
    dW = xp.zeros((V, D), dtype=dout.dtype, device=_device(dout))
    if M == 0 or D == 0:
        return dW
    step = max(1, _ONE_HOT_ELEMENTS // M)
    for v0 in range(0, V, step):
        v1 = min(V, v0 + step)
        rows = xp.arange(v0, v1, dtype=idx.dtype, device=_device(idx))
        one_hot = xp.astype(idx[:, None] == rows[None, :], dout.dtype)      # (M, v1 - v0)
        dW[v0:v1, :] = xp.matrix_transpose(one_hot) @ dout
    return dW
