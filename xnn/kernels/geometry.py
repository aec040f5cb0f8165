"""Geometry shared by every convolution and pooling kernel: zero padding and the strided slices
that pick one offset of every window (the output sizes are :func:`xnn.validation.conv_output_hw`
and :func:`xnn.validation.pool_output_hw`).

Pure helpers with no checks (the layers validate their arguments first); they work on any Array
API namespace.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as _device

__all__ = ["window_slices", "zero_pad"]


def window_slices(i: int, j: int, n_rows: int, n_cols: int, stride: int) -> tuple[slice, slice]:
    """Row/column slices picking element ``(i, j)`` of every window (``n_rows x n_cols`` windows)."""
    return (slice(i, i + stride * (n_rows - 1) + 1, stride),
            slice(j, j + stride * (n_cols - 1) + 1, stride))


def zero_pad(xp: Any, x: Any, pad: int) -> Any:
    """``x`` ``(N, C, H, W)`` with ``pad`` zeros on both sides of its last two axes (one allocation,
    one copy), or ``x`` itself when ``pad == 0``."""
    if pad == 0:
        return x
    N, C, H, W = x.shape
    out = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype, device=_device(x))
    out[:, :, pad:pad + H, pad:pad + W] = x
    return out
