"""Standard-only kernels: im2col, col2im and max-pool with Array API functions only.

Every function loops over the kernel (or pool window) offsets ``(i, j)`` and does one fully
vectorized strided-slice operation per offset, so the Python loop runs ``HH*WW`` times no matter
how large the batch is. Nothing here goes beyond the Array API standard, so these kernels serve
every namespace: NumPy (under ``XNN_KERNELS=generic``), array-api-strict, and CuPy as a fallback.

The exact contract (shapes, row/column order, floor semantics, argmax encoding) is documented in
:mod:`xnn.kernels`.
"""

from __future__ import annotations

from array_api_compat import device as _device

from ... import backend

__all__ = ["col2im", "im2col", "maxpool_backward", "maxpool_forward"]


def _window_slices(i: int, j: int, n_rows: int, n_cols: int, stride: int) -> tuple[slice, slice]:
    """Row/column slices picking element ``(i, j)`` of every window (``n_rows x n_cols`` windows)."""
    return (slice(i, i + stride * (n_rows - 1) + 1, stride),
            slice(j, j + stride * (n_cols - 1) + 1, stride))


def _padded(xp, x, pad: int):
    """``x`` with ``pad`` zeros on both sides of its last two axes (one allocation, one copy)."""
    if pad == 0:
        return x
    N, C, H, W = x.shape
    out = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype, device=_device(x))
    out[:, :, pad:pad + H, pad:pad + W] = x
    return out


def _conv_out_size(H: int, W: int, HH: int, WW: int, stride: int, pad: int) -> tuple[int, int]:
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def im2col(x, HH: int, WW: int, stride: int, pad: int):
    """Columns of ``x`` ``(N, C, H, W)`` for an ``HH x WW`` filter: ``(N, C*HH*WW, Ho*Wo)``.

    Row ``c*HH*WW + i*WW + j``, column ``ho*Wo + wo``; zero padding; floor semantics.
    """
    xp = backend.namespace(x)
    N, C, H, W = x.shape
    Ho, Wo = _conv_out_size(H, W, HH, WW, stride, pad)
    xpad = _padded(xp, x, pad)
    cols = xp.empty((N, C, HH, WW, Ho, Wo), dtype=x.dtype, device=_device(x))
    for i in range(HH):
        for j in range(WW):
            rows, colz = _window_slices(i, j, Ho, Wo, stride)
            cols[:, :, i, j, :, :] = xpad[:, :, rows, colz]
    return xp.reshape(cols, (N, C * HH * WW, Ho * Wo))


def col2im(dcols, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int, pad: int):
    """Adjoint of :func:`im2col`: dcols ``(N, C*HH*WW, Ho*Wo)`` summed into dx ``x_shape``."""
    xp = backend.namespace(dcols)
    N, C, H, W = x_shape
    Ho, Wo = _conv_out_size(H, W, HH, WW, stride, pad)
    d6 = xp.reshape(dcols, (N, C, HH, WW, Ho, Wo))
    dxpad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype, device=_device(dcols))
    for i in range(HH):
        for j in range(WW):
            rows, colz = _window_slices(i, j, Ho, Wo, stride)
            dxpad[:, :, rows, colz] += d6[:, :, i, j, :, :]
    if pad == 0:
        return dxpad
    return xp.asarray(dxpad[:, :, pad:pad + H, pad:pad + W], copy=True)


def maxpool_forward(x, pool_height: int, pool_width: int, stride: int):
    """Max over each ``pool_height x pool_width`` window: ``(out, argmax)``, both ``(N, C, Ho, Wo)``.

    ``argmax`` (int32) is ``i*pool_width + j`` of the first maximum in row-major order. A NaN in
    a window wins (like ``max``/``argmax``), so NaNs propagate instead of vanishing.
    """
    xp = backend.namespace(x)
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - pool_height) // stride, 1 + (W - pool_width) // stride
    rows, colz = _window_slices(0, 0, Ho, Wo, stride)
    out = xp.asarray(x[:, :, rows, colz], copy=True)
    argmax = xp.zeros((N, C, Ho, Wo), dtype=xp.int32, device=_device(x))
    for k in range(1, pool_height * pool_width):
        i, j = divmod(k, pool_width)
        rows, colz = _window_slices(i, j, Ho, Wo, stride)
        s = x[:, :, rows, colz]
        better = (s > out) | (xp.isnan(s) & ~xp.isnan(out))  # strict '>' keeps the first maximum
        out = xp.where(better, s, out)
        argmax = xp.where(better, xp.asarray(k, dtype=xp.int32), argmax)
    return out, argmax


def maxpool_backward(dout, argmax, x_shape: tuple[int, int, int, int], pool_height: int, pool_width: int,
                     stride: int):
    """Route ``dout`` ``(N, C, Ho, Wo)`` to each window's ``argmax`` position; dx has ``x_shape``.

    One vectorized masked add per window offset; overlapping windows accumulate.
    """
    xp = backend.namespace(dout=dout, argmax=argmax)
    Ho, Wo = dout.shape[2], dout.shape[3]
    dx = xp.zeros(tuple(x_shape), dtype=dout.dtype, device=_device(dout))
    zero = xp.zeros_like(dout)
    for k in range(pool_height * pool_width):
        i, j = divmod(k, pool_width)
        rows, colz = _window_slices(i, j, Ho, Wo, stride)
        dx[:, :, rows, colz] += xp.where(argmax == k, dout, zero)
    return dx
