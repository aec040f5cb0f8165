"""Sandwich layers (cs231n ``layer_utils.py``): common layer stacks as one forward/backward pair.

Each forward returns ``(out, cache)`` where ``cache`` is the tuple of the sub-layer caches in
forward order, exactly as cs231n builds it; each backward walks the stack in reverse. The conv
sandwiches use the fast conv and max-pool layers, like cs231n. The norm sandwiches
(``affine_bn_relu``, ``affine_ln_relu``) are the ones students add; ``conv_bn_relu`` ships with
the course. All of them run on any Array API namespace because their parts do.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ..validation import unpack_cache
from .affine import affine_backward, affine_forward, relu_backward, relu_forward
from .conv_fast import conv_backward_fast, conv_forward_fast
from .norms import (
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .pool import max_pool_backward_fast, max_pool_forward_fast
from .spatial_norms import spatial_batchnorm_backward, spatial_batchnorm_forward

__all__ = [
    "affine_relu_forward", "affine_relu_backward",
    "affine_bn_relu_forward", "affine_bn_relu_backward",
    "affine_ln_relu_forward", "affine_ln_relu_backward",
    "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward",
]

Array = Any
Param = MutableMapping[str, Any]


def _linear_norm_relu(linear, norm, x: Array, w: Array, b: Array, gamma: Array, beta: Array,
                      linear_args: tuple, norm_param: Param) -> tuple[Array, tuple[Any, Any, Any]]:
    """``relu(norm(linear(x, w, b, *linear_args), gamma, beta, norm_param))`` and the three caches."""
    a, linear_cache = linear(x, w, b, *linear_args)
    an, norm_cache = norm(a, gamma, beta, norm_param)
    out, relu_cache = relu_forward(an)
    return out, (linear_cache, norm_cache, relu_cache)


def _linear_norm_relu_backward(fn: str, made_by: str, linear_backward, norm_backward, dout: Array,
                               cache: Any) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of :func:`_linear_norm_relu`: ``(dx, dw, db, dgamma, dbeta)``."""
    linear_cache, norm_cache, relu_cache = unpack_cache(fn, cache, 3, made_by)
    da, dgamma, dbeta = norm_backward(relu_backward(dout, relu_cache), norm_cache)
    dx, dw, db = linear_backward(da, linear_cache)
    return dx, dw, db, dgamma, dbeta


# --------------------------------------------------------------------------- fully connected
def affine_relu_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple[Any, Any]]:
    """Affine then ReLU.

    Args:
        x: ``(N, d_1, ..., d_k)`` inputs (flattened to ``(N, D)``); w: ``(D, M)``; b: ``(M,)``.

    Returns:
        ``out`` ``(N, M)`` and ``cache = (fc_cache, relu_cache)``: the affine cache
        ``(x, w, b)`` and the ReLU cache (the affine output).
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: Array, cache: tuple[Any, Any]) -> tuple[Array, Array, Array]:
    """Backward of :func:`affine_relu_forward`: ``dout`` ``(N, M)`` -> ``(dx, dw, db)``
    shaped like ``x``, ``w``, ``b``."""
    fc_cache, relu_cache = unpack_cache("affine_relu_backward", cache, 2, "affine_relu_forward")
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def affine_bn_relu_forward(x: Array, w: Array, b: Array, gamma: Array, beta: Array,
                           bn_param: Param) -> tuple[Array, tuple[Any, Any, Any]]:
    """Affine, batch normalization, ReLU.

    Args:
        x: ``(N, d_1, ..., d_k)``; w: ``(D, M)``; b, gamma, beta: ``(M,)``.
        bn_param: batchnorm options (``mode`` required; running stats written back in place).

    Returns:
        ``out`` ``(N, M)`` and ``cache = (fc_cache, bn_cache, relu_cache)``.
    """
    return _linear_norm_relu(affine_forward, batchnorm_forward, x, w, b, gamma, beta, (), bn_param)


def affine_bn_relu_backward(dout: Array, cache: tuple[Any, Any, Any]
                            ) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of :func:`affine_bn_relu_forward`: ``dout`` ``(N, M)`` ->
    ``(dx, dw, db, dgamma, dbeta)`` shaped like ``x``, ``w``, ``b``, ``gamma``, ``beta``."""
    return _linear_norm_relu_backward("affine_bn_relu_backward", "affine_bn_relu_forward", affine_backward,
                                      batchnorm_backward_alt, dout, cache)


