"""Vanilla RNN layers (tanh cell), one step and a whole sequence, written against the Array API.

``next_h = tanh(x @ Wx + prev_h @ Wh + b)``. The sequence layers run the cell over T steps from
``h0``; the input projection ``x @ Wx + b`` of every step is one matrix product before the loop,
and the backward pass computes ``dx``, ``dWx``, ``dWh`` and ``db`` as one product each after the
loop (only the recurrent gradient has to walk back step by step). Caches are opaque tuples that
only the matching backward reads.
"""

from __future__ import annotations

from typing import Any

from .. import kernels
from ..validation import check_shape, checked_namespace, shape_of, unpack_cache
from .recurrent_common import check_sequence_inputs, check_step_inputs, sequence_grads, step_grads, time_affine

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]

Array = Any


def rnn_step_forward(x: Array, prev_h: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, tuple]:
    """One tanh RNN step: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``.

    Args:
        x: ``(N, D)`` inputs; prev_h: ``(N, H)`` previous hidden state;
        Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.

    Returns:
        ``(next_h (N, H), cache)`` with ``cache = (x, prev_h, Wx, Wh, next_h)``.

    Raises:
        ValueError: wrong ranks or shapes (the message names the argument and the shapes).
        TypeError: non-arrays, or arrays from different namespaces or devices.
    """
    fn = "rnn_step_forward"
    xp = checked_namespace(fn, x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, b=b)
    check_step_inputs(fn, x, prev_h, Wx, Wh, b, gates=1)
    next_h = xp.tanh(kernels.matmul(x, Wx, xp=xp) + kernels.matmul(prev_h, Wh, xp=xp) + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`rnn_step_forward`.

    Args:
        dnext_h: ``(N, H)`` gradient of the loss with respect to ``next_h``.
        cache: from :func:`rnn_step_forward`.

    Returns:
        ``(dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    fn = "rnn_step_backward"
    x, prev_h, Wx, Wh, next_h = unpack_cache(fn, cache, 5, "rnn_step_forward")
    xp = checked_namespace(fn, dnext_h=dnext_h, next_h=next_h)
    check_shape(fn, "dnext_h", dnext_h, shape_of(next_h), "must match next_h")
    da = dnext_h * (1.0 - next_h * next_h)
    return step_grads(xp, da, x, prev_h, Wx, Wh)


def rnn_forward(x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, tuple]:
    """A tanh RNN over a whole sequence.

    Args:
        x: ``(N, T, D)`` inputs; h0: ``(N, H)`` initial hidden state;
        Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.

    Returns:
        ``(h (N, T, H), cache)``: the hidden state after every step (``h0`` not included), and
        ``cache = (x, h0, Wx, Wh, h)``.

    Raises:
        ValueError: wrong ranks or shapes (``h0`` must be ``(N, H)`` for x's N and Wh's H).
        TypeError: non-arrays, or arrays from different namespaces or devices.
    """
    fn = "rnn_forward"
    xp = checked_namespace(fn, x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    N, T, _, H = check_sequence_inputs(fn, x, h0, Wx, Wh, b, gates=1)
    xw = time_affine(xp, x, Wx, b)   # all steps' input terms
    h = xp.empty((N, T, H), dtype=xp.result_type(x, h0, Wx, Wh, b), device=x.device)
    prev = h0
    for t in range(T):
        prev = xp.tanh(xw[:, t, :] + kernels.matmul(prev, Wh, xp=xp))
        h[:, t, :] = prev
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`rnn_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradients of every step's hidden state (from the loss at each
            step; the recurrent part is added here).
        cache: from :func:`rnn_forward`.

    Returns:
        ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    fn = "rnn_backward"
    x, h0, Wx, Wh, h = unpack_cache(fn, cache, 5, "rnn_forward")
    xp = checked_namespace(fn, dh=dh, h=h)
    check_shape(fn, "dh", dh, shape_of(h), "must match the forward's h (N, T, H)")
    N, T, H = h.shape
    da = xp.empty((N, T, H), dtype=xp.result_type(dh, h), device=h.device)
    carry = xp.zeros((N, H), dtype=da.dtype, device=h.device)   # gradient from step t + 1
    Wh_T = xp.matrix_transpose(Wh)
    for t in range(T - 1, -1, -1):
        ht = h[:, t, :]
        da_t = (dh[:, t, :] + carry) * (1.0 - ht * ht)
        da[:, t, :] = da_t
        carry = kernels.matmul(da_t, Wh_T, xp=xp)
    dx, dWx, dWh, db = sequence_grads(xp, da, x, h0, h, Wx)
    return dx, carry, dWx, dWh, db
