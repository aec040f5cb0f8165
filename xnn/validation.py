"""Input checks shared by layers, models and the Solver.

Every check reads shapes and dtypes only (labels also read their min/max), so it costs
microseconds. Failures raise ``ValueError`` (bad values or shapes) or ``TypeError`` (bad types)
with a message that names the function, the argument and the shapes or values involved, e.g.::

    ValueError: conv_forward_fast: w has 4 channels but x has 3 (x (2, 3, 8, 8), w (5, 4, 3, 3))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from . import backend
from .choices import did_you_mean

__all__ = [
    "shape_of",
    "checked_namespace",
    "unpack_cache",
    "check_array",
    "check_ndim",
    "check_shape",
    "check_mode",
    "check_positive_int",
    "check_nonneg_int",
    "check_number",
    "check_labels",
    "check_indices",
    "require_keys",
    "conv_output_hw",
    "conv_output_size",
    "nchw_hint",
    "pool_output_hw",
    "pool_output_size",
]


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a plain tuple (for messages)."""
    return tuple(getattr(x, "shape", ()))


_NOT_ARRAYS = (bool, int, float, complex, str, bytes, list, tuple, dict)
# Array types whose namespace has one device (NumPy's), mapped to that namespace: a call whose
# arrays all share one of these types skips array-api-compat.
_SINGLE_DEVICE_TYPES: dict[type, Any] = {}
# Every array type a one-array check has seen, mapped to its namespace. One array has no other
# array's device to agree with, so its namespace follows from its type alone (CuPy's and
# array-api-strict's too): the shape checks every layer runs on each argument skip array-api-compat.
_TYPE_NAMESPACES: dict[type, Any] = {}


def _cached_namespace(fn: str, arrays: dict[str, Any]) -> Any:
    """The namespace of ``arrays`` (cached per array type when that is unambiguous)."""
    kinds = {type(a) for a in arrays.values()}
    if len(kinds) == 1:
        xp = _SINGLE_DEVICE_TYPES.get(next(iter(kinds)))
        if xp is not None:
            return xp
    try:
        xp = backend.namespace(**arrays)
    except TypeError as err:
        raise TypeError(f"{fn}: {err}") from None
    if len(kinds) == 1 and backend.is_numpy_namespace(xp):
        _SINGLE_DEVICE_TYPES[next(iter(kinds))] = xp
    return xp


def _is_real_numeric(x: Any, xp: Any) -> bool:
    """True for integer and real floating dtypes (reads the dtype only)."""
    kind = getattr(x.dtype, "kind", None)  # NumPy / CuPy dtypes: a one-character code
    if kind is not None:
        return kind in "iuf"
    return bool(xp.isdtype(x.dtype, ("integral", "real floating")))


def checked_namespace(fn: str, /, **arrays: Any) -> Any:
    """The Array API namespace shared by the named arrays, checked for ``fn``.

    Every value must be an array (``TypeError`` naming ``fn`` and the argument otherwise) of a
    real numeric dtype (integer or real floating: no bool, complex, string or object arrays),
    and all must come from one namespace and one device (``TypeError`` naming ``fn`` and both
    arrays otherwise). Reads types and dtypes only.
    """
    for name, a in arrays.items():
        if a is None or isinstance(a, _NOT_ARRAYS):
            raise TypeError(f"{fn}: {name} must be an array, got {type(a).__name__}")
    xp = _cached_namespace(fn, arrays)
    for name, a in arrays.items():
        if not _is_real_numeric(a, xp):
            raise TypeError(f"{fn}: {name} must hold real numbers (integer or floating dtype), "
                            f"got dtype {a.dtype} with shape {shape_of(a)}")
    return xp


def unpack_cache(fn: str, cache: Any, size: int, made_by: str) -> tuple:
    """``cache`` as a tuple of ``size`` items; ``TypeError`` naming ``fn`` and ``made_by`` otherwise.

    Backward passes call it first so that a cache from another layer (or ``None``) gives a clear
    message instead of an unpacking error.
    """
    if not isinstance(cache, (tuple, list)) or len(cache) != size:
        got = f"a {len(cache)}-tuple" if isinstance(cache, (tuple, list)) else type(cache).__name__
        raise TypeError(f"{fn}: cache must be the {size}-tuple returned by {made_by}, got {got}")
    return tuple(cache)


