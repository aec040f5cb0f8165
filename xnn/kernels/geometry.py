"""Geometry shared by every convolution and pooling implementation: output sizes, zero padding
and the strided slices that pick one offset of every window.

Pure helpers with no checks (the layers validate their arguments first, see
:func:`xnn.validation.conv_output_size`); they work on any Array API namespace.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as _device

__all__ = ["conv_output_hw", "pool_output_hw", "window_slices", "zero_pad"]


def conv_output_hw(H: int, W: int, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    """Output height and width of a convolution, floor semantics (like PyTorch):
    ``Ho = 1 + (H + 2*pad - HH) // stride``, likewise ``Wo``."""
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def pool_output_hw(H: int, W: int, pool_height: int, pool_width: int, stride: int) -> tuple[int, int]:
    """Output height and width of an unpadded max-pool: ``Ho = 1 + (H - pool_height) // stride``."""
    return conv_output_hw(H, W, pool_height, pool_width, stride, 0)


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
