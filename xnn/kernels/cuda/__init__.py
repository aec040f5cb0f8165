"""CUDA kernels (CuPy RawModules) for im2col / col2im / max-pool / embedding backward on CuPy arrays.

The four functions follow the contract of :mod:`xnn.kernels` exactly (layouts, floor output
sizes, int32 first-maximum argmax). Inputs are made C-contiguous, geometry is checked with
:mod:`xnn.validation`, the kernels of ``im2col.cu`` / ``pool.cu`` are launched on the input's
device (one thread per output element; col2im and pool backward are gathers, so results are
deterministic), and CuPy arrays come back. The embedding backward sorts the word indices first
(unique keys, so the order does not depend on the sort's stability) and then gathers each word's
rows (``embedding.cu``). float32 and float64 only (``TypeError`` otherwise).

CuPy is imported inside the functions: importing this package needs no CuPy, which lets the
loader's bookkeeping be tested on machines without a GPU.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ... import backend, validation
from .. import generic
from . import loader

OPS = ("im2col", "col2im", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward",
       "embedding_backward")

__all__ = [*OPS, "OPS"]

_BLOCK = 256
_MAX_GRID_Y = 65535             # CUDA's limit on gridDim.y (the kernels loop over the rest)
_MAX_BLOCKS = 1 << 20           # cap on blocks per launch; the grid-stride loops cover the rest
_MAX_PER_IMAGE = 1 << 30        # per-image index math in the kernels is 32-bit


def _cupy():
    return importlib.import_module("cupy")


def _check_cupy(fn: str, name: str, a: Any):
    """``a`` as a C-contiguous float32/float64 CuPy array (``TypeError`` for anything else)."""
    cupy = _cupy()
    if not isinstance(a, cupy.ndarray):
        raise TypeError(f"{fn}: {name} must be a cupy.ndarray for the CUDA kernels, got {type(a).__name__}")
    if a.dtype.name not in loader.CTYPES:
        raise TypeError(f"{fn}: {name} has dtype {a.dtype.name} {tuple(a.shape)}; the CUDA kernels support "
                        "float32 and float64 only")
    return cupy.ascontiguousarray(a)


def _on_device(a: Any):
    """Context manager that makes ``a``'s CUDA device current (outputs and launches go there)."""
    return a.device


def _check_image_size(fn: str, what: str, shape: tuple[int, ...]) -> None:
    size = int(np.prod(shape[1:], dtype=np.int64))
    if size >= _MAX_PER_IMAGE:
        raise ValueError(f"{fn}: one image of {what} {tuple(shape)} has {size} elements; the CUDA kernels "
                         f"support fewer than {_MAX_PER_IMAGE} per image (use smaller inputs or "
                         "XNN_KERNELS=generic)")