def _array_namespace(fn: str, name: str, x: Any) -> Any:
    """The namespace of the one array ``x``; ``TypeError`` unless it is an array of a supported namespace."""
    if x is None or isinstance(x, _NOT_ARRAYS):
        raise TypeError(f"{fn}: {name} must be an array, got {type(x).__name__}")
    xp = _TYPE_NAMESPACES.get(type(x))
    if xp is None:
        xp = _TYPE_NAMESPACES[type(x)] = _cached_namespace(fn, {name: x})
    return xp


def check_array(fn: str, name: str, x: Any) -> None:
    """``TypeError`` unless ``x`` is an array of a supported namespace."""
    _array_namespace(fn, name, x)


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


def check_mode(fn: str, layer: str, mode: Any) -> str:
    """``mode`` if it is ``'train'`` or ``'test'``; else cs231n's ``ValueError``
    (``Invalid forward <layer> mode "<mode>"``, prefixed with ``fn``)."""
    if mode not in ("train", "test"):
        hint = did_you_mean(mode, ("train", "test"))
        raise ValueError(f'{fn}: Invalid forward {layer} mode "{mode}"; expected "train" or "test"'
                         + (f"; {hint}" if hint else ""))
    return mode


def _as_int(fn: str, name: str, value: Any, least: int, what: str) -> int:
    """``value`` as ``int``: ``TypeError`` for a non-number, ``ValueError`` below ``least`` or fractional."""
    if getattr(value, "shape", None) == () and hasattr(value, "dtype"):
        value = value.item() if hasattr(value, "item") else float(value)  # a 0-d array
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a {what}, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or int(value) != value or int(value) < least:
        raise ValueError(f"{fn}: {name} must be a {what}, got {value!r}")
    return int(value)


def check_positive_int(fn: str, name: str, value: Any) -> int:
    """The value as ``int``; ``ValueError`` unless it is an integer >= 1 (``TypeError`` for a non-number)."""
    return _as_int(fn, name, value, 1, "positive integer")


def check_nonneg_int(fn: str, name: str, value: Any) -> int:
    """The value as ``int``; ``ValueError`` unless it is an integer >= 0 (``TypeError`` for a non-number)."""
    return _as_int(fn, name, value, 0, "non-negative integer")


