"""Affine (fully connected) and ReLU layers, written against the Array API.

Both layers follow the cs231n contract: ``forward(...) -> (out, cache)`` and
``backward(dout, cache) -> grads``, with the caches cs231n documents.
"""

from __future__ import annotations

import math
from typing import Any

from .. import kernels
from ..validation import check_ndim, check_shape, checked_namespace, shape_of, unpack_cache

__all__ = ["affine_forward", "affine_backward", "relu_forward", "relu_backward"]

Array = Any


def _flat_size(shape: tuple[int, ...]) -> int:
    """Number of features per sample: the product of every dimension after the first."""
    return math.prod(shape[1:])


def _check_affine_inputs(x: Array, w: Array, b: Array) -> None:
    """Ranks and shapes of affine inputs; the message names x, w and b with their shapes."""
    fn = "affine_forward"
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must be at least 1-D (N, d_1, ..., d_k), got shape {shape_of(x)}")
    check_ndim(fn, "w", w, 2, "(D, M)")
    check_ndim(fn, "b", b, 1, "(M,)")
    D = _flat_size(shape_of(x))
    if w.shape[0] != D:
        raise ValueError(f"{fn}: w must have {D} rows to match x {shape_of(x)} flattened to "
                         f"({x.shape[0]}, {D}), got w {shape_of(w)}")
    check_shape(fn, "b", b, (w.shape[1],), f"w {shape_of(w)}")


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """Fully connected layer: ``out = x.reshape(N, D) @ w + b``.

    Args:
        x: ``(N, d_1, ..., d_k)`` inputs; each sample is flattened to ``D = d_1 * ... * d_k``.
        w: ``(D, M)`` weights.
        b: ``(M,)`` biases.

    Returns:
        ``out`` of shape ``(N, M)`` in the inputs' namespace, and ``cache = (x, w, b)`` holding
        the original, unflattened ``x``.

    Raises:
        ValueError: wrong ranks, or ``w`` rows != ``D``, or ``b`` not ``(M,)``.
        TypeError: inputs from different namespaces or devices.
    """
    xp = checked_namespace("affine_forward", x=x, w=w, b=b)
    _check_affine_inputs(x, w, b)
    x2 = xp.reshape(x, (x.shape[0], w.shape[0]))
    out = kernels.matmul(x2, w, xp=xp) + b
    return out, (x, w, b)


def affine_backward(dout: Array, cache: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`affine_forward`.

    Args:
        dout: ``(N, M)`` upstream gradient.
        cache: ``(x, w, b)`` from :func:`affine_forward`.

    Returns:
        ``(dx, dw, db)`` with shapes ``x.shape`` (unflattened), ``(D, M)`` and ``(M,)``.
    """
    x, w, _ = unpack_cache("affine_backward", cache, 3, "affine_forward")
    xp = checked_namespace("affine_backward", dout=dout, x=x, w=w)
    check_ndim("affine_backward", "w", w, 2, "(D, M)")
    N, D = x.shape[0], w.shape[0]
    check_shape("affine_backward", "dout", dout, (N, w.shape[1]), f"x {shape_of(x)}, w {shape_of(w)}")
    x2 = xp.reshape(x, (N, D))
    dx = xp.reshape(kernels.matmul(dout, xp.matrix_transpose(w), xp=xp), x.shape)
    dw = kernels.matmul(xp.matrix_transpose(x2), dout, xp=xp)
    db = xp.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x: Array) -> tuple[Array, Array]:
    """Rectified linear unit: ``out = max(x, 0)`` elementwise.

    Args:
        x: array of any shape.

    Returns:
        ``out`` with ``x``'s shape, dtype and namespace, and ``cache = x``.
    """
    xp = checked_namespace("relu_forward", x=x)
    out = xp.maximum(x, xp.zeros_like(x))
    return out, x


def relu_backward(dout: Array, cache: Array) -> Array:
    """Backward pass of :func:`relu_forward`.

    Args:
        dout: upstream gradient, any shape (same as ``x``).
        cache: ``x`` from :func:`relu_forward`.

    Returns:
        ``dx`` (a single array, not a tuple): ``dout`` where ``x > 0``, else 0 (computed by
        :func:`xnn.kernels.relu_backward`: branch-free on NumPy, ``where`` elsewhere).
    """
    x = cache
    xp = checked_namespace("relu_backward", dout=dout, x=x)
    check_shape("relu_backward", "dout", dout, shape_of(x), "must match x")
    return kernels.relu_backward(dout, x, xp=xp)
