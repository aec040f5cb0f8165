"""Inverted dropout with cs231n's current semantics: ``p`` is the probability of KEEPING a unit.

With ``'seed'`` in ``dropout_param`` the mask is drawn exactly as cs231n draws it, on the host:
the global NumPy RNG is reseeded with the seed on every call (train or test; a side effect
callers rely on), then ``rand(*x.shape) < p`` decides which units stay; the mask then moves to
x's namespace and device. Without a seed the backend's own generator draws it (NumPy's global
RNG for NumPy and array-api-strict arrays, ``cupy.random`` on the GPU).

:func:`apply_dropout` takes the keep probability as an argument, so that a drop-probability
flavor (Stanford 2016-17, Berkeley) reuses it with ``keep_prob = 1 - p``; given ``drop_prob`` it
keeps a unit where ``rand >= drop_prob`` instead (that starter's draw: the same expectation, other
seeded masks).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .. import backend
from ..validation import (
    check_mode,
    check_shape,
    checked_namespace,
    require_keys,
    shape_of,
    unpack_cache,
)

__all__ = ["apply_dropout", "dropout_backward", "dropout_forward"]

Array = Any


def _reseed_host(seed: Any) -> None:
    """Reseed NumPy's global RNG the way cs231n does, drawing nothing (an empty draw)."""
    backend.seeded_uniform((0,), seed)


def _check_keep_prob(fn: str, name: str, keep_prob: Any) -> float:
    """The keep probability as a float; ``ValueError`` outside ``(0, 1]``."""
    try:
        value = float(keep_prob)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {name} must be a number, got {keep_prob!r}") from None
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{fn}: the keep probability must lie in (0, 1], got {name}={keep_prob!r}")
    return value


def _kept(draw: Array, keep_prob: float, drop_prob: float | None) -> Array:
    """Which units stay: ``draw < keep_prob`` (cs231n), or ``draw >= drop_prob`` when that is given."""
    return draw < keep_prob if drop_prob is None else draw >= drop_prob


def _dropout_mask(x: Array, keep_prob: float, seed: Any = None, drop_prob: float | None = None) -> Array:
    """Inverted-dropout mask like ``x``: 1/keep_prob where a unit is kept, 0 where it is dropped.

    ``seed`` not None: cs231n's draw, ``np.random.seed(seed); np.random.rand(*x.shape) < keep_prob``
    on the host (reseeds the global RNG), moved to x's namespace and device; the mask is float64,
    like cs231n's. ``seed`` None: ``backend.uniform`` (the backend's own generator); the mask has
    the draw's dtype (float64 on the host namespaces, x's dtype on CuPy). ``drop_prob`` given:
    the same draws, but a unit stays where ``rand >= drop_prob``.
    """
    xp = backend.namespace(x=x)
    if seed is not None:
        keep = backend.from_host(_kept(backend.seeded_uniform(tuple(x.shape), seed), keep_prob, drop_prob), like=x)
        dtype = xp.float64
    else:
        draw = backend.uniform(tuple(x.shape), like=x)
        keep, dtype = _kept(draw, keep_prob, drop_prob), draw.dtype
    return xp.astype(keep, dtype) / keep_prob


def apply_dropout(fn: str, x: Array, dropout_param: MutableMapping, keep_prob: float,
                  drop_prob: float | None = None) -> tuple[Array, tuple[MutableMapping, Array | None]]:
    """Dropout forward of ``x`` (any shape) with keep probability ``keep_prob``; ``fn`` names the
    public caller in errors.

    ``dropout_param`` must already hold ``'mode'``; ``'seed'`` (optional) is honoured here. With
    ``drop_prob`` (``= 1 - keep_prob``) a unit stays where ``rand >= drop_prob`` rather than
    ``rand < keep_prob``. Returns ``out`` (x's shape and dtype) and ``cache = (dropout_param, mask)``
    (mask None in test mode).
    """
    xp = checked_namespace(fn, x=x)
    mode = check_mode(fn, "dropout", dropout_param["mode"])
    seed = dropout_param.get("seed")
    if mode == "test":
        if seed is not None:
            _reseed_host(seed)  # cs231n reseeds before looking at the mode
        return x, (dropout_param, None)
    mask = _dropout_mask(x, keep_prob, seed, drop_prob)
    out = xp.astype(x * mask, x.dtype, copy=False)
    return out, (dropout_param, mask)


def dropout_forward(x: Array, dropout_param: MutableMapping) -> tuple[Array, tuple[MutableMapping, Array | None]]:
    """Inverted dropout; ``dropout_param['p']`` is the probability of keeping each unit.

    Args:
        x: array of any shape.
        dropout_param: dict with ``'p'`` (keep probability in (0, 1], required), ``'mode'``
            (``'train'``/``'test'``, required) and optional ``'seed'``. A seed reseeds NumPy's
            global RNG on every call (train and test), exactly as cs231n does.

    Returns:
        ``out`` (x's shape, dtype and namespace) and ``cache = (dropout_param, mask)``. Train:
        ``out = x * mask`` with ``mask`` of x's shape holding ``1/p`` for kept units and 0 for
        dropped ones. Test: ``out`` is ``x`` itself and ``mask`` is None.

    Raises:
        KeyError: ``'p'`` or ``'mode'`` missing. ValueError: invalid mode, ``p`` outside (0, 1].
    """
    fn = "dropout_forward"
    require_keys(fn, "dropout_param", dropout_param, ("p", "mode"))
    keep_prob = _check_keep_prob(fn, "p", dropout_param["p"])
    return apply_dropout(fn, x, dropout_param, keep_prob)


def dropout_backward(dout: Array, cache: tuple[MutableMapping, Array | None]) -> Array:
    """Backward pass of :func:`dropout_forward` (any keep/drop flavor: it only uses the mask).

    Args:
        dout: upstream gradient of x's shape.
        cache: ``(dropout_param, mask)`` from the forward pass; the mode is read from
            ``dropout_param`` as cs231n does.

    Returns:
        ``dx`` (a single array, dout's dtype): ``dout * mask`` in train mode, ``dout`` in test mode.
    """
    fn = "dropout_backward"
    dropout_param, mask = unpack_cache(fn, cache, 2, "dropout_forward")
    require_keys(fn, "dropout_param", dropout_param, ("mode",))
    mode = check_mode(fn, "dropout", dropout_param["mode"])
    if mode == "test" or mask is None:
        checked_namespace(fn, dout=dout)
        return dout
    xp = checked_namespace(fn, dout=dout, mask=mask)
    check_shape(fn, "dout", dout, shape_of(mask), "must match x")
    return xp.astype(dout * mask, dout.dtype, copy=False)
