"""Batch normalization and layer normalization on ``(N, D)`` features (Array API).

The normalization math works along any axes (:func:`normalize`, :func:`normalize_backward`,
:func:`scale_shift_grads`, :func:`batchnorm_rows`), so that batchnorm (over samples), layernorm
(over features) and the spatial variants in :mod:`xnn.layers.spatial_norms` share one
implementation; those helpers are public for that reason (they are not cs231n names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any, NamedTuple

from ..validation import (
    check_mode,
    check_ndim,
    check_number,
    check_shape,
    checked_namespace,
    require_keys,
    shape_of,
)

__all__ = ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
           "layernorm_forward", "layernorm_backward",
           # the shared norm math (used by the spatial variants)
           "NormCache", "batchnorm_rows", "check_norm_cache", "norm_eps", "normalize", "normalize_backward",
           "scale_shift_grads"]

Array = Any
Axes = tuple[int, ...]


class NormCache(NamedTuple):
    """What the norm layers keep for their backward pass (a plain tuple to callers).

    ``xc`` is the centred input, ``xhat`` the normalized input, ``std`` the
    ``sqrt(var + eps)`` that divided it (with kept dimensions), ``gamma`` the scale,
    ``axes`` the axes that were normalized over and ``train`` whether ``std`` came from the
    batch (False: from running statistics, which are constants for the gradient).
    """

    xc: Array
    xhat: Array
    std: Array
    gamma: Array
    axes: Axes
    train: bool


# --------------------------------------------------------------------------- shared math
def _count(shape: tuple[int, ...], axes: Axes) -> int:
    """Number of elements each statistic averages over."""
    return math.prod(shape[a] for a in axes)


def normalize(xp, x: Array, axes: Axes, eps: float) -> tuple[Array, Array, Array, Array]:
    """Mean, biased variance, centred and normalized ``x`` along ``axes`` (dims kept).

    Returns ``(mean, var, xc, std)``; ``xhat = xc / std``.
    """
    mean = xp.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    return mean, var, xc, xp.sqrt(var + eps)


def normalize_backward(xp, dxhat: Array, cache: NormCache) -> Array:
    """Closed-form gradient through ``xhat = (x - mean) / std`` along ``cache.axes``.

    ``dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std`` for batch statistics,
    ``dxhat / std`` for constant (running) statistics.
    """
    if not cache.train:
        return dxhat / cache.std
    axes = cache.axes
    mean_d = xp.mean(dxhat, axis=axes, keepdims=True)
    mean_dx = xp.mean(dxhat * cache.xhat, axis=axes, keepdims=True)
    return (dxhat - mean_d - cache.xhat * mean_dx) / cache.std


def _normalize_backward_graph(xp, dxhat: Array, cache: NormCache) -> Array:
    """The same gradient, walked node by node back through the computation graph.

    Graph: ``xc = x - mean``, ``var = mean(xc**2)``, ``std = sqrt(var + eps)``,
    ``inv = 1 / std``, ``xhat = xc * inv``.
    """
    if not cache.train:
        return dxhat / cache.std
    axes, xc, std = cache.axes, cache.xc, cache.std
    m = _count(shape_of(xc), axes)
    d_inv = xp.sum(dxhat * xc, axis=axes, keepdims=True)
    d_xc = dxhat / std
    d_std = -d_inv / (std * std)
    d_var = 0.5 * d_std / std
    d_xc = d_xc + (2.0 / m) * xc * d_var
    d_mean = -xp.sum(d_xc, axis=axes, keepdims=True)
    return d_xc + d_mean / m


# --------------------------------------------------------------------------- batchnorm
def _check_mode(fn: str, bn_param: MutableMapping) -> str:
    require_keys(fn, "bn_param", bn_param, ("mode",))
    return check_mode(fn, "batchnorm", bn_param["mode"])


def norm_eps(fn: str, param: Mapping | None, param_name: str) -> float:
    """``param['eps']`` (default 1e-5) checked to be a finite positive number; ``param`` may be None."""
    if param is None:
        return 1e-5
    if not isinstance(param, Mapping):
        raise TypeError(f"{fn}: {param_name} must be a dict or None, got {type(param).__name__}")
    return check_number(fn, f"{param_name}['eps']", param.get("eps", 1e-5), low=0.0, low_open=True)


def _check_scale_shift(fn: str, x: Array, gamma: Array, beta: Array, shape: tuple[int, ...]) -> None:
    check_shape(fn, "gamma", gamma, shape, f"x {shape_of(x)}")
    check_shape(fn, "beta", beta, shape, f"x {shape_of(x)}")


def _running_stat(fn: str, xp, bn_param: MutableMapping, key: str, x: Array) -> Array:
    """``bn_param[key]`` or fresh zeros ``(D,)`` of x's dtype on x's device."""
    D = x.shape[1]
    stat = bn_param.get(key)
    if stat is None:
        return xp.zeros((D,), dtype=x.dtype, device=x.device)
    check_shape(fn, f"bn_param['{key}']", stat, (D,), f"x {shape_of(x)}")
    return stat


def batchnorm_rows(fn: str, x: Array, gamma: Array, beta: Array,
                   bn_param: MutableMapping) -> tuple[Array, NormCache]:
    """Batchnorm of ``x (N, D)`` with ``gamma``/``beta`` ``(D,)``; returns ``(out (N, D), NormCache)``.

    Updates ``bn_param``'s running statistics in place; ``fn`` names the public caller in errors.
    """
    mode = _check_mode(fn, bn_param)
    check_ndim(fn, "x", x, 2, "(N, D)")
    _check_scale_shift(fn, x, gamma, beta, (x.shape[1],))
    stats = {k: bn_param[k] for k in ("running_mean", "running_var") if bn_param.get(k) is not None}
    xp = checked_namespace(fn, x=x, gamma=gamma, beta=beta, **stats)
    eps = norm_eps(fn, bn_param, "bn_param")
    momentum = check_number(fn, "bn_param['momentum']", bn_param.get("momentum", 0.9), 0.0, 1.0)
    running_mean = _running_stat(fn, xp, bn_param, "running_mean", x)
    running_var = _running_stat(fn, xp, bn_param, "running_var", x)
    if mode == "train":
        mean, var, xc, std = normalize(xp, x, (0,), eps)
        running_mean = momentum * running_mean + (1 - momentum) * mean[0, ...]
        running_var = momentum * running_var + (1 - momentum) * var[0, ...]
    else:
        xc = x - running_mean
        std = xp.sqrt(running_var + eps)[None, :]
    xhat = xc / std
    out = gamma * xhat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, NormCache(xc, xhat, std, gamma, (0,), mode == "train")


def scale_shift_grads(xp, dout: Array, cache: NormCache, sum_axes: Axes) -> tuple[Array, Array, Array]:
    """``(dxhat, dgamma, dbeta)`` of ``out = gamma * xhat + beta``."""
    dgamma = xp.sum(dout * cache.xhat, axis=sum_axes)
    dbeta = xp.sum(dout, axis=sum_axes)
    return dout * cache.gamma, dgamma, dbeta


def check_norm_cache(fn: str, cache: Any, cache_type: type, made_by: str) -> None:
    """``TypeError`` unless ``cache`` is the opaque cache object ``made_by`` returns."""
    if not isinstance(cache, cache_type):
        raise TypeError(f"{fn}: cache must be the cache returned by {made_by}, got {type(cache).__name__}")


def _check_dout(fn: str, dout: Array, cache: NormCache, made_by: str):
    check_norm_cache(fn, cache, NormCache, made_by)
    xp = checked_namespace(fn, dout=dout, x=cache.xhat)
    check_shape(fn, "dout", dout, shape_of(cache.xhat), "must match the forward input")
    return xp


def batchnorm_forward(x: Array, gamma: Array, beta: Array,
                      bn_param: MutableMapping) -> tuple[Array, NormCache]:
    """Batch normalization over the N samples of ``(N, D)`` data.

    Train mode normalizes with the minibatch mean and biased variance and updates
    ``running = momentum * running + (1 - momentum) * batch_stat`` (mean and variance).
    Test mode normalizes with the running statistics. Either way, out = gamma * xhat + beta.

    Args:
        x: ``(N, D)`` data.
        gamma, beta: ``(D,)`` scale and shift.
        bn_param: dict with ``'mode'`` (``'train'``/``'test'``, required), optional ``'eps'``
            (1e-5), ``'momentum'`` (0.9), ``'running_mean'`` and ``'running_var'`` (``(D,)``,
            default zeros of x's dtype). Both running statistics are written back into
            ``bn_param`` on every call.

    Returns:
        ``out`` ``(N, D)`` and an opaque cache (a :class:`NormCache` tuple: centred ``x``,
        ``xhat``, ``std`` ``(1, D)``, ``gamma``, axes, train flag) accepted by both
        :func:`batchnorm_backward` and :func:`batchnorm_backward_alt`.

    Raises:
        KeyError: ``'mode'`` missing. ValueError: invalid mode (message contains
        ``Invalid forward batchnorm mode "<mode>"``) or mismatched shapes.
        TypeError: arrays from different namespaces.
    """
    return batchnorm_rows("batchnorm_forward", x, gamma, beta, bn_param)


def _backward(fn: str, made_by: str, dout: Array, cache: NormCache, through_normalize) -> tuple[Array, Array, Array]:
    """``(dx, dgamma, dbeta)`` of a norm layer on ``(N, D)`` data; ``through_normalize`` is the
    gradient through ``xhat`` (:func:`normalize_backward` or the graph walk)."""
    xp = _check_dout(fn, dout, cache, made_by)
    dxhat, dgamma, dbeta = scale_shift_grads(xp, dout, cache, (0,))  # gamma, beta are per feature
    return through_normalize(xp, dxhat, cache), dgamma, dbeta


def batchnorm_backward(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """Batchnorm backward pass, node by node through the computation graph.

    Args:
        dout: ``(N, D)`` upstream gradient.
        cache: from :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``(N, D)``, ``(D,)``, ``(D,)``.
    """
    return _backward("batchnorm_backward", "batchnorm_forward", dout, cache, _normalize_backward_graph)


def batchnorm_backward_alt(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """Batchnorm backward pass in closed form: the arguments, cache and results of
    :func:`batchnorm_backward`, with fewer operations."""
    return _backward("batchnorm_backward_alt", "batchnorm_forward", dout, cache, normalize_backward)


# --------------------------------------------------------------------------- layernorm
def layernorm_forward(x: Array, gamma: Array, beta: Array,
                      ln_param: MutableMapping | None) -> tuple[Array, NormCache]:
    """Layer normalization: each sample (row) of ``(N, D)`` data is normalized over its D features.

    Args:
        x: ``(N, D)`` data.
        gamma, beta: ``(D,)`` scale and shift.
        ln_param: dict with optional ``'eps'`` (1e-5); other keys (``'mode'``) are ignored.

    Returns:
        ``out`` ``(N, D)`` and an opaque cache (a :class:`NormCache` tuple: centred ``x``,
        ``xhat``, ``std`` ``(N, 1)``, ``gamma``, axes, train flag).
    """
    fn = "layernorm_forward"
    xp = checked_namespace(fn, x=x, gamma=gamma, beta=beta)
    check_ndim(fn, "x", x, 2, "(N, D)")
    _check_scale_shift(fn, x, gamma, beta, (x.shape[1],))
    eps = norm_eps(fn, ln_param, "ln_param")
    _, _, xc, std = normalize(xp, x, (1,), eps)
    xhat = xc / std
    return gamma * xhat + beta, NormCache(xc, xhat, std, gamma, (1,), True)


def layernorm_backward(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """Layernorm backward pass: ``dout`` ``(N, D)`` and the cache of :func:`layernorm_forward` give
    ``(dx, dgamma, dbeta)`` shaped ``(N, D)``, ``(D,)``, ``(D,)``."""
    return _backward("layernorm_backward", "layernorm_forward", dout, cache, normalize_backward)
