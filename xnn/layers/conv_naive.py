"""Convolution: the naive (loop) reference pair.

``conv_forward_naive`` / ``conv_backward_naive`` are readable references: a Python loop over
the output positions, each step one ``tensordot`` over the whole batch and all filters. They
use Array API functions only, so they run on every namespace. Geometry follows PyTorch's floor
semantics: ``Ho = 1 + (H + 2*pad - HH) // stride`` (cs231n lets you assume it divides).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from array_api_compat import device as _device

from ..kernels.geometry import zero_pad
from ..validation import checked_namespace, unpack_cache
from .conv import check_conv_dout, conv_geometry

__all__ = ["conv_backward_naive", "conv_forward_naive"]

Array = Any


def conv_forward_naive(x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[Array, tuple]:
    """Convolution forward pass, reference loop implementation.

    Args:
        x: ``(N, C, H, W)`` input.
        w: ``(F, C, HH, WW)`` filters.
        b: ``(F,)`` biases.
        conv_param: ``'stride'`` (>= 1) and ``'pad'`` (>= 0 zeros on every side).

    Returns:
        ``out`` ``(N, F, Ho, Wo)`` with ``Ho = 1 + (H + 2*pad - HH) // stride`` (likewise ``Wo``),
        in the inputs' namespace and promoted dtype (float32 stays float32; float32 with
        float64 gives float64); ``cache = (x, w, b, conv_param)`` exactly. ``x`` is not modified.
    """
    fn = "conv_forward_naive"
    xp = checked_namespace(fn, x=x, w=w, b=b)
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    dt = xp.result_type(x.dtype, w.dtype, b.dtype)
    F, _, HH, WW = w.shape
    xpad = zero_pad(xp, xp.astype(x, dt, copy=False), pad)
    wt, bt = xp.astype(w, dt, copy=False), xp.astype(b, dt, copy=False)
    out = xp.empty((x.shape[0], F, Ho, Wo), dtype=dt, device=_device(x))
    for ho in range(Ho):
        for wo in range(Wo):
            window = xpad[:, :, ho * stride:ho * stride + HH, wo * stride:wo * stride + WW]
            out[:, :, ho, wo] = xp.tensordot(window, wt, axes=([1, 2, 3], [1, 2, 3])) + bt
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Convolution backward pass, reference loop implementation.

    Args:
        dout: ``(N, F, Ho, Wo)`` upstream gradient.
        cache: ``(x, w, b, conv_param)`` from :func:`conv_forward_naive`.

    Returns:
        ``(dx, dw, db)`` of shapes ``(N, C, H, W)``, ``(F, C, HH, WW)`` and ``(F,)`` in the
        promoted dtype of ``dout``, ``x``, ``w`` and ``b``.
    """
    fn = "conv_backward_naive"
    x, w, b, conv_param = unpack_cache(fn, cache, 4, "conv_forward_naive")
    xp = checked_namespace(fn, dout=dout, x=x, w=w, b=b)
    stride, pad, Ho, Wo = conv_geometry(fn, x, w, b, conv_param)
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    check_conv_dout(fn, dout, x, w, Ho, Wo)
    dt = xp.result_type(dout.dtype, x.dtype, w.dtype, b.dtype)
    g = xp.astype(dout, dt, copy=False)
    xpad = zero_pad(xp, xp.astype(x, dt, copy=False), pad)
    wt = xp.astype(w, dt, copy=False)
    dxpad = xp.zeros(xpad.shape, dtype=dt, device=_device(x))
    dw = xp.zeros(w.shape, dtype=dt, device=_device(x))
    for ho in range(Ho):
        for wo in range(Wo):
            rows = slice(ho * stride, ho * stride + HH)
            cols = slice(wo * stride, wo * stride + WW)
            g_pos = g[:, :, ho, wo]  # (N, F)
            dw += xp.tensordot(g_pos, xpad[:, :, rows, cols], axes=([0], [0]))
            dxpad[:, :, rows, cols] += xp.tensordot(g_pos, wt, axes=([1], [0]))
    db = xp.sum(g, axis=(0, 2, 3))
    dx = xp.asarray(dxpad[:, :, pad:pad + H, pad:pad + W], copy=True) if pad else dxpad
    return dx, dw, db
