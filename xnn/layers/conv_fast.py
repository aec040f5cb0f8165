"""Fast convolution: im2col -> one matrix product -> NCHW, on every backend.

``conv_forward_fast``, ``conv_forward_strides`` and ``conv_forward_im2col`` (and their backward
passes) are the cs231n ``fast_layers`` names. All three take the same path here: the columns come
from :func:`xnn.kernels.im2col` (NumPy stride tricks, CUDA kernels on CuPy, standard-only slice
loops elsewhere), then one ``matmul`` with ``w.reshape(F, -1)``. Differences from cs231n:

* floor semantics for every pair (no divisibility asserts), like PyTorch;
* correct for non-square filters (cs231n's Cython im2col is not);
* the output is always a contiguous NCHW array;
* ``x_cols`` in the cache is ``(N, C*HH*WW, Ho*Wo)`` (cs231n: ``(C*HH*WW, N*Ho*Wo)``).

The caches of the three pairs are interchangeable: ``(x, w, b, conv_param, x_cols)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import kernels
from ..validation import namespace_of, shape_of, unpack_cache
from .conv_naive import check_dout, conv_geometry

__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
]

Array = Any


def _forward(fn: str, x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    xp = namespace_of(fn, x=x, w=w, b=b)
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    dt = xp.result_type(x.dtype, w.dtype, b.dtype)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    x_cols = kernels.im2col(xp.astype(x, dt, copy=False), HH, WW, stride, pad)  # (N, K, P)
    w_rows = xp.reshape(xp.astype(w, dt, copy=False), (F, -1))                   # (F, K)
    out = xp.matmul(w_rows, x_cols)                                               # (N, F, P)
    out += xp.reshape(xp.astype(b, dt, copy=False), (F, 1))
    return xp.reshape(out, (N, F, Ho, Wo)), (x, w, b, conv_param, x_cols)


def _backward(fn: str, dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    x, w, b, conv_param, x_cols = unpack_cache(fn, cache, 5, "a fast conv forward")
    xp = namespace_of(fn, dout=dout, x=x, w=w, b=b, x_cols=x_cols)
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    check_dout(fn, dout, (N, F, Ho, Wo), f"x {shape_of(x)}, w {shape_of(w)}")
    dt = xp.result_type(dout.dtype, x_cols.dtype, w.dtype, b.dtype)
    g = xp.reshape(xp.astype(dout, dt, copy=False), (N, F, Ho * Wo))             # (N, F, P)
    db = xp.sum(g, axis=(0, 2))
    dw = xp.sum(xp.matmul(g, xp.matrix_transpose(x_cols)), axis=0)               # (F, K)
    w_rows = xp.reshape(xp.astype(w, dt, copy=False), (F, -1))
    dcols = xp.matmul(xp.matrix_transpose(w_rows), g)                             # (N, K, P)
    dx = kernels.col2im(dcols, shape_of(x), HH, WW, stride, pad)
    return dx, xp.reshape(dw, shape_of(w)), db


def conv_forward_fast(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    """Fast convolution (the strides path, as in cs231n) forward: im2col + one matmul.

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, conv_param ``'stride'``, ``'pad'``.
    Returns ``out`` ``(N, F, Ho, Wo)`` (contiguous; ``Ho = 1 + (H + 2*pad - HH) // stride``, floor)
    in the inputs' namespace and promoted dtype, and ``cache = (x, w, b, conv_param, x_cols)``
    with ``x_cols`` ``(N, C*HH*WW, Ho*Wo)``.
    """
    return _forward("conv_forward_fast", x, w, b, conv_param)


def conv_backward_fast(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Fast convolution (the strides path, as in cs231n) backward.

    dout ``(N, F, Ho, Wo)``; cache ``(x, w, b, conv_param, x_cols)`` from any fast conv forward.
    Returns ``(dx, dw, db)`` shaped ``(N, C, H, W)``, ``(F, C, HH, WW)``, ``(F,)``: db sums dout,
    dw is one matmul with the cached columns, dx one matmul followed by col2im.
    """
    return _backward("conv_backward_fast", dout, cache)


def conv_forward_strides(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    """Convolution (cs231n strides pair) forward: im2col + one matmul.

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, conv_param ``'stride'``, ``'pad'``.
    Returns ``out`` ``(N, F, Ho, Wo)`` (contiguous; ``Ho = 1 + (H + 2*pad - HH) // stride``, floor)
    in the inputs' namespace and promoted dtype, and ``cache = (x, w, b, conv_param, x_cols)``
    with ``x_cols`` ``(N, C*HH*WW, Ho*Wo)``.
    """
    return _forward("conv_forward_strides", x, w, b, conv_param)


def conv_backward_strides(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Convolution (cs231n strides pair) backward.

    dout ``(N, F, Ho, Wo)``; cache ``(x, w, b, conv_param, x_cols)`` from any fast conv forward.
    Returns ``(dx, dw, db)`` shaped ``(N, C, H, W)``, ``(F, C, HH, WW)``, ``(F,)``: db sums dout,
    dw is one matmul with the cached columns, dx one matmul followed by col2im.
    """
    return _backward("conv_backward_strides", dout, cache)


def conv_forward_im2col(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    """Convolution (cs231n im2col pair) forward: im2col + one matmul.

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, conv_param ``'stride'``, ``'pad'``.
    Returns ``out`` ``(N, F, Ho, Wo)`` (contiguous; ``Ho = 1 + (H + 2*pad - HH) // stride``, floor)
    in the inputs' namespace and promoted dtype, and ``cache = (x, w, b, conv_param, x_cols)``
    with ``x_cols`` ``(N, C*HH*WW, Ho*Wo)``.
    """
    return _forward("conv_forward_im2col", x, w, b, conv_param)


def conv_backward_im2col(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Convolution (cs231n im2col pair) backward.

    dout ``(N, F, Ho, Wo)``; cache ``(x, w, b, conv_param, x_cols)`` from any fast conv forward.
    Returns ``(dx, dw, db)`` shaped ``(N, C, H, W)``, ``(F, C, HH, WW)``, ``(F,)``: db sums dout,
    dw is one matmul with the cached columns, dx one matmul followed by col2im.
    """
    return _backward("conv_backward_im2col", dout, cache)
