"""Convolution input checks shared by the naive and the fast layers.

The layers themselves live in :mod:`xnn.layers.conv_naive` (loop references) and
:mod:`xnn.layers.conv_fast` (im2col + one matrix product); :mod:`xnn.layers` exports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..validation import check_ndim, check_shape, conv_output_size, require_keys, shape_of

__all__ = ["check_conv_dout", "conv_geometry"]

Array = Any


def conv_geometry(fn: str, x: Array, w: Array, b: Array, conv_param: Mapping) -> tuple[int, int, int, int]:
    """Validate conv inputs; return ``(stride, pad, Ho, Wo)``.

    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, conv_param ``'stride'`` and ``'pad'``.
    Raises ``ValueError`` (ranks, channels, bias shape, stride/pad values, a filter bigger than
    the padded input) or ``KeyError`` (missing ``conv_param`` key), naming ``fn`` and the shapes.
    """
    check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    check_ndim(fn, "w", w, 4, "(F, C, HH, WW)")
    check_shape(fn, "b", b, (w.shape[0],), f"one bias per filter of w {shape_of(w)}")
    require_keys(fn, "conv_param", conv_param, ("stride", "pad"))
    Ho, Wo = conv_output_size(fn, shape_of(x), shape_of(w), conv_param["stride"], conv_param["pad"])
    return int(conv_param["stride"]), int(conv_param["pad"]), Ho, Wo


def check_conv_dout(fn: str, dout: Array, x: Array, w: Array, Ho: int, Wo: int) -> None:
    """``ValueError`` unless ``dout`` is ``(N, F, Ho, Wo)``: the forward output of ``x`` and ``w``."""
    check_shape(fn, "dout", dout, (x.shape[0], w.shape[0], Ho, Wo), f"x {shape_of(x)}, w {shape_of(w)}")
