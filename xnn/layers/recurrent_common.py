"""Pieces shared by the recurrent layers: input checks, the stable sigmoid, the affine map applied at
every time step (the temporal affine layer, and the sequence layers' input projection) and the
parameter gradients.

The checks read shapes and dtypes (word indices: :func:`xnn.validation.check_indices`) and raise
``ValueError``/``TypeError`` messages that name the layer, the argument and the shapes, like the
rest of :mod:`xnn.validation`.

Notation: N batch, T time steps, D input dim, H hidden dim, G gates per hidden unit (1 for the
vanilla RNN, 4 for the LSTM), V vocabulary size.
"""

from __future__ import annotations

from typing import Any

from .. import backend, kernels
from ..validation import check_array, check_ndim, check_shape, shape_of

__all__ = ["check_mask", "check_step_inputs", "check_sequence_inputs", "sigmoid",
           "step_grads", "sequence_grads", "previous_states", "time_affine", "time_affine_grads"]

Array = Any


def _check_weights(fn: str, D: int, Wx: Array, Wh: Array, b: Array, gates: int, x_desc: str) -> int:
    """Wx ``(D, G*H)``, Wh ``(H, G*H)``, b ``(G*H,)``; returns H (read from Wh's rows)."""
    check_ndim(fn, "Wh", Wh, 2, f"(H, {gates}H)" if gates > 1 else "(H, H)")
    H = Wh.shape[0]
    cols = gates * H
    check_shape(fn, "Wh", Wh, (H, cols), f"{gates} gates of H={H} units" if gates > 1 else "square")
    check_ndim(fn, "Wx", Wx, 2, f"(D, {gates}H)" if gates > 1 else "(D, H)")
    check_shape(fn, "Wx", Wx, (D, cols), f"{x_desc}, Wh {shape_of(Wh)}")
    check_ndim(fn, "b", b, 1, f"({gates}H,)" if gates > 1 else "(H,)")
    check_shape(fn, "b", b, (cols,), f"Wh {shape_of(Wh)}")
    return H


def check_step_inputs(fn: str, x: Array, prev_h: Array, Wx: Array, Wh: Array, b: Array, gates: int,
                      prev_c: Array = None) -> tuple[int, int, int]:
    """Shapes of one recurrent step: x ``(N, D)``, prev_h (and prev_c) ``(N, H)``; returns ``(N, D, H)``."""
    check_ndim(fn, "x", x, 2, "(N, D)")
    N, D = x.shape
    H = _check_weights(fn, D, Wx, Wh, b, gates, f"x {shape_of(x)}")
    check_shape(fn, "prev_h", prev_h, (N, H), f"x {shape_of(x)}, Wh {shape_of(Wh)}")
    if prev_c is not None:
        check_shape(fn, "prev_c", prev_c, (N, H), f"x {shape_of(x)}, Wh {shape_of(Wh)}")
    return N, D, H


def check_sequence_inputs(fn: str, x: Array, h0: Array, Wx: Array, Wh: Array, b: Array,
                          gates: int) -> tuple[int, int, int, int]:
    """Shapes of a sequence layer: x ``(N, T, D)``, h0 ``(N, H)``; returns ``(N, T, D, H)``."""
    check_ndim(fn, "x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    H = _check_weights(fn, D, Wx, Wh, b, gates, f"x {shape_of(x)}")
    check_shape(fn, "h0", h0, (N, H), f"x {shape_of(x)}, Wh {shape_of(Wh)}")
    return N, T, D, H


def check_mask(fn: str, mask: Array, shape: tuple[int, ...], like: Array) -> None:
    """``mask`` must be a boolean or numeric array of ``shape`` in ``like``'s namespace and device."""
    check_array(fn, "mask", mask)
    try:
        backend.namespace(x=like, mask=mask)
    except TypeError as err:
        raise TypeError(f"{fn}: {err}") from None
    check_shape(fn, "mask", mask, shape, "one entry per (n, t) of y")


def sigmoid(x: Array) -> Array:
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for any magnitude of ``x``.

    Computes ``z = exp(-|x|)`` (in ``(0, 1]``, never overflows), then ``1 / (1 + z)`` where
    ``x >= 0`` and ``z / (1 + z)`` elsewhere. Same shape as ``x``; floating ``x`` keeps its
    dtype, integers become float64.
    """
    xp = backend.namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    z = xp.exp(-xp.abs(x))
    r = 1.0 / (1.0 + z)
    return xp.where(x >= 0, r, z * r)


def step_grads(xp, da: Array, x: Array, prev_h: Array, Wx: Array, Wh: Array) -> tuple[Array, ...]:
    """Gradients of ``a = x @ Wx + prev_h @ Wh + b`` given ``da (N, G*H)``:
    ``(dx (N, D), dprev_h (N, H), dWx (D, G*H), dWh (H, G*H), db (G*H,))``."""
    t = xp.matrix_transpose
    return (kernels.matmul(da, t(Wx), xp=xp), kernels.matmul(da, t(Wh), xp=xp), kernels.matmul(t(x), da, xp=xp),
            kernels.matmul(t(prev_h), da, xp=xp), xp.sum(da, axis=0))


def previous_states(xp, h0: Array, h: Array) -> Array:
    """``(N, T, H)``: the hidden state each step started from (h0, then h[:, 0], ..., h[:, T-2])."""
    T = h.shape[1]
    if T == 0:
        return h
    return xp.concat([xp.expand_dims(h0, axis=1), h[:, :T - 1, :]], axis=1)


def time_affine(xp, x: Array, w: Array, b: Array) -> Array:
    """``x[n, t] @ w + b`` for every step of ``x (N, T, D)``, ``w (D, M)``, ``b (M,)``: ``(N, T, M)``,
    one matrix product over all ``N*T`` rows."""
    N, T, D = x.shape
    return xp.reshape(kernels.matmul(xp.reshape(x, (N * T, D)), w, xp=xp) + b, (N, T, w.shape[1]))


def time_affine_grads(xp, dout: Array, x: Array, w: Array) -> tuple[Array, Array, Array]:
    """Gradients of :func:`time_affine` from ``dout (N, T, M)``: ``(dx (N, T, D), dw (D, M), db (M,))``,
    each one matrix product (or sum) over all ``N*T`` rows."""
    N, T, D = x.shape
    d2 = xp.reshape(dout, (N * T, w.shape[1]))
    dx = xp.reshape(kernels.matmul(d2, xp.matrix_transpose(w), xp=xp), (N, T, D))
    dw = kernels.matmul(xp.matrix_transpose(xp.reshape(x, (N * T, D))), d2, xp=xp)
    return dx, dw, xp.sum(d2, axis=0)


def sequence_grads(xp, da: Array, x: Array, h0: Array, h: Array, Wx: Array) -> tuple[Array, Array, Array, Array]:
    """Input and parameter gradients of a sequence from every step's ``da (N, T, G*H)``.

    The per-step terms are independent once ``da`` is known, so each is one matrix product over
    all ``N*T`` rows (the input side is :func:`time_affine_grads`): returns
    ``(dx (N, T, D), dWx (D, G*H), dWh (H, G*H), db (G*H,))``.
    """
    dx, dWx, db = time_affine_grads(xp, da, x, Wx)
    N, T, H = h.shape
    prev = xp.reshape(previous_states(xp, h0, h), (N * T, H))
    dWh = kernels.matmul(xp.matrix_transpose(prev), xp.reshape(da, (N * T, da.shape[2])), xp=xp)
    return dx, dWx, dWh, db
