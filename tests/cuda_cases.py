"""Geometries and loop references shared by the CUDA kernel tests (GPU and CPU emulation).

The references loop over output windows (not over kernel offsets like ``generic``) and
use ``numpy.argmax`` for the first maximum, so they are an independent statement of the
contract in :mod:`xnn.kernels`.
"""

from __future__ import annotations

import numpy as np

# (N, C, H, W, HH, WW, stride, pad): non-square filters and inputs, stride 1/2/3, pad 0-3,
# filter == input, filter larger than the unpadded input, floor sizes that leave rows
# uncovered, stride > filter (positions no window reads get 0 in col2im).
CONV_CASES = [
    (2, 3, 7, 7, 3, 3, 1, 1),
    (2, 2, 8, 9, 2, 3, 2, 0),
    (1, 3, 9, 7, 4, 2, 3, 2),
    (2, 1, 5, 6, 1, 1, 1, 0),
    (1, 2, 6, 5, 5, 3, 2, 3),
    (3, 2, 4, 4, 4, 4, 1, 0),
    (1, 1, 3, 3, 7, 7, 1, 3),
    (2, 2, 10, 11, 3, 5, 3, 1),
    (1, 2, 5, 5, 2, 2, 3, 0),
    (1, 1, 6, 6, 3, 3, 2, 2),
]

# (N, C, H, W, pool_height, pool_width, stride): non-overlapping, overlapping (stride <
# window), gaps (stride > window), window == input, 1x1, floor sizes leaving columns unread.
POOL_CASES = [
    (2, 3, 8, 8, 2, 2, 2),
    (2, 2, 7, 9, 3, 2, 1),
    (1, 3, 9, 8, 3, 3, 2),
    (2, 1, 5, 7, 2, 3, 3),
    (1, 2, 6, 6, 6, 6, 1),
    (1, 1, 5, 5, 1, 1, 1),
    (2, 2, 11, 10, 4, 3, 3),
]


def conv_case_id(case) -> str:
    N, C, H, W, HH, WW, s, p = case
    return f"x{N}x{C}x{H}x{W}-k{HH}x{WW}-s{s}-p{p}"


def pool_case_id(case) -> str:
    N, C, H, W, ph, pw, s = case
    return f"x{N}x{C}x{H}x{W}-w{ph}x{pw}-s{s}"


def conv_out(H: int, W: int, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def pool_out(H: int, W: int, ph: int, pw: int, stride: int) -> tuple[int, int]:
    return 1 + (H - ph) // stride, 1 + (W - pw) // stride


def im2col_ref(x: np.ndarray, HH: int, WW: int, stride: int, pad: int) -> np.ndarray:
    """cols ``(N, C*HH*WW, Ho*Wo)``: one window copied per output position."""
    N, C, H, W = x.shape
    Ho, Wo = conv_out(H, W, HH, WW, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((N, C, HH, WW, Ho, Wo), dtype=x.dtype)
    for ho in range(Ho):
        for wo in range(Wo):
            cols[:, :, :, :, ho, wo] = xpad[:, :, ho * stride:ho * stride + HH, wo * stride:wo * stride + WW]
    return cols.reshape(N, C * HH * WW, Ho * Wo)


def col2im_ref(dcols: np.ndarray, x_shape, HH: int, WW: int, stride: int, pad: int) -> np.ndarray:
    """dx of ``x_shape``: every window added back, output positions in row-major order."""
    N, C, H, W = x_shape
    Ho, Wo = conv_out(H, W, HH, WW, stride, pad)
    d6 = dcols.reshape(N, C, HH, WW, Ho, Wo)
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    for ho in range(Ho):
        for wo in range(Wo):
            dxpad[:, :, ho * stride:ho * stride + HH, wo * stride:wo * stride + WW] += d6[:, :, :, :, ho, wo]
    return np.ascontiguousarray(dxpad[:, :, pad:pad + H, pad:pad + W])


def maxpool_forward_ref(x: np.ndarray, ph: int, pw: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(out, argmax int32): ``numpy.argmax`` of each flattened window (first max; first NaN wins)."""
    N, C, H, W = x.shape
    Ho, Wo = pool_out(H, W, ph, pw, stride)
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    arg = np.empty((N, C, Ho, Wo), dtype=np.int32)
    for ho in range(Ho):
        for wo in range(Wo):
            win = x[:, :, ho * stride:ho * stride + ph, wo * stride:wo * stride + pw].reshape(N, C, ph * pw)
            a = np.argmax(win, axis=2)
            arg[:, :, ho, wo] = a
            out[:, :, ho, wo] = np.take_along_axis(win, a[:, :, None], axis=2)[:, :, 0]
    return out, arg


def maxpool_backward_ref(dout: np.ndarray, argmax: np.ndarray, x_shape, ph: int, pw: int,
                         stride: int) -> np.ndarray:
    """dx of ``x_shape``: each dout element added at its window's argmax, windows in row-major order."""
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for ho in range(Ho):
                for wo in range(Wo):
                    i, j = divmod(int(argmax[n, c, ho, wo]), pw)
                    dx[n, c, ho * stride + i, wo * stride + j] += dout[n, c, ho, wo]
    return dx


def pool_input(rng: np.random.Generator, shape, dtype, ties: bool) -> np.ndarray:
    """Continuous values, or small integers so that most windows hold ties."""
    if ties:
        return rng.integers(0, 3, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)
