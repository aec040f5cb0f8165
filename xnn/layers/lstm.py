"""LSTM layers, one step and a whole sequence, written against the Array API.

Activations ``a = x @ Wx + prev_h @ Wh + b`` have shape ``(N, 4H)`` with the gates in the order
**i, f, o, g** along the last axis (input, forget, output gate, block input):
``i, f, o = sigmoid(a[:, :3H])`` split in thirds, ``g = tanh(a[:, 3H:])``,
``next_c = f * prev_c + i * g``, ``next_h = o * tanh(next_c)``.

As in :mod:`.rnn`, the sequence layers do every step's input projection in one matrix product
before the loop, and the input/parameter gradients in one product each after the backward loop.
The sequence's initial cell state is zeros and its cell states are never returned.
"""

from __future__ import annotations

from typing import Any

from .. import kernels
from ..validation import check_shape, checked_namespace, shape_of, unpack_cache
from .recurrent_common import (
    check_sequence_inputs,
    check_step_inputs,
    sequence_grads,
    step_grads,
    time_affine,
)

__all__ = ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"]

Array = Any


# Beyond |a| = 80 the logistic is 1 or below 2e-35; clipping there keeps exp finite in float32
# (no overflow warnings) without the branches of the general-purpose :func:`sigmoid`.
_SIGMOID_CLIP = 80.0


def _activate(xp, a: Array, H: int) -> Array:
    """Gate values ``(N, 4H)`` from activations ``a (N, 4H)``: sigmoid on i, f, o and tanh on g.

    The sigmoid is ``1 / (1 + exp(-a))`` on ``a`` clipped to ``[-80, 80]``: as precise as the
    two-branch :func:`sigmoid` (relative error of a few ulp) in about half the passes.
    """
    ifo = xp.clip(a[:, :3 * H], -_SIGMOID_CLIP, _SIGMOID_CLIP)
    return xp.concat([1.0 / (1.0 + xp.exp(-ifo)), xp.tanh(a[:, 3 * H:])], axis=1)


def _gates(act: Array, H: int) -> tuple[Array, Array, Array, Array]:
    """``(i, f, o, g)``, each ``(N, H)``, from the gate values ``(N, 4H)``."""
    return act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]


def _cell(xp, act: Array, prev_c: Array, H: int) -> tuple[Array, Array, Array]:
    """``(next_h, next_c, tanh(next_c))`` from the gate values and the previous cell state."""
    i, f, o, g = _gates(act, H)
    next_c = f * prev_c + i * g
    tanh_c = xp.tanh(next_c)
    return o * tanh_c, next_c, tanh_c


def _cell_backward(xp, dnext_h: Array, dnext_c: Array, act: Array, prev_c: Array,
                   tanh_c: Array, H: int) -> tuple[Array, Array]:
    """``(da (N, 4H), dprev_c (N, H))`` of one cell from the gradients of next_h and next_c."""
    i, f, o, g = _gates(act, H)
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c * tanh_c)
    dact = xp.concat([dc * g, dc * prev_c, dnext_h * tanh_c, dc * i], axis=1)     # d loss / d gate value
    sig = act[:, :3 * H]
    slope = xp.concat([sig * (1.0 - sig), 1.0 - g * g], axis=1)                  # d gate value / d a
    return dact * slope, dc * f


def lstm_step_forward(x: Array, prev_h: Array, prev_c: Array, Wx: Array, Wh: Array,
                      b: Array) -> tuple[Array, Array, tuple]:
    """One LSTM step.

    Args:
        x: ``(N, D)``; prev_h, prev_c: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``
        (gate order i, f, o, g).

    Returns:
        ``(next_h (N, H), next_c (N, H), cache)`` with
        ``cache = (x, prev_h, prev_c, Wx, Wh, gates (N, 4H) = [i, f, o, g], tanh(next_c) (N, H))``.

    Raises:
        ValueError: wrong ranks or shapes; TypeError: non-arrays or mixed namespaces/devices.
    """
    fn = "lstm_step_forward"
    xp = checked_namespace(fn, x=x, prev_h=prev_h, prev_c=prev_c, Wx=Wx, Wh=Wh, b=b)
    _, _, H = check_step_inputs(fn, x, prev_h, Wx, Wh, b, gates=4, prev_c=prev_c)
    act = _activate(xp, kernels.matmul(x, Wx, xp=xp) + kernels.matmul(prev_h, Wh, xp=xp) + b, H)
    next_h, next_c, tanh_c = _cell(xp, act, prev_c, H)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, act, tanh_c)


