"""Fast convolution: im2col -> one matrix product -> NCHW, on every backend.

``conv_forward_fast``, ``conv_forward_strides`` and ``conv_forward_im2col`` (and their backward
passes) are the cs231n ``fast_layers`` names. All three take the same path here: the columns come
from :func:`xnn.kernels.conv_forward` (NumPy: one strided copy into a ``(C*HH*WW, N*Ho*Wo)``
matrix and one GEMM; CuPy: CUDA im2col + a batched matmul; elsewhere standard-only slice loops),
and the backward from :func:`xnn.kernels.conv_backward`. Differences from cs231n:

* floor semantics for every pair (no divisibility asserts), like PyTorch;
* correct for non-square filters (cs231n's Cython im2col is not);
* the output is always a contiguous NCHW array;
* ``x_cols`` in the cache is a :class:`xnn.kernels.ConvColumns`: the column data of the kernel
  that ran the forward pass, in that kernel's own layout, read back by the same kernel's backward.

The caches of the three pairs are interchangeable: ``(x, w, b, conv_param, x_cols)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import kernels
from ..validation import checked_namespace, shape_of, unpack_cache
from .conv import check_conv_dout, conv_geometry

__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_params",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
]

Array = Any


def _forward(fn: str, x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    xp = checked_namespace(fn, x=x, w=w, b=b)
    stride, pad, _, _ = conv_geometry(fn, x, w, b, conv_param)
    dt = xp.result_type(x.dtype, w.dtype, b.dtype)
    out, x_cols = kernels.conv_forward(xp.astype(x, dt, copy=False), xp.astype(w, dt, copy=False),
                                       xp.astype(b, dt, copy=False), stride, pad, xp=xp)
    return out, (x, w, b, conv_param, x_cols)


def _backward(fn: str, dout: Array, cache: tuple, need_dx: bool = True) -> tuple[Array, Array, Array]:
    x, w, b, conv_param, x_cols = unpack_cache(fn, cache, 5, "a fast conv forward")
    if not isinstance(x_cols, kernels.ConvColumns):
        raise TypeError(f"{fn}: cache[4] must be the x_cols a fast conv forward stored, got {type(x_cols).__name__}")
    xp = checked_namespace(fn, dout=dout, x=x, w=w, b=b, x_cols=x_cols.data)
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    check_conv_dout(fn, dout, x, w, Ho, Wo)
    dt = xp.result_type(dout.dtype, x_cols.dtype, w.dtype, b.dtype)
    return kernels.conv_backward(xp.astype(dout, dt, copy=False), x_cols, shape_of(x),
                                 xp.astype(w, dt, copy=False), stride, pad, need_dx, xp=xp)


def conv_forward_fast(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    """Fast convolution forward: im2col + one matmul (cs231n's ``fast`` pair uses the strides path).

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, conv_param ``'stride'``, ``'pad'``.
    Returns ``out`` ``(N, F, Ho, Wo)`` (contiguous; ``Ho = 1 + (H + 2*pad - HH) // stride``, floor)
    in the inputs' namespace and promoted dtype, and ``cache = (x, w, b, conv_param, x_cols)``
    with ``x_cols`` the kernel's column data (see the module docstring).
    """
    return _forward("conv_forward_fast", x, w, b, conv_param)


def conv_backward_fast(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Fast convolution backward.

    dout ``(N, F, Ho, Wo)``; cache ``(x, w, b, conv_param, x_cols)`` from any fast conv forward.
    Returns ``(dx, dw, db)`` shaped ``(N, C, H, W)``, ``(F, C, HH, WW)``, ``(F,)``: db sums dout,
    dw is one matmul with the cached columns, dx one matmul followed by col2im.
    """
    return _backward("conv_backward_fast", dout, cache)


def _named_pair(kind: str) -> tuple:
    """cs231n's ``conv_forward_<kind>`` / ``conv_backward_<kind>``: the fast pair under another name
    (every pair takes the same path here and their caches are interchangeable)."""
    fwd_name, bwd_name = f"conv_forward_{kind}", f"conv_backward_{kind}"

    def forward(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
        return _forward(fwd_name, x, w, b, conv_param)

    def backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
        return _backward(bwd_name, dout, cache)

    for fn, name, twin in ((forward, fwd_name, conv_forward_fast), (backward, bwd_name, conv_backward_fast)):
        fn.__name__ = fn.__qualname__ = name
        fn.__doc__ = (f"Convolution (cs231n's {kind} pair): the same computation, arguments and cache as "
                      f":func:`{twin.__name__}`.\n" + twin.__doc__.split("\n", 1)[1])
    return forward, backward


conv_forward_strides, conv_backward_strides = _named_pair("strides")
conv_forward_im2col, conv_backward_im2col = _named_pair("im2col")


def conv_backward_params(dout: Array, cache: tuple) -> tuple[Array, Array]:
    """Parameter gradients only (an xnn extension): ``(dw, db)`` of :func:`conv_backward_fast`.

    For a first layer, whose input gradient nobody reads: the dx matmul and col2im are skipped.
    dout ``(N, F, Ho, Wo)``; cache from any fast conv forward; dw ``(F, C, HH, WW)``, db ``(F,)``
    are the same values ``conv_backward_fast`` returns.
    """
    _, dw, db = _backward("conv_backward_params", dout, cache, need_dx=False)
    return dw, db
