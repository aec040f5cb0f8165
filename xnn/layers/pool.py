"""Max-pool layers: the naive reference and the cs231n ``fast``, ``reshape`` and ``im2col`` pairs.

No padding; floor semantics ``Ho = 1 + (H - pool_height) // stride`` (likewise ``Wo``); any
window and stride, overlapping or not. Every backward pass sends each gradient to the **first**
maximum of its window (row-major scan), like the naive reference and PyTorch. This deliberately
differs from cs231n's ``max_pool_backward_reshape``, which splits the gradient among tied maxima
(one rule for every path is worth more than that quirk; for continuous random data the two never
differ).

The fast pairs run on :mod:`xnn.kernels` (NumPy fast paths, CUDA on CuPy, standard-only slice
loops elsewhere); the ``im2col`` pair works for every geometry (cs231n's raises ``NameError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from array_api_compat import device as _device

from .. import kernels
from ..validation import (
    check_ndim,
    check_shape,
    checked_namespace,
    pool_output_size,
    require_keys,
    shape_of,
    unpack_cache,
)

__all__ = [
    "max_pool_backward_fast",
    "max_pool_backward_im2col",
    "max_pool_backward_naive",
    "max_pool_backward_reshape",
    "max_pool_forward_fast",
    "max_pool_forward_im2col",
    "max_pool_forward_naive",
    "max_pool_forward_reshape",
]

Array = Any


def _geometry(fn: str, x: Array, pool_param: Mapping, xp: Any = None) -> tuple[Any, int, int, int, int, int]:
    """Validate; return ``(xp, pool_height, pool_width, stride, Ho, Wo)``. A backward pass that has
    already checked the namespace of ``x`` with its other arrays passes it as ``xp``."""
    xp = xp if xp is not None else checked_namespace(fn, x=x)
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    require_keys(fn, "pool_param", pool_param, ("pool_height", "pool_width", "stride"))
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = pool_output_size(fn, shape_of(x), ph, pw, s)
    return xp, int(ph), int(pw), int(s), Ho, Wo


def _check_dout(fn: str, dout: Array, x: Array, Ho: int, Wo: int) -> None:
    check_shape(fn, "dout", dout, (x.shape[0], x.shape[1], Ho, Wo), f"x {shape_of(x)}")


def max_pool_forward_naive(x: Array, pool_param: Mapping) -> tuple[Array, tuple]:
    """Max-pool forward pass, reference loop over output positions.

    Args:
        x: ``(N, C, H, W)`` input.
        pool_param: ``'pool_height'``, ``'pool_width'``, ``'stride'`` (positive integers).

    Returns:
        ``out`` ``(N, C, Ho, Wo)`` (x's namespace and dtype) and ``cache = (x, pool_param)`` exactly.
    """
    xp, ph, pw, s, Ho, Wo = _geometry("max_pool_forward_naive", x, pool_param)
    out = xp.empty((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype, device=_device(x))
    for ho in range(Ho):
        for wo in range(Wo):
            out[:, :, ho, wo] = xp.max(x[:, :, ho * s:ho * s + ph, wo * s:wo * s + pw], axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout: Array, cache: tuple) -> Array:
    """Max-pool backward pass, reference loop: each gradient goes to its window's first maximum.

    Args:
        dout: ``(N, C, Ho, Wo)`` upstream gradient.
        cache: ``(x, pool_param)`` from :func:`max_pool_forward_naive`.

    Returns:
        ``dx`` ``(N, C, H, W)`` in the promoted dtype of ``dout`` and ``x``.
    """
    fn = "max_pool_backward_naive"
    x, pool_param = unpack_cache(fn, cache, 2, "max_pool_forward_naive")
    xp, ph, pw, s, Ho, Wo = _geometry(fn, x, pool_param, checked_namespace(fn, dout=dout, x=x))
    _check_dout(fn, dout, x, Ho, Wo)
    N, C = x.shape[0], x.shape[1]
    dt = xp.result_type(dout.dtype, x.dtype)
    dx = xp.zeros(shape_of(x), dtype=dt, device=_device(x))
    offsets = xp.arange(ph * pw, device=_device(x))
    for ho in range(Ho):
        for wo in range(Wo):
            rows, cols = slice(ho * s, ho * s + ph), slice(wo * s, wo * s + pw)
            first = xp.argmax(xp.reshape(x[:, :, rows, cols], (N, C, ph * pw)), axis=2)  # first max
            hit = offsets == first[:, :, None]                                            # (N, C, ph*pw)
            g = xp.astype(dout[:, :, ho:ho + 1, wo], dt, copy=False)                      # (N, C, 1)
            dx[:, :, rows, cols] += xp.reshape(xp.where(hit, g, xp.zeros_like(g)), (N, C, ph, pw))
    return dx


def _tiles(ph: int, pw: int, s: int, H: int, W: int) -> bool:
    """True when the windows tile the input exactly (the cs231n reshape condition)."""
    return ph == pw == s and H % ph == 0 and W % pw == 0


def max_pool_forward_reshape(x: Array, pool_param: Mapping) -> tuple[Array, tuple]:
    """Max-pool forward for tiling pools (``pool_height == pool_width == stride`` dividing H and W).

    x ``(N, C, H, W)``; returns ``out`` ``(N, C, H/ph, W/pw)`` and ``cache = (x, argmax, pool_param)``
    with ``argmax`` ``(N, C, Ho, Wo)`` int32 (index ``i*pool_width + j`` of the first maximum).
    Raises ``ValueError`` naming the geometry when the windows do not tile ``x``.
    """
    fn = "max_pool_forward_reshape"
    xp, ph, pw, s, _, _ = _geometry(fn, x, pool_param)
    H, W = x.shape[2], x.shape[3]
    if not _tiles(ph, pw, s, H, W):
        raise ValueError(f"{fn}: needs pool_height == pool_width == stride dividing H and W, got pool "
                         f"{ph}x{pw} stride {s} on x {shape_of(x)}; use max_pool_forward_fast or _im2col")
    out, argmax = kernels.maxpool_forward(x, ph, pw, s, xp=xp)
    return out, (x, argmax, pool_param)


def max_pool_forward_im2col(x: Array, pool_param: Mapping) -> tuple[Array, tuple]:
    """Max-pool forward for any geometry (overlapping, non-square, floor-cropped).

    x ``(N, C, H, W)``; returns ``out`` ``(N, C, Ho, Wo)`` and ``cache = (x, argmax, pool_param)``
    with ``argmax`` ``(N, C, Ho, Wo)`` int32 (index ``i*pool_width + j`` of the first maximum).
    """
    xp, ph, pw, s, _, _ = _geometry("max_pool_forward_im2col", x, pool_param)
    out, argmax = kernels.maxpool_forward(x, ph, pw, s, xp=xp)
    return out, (x, argmax, pool_param)


def _backward_from_argmax(fn: str, dout: Array, cache: tuple, made_by: str) -> Array:
    x, argmax, pool_param = unpack_cache(fn, cache, 3, made_by)
    xp, ph, pw, s, Ho, Wo = _geometry(fn, x, pool_param, checked_namespace(fn, dout=dout, x=x, argmax=argmax))
    _check_dout(fn, dout, x, Ho, Wo)
    g = xp.astype(dout, xp.result_type(dout.dtype, x.dtype), copy=False)
    return kernels.maxpool_backward(g, argmax, shape_of(x), ph, pw, s, xp=xp)


def max_pool_backward_reshape(dout: Array, cache: tuple) -> Array:
    """Backward of :func:`max_pool_forward_reshape`: dout ``(N, C, Ho, Wo)`` -> dx ``(N, C, H, W)``.

    Each gradient goes to the first maximum of its window (cs231n splits it among ties).
    """
    return _backward_from_argmax("max_pool_backward_reshape", dout, cache, "max_pool_forward_reshape")


def max_pool_backward_im2col(dout: Array, cache: tuple) -> Array:
    """Backward of :func:`max_pool_forward_im2col`: dout ``(N, C, Ho, Wo)`` -> dx ``(N, C, H, W)``.

    Each gradient goes to the first maximum of its window; overlapping windows add.
    """
    return _backward_from_argmax("max_pool_backward_im2col", dout, cache, "max_pool_forward_im2col")


def max_pool_forward_fast(x: Array, pool_param: Mapping) -> tuple[Array, tuple]:
    """Max-pool forward that picks the reshape path for tiling pools and the im2col path otherwise.

    x ``(N, C, H, W)``; returns ``out`` ``(N, C, Ho, Wo)`` and ``cache = (tag, inner)`` with
    ``tag`` ``'reshape'`` or ``'im2col'`` and ``inner`` that path's cache.
    """
    xp, ph, pw, s, _, _ = _geometry("max_pool_forward_fast", x, pool_param)
    # Both pairs run the same kernel (validated once here); the tag records which one the geometry picks.
    out, argmax = kernels.maxpool_forward(x, ph, pw, s, xp=xp)
    return out, ("reshape" if _tiles(ph, pw, s, x.shape[2], x.shape[3]) else "im2col", (x, argmax, pool_param))


def max_pool_backward_fast(dout: Array, cache: tuple) -> Array:
    """Backward of :func:`max_pool_forward_fast`: dispatches on the cache's tag.

    dout ``(N, C, Ho, Wo)`` -> dx ``(N, C, H, W)``. An unknown tag raises
    ``ValueError('Unrecognized method "<tag>"')``.
    """
    method, inner = unpack_cache("max_pool_backward_fast", cache, 2, "max_pool_forward_fast")
    if method in ("reshape", "im2col"):
        return _backward_from_argmax("max_pool_backward_fast", dout, inner, "max_pool_forward_fast")
    raise ValueError(f'Unrecognized method "{method}"')