def lstm_step_backward(dnext_h: Array, dnext_c: Array, cache: tuple) -> tuple[Array, ...]:
    """Backward pass of :func:`lstm_step_forward`.

    Args:
        dnext_h, dnext_c: ``(N, H)`` gradients of next_h and next_c.
        cache: from :func:`lstm_step_forward`.

    Returns:
        ``(dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,))``.
    """
    fn = "lstm_step_backward"
    x, prev_h, prev_c, Wx, Wh, act, tanh_c = unpack_cache(fn, cache, 7, "lstm_step_forward")
    xp = checked_namespace(fn, dnext_h=dnext_h, dnext_c=dnext_c, tanh_c=tanh_c)
    check_shape(fn, "dnext_h", dnext_h, shape_of(tanh_c), "must match next_h (N, H)")
    check_shape(fn, "dnext_c", dnext_c, shape_of(tanh_c), "must match next_c (N, H)")
    da, dprev_c = _cell_backward(xp, dnext_h, dnext_c, act, prev_c, tanh_c, tanh_c.shape[1])
    dx, dprev_h, dWx, dWh, db = step_grads(xp, da, x, prev_h, Wx, Wh)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, tuple]:
    """An LSTM over a whole sequence, from hidden state ``h0`` and a zero cell state.

    Args:
        x: ``(N, T, D)``; h0: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.

    Returns:
        ``(h (N, T, H), cache)`` with ``cache = (x, h0, Wx, Wh, h, c (N, T, H) cell states,
        gates (N, T, 4H), tanh(c) (N, T, H))``.

    Raises:
        ValueError: wrong ranks or shapes; TypeError: non-arrays or mixed namespaces/devices.
    """
    fn = "lstm_forward"
    xp = checked_namespace(fn, x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    N, T, _, H = check_sequence_inputs(fn, x, h0, Wx, Wh, b, gates=4)
    dtype, dev = xp.result_type(x, h0, Wx, Wh, b), x.device
    xw = time_affine(xp, x, Wx, b)   # all steps' input terms
    h = xp.empty((N, T, H), dtype=dtype, device=dev)
    c = xp.empty((N, T, H), dtype=dtype, device=dev)
    tanh_c = xp.empty((N, T, H), dtype=dtype, device=dev)
    acts = xp.empty((N, T, 4 * H), dtype=dtype, device=dev)
    prev_h, prev_c = h0, xp.zeros((N, H), dtype=dtype, device=dev)
    for t in range(T):
        act = _activate(xp, xw[:, t, :] + kernels.matmul(prev_h, Wh, xp=xp), H)
        prev_h, prev_c, tc = _cell(xp, act, prev_c, H)
        h[:, t, :], c[:, t, :], tanh_c[:, t, :], acts[:, t, :] = prev_h, prev_c, tc, act
    return h, (x, h0, Wx, Wh, h, c, acts, tanh_c)


def lstm_backward(dh: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array]:
    """Backward pass of :func:`lstm_forward`.

    Args:
        dh: ``(N, T, H)`` upstream gradients of every step's hidden state (the recurrent part is
            added here; the last cell state gets no upstream gradient).
        cache: from :func:`lstm_forward`.

    Returns:
        ``(dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,))`` (no gradient for the
        zero initial cell state).
    """
    fn = "lstm_backward"
    x, h0, Wx, Wh, h, c, acts, tanh_c = unpack_cache(fn, cache, 8, "lstm_forward")
    xp = checked_namespace(fn, dh=dh, h=h)
    check_shape(fn, "dh", dh, shape_of(h), "must match the forward's h (N, T, H)")
    N, T, H = h.shape
    dtype = xp.result_type(dh, h)
    da = xp.empty((N, T, 4 * H), dtype=dtype, device=h.device)
    dnext_h = xp.zeros((N, H), dtype=dtype, device=h.device)   # recurrent gradients from step t + 1
    dnext_c = xp.zeros((N, H), dtype=dtype, device=h.device)
    Wh_T = xp.matrix_transpose(Wh)
    for t in range(T - 1, -1, -1):
        prev_c = c[:, t - 1, :] if t > 0 else xp.zeros_like(dnext_c)
        da_t, dnext_c = _cell_backward(xp, dh[:, t, :] + dnext_h, dnext_c, acts[:, t, :], prev_c,
                                       tanh_c[:, t, :], H)
        da[:, t, :] = da_t
        dnext_h = kernels.matmul(da_t, Wh_T, xp=xp)
    dx, dWx, dWh, db = sequence_grads(xp, da, x, h0, h, Wx)
    return dx, dnext_h, dWx, dWh, db