def affine_ln_relu_forward(x: Array, w: Array, b: Array, gamma: Array, beta: Array,
                           ln_param: Param) -> tuple[Array, tuple[Any, Any, Any]]:
    """Affine, layer normalization, ReLU.

    Args:
        x: ``(N, d_1, ..., d_k)``; w: ``(D, M)``; b, gamma, beta: ``(M,)``.
        ln_param: layernorm options (``eps``; other keys are ignored).

    Returns:
        ``out`` ``(N, M)`` and ``cache = (fc_cache, ln_cache, relu_cache)``.
    """
    return _linear_norm_relu(affine_forward, layernorm_forward, x, w, b, gamma, beta, (), ln_param)


def affine_ln_relu_backward(dout: Array, cache: tuple[Any, Any, Any]
                            ) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of :func:`affine_ln_relu_forward`: ``dout`` ``(N, M)`` ->
    ``(dx, dw, db, dgamma, dbeta)``."""
    return _linear_norm_relu_backward("affine_ln_relu_backward", "affine_ln_relu_forward", affine_backward,
                                      layernorm_backward, dout, cache)


# --------------------------------------------------------------------------- convolutional
def conv_relu_forward(x: Array, w: Array, b: Array, conv_param: Param) -> tuple[Array, tuple[Any, Any]]:
    """Fast convolution then ReLU.

    Args:
        x: ``(N, C, H, W)``; w: ``(F, C, HH, WW)``; b: ``(F,)``; conv_param: ``stride``, ``pad``.

    Returns:
        ``out`` ``(N, F, H', W')`` and ``cache = (conv_cache, relu_cache)``.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: Array, cache: tuple[Any, Any]) -> tuple[Array, Array, Array]:
    """Backward of :func:`conv_relu_forward`: ``dout`` ``(N, F, H', W')`` -> ``(dx, dw, db)``."""
    conv_cache, relu_cache = unpack_cache("conv_relu_backward", cache, 2, "conv_relu_forward")
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_bn_relu_forward(x: Array, w: Array, b: Array, gamma: Array, beta: Array, conv_param: Param,
                         bn_param: Param) -> tuple[Array, tuple[Any, Any, Any]]:
    """Fast convolution, spatial batch normalization, ReLU.

    Args:
        x: ``(N, C, H, W)``; w: ``(F, C, HH, WW)``; b, gamma, beta: ``(F,)``;
        conv_param: ``stride``, ``pad``; bn_param: batchnorm options (running stats ``(F,)``
        written back in place).

    Returns:
        ``out`` ``(N, F, H', W')`` and ``cache = (conv_cache, bn_cache, relu_cache)``.
    """
    return _linear_norm_relu(conv_forward_fast, spatial_batchnorm_forward, x, w, b, gamma, beta, (conv_param,),
                             bn_param)


def conv_bn_relu_backward(dout: Array, cache: tuple[Any, Any, Any]
                          ) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of :func:`conv_bn_relu_forward`: ``dout`` ``(N, F, H', W')`` ->
    ``(dx, dw, db, dgamma, dbeta)``."""
    return _linear_norm_relu_backward("conv_bn_relu_backward", "conv_bn_relu_forward", conv_backward_fast,
                                      spatial_batchnorm_backward, dout, cache)


def conv_relu_pool_forward(x: Array, w: Array, b: Array, conv_param: Param,
                           pool_param: Param) -> tuple[Array, tuple[Any, Any, Any]]:
    """Fast convolution, ReLU, fast max-pool.

    Args:
        x: ``(N, C, H, W)``; w: ``(F, C, HH, WW)``; b: ``(F,)``; conv_param: ``stride``, ``pad``;
        pool_param: ``pool_height``, ``pool_width``, ``stride``.

    Returns:
        ``out`` ``(N, F, H'', W'')`` and ``cache = (conv_cache, relu_cache, pool_cache)``.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: Array, cache: tuple[Any, Any, Any]) -> tuple[Array, Array, Array]:
    """Backward of :func:`conv_relu_pool_forward`: ``dout`` ``(N, F, H'', W'')`` -> ``(dx, dw, db)``."""
    conv_cache, relu_cache, pool_cache = unpack_cache("conv_relu_pool_backward", cache, 3, "conv_relu_pool_forward")
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)
