"""Kernel dispatch: which im2col / col2im / max-pool / conv implementation serves a namespace.

Every implementation has the same functions with the same contract:

``im2col(x, HH, WW, stride, pad) -> cols``
    x ``(N, C, H, W)``; cols ``(N, C*HH*WW, Ho*Wo)`` with row ``k = c*HH*WW + i*WW + j``
    (the order of ``w.reshape(F, -1)``) and column ``p = ho*Wo + wo``, where
    ``Ho = 1 + (H + 2*pad - HH) // stride`` (floor, like PyTorch) and likewise ``Wo``.
    Zero padding. ``conv = w.reshape(F, -1) @ cols`` is then ``(N, F, Ho*Wo)``, i.e. NCHW.

``col2im(dcols, x_shape, HH, WW, stride, pad) -> dx``
    The adjoint of ``im2col``: dcols ``(N, C*HH*WW, Ho*Wo)`` summed back into ``dx`` of
    ``x_shape = (N, C, H, W)`` (padding dropped). Input positions no window covers get 0.

``maxpool_forward(x, pool_height, pool_width, stride) -> (out, argmax)``
    x ``(N, C, H, W)``; out ``(N, C, Ho, Wo)`` with ``Ho = 1 + (H - pool_height) // stride``;
    argmax ``(N, C, Ho, Wo)`` int32, the index ``i*pool_width + j`` of the **first** maximum in
    the window (row-major scan, ties like the naive reference).

``maxpool_backward(dout, argmax, x_shape, pool_height, pool_width, stride) -> dx``
    Routes each ``dout`` element to the argmax position of its window; overlapping windows add.

``conv_forward(x, w, b, stride, pad) -> (out, cols)``
    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, all of one dtype; out ``(N, F, Ho, Wo)``
    (contiguous NCHW, bias added). ``cols`` holds the im2col columns in the layout the
    implementation multiplies fastest: ``(N, C*HH*WW, Ho*Wo)`` (like ``im2col``) for ``generic``
    and ``cuda``, one ``(C*HH*WW, N*Ho*Wo)`` matrix (column ``n*Ho*Wo + ho*Wo + wo``) for
    ``numpy_fast``. Every ``conv_backward`` accepts both layouts.

``conv_backward(dout, cols, x_shape, w, stride, pad, need_dx=True) -> (dx, dw, db)``
    dout ``(N, F, Ho, Wo)`` and ``cols`` from ``conv_forward``; dx ``x_shape``, dw ``w.shape``,
    db ``(F,)``. With ``need_dx=False`` dx is ``None`` and its matmul + col2im are skipped.

``relu_backward(dout, x) -> dx``
    ``dout`` where ``x > 0``, else 0 (``dout``'s shape and dtype; a non-finite ``dout`` where
    ``x <= 0`` still gives 0).

Implementations:

* ``generic``: Array API standard only (padded strided-slice loops, one vectorized op per
  window offset). Serves every namespace, array-api-strict included; the CuPy fallback.
* ``cpu.numpy_fast``: NumPy-only fast paths (stride tricks, preallocated buffers, BLAS layouts).
* ``cuda``: CuPy RawKernels (imported lazily, only for CuPy arrays).

``XNN_KERNELS=generic`` forces the standard-only path everywhere (for comparisons).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from .. import backend

__all__ = ["im2col", "col2im", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward",
           "relu_backward", "implementation", "kernel_path"]

OPS = ("im2col", "col2im", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward",
       "relu_backward")


def _forced_generic() -> bool:
    return os.environ.get("XNN_KERNELS", "").strip().lower() == "generic"


def implementation(xp) -> ModuleType:
    """The kernel module that serves namespace ``xp`` (honours ``XNN_KERNELS=generic``)."""
    if not _forced_generic():
        if backend.is_numpy_namespace(xp):
            return importlib.import_module(".cpu.numpy_fast", __name__)
        if backend.is_cupy_namespace(xp):
            return importlib.import_module(".cuda", __name__)
    return importlib.import_module(".generic", __name__)


def kernel_path(xp) -> str:
    """Short name of the path serving ``xp``: ``numpy_fast``, ``cuda`` or ``generic``."""
    return implementation(xp).__name__.rsplit(".", 1)[-1]


def im2col(x, HH: int, WW: int, stride: int, pad: int):
    """Columns of ``x`` for a convolution; see the module docstring for the layout."""
    return implementation(backend.namespace(x)).im2col(x, HH, WW, stride, pad)


def col2im(dcols, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int, pad: int):
    """Adjoint of :func:`im2col`: sums column gradients back into an ``x_shape`` array."""
    return implementation(backend.namespace(dcols)).col2im(dcols, tuple(x_shape), HH, WW, stride, pad)


def maxpool_forward(x, pool_height: int, pool_width: int, stride: int):
    """Max-pool forward: ``(out, argmax)``; see the module docstring."""
    return implementation(backend.namespace(x)).maxpool_forward(x, pool_height, pool_width, stride)


def maxpool_backward(dout, argmax, x_shape: tuple[int, int, int, int], pool_height: int, pool_width: int,
                     stride: int):
    """Max-pool backward: each ``dout`` element goes to its window's first maximum."""
    impl = implementation(backend.namespace(dout=dout, argmax=argmax))
    return impl.maxpool_backward(dout, argmax, tuple(x_shape), pool_height, pool_width, stride)


def conv_forward(x, w, b, stride: int, pad: int):
    """Convolution forward ``(out, cols)``; ``cols``' layout depends on the implementation."""
    impl = implementation(backend.namespace(x=x, w=w, b=b))
    return impl.conv_forward(x, w, b, stride, pad)


def conv_backward(dout, cols, x_shape: tuple[int, int, int, int], w, stride: int, pad: int,
                  need_dx: bool = True):
    """Convolution backward ``(dx, dw, db)`` from ``dout`` and the ``cols`` of :func:`conv_forward`
    (dx ``None`` unless ``need_dx``)."""
    impl = implementation(backend.namespace(dout=dout, cols=cols, w=w))
    return impl.conv_backward(dout, cols, tuple(x_shape), w, stride, pad, need_dx)


def relu_backward(dout, x):
    """ReLU backward: ``dout`` where ``x > 0``, else 0."""
    return implementation(backend.namespace(dout=dout, x=x)).relu_backward(dout, x)