def _launch(name: str, dtype: Any, n_images: int, per_image: int, args: tuple) -> None:
    """Launch kernel ``name<dtype>`` on a (blocks, images) grid; nothing to do for empty work."""
    if n_images == 0 or per_image == 0:
        return
    kernel = loader.get_kernel(name, dtype)
    grid_y = min(n_images, _MAX_GRID_Y)
    grid_x = max(1, min(-(-per_image // _BLOCK), _MAX_BLOCKS // grid_y))
    kernel((grid_x, grid_y), (_BLOCK,), args)


def _i32(*values: int) -> tuple[np.int32, ...]:
    return tuple(np.int32(v) for v in values)


def _conv_geometry(fn: str, x_shape: tuple[int, ...], HH: int, WW: int, stride: int,
                   pad: int) -> tuple[int, int, int, int]:
    HH = validation.check_positive_int(fn, "HH", HH)
    WW = validation.check_positive_int(fn, "WW", WW)
    Ho, Wo = validation.conv_output_size(fn, x_shape, (1, x_shape[1], HH, WW), stride, pad)
    return HH, WW, Ho, Wo


def im2col(x, HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Columns of ``x`` for a convolution (CUDA).

    x ``(N, C, H, W)`` float32/float64 CuPy array; returns cols ``(N, C*HH*WW, Ho*Wo)`` of the same
    dtype, row ``c*HH*WW + i*WW + j``, column ``ho*Wo + wo``, zeros where the window is in the padding.
    """
    fn = "im2col"
    validation.check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    x = _check_cupy(fn, "x", x)
    N, C, H, W = x.shape
    HH, WW, Ho, Wo = _conv_geometry(fn, x.shape, HH, WW, stride, pad)
    cols_shape = (N, C * HH * WW, Ho * Wo)
    _check_image_size(fn, "x", x.shape)
    _check_image_size(fn, "cols", cols_shape)
    with _on_device(x):
        cols = _cupy().empty(cols_shape, dtype=x.dtype)
        _launch("im2col", x.dtype, N, cols_shape[1] * cols_shape[2],
                (x, cols) + _i32(N, C, H, W, HH, WW, Ho, Wo, int(stride), int(pad)))
    return cols


def col2im(dcols, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Adjoint of :func:`im2col` (CUDA gather, deterministic).

    dcols ``(N, C*HH*WW, Ho*Wo)`` float32/float64 CuPy array; returns dx of ``x_shape = (N, C, H, W)``
    with every column entry added back to the input position it was read from (padding dropped).
    """
    fn = "col2im"
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"{fn}: x_shape must be (N, C, H, W), got {x_shape}")
    validation.check_ndim(fn, "dcols", dcols, 3, "(N, C*HH*WW, Ho*Wo)")
    dcols = _check_cupy(fn, "dcols", dcols)
    N, C, H, W = x_shape
    HH, WW, Ho, Wo = _conv_geometry(fn, x_shape, HH, WW, stride, pad)
    validation.check_shape(fn, "dcols", dcols, (N, C * HH * WW, Ho * Wo),
                           f"x_shape {x_shape}, kernel {HH}x{WW}, stride {stride}, pad {pad}")
    _check_image_size(fn, "dx", x_shape)
    _check_image_size(fn, "dcols", dcols.shape)
    with _on_device(dcols):
        dx = _cupy().empty(x_shape, dtype=dcols.dtype)
        _launch("col2im", dcols.dtype, N, C * H * W,
                (dcols, dx) + _i32(N, C, H, W, HH, WW, Ho, Wo, int(stride), int(pad)))
    return dx


def maxpool_forward(x, pool_height: int, pool_width: int, stride: int, *, xp=None):
    """Max-pool forward (CUDA): ``(out, argmax)``.

    x ``(N, C, H, W)`` float32/float64 CuPy array; out ``(N, C, Ho, Wo)`` (same dtype) with
    ``Ho = 1 + (H - pool_height) // stride``; argmax ``(N, C, Ho, Wo)`` int32, the window index
    ``i*pool_width + j`` of the first maximum (row-major scan; a NaN wins and propagates).
    """
    fn = "maxpool_forward"
    validation.check_ndim(fn, "x", x, 4, "(N, C, H, W)")
    x = _check_cupy(fn, "x", x)
    N, C, H, W = x.shape
    Ho, Wo = validation.pool_output_size(fn, x.shape, pool_height, pool_width, stride)
    _check_image_size(fn, "x", x.shape)
    cupy = _cupy()
    with _on_device(x):
        out = cupy.empty((N, C, Ho, Wo), dtype=x.dtype)
        argmax = cupy.empty((N, C, Ho, Wo), dtype=cupy.int32)
        _launch("maxpool_forward", x.dtype, N, C * Ho * Wo,
                (x, out, argmax) + _i32(N, C, H, W, pool_height, pool_width, Ho, Wo, stride))
    return out, argmax


def maxpool_backward(dout, argmax, x_shape: tuple[int, int, int, int], pool_height: int, pool_width: int,
                     stride: int, *, xp=None):
    """Max-pool backward (CUDA gather, deterministic).

    dout ``(N, C, Ho, Wo)`` float32/float64 and argmax ``(N, C, Ho, Wo)`` integer CuPy arrays (from
    :func:`maxpool_forward`); returns dx of ``x_shape`` where each x element holds the sum of dout
    over the windows whose argmax points at it (overlapping windows add).
    """
    fn = "maxpool_backward"
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"{fn}: x_shape must be (N, C, H, W), got {x_shape}")
    N, C, H, W = x_shape
    Ho, Wo = validation.pool_output_size(fn, x_shape, pool_height, pool_width, stride)
    context = f"x_shape {x_shape}, pool {pool_height}x{pool_width}, stride {stride}"
    validation.check_shape(fn, "dout", dout, (N, C, Ho, Wo), context)
    validation.check_shape(fn, "argmax", argmax, (N, C, Ho, Wo), context)
    dout = _check_cupy(fn, "dout", dout)
    cupy = _cupy()
    if not isinstance(argmax, cupy.ndarray) or argmax.dtype.kind not in "iu":
        raise TypeError(f"{fn}: argmax must be an integer cupy.ndarray, got {type(argmax).__name__} "
                        f"of dtype {getattr(argmax, 'dtype', None)}")
    _check_image_size(fn, "dx", x_shape)
    with _on_device(dout):
        argmax = cupy.ascontiguousarray(argmax, dtype=cupy.int32)
        dx = cupy.empty(x_shape, dtype=dout.dtype)
        _launch("maxpool_backward", dout.dtype, N, C * H * W,
                (dout, argmax, dx) + _i32(N, C, H, W, pool_height, pool_width, Ho, Wo, stride))
    return dx


def conv_forward(x, w, b, stride: int, pad: int, *, xp=None):
    """Convolution forward on CuPy: the CUDA :func:`im2col` + one batched ``matmul`` (cuBLAS).

    Returns ``(out (N, F, Ho, Wo), cols (N, C*HH*WW, Ho*Wo))``; see :mod:`xnn.kernels`.
    """
    return generic.conv_forward_with(im2col, x, w, b, stride, pad, xp=xp)


def conv_backward(dout, cols, x_shape: tuple[int, int, int, int], w, stride: int, pad: int,
                  need_dx: bool = True, *, xp=None):
    """Convolution backward on CuPy: two ``matmul`` + the CUDA :func:`col2im`; ``(dx, dw, db)``."""
    return generic.conv_backward_with(col2im, dout, cols, x_shape, w, stride, pad, need_dx, xp=xp)


def _sorted_segments(idx, V: int, xp):
    """``(order, offsets)`` int32 for ``embedding.cu``: positions sorted by (word, position) and the
    ``V + 1`` boundaries of each word's run, computed where ``idx`` lives.

    The sort keys ``word * M + position`` are unique, so the result does not depend on whether the
    sort is stable.
    """
    M = idx.shape[0]
    keys = xp.astype(idx, xp.int64) * M + xp.arange(M, dtype=xp.int64)
    keys = xp.sort(keys)
    order = xp.astype(keys % M, xp.int32)
    offsets = xp.searchsorted(keys // M, xp.arange(V + 1, dtype=xp.int64))
    return _cupy().ascontiguousarray(order), _cupy().ascontiguousarray(xp.astype(offsets, xp.int32))


def embedding_backward(dout, idx, V: int, *, xp=None):
    """Word-embedding backward (CUDA gather over sorted indices, deterministic).

    dout ``(M, D)`` float32/float64 and idx ``(M,)`` integer CuPy arrays with ``0 <= idx < V``;
    returns dW ``(V, D)`` (dout's dtype), each row the sum of the dout rows of its word in
    position order (0 for words that do not occur). Work ``O(M log M + (M + V) * D)``.
    """
    fn = "embedding_backward"
    validation.check_ndim(fn, "dout", dout, 2, "(M, D)")
    validation.check_ndim(fn, "idx", idx, 1, "(M,)")
    V = validation.check_nonneg_int(fn, "V", V)
    M, D = dout.shape
    validation.check_shape(fn, "idx", idx, (M,), f"dout {tuple(dout.shape)}")
    dout = _check_cupy(fn, "dout", dout)
    if not isinstance(idx, _cupy().ndarray) or idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}: idx must be an integer cupy.ndarray, got {type(idx).__name__} "
                        f"of dtype {getattr(idx, 'dtype', None)}")
    if M >= _MAX_PER_IMAGE or D >= _MAX_PER_IMAGE:
        raise ValueError(f"{fn}: dout {tuple(dout.shape)} is too large for the CUDA kernel (its positions and "
                         f"columns are 32-bit, fewer than {_MAX_PER_IMAGE} each); use XNN_KERNELS=generic")
    with _on_device(dout):
        dW = _cupy().empty((V, D), dtype=dout.dtype)
        order, offsets = _sorted_segments(idx, V, xp or backend.namespace(idx))
        _launch("embedding_backward", dout.dtype, V, D, (dout, order, offsets, dW) + _i32(V, D))
    return dW
