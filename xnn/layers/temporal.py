"""Layers applied at every time step: word embeddings, the temporal affine layer and the masked
temporal softmax loss, written against the Array API.

The embedding backward is a scatter-add (repeated words accumulate), which the standard has no
function for: it goes through :func:`xnn.kernels.embedding_backward` (a sorted segment sum on
NumPy, a deterministic gather kernel on CUDA, a one-hot product on any other namespace).
"""

from __future__ import annotations

from typing import Any

from .. import kernels
from ..validation import check_indices, check_ndim, check_shape, checked_namespace, shape_of, unpack_cache
from .losses import log_softmax, one_hot
from .recurrent_common import check_mask, time_affine, time_affine_grads

__all__ = ["word_embedding_forward", "word_embedding_backward", "temporal_affine_forward",
           "temporal_affine_backward", "temporal_softmax_loss"]

Array = Any


def word_embedding_forward(x: Array, W: Array) -> tuple[Array, tuple[Array, Array]]:
    """Look up word vectors: ``out[n, t] = W[x[n, t]]``.

    Args:
        x: ``(N, T)`` integer word indices with ``0 <= x < V``.
        W: ``(V, D)`` word vectors.

    Returns:
        ``(out (N, T, D), cache)``: ``out`` is a new array (not a view of ``W``), in ``W``'s
        dtype; ``cache = (x, W)`` (the backward reads the indices and W's shape and dtype).

    Raises:
        TypeError: ``x`` not integer; ValueError: wrong ranks or an index outside ``[0, V)``.
    """
    fn = "word_embedding_forward"
    xp = checked_namespace(fn, x=x, W=W)
    check_ndim(fn, "W", W, 2, "(V, D)")
    check_ndim(fn, "x", x, 2, "(N, T) word indices")
    V, D = W.shape
    check_indices(fn, "x", x, None, V)
    N, T = x.shape
    out = xp.take(W, xp.reshape(x, (N * T,)), axis=0)
    return xp.reshape(out, (N, T, D)), (x, W)


def word_embedding_backward(dout: Array, cache: tuple[Array, Array]) -> Array:
    """Backward pass of :func:`word_embedding_forward`: the gradient of ``W`` only.

    Args:
        dout: ``(N, T, D)`` upstream gradient.
        cache: ``(x, W)`` from :func:`word_embedding_forward`.

    Returns:
        ``dW`` (a single array, not a tuple), ``(V, D)`` in W's dtype: every ``dout[n, t]`` added
        at row ``x[n, t]`` (repeated words accumulate; rows of words that do not occur are 0).
    """
    fn = "word_embedding_backward"
    x, W = unpack_cache(fn, cache, 2, "word_embedding_forward")
    xp = checked_namespace(fn, dout=dout, x=x, W=W)
    N, T = x.shape
    V, D = W.shape
    check_shape(fn, "dout", dout, (N, T, D), f"x {shape_of(x)}, W {shape_of(W)}")
    dW = kernels.embedding_backward(xp.reshape(dout, (N * T, D)), xp.reshape(x, (N * T,)), V, xp=xp)
    return dW if dW.dtype == W.dtype else xp.astype(dW, W.dtype)


def temporal_affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple]:
    """An affine layer applied at every time step: ``out[n, t] = x[n, t] @ w + b``.

    Args:
        x: ``(N, T, D)``; w: ``(D, M)``; b: ``(M,)``.

    Returns:
        ``(out (N, T, M), cache)`` with ``cache = (x, w, b, out)``.
    """
    fn = "temporal_affine_forward"
    xp = checked_namespace(fn, x=x, w=w, b=b)
    check_ndim(fn, "x", x, 3, "(N, T, D)")
    check_ndim(fn, "w", w, 2, "(D, M)")
    N, T, D = x.shape
    M = w.shape[1]
    check_shape(fn, "w", w, (D, M), f"x {shape_of(x)}")
    check_shape(fn, "b", b, (M,), f"w {shape_of(w)}")
    out = time_affine(xp, x, w, b)
    return out, (x, w, b, out)


def temporal_affine_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Backward pass of :func:`temporal_affine_forward`.

    Args:
        dout: ``(N, T, M)`` upstream gradient; cache: from the forward.

    Returns:
        ``(dx (N, T, D), dw (D, M), db (M,))``, sums over every ``(n, t)`` for dw and db.
    """
    fn = "temporal_affine_backward"
    x, w, _, out = unpack_cache(fn, cache, 4, "temporal_affine_forward")
    xp = checked_namespace(fn, dout=dout, x=x, w=w)
    check_shape(fn, "dout", dout, shape_of(out), "must match the forward's out (N, T, M)")
    return time_affine_grads(xp, dout, x, w)


def temporal_softmax_loss(x: Array, y: Array, mask: Array, verbose: bool = False) -> tuple[float, Array]:
    """Softmax cross-entropy at every time step, masked, summed over time and averaged over N.

    ``loss = -(1/N) * sum_{n,t} mask[n, t] * log softmax(x[n, t])[y[n, t]]``: divided by the
    batch size N, not by T or by the number of unmasked entries. A row whose mask is all False
    adds nothing but still counts in N.

    Args:
        x: ``(N, T, V)`` scores; y: ``(N, T)`` integer targets in ``[0, V)``;
        mask: ``(N, T)`` boolean (or 0/1) array saying which targets count.
        verbose: print the flattened gradient's shape (``dx_flat:  (N*T, V)``) like cs231n.

    Returns:
        ``(loss, dx)``: a Python float and ``dx (N, T, V)`` in x's dtype,
        ``mask * (softmax(x) - onehot(y)) / N`` (exactly 0 where the mask is False).

    Raises:
        ValueError: wrong ranks or shapes, no samples, targets out of range;
        TypeError: non-integer targets, mixed namespaces or devices.
    """
    fn = "temporal_softmax_loss"
    xp = checked_namespace(fn, x=x, y=y)
    check_ndim(fn, "x", x, 3, "(N, T, V) scores")
    N, T, V = x.shape
    if N < 1 or V < 1:
        raise ValueError(f"{fn}: x must hold at least one sequence and one vocabulary entry, got shape {(N, T, V)}")
    check_indices(fn, "y", y, (N, T), V)
    check_mask(fn, mask, (N, T), x)
    x2 = xp.reshape(x, (N * T, V))
    weights = xp.astype(xp.reshape(mask, (N * T, 1)), x.dtype)
    log_probs = log_softmax(xp, x2)
    onehot = one_hot(xp, xp.reshape(y, (N * T,)), V, x.dtype)
    loss = -xp.sum(weights * log_probs * onehot) / N
    dx2 = (xp.exp(log_probs) - onehot) * weights / N
    if verbose:
        print("dx_flat: ", tuple(dx2.shape))
    return float(loss), xp.reshape(dx2, (N, T, V))