def check_number(fn: str, name: str, value: Any, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    """A finite real number as ``float``, within ``[low, high]`` (``(low, high]`` with ``low_open``).

    ``TypeError`` for a non-number (strings, ``None``, arrays); ``ValueError`` for NaN, inf or a
    value out of range.
    """
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        value = value.item()  # a 0-d array
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    below = low is not None and (v <= low if low_open else v < low)
    if not math.isfinite(v) or below or (high is not None and v > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        bounds = "" if low is None and high is None else f" in {'(' if low_open else '['}{lo}, {hi}]"
        raise ValueError(f"{fn}: {name} must be a finite number{bounds}, got {value!r}")
    return v


def require_keys(fn: str, dict_name: str, d: Mapping, keys: tuple[str, ...]) -> None:
    """``KeyError``-compatible check that names the missing keys (cs231n reads them with ``[]``).

    ``TypeError`` when ``d`` is not a mapping at all (``None``, a list ...).
    """
    if not isinstance(d, Mapping):
        raise TypeError(f"{fn}: {dict_name} must be a dict, got {type(d).__name__}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise KeyError(f"{fn}: {dict_name} is missing {', '.join(repr(k) for k in missing)} "
                       f"(has {sorted(d)})")


def check_labels(fn: str, y: Any, num_samples: int, num_classes: int) -> None:
    """Labels must be an integer ``(N,)`` array with values in ``[0, num_classes)``.

    ``TypeError`` for a non-integer dtype, ``ValueError`` for a wrong shape or a value out of
    range (the message gives the offending min/max).
    """
    xp = _array_namespace(fn, "y", y)
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


def nchw_hint(x_shape: tuple[int, ...], channels: int, name: str = "x") -> str:
    """A hint for images that look channels-last: ``x_shape (N, H, W, C)`` whose last axis is ``channels``."""
    if len(x_shape) == 4 and x_shape[3] == channels and x_shape[1] != channels:
        return (f"; {name} looks like NHWC images (N, H, W, C) with its {channels} channels last, but xnn takes "
                f"NCHW (N, C, H, W): pass {name}.transpose(0, 3, 1, 2)")
    return ""


def conv_output_hw(H: int, W: int, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    """Output height and width of a convolution, floor semantics (like PyTorch):
    ``Ho = 1 + (H + 2*pad - HH) // stride``, likewise ``Wo``."""
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def pool_output_hw(H: int, W: int, pool_height: int, pool_width: int, stride: int) -> tuple[int, int]:
    """Output height and width of an unpadded max-pool: ``Ho = 1 + (H - pool_height) // stride``."""
    return conv_output_hw(H, W, pool_height, pool_width, stride, 0)


def conv_output_size(fn: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                     stride: Any, pad: Any) -> tuple[int, int]:
    """Output height and width of a convolution, floor semantics (like PyTorch).

    ``x_shape`` is ``(N, C, H, W)``, ``w_shape`` ``(F, C, HH, WW)``. Raises ``ValueError`` for
    mismatched channels, a bad stride/pad, or a filter larger than the padded input.
    """
    stride = check_positive_int(fn, "conv_param['stride']", stride)
    pad = check_nonneg_int(fn, "conv_param['pad']", pad)
    _, C, H, W = x_shape
    F, Cw, HH, WW = w_shape
    if min(F, HH, WW) < 1:
        raise ValueError(f"{fn}: w must hold at least one filter of at least 1x1, got w {tuple(w_shape)}")
    if C != Cw:
        raise ValueError(f"{fn}: w has {Cw} channels but x has {C} (x {tuple(x_shape)}, w {tuple(w_shape)})"
                         + nchw_hint(x_shape, Cw))
    if HH > H + 2 * pad or WW > W + 2 * pad:
        raise ValueError(f"{fn}: filter {HH}x{WW} does not fit the padded input {H + 2 * pad}x{W + 2 * pad} "
                         f"(x {tuple(x_shape)}, w {tuple(w_shape)}, pad {pad})")
    return conv_output_hw(H, W, HH, WW, stride, pad)


def pool_output_size(fn: str, x_shape: tuple[int, ...], pool_height: Any, pool_width: Any,
                     stride: Any) -> tuple[int, int]:
    """Output height and width of a max-pool (no padding, floor semantics)."""
    ph = check_positive_int(fn, "pool_param['pool_height']", pool_height)
    pw = check_positive_int(fn, "pool_param['pool_width']", pool_width)
    stride = check_positive_int(fn, "pool_param['stride']", stride)
    H, W = x_shape[2], x_shape[3]
    if ph > H or pw > W:
        raise ValueError(f"{fn}: pool window {ph}x{pw} does not fit the input {H}x{W} (x {tuple(x_shape)})")
    return pool_output_hw(H, W, ph, pw, stride)


def check_indices(fn: str, name: str, idx: Any, shape: tuple[int, ...] | None, V: int) -> None:
    """``idx`` must be an integer array (of ``shape`` unless None) with values in ``[0, V)``.

    ``TypeError`` for a non-integer dtype, ``ValueError`` for a wrong shape or an index out of
    range (the message gives the offending min/max). Reads the min/max (one device sync on a GPU).
    """
    xp = _array_namespace(fn, name, idx)
    if not xp.isdtype(idx.dtype, "integral"):
        raise TypeError(f"{fn}: {name} must hold integer word indices, got dtype {idx.dtype} with shape "
                        f"{shape_of(idx)}")
    if shape is not None:
        check_shape(fn, name, idx, shape)
    if idx.size == 0:
        return
    lo, hi = int(xp.min(idx)), int(xp.max(idx))
    if lo < 0 or hi >= V:
        raise ValueError(f"{fn}: {name} must hold word indices in [0, {V}) for a vocabulary of {V}, got min {lo}, "
                         f"max {hi} ({name} {shape_of(idx)})")
