"""Input checks shared by layers, models and the Solver.

Every check reads shapes and dtypes only (labels also read their min/max), so it costs
microseconds. Failures raise ``ValueError`` (bad values or shapes) or ``TypeError`` (bad types)
with a message that names the function, the argument and the shapes or values involved, e.g.::

    ValueError: conv_forward_fast: w has 4 channels but x has 3 (x (2, 3, 8, 8), w (5, 4, 3, 3))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import backend

__all__ = [
    "shape_of",
    "check_array",
    "check_ndim",
    "check_shape",
    "check_mode",
    "check_positive_int",
    "check_nonneg_int",
    "check_labels",
    "require_keys",
    "conv_output_size",
    "pool_output_size",
]


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a plain tuple (for messages)."""
    return tuple(getattr(x, "shape", ()))


def check_array(fn: str, name: str, x: Any) -> None:
    """``TypeError`` unless ``x`` is an array of a supported namespace."""
    if x is None or isinstance(x, (bool, int, float, complex, str, list, tuple, dict)):
        raise TypeError(f"{fn}: {name} must be an array, got {type(x).__name__}")
    backend.namespace(**{name: x})


def check_ndim(fn: str, name: str, x: Any, ndim: int | tuple[int, ...], what: str = "") -> None:
    """``ValueError`` unless ``x.ndim`` is ``ndim`` (or one of them). ``what`` describes the layout."""
    check_array(fn, name, x)
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        want = " or ".join(str(a) for a in allowed)
        layout = f" {what}" if what else ""
        raise ValueError(f"{fn}: {name} must be {want}-D{layout}, got shape {shape_of(x)}")


def check_shape(fn: str, name: str, x: Any, expected: tuple[int, ...], context: str = "") -> None:
    """``ValueError`` unless ``x.shape == expected``; ``context`` names the shapes it came from."""
    check_array(fn, name, x)
    if shape_of(x) != tuple(expected):
        extra = f" ({context})" if context else ""
        raise ValueError(f"{fn}: {name} must have shape {tuple(expected)}, got {shape_of(x)}{extra}")


def check_mode(fn: str, param: str, mode: Any, allowed: tuple[str, ...] = ("train", "test")) -> None:
    """``ValueError`` for a ``mode`` outside ``allowed``."""
    if mode not in allowed:
        raise ValueError(f'{fn}: invalid {param} mode "{mode}"; expected one of {", ".join(allowed)}')


def check_positive_int(fn: str, name: str, value: Any) -> int:
    """The value as ``int``; ``ValueError`` unless it is an integer >= 1."""
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"{fn}: {name} must be a positive integer, got {value!r}")
    return int(value)


def check_nonneg_int(fn: str, name: str, value: Any) -> int:
    """The value as ``int``; ``ValueError`` unless it is an integer >= 0."""
    if isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise ValueError(f"{fn}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def require_keys(fn: str, dict_name: str, d: Mapping, keys: tuple[str, ...]) -> None:
    """``KeyError``-compatible check that names the missing keys (cs231n reads them with ``[]``)."""
    missing = [k for k in keys if k not in d]
    if missing:
        raise KeyError(f"{fn}: {dict_name} is missing {', '.join(repr(k) for k in missing)} "
                       f"(has {sorted(d)})")


def check_labels(fn: str, y: Any, num_samples: int, num_classes: int) -> None:
    """Labels must be an integer ``(N,)`` array with values in ``[0, num_classes)``.

    ``TypeError`` for a non-integer dtype, ``ValueError`` for a wrong shape or a value out of
    range (the message gives the offending min/max).
    """
    check_array(fn, "y", y)
    xp = backend.namespace(y)
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(f"{fn}: y must hold integer class labels, got dtype {y.dtype}")
    if shape_of(y) != (num_samples,):
        raise ValueError(f"{fn}: y must have shape ({num_samples},) to match the {num_samples} scores, "
                         f"got {shape_of(y)}")
    if num_samples == 0:
        return
    lo, hi = int(xp.min(y)), int(xp.max(y))
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"{fn}: labels must lie in [0, {num_classes}) for {num_classes} classes, "
                         f"got min {lo}, max {hi}")


def conv_output_size(fn: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                     stride: Any, pad: Any) -> tuple[int, int]:
    """Output height and width of a convolution, floor semantics (like PyTorch).

    ``x_shape`` is ``(N, C, H, W)``, ``w_shape`` ``(F, C, HH, WW)``. Raises ``ValueError`` for
    mismatched channels, a bad stride/pad, or a filter larger than the padded input.
    """
    stride = check_positive_int(fn, "conv_param['stride']", stride)
    pad = check_nonneg_int(fn, "conv_param['pad']", pad)
    _, C, H, W = x_shape
    _, Cw, HH, WW = w_shape
    if C != Cw:
        raise ValueError(f"{fn}: w has {Cw} channels but x has {C} (x {tuple(x_shape)}, w {tuple(w_shape)})")
    if HH > H + 2 * pad or WW > W + 2 * pad:
        raise ValueError(f"{fn}: filter {HH}x{WW} does not fit the padded input {H + 2 * pad}x{W + 2 * pad} "
                         f"(x {tuple(x_shape)}, w {tuple(w_shape)}, pad {pad})")
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def pool_output_size(fn: str, x_shape: tuple[int, ...], pool_height: Any, pool_width: Any,
                     stride: Any) -> tuple[int, int]:
    """Output height and width of a max-pool (no padding, floor semantics)."""
    ph = check_positive_int(fn, "pool_param['pool_height']", pool_height)
    pw = check_positive_int(fn, "pool_param['pool_width']", pool_width)
    stride = check_positive_int(fn, "pool_param['stride']", stride)
    H, W = x_shape[2], x_shape[3]
    if ph > H or pw > W:
        raise ValueError(f"{fn}: pool window {ph}x{pw} does not fit the input {H}x{W} (x {tuple(x_shape)})")
    return 1 + (H - ph) // stride, 1 + (W - pw) // stride
