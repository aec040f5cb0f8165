"""Composite kernel ops: a convolution followed by max-pooling, fused where an implementation can.

``conv_pool_forward(x, w, b, stride, pad, pool_height, pool_width, pool_stride)``
    ``(pooled, argmax, cols)``: the values of ``conv_forward`` then ``maxpool_forward`` on its
    output (``cols`` is the conv's :class:`~xnn.kernels.ConvColumns`, so the plain
    ``conv_backward`` reads it too).
``conv_pool_backward(dout, argmax, cols, x_shape, w, stride, pad, pool_height, pool_width,
pool_stride, need_dx=True)``
    ``(dx, dw, db)`` from the pooled gradient.

An implementation that lists these ops in ``OPS`` fuses them (the NumPy path pools each batch
chunk while its convolution output is in cache); everywhere else they are composed of the
dispatched primitive ops, so every namespace and device supports them.
"""

from __future__ import annotations

from typing import Any

from ..validation import conv_output_hw

# The package imports this module last, once every name below is defined (so no import cycle).
from . import (
    ConvColumns,
    _module,
    _name,
    _xp,
    conv_backward,
    conv_forward,
    implementation,
    maxpool_backward,
    maxpool_forward,
)

__all__ = ["COMPOSITE_OPS", "composite_path", "conv_pool_backward", "conv_pool_forward"]

COMPOSITE_OPS = ("conv_pool_forward", "conv_pool_backward")


def composite_path(op: str, xp) -> str:
    """The module fusing ``op`` for ``xp``, or ``"composed"`` when the primitive ops run one by one."""
    impl = implementation(xp)
    return _name(impl) if op in impl.OPS else "composed"


def conv_pool_forward(x, w, b, stride: int, pad: int, pool_height: int, pool_width: int, pool_stride: int, *,
                      xp=None) -> tuple[Any, Any, Any]:
    """Convolution then max-pool: ``(pooled (N, F, Hq, Wq), argmax (N, F, Hq, Wq) int32, ConvColumns)``."""
    xp = _xp(xp, x=x, w=w, b=b)
    impl = implementation(xp)
    if "conv_pool_forward" in impl.OPS:
        pooled, argmax, cols = impl.conv_pool_forward(x, w, b, stride, pad, pool_height, pool_width, pool_stride,
                                                      xp=xp)
        return pooled, argmax, ConvColumns(_name(impl), cols)
    out, cols = conv_forward(x, w, b, stride, pad, xp=xp)
    pooled, argmax = maxpool_forward(out, pool_height, pool_width, pool_stride, xp=xp)
    return pooled, argmax, cols


def conv_pool_backward(dout, argmax, cols, x_shape: tuple[int, int, int, int], w, stride: int, pad: int,
                       pool_height: int, pool_width: int, pool_stride: int, need_dx: bool = True, *, xp=None):
    """``(dx, dw, db)`` of :func:`conv_pool_forward` from ``dout (N, F, Hq, Wq)`` (dx ``None`` unless
    ``need_dx``), by the implementation that made ``cols``."""
    if not isinstance(cols, ConvColumns):
        raise TypeError(f"kernels.conv_pool_backward: cols must be the ConvColumns of kernels.conv_pool_forward, "
                        f"got {type(cols).__name__}")
    xp = _xp(xp, dout=dout, argmax=argmax, w=w)
    producer = _module(cols.producer)
    if "conv_pool_backward" in producer.OPS:
        data = cols.data if cols.dtype == dout.dtype else xp.astype(cols.data, dout.dtype)
        return producer.conv_pool_backward(dout, argmax, data, tuple(x_shape), w, stride, pad, pool_height,
                                           pool_width, pool_stride, need_dx, xp=xp)
    Ho, Wo = conv_output_hw(x_shape[2], x_shape[3], w.shape[2], w.shape[3], stride, pad)
    dconv = maxpool_backward(dout, argmax, (x_shape[0], w.shape[0], Ho, Wo), pool_height, pool_width, pool_stride,
                             xp=xp)
    return conv_backward(dconv, cols, x_shape, w, stride, pad, need_dx, xp=xp)
