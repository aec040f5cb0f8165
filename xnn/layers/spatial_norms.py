"""Spatial batch normalization and group normalization on ``(N, C, H, W)`` images (Array API)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, NamedTuple

from ..validation import (
    check_ndim,
    check_positive_int,
    check_shape,
    checked_namespace,
    shape_of,
    unpack_cache,
)
from .norms import (
    NormCache,
    batchnorm_rows,
    check_norm_cache,
    norm_eps,
    normalize,
    normalize_backward,
    scale_shift_grads,
)

__all__ = ["spatial_batchnorm_forward", "spatial_batchnorm_backward",
           "spatial_groupnorm_forward", "spatial_groupnorm_backward"]

Array = Any


class GroupNormCache(NamedTuple):
    """Groupnorm's backward state: the grouped :class:`NormCache` (over ``(N, G, C/G*H*W)``),
    the normalized input in image layout ``xhat`` ``(N, C, H, W)`` and the group count."""

    grouped: NormCache
    xhat: Array
    G: int


def _channels_last(xp, x: Array) -> Array:
    """``(N, C, H, W)`` -> ``(N*H*W, C)``."""
    N, C, H, W = x.shape
    return xp.reshape(xp.permute_dims(x, (0, 2, 3, 1)), (N * H * W, C))


def _channels_first(xp, rows: Array, shape: tuple[int, int, int, int]) -> Array:
    """``(N*H*W, C)`` -> ``(N, C, H, W)``."""
    N, C, H, W = shape
    return xp.permute_dims(xp.reshape(rows, (N, H, W, C)), (0, 3, 1, 2))


def spatial_batchnorm_forward(x: Array, gamma: Array, beta: Array,
                              bn_param: MutableMapping) -> tuple[Array, tuple[NormCache, tuple]]:
    """Batch normalization per channel over the N, H and W axes of ``(N, C, H, W)`` images.

    Moves channels last, runs vanilla batchnorm on the ``(N*H*W, C)`` rows and moves them back,
    so ``bn_param`` works exactly as in :func:`xnn.layers.norms.batchnorm_forward` (running
    statistics ``(C,)``, written back on every call).

    Args:
        x: ``(N, C, H, W)`` images.
        gamma, beta: ``(C,)`` scale and shift.
        bn_param: ``'mode'`` (required), optional ``'eps'``, ``'momentum'``, ``'running_mean'``,
            ``'running_var'``.

    Returns:
        ``out`` ``(N, C, H, W)`` and ``cache = (batchnorm cache of the rows, x.shape)``.
    """
    fn = "spatial_batchnorm_forward"
    xp = checked_namespace(fn, x=x, gamma=gamma, beta=beta)
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    C = x.shape[1]
    check_shape(fn, "gamma", gamma, (C,), f"x {shape_of(x)}")
    check_shape(fn, "beta", beta, (C,), f"x {shape_of(x)}")
    rows, cache = batchnorm_rows(fn, _channels_last(xp, x), gamma, beta, bn_param)
    return _channels_first(xp, rows, shape_of(x)), (cache, shape_of(x))


def spatial_batchnorm_backward(dout: Array, cache: tuple[NormCache, tuple]) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`spatial_batchnorm_forward`.

    Args:
        dout: ``(N, C, H, W)`` upstream gradient.
        cache: from :func:`spatial_batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``(N, C, H, W)``, ``(C,)``, ``(C,)``.
    """
    fn = "spatial_batchnorm_backward"
    bn_cache, shape = unpack_cache(fn, cache, 2, "spatial_batchnorm_forward")
    check_norm_cache(fn, bn_cache, NormCache, "spatial_batchnorm_forward")
    xp = checked_namespace(fn, dout=dout, x=bn_cache.xhat)
    check_shape(fn, "dout", dout, tuple(shape), "must match x")
    drows, dgamma, dbeta = scale_shift_grads(xp, _channels_last(xp, dout), bn_cache, (0,))
    dx_rows = normalize_backward(xp, drows, bn_cache)
    return _channels_first(xp, dx_rows, shape), dgamma, dbeta


def _check_groups(fn: str, x: Array, gamma: Array, beta: Array, G: Any) -> int:
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    C = x.shape[1]
    G = check_positive_int(fn, "G", G)
    if C % G != 0:
        raise ValueError(f"{fn}: G={G} groups must divide the {C} channels of x {shape_of(x)}")
    check_shape(fn, "gamma", gamma, (1, C, 1, 1), f"x {shape_of(x)}")
    check_shape(fn, "beta", beta, (1, C, 1, 1), f"x {shape_of(x)}")
    return G


def spatial_groupnorm_forward(x: Array, gamma: Array, beta: Array, G: int,
                              gn_param: MutableMapping | None) -> tuple[Array, GroupNormCache]:
    """Group normalization: the C channels split into G contiguous blocks, and each
    (sample, group) is normalized over its ``(C/G, H, W)`` values.

    Args:
        x: ``(N, C, H, W)`` images.
        gamma, beta: ``(1, C, 1, 1)`` per-channel scale and shift.
        G: number of groups; must divide C.
        gn_param: dict with optional ``'eps'`` (1e-5); other keys are ignored.

    Returns:
        ``out`` ``(N, C, H, W)`` and an opaque :class:`GroupNormCache` tuple.

    Raises:
        ValueError: x not 4-D, G not a positive divisor of C, gamma/beta not ``(1, C, 1, 1)``.
    """
    fn = "spatial_groupnorm_forward"
    xp = checked_namespace(fn, x=x, gamma=gamma, beta=beta)
    G = _check_groups(fn, x, gamma, beta, G)
    N, C, H, W = x.shape
    eps = norm_eps(fn, gn_param, "gn_param")
    grouped_x = xp.reshape(x, (N, G, (C // G) * H * W))
    _, _, xc, std = normalize(xp, grouped_x, (2,), eps)
    grouped_xhat = xc / std
    xhat = xp.reshape(grouped_xhat, x.shape)
    cache = GroupNormCache(NormCache(xc, grouped_xhat, std, gamma, (2,), True), xhat, G)
    return gamma * xhat + beta, cache


def spatial_groupnorm_backward(dout: Array, cache: GroupNormCache) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`spatial_groupnorm_forward`.

    Args:
        dout: ``(N, C, H, W)`` upstream gradient.
        cache: from :func:`spatial_groupnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``(N, C, H, W)``, ``(1, C, 1, 1)``, ``(1, C, 1, 1)``.
    """
    check_norm_cache("spatial_groupnorm_backward", cache, GroupNormCache, "spatial_groupnorm_forward")
    grouped, xhat, _ = cache
    xp = checked_namespace("spatial_groupnorm_backward", dout=dout, x=xhat)
    shape = shape_of(xhat)
    check_shape("spatial_groupnorm_backward", "dout", dout, shape, "must match x")
    dgamma = xp.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dbeta = xp.sum(dout, axis=(0, 2, 3), keepdims=True)
    dxhat = xp.reshape(dout * grouped.gamma, shape_of(grouped.xhat))
    return xp.reshape(normalize_backward(xp, dxhat, grouped), shape), dgamma, dbeta
