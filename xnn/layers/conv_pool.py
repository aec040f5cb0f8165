"""A fast convolution followed by max-pooling, as one layer (an xnn extension).

``conv_pool_forward`` gives exactly what ``conv_forward_fast`` then ``max_pool_forward_fast`` give,
but the kernel may fuse the two (the NumPy path pools each batch chunk while its convolution
output is still in cache, so the full convolution output is never written out). The
``conv_relu_pool`` sandwich and ``ThreeLayerConvNet`` are built on it: ReLU and max commute, so
``relu(pool(conv))`` equals ``pool(relu(conv))`` with the ReLU on the 4x smaller pooled array.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import kernels
from ..validation import check_shape, checked_namespace, pool_output_size, require_keys, shape_of, unpack_cache
from .conv import conv_geometry

__all__ = ["conv_pool_backward", "conv_pool_backward_params", "conv_pool_forward"]

Array = Any


def _geometry(fn: str, x: Array, w: Array, b: Array, conv_param: Mapping,
              pool_param: Mapping) -> tuple[int, int, tuple[int, int, int], int, int]:
    """Validate; return ``(stride, pad, (pool_height, pool_width, pool_stride), Hq, Wq)``."""
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    require_keys(fn, "pool_param", pool_param, ("pool_height", "pool_width", "stride"))
    pool = (pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"])
    Hq, Wq = pool_output_size(fn, (x.shape[0], w.shape[0], Ho, Wo), *pool)
    return stride, pad, tuple(int(v) for v in pool), Hq, Wq


def conv_pool_forward(x: Array, w: Array, b: Array, conv_param: Mapping,
                      pool_param: Mapping) -> tuple[Array, tuple]:
    """Fast convolution, then max-pool.

    Args:
        x: ``(N, C, H, W)``; w: ``(F, C, HH, WW)``; b: ``(F,)``; conv_param: ``stride``, ``pad``;
        pool_param: ``pool_height``, ``pool_width``, ``stride`` (any window, like the pool layers).

    Returns:
        ``out`` ``(N, F, Hq, Wq)`` (the max-pool of the ``(N, F, Ho, Wo)`` convolution output) and
        ``cache = (x, w, b, conv_param, pool_param, argmax, x_cols)``: ``argmax`` ``(N, F, Hq, Wq)``
        int32 (first maximum of each window), ``x_cols`` the kernel's conv data.
    """
    fn = "conv_pool_forward"
    xp = checked_namespace(fn, x=x, w=w, b=b)
    stride, pad, pool, _, _ = _geometry(fn, x, w, b, conv_param, pool_param)
    dt = xp.result_type(x.dtype, w.dtype, b.dtype)
    out, argmax, x_cols = kernels.conv_pool_forward(xp.astype(x, dt, copy=False), xp.astype(w, dt, copy=False),
                                                    xp.astype(b, dt, copy=False), stride, pad, *pool, xp=xp)
    return out, (x, w, b, conv_param, pool_param, argmax, x_cols)


def _backward(fn: str, dout: Array, cache: tuple, need_dx: bool) -> tuple[Array, Array, Array]:
    x, w, b, conv_param, pool_param, argmax, x_cols = unpack_cache(fn, cache, 7, "conv_pool_forward")
    if not isinstance(x_cols, kernels.ConvColumns):
        raise TypeError(f"{fn}: cache[6] must be the x_cols conv_pool_forward stored, got {type(x_cols).__name__}")
    xp = checked_namespace(fn, dout=dout, x=x, w=w, b=b, argmax=argmax)
    stride, pad, pool, Hq, Wq = _geometry(fn, x, w, b, conv_param, pool_param)
    check_shape(fn, "dout", dout, (x.shape[0], w.shape[0], Hq, Wq), f"x {shape_of(x)}, w {shape_of(w)}")
    dt = xp.result_type(dout.dtype, x_cols.dtype, w.dtype, b.dtype)
    return kernels.conv_pool_backward(xp.astype(dout, dt, copy=False), argmax, x_cols, shape_of(x),
                                      xp.astype(w, dt, copy=False), stride, pad, *pool, need_dx, xp=xp)


def conv_pool_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Backward of :func:`conv_pool_forward`: ``dout`` ``(N, F, Hq, Wq)`` -> ``(dx, dw, db)`` shaped
    ``(N, C, H, W)``, ``(F, C, HH, WW)``, ``(F,)``."""
    return _backward("conv_pool_backward", dout, cache, need_dx=True)


def conv_pool_backward_params(dout: Array, cache: tuple) -> tuple[Array, Array]:
    """``(dw, db)`` of :func:`conv_pool_backward` without the input gradient (a first layer's)."""
    _, dw, db = _backward("conv_pool_backward_params", dout, cache, need_dx=False)
    return dw, db
