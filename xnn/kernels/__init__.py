"""Kernel dispatch: which implementation serves each op for a namespace, with a standard-only fallback.

The ops and their contract (every implementation takes the same arguments plus a keyword ``xp``,
the namespace the caller already resolved; ``None`` means "look it up"):

``im2col(x, HH, WW, stride, pad) -> cols``
    x ``(N, C, H, W)``; cols ``(N, C*HH*WW, Ho*Wo)`` with row ``k = c*HH*WW + i*WW + j`` (the
    order of ``w.reshape(F, -1)``) and column ``p = ho*Wo + wo``, where
    ``Ho = 1 + (H + 2*pad - HH) // stride`` (floor, like PyTorch) and likewise ``Wo``. Zero padding.

``col2im(dcols, x_shape, HH, WW, stride, pad) -> dx``
    The adjoint of ``im2col``: dcols ``(N, C*HH*WW, Ho*Wo)`` summed back into ``dx`` of
    ``x_shape = (N, C, H, W)`` (padding dropped). Input positions no window covers get 0.

``maxpool_forward(x, pool_height, pool_width, stride) -> (out, argmax)``
    x ``(N, C, H, W)``; out ``(N, C, Ho, Wo)`` with ``Ho = 1 + (H - pool_height) // stride``;
    argmax ``(N, C, Ho, Wo)`` int32, the index ``i*pool_width + j`` of the **first** maximum in
    the window (row-major scan, ties like the naive reference; a NaN wins and propagates).

``maxpool_backward(dout, argmax, x_shape, pool_height, pool_width, stride) -> dx``
    Routes each ``dout`` element to the argmax position of its window; overlapping windows add.

``conv_forward(x, w, b, stride, pad) -> (out, cols)``
    x ``(N, C, H, W)``, w ``(F, C, HH, WW)``, b ``(F,)``, all of one dtype; out ``(N, F, Ho, Wo)``
    (contiguous NCHW, bias added). ``cols`` is what the implementation's ``conv_backward`` needs,
    in a layout only that implementation knows: the dispatcher wraps it in :class:`ConvColumns`,
    tagged with its producer, and hands it back to the same implementation.

``conv_backward(dout, cols, x_shape, w, stride, pad, need_dx=True) -> (dx, dw, db)``
    dout ``(N, F, Ho, Wo)`` and ``cols`` from the same implementation's ``conv_forward``; dx
    ``x_shape``, dw ``w.shape``, db ``(F,)``. With ``need_dx=False`` dx is ``None`` and its matmul
    + col2im are skipped.

``embedding_backward(dout, idx, V) -> dW``
    The word-embedding gradient, a scatter-add: dout ``(M, D)`` float, idx ``(M,)`` integer with
    ``0 <= idx < V`` (checked by the layer); dW ``(V, D)`` in dout's dtype with
    ``dW[v] = sum of dout[m] over every m with idx[m] == v`` (repeated indices accumulate, rows
    never named are exactly 0). Deterministic on every path (no float atomics).

``relu_backward(dout, x) -> dx``
    ``dout`` where ``x > 0``, else 0 (``dout``'s shape and dtype; a non-finite ``dout`` where
    ``x <= 0`` still gives 0).

``adam_step(w, dw, m, v, t, lr, beta1, beta2, eps) -> (next_w, m, v)``
    One Adam update (bias-corrected at step ``t``) as new arrays; the inputs are not modified.
    Every implementation evaluates the formula in the same order, so the bits do not depend on
    the path. A kernel op because a training step's largest elementwise passes are its updates.

``matmul(a, b) -> a @ b``
    The matrix product of the affine layers (``(M, K) @ (K, N)``), with the namespace's type
    promotion. A kernel op so that the NumPy path can run it on xnn's worker threads with BLAS on
    one thread each, like every other product of a training step.

The composite ops ``conv_pool_forward`` / ``conv_pool_backward`` (:mod:`~xnn.kernels.fused`):
a convolution followed by max-pooling, fused by an implementation that lists them, composed of
the ops above everywhere else.

Implementations (each lists the ops it provides in ``OPS``; every other op falls back to
:mod:`~xnn.kernels.generic`):

* :mod:`~xnn.kernels.generic`: Array API standard only. Serves every namespace, array-api-strict
  included, and every op a faster module leaves out.
* :mod:`~xnn.kernels.cpu.numpy_fast`: NumPy fast paths (stride tricks, BLAS layouts, buffer reuse,
  batch chunks on worker threads).
* :mod:`~xnn.kernels.cuda`: CuPy RawKernels (imported lazily, only for CuPy arrays).

``kernels.use("generic")`` (a context manager, like :func:`xnn.backend.use_device`) or the
environment variable ``XNN_KERNELS=generic`` forces the standard-only path everywhere (for
comparisons); ``"auto"`` (the default) picks the fastest implementation of each op.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .. import backend

__all__ = ["CHOICES", "COMPOSITE_OPS", "OPS", "ConvColumns", "adam_step", "col2im", "conv_backward",
           "conv_forward", "conv_pool_backward", "conv_pool_forward", "current", "embedding_backward", "im2col",
           "implementation", "kernel_path", "matmul", "maxpool_backward", "maxpool_forward", "op_path", "preload",
           "relu_backward", "use"]

OPS = ("im2col", "col2im", "maxpool_forward", "maxpool_backward", "conv_forward", "conv_backward",
       "relu_backward", "matmul", "embedding_backward", "adam_step")
#: The values of ``kernels.use(...)`` and ``XNN_KERNELS``.
CHOICES = ("auto", "generic")

_MODULES = {"numpy_fast": ".cpu.numpy_fast", "cuda": ".cuda", "generic": ".generic"}
_choice: contextvars.ContextVar[str | None] = contextvars.ContextVar("xnn_kernels", default=None)


def _checked_choice(value: str, where: str) -> str:
    choice = (value or "auto").strip().lower()
    if choice not in CHOICES:
        raise ValueError(f"{where}: unknown kernel choice {value!r}; expected one of {', '.join(CHOICES)}")
    return choice


def current() -> str:
    """The kernel choice in force: the innermost :func:`use`, else ``XNN_KERNELS``, else ``"auto"``."""
    ctx = _choice.get()
    if ctx is not None:
        return ctx
    return _checked_choice(os.environ.get("XNN_KERNELS", ""), "XNN_KERNELS")


@contextlib.contextmanager
def use(choice: str) -> Iterator[str]:
    """Context manager: ``"generic"`` forces the standard-only kernels inside it, ``"auto"`` picks the
    fastest implementation per op (whatever ``XNN_KERNELS`` says). Yields the choice."""
    token = _choice.set(_checked_choice(choice, "kernels.use"))
    try:
        yield _choice.get()
    finally:
        _choice.reset(token)


def preload() -> None:
    """Import what the first NumPy kernel call would need (array-api-compat's NumPy namespace, the
    NumPy kernels, the BLAS controls): importing :mod:`xnn.layers` calls this, so the first layer
    call of a session costs what every later call costs (notebooks time single calls)."""
    importlib.import_module("array_api_compat.numpy")
    _module("numpy_fast")
    importlib.import_module(".cpu.threads", __name__).prepare()


@functools.cache
def _module(name: str) -> ModuleType:
    # Every op call resolves its module: a dict hit instead of importlib's name resolution.
    return importlib.import_module(_MODULES[name], __name__)


def implementation(xp) -> ModuleType:
    """The fastest kernel module for namespace ``xp`` under the current choice (before fallback)."""
    if current() == "auto":
        if backend.is_numpy_namespace(xp):
            return _module("numpy_fast")
        if backend.is_cupy_namespace(xp):
            return _module("cuda")
    return _module("generic")


def _provider(op: str, xp) -> ModuleType:
    """The module whose ``op`` serves ``xp``: the namespace's implementation if it has the op."""
    impl = implementation(xp)
    return impl if op in impl.OPS else _module("generic")


def _name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def op_path(op: str, xp) -> str:
    """Short name of the module serving ``op`` for ``xp``: ``numpy_fast``, ``cuda`` or ``generic``
    (``composed`` for a composite op no module fuses)."""
    if op in COMPOSITE_OPS:
        return composite_path(op, xp)
    if op not in OPS:
        raise ValueError(f"kernels.op_path: unknown op {op!r}; expected one of {', '.join(OPS + COMPOSITE_OPS)}")
    return _name(_provider(op, xp))


def kernel_path(xp) -> str:
    """Short name of the fastest module serving ``xp`` (``numpy_fast``, ``cuda`` or ``generic``)."""
    return _name(implementation(xp))


@dataclass(frozen=True)
class ConvColumns:
    """The column data a ``conv_forward`` implementation keeps for its ``conv_backward``.

    ``producer`` names the implementation; ``data`` is its array in a layout only it reads;
    ``dtype`` is the data's dtype. The layers keep this object in the conv cache as ``x_cols``.
    """

    producer: str
    data: Any

    @property
    def dtype(self) -> Any:
        return self.data.dtype


def _xp(xp, **arrays):
    return xp if xp is not None else backend.namespace(**arrays)


def im2col(x, HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Columns of ``x`` for a convolution; see the module docstring for the layout."""
    xp = _xp(xp, x=x)
    return _provider("im2col", xp).im2col(x, HH, WW, stride, pad, xp=xp)


def col2im(dcols, x_shape: tuple[int, int, int, int], HH: int, WW: int, stride: int, pad: int, *, xp=None):
    """Adjoint of :func:`im2col`: sums column gradients back into an ``x_shape`` array."""
    xp = _xp(xp, dcols=dcols)
    return _provider("col2im", xp).col2im(dcols, tuple(x_shape), HH, WW, stride, pad, xp=xp)


def maxpool_forward(x, pool_height: int, pool_width: int, stride: int, *, xp=None):
    """Max-pool forward: ``(out, argmax)``; see the module docstring."""
    xp = _xp(xp, x=x)
    return _provider("maxpool_forward", xp).maxpool_forward(x, pool_height, pool_width, stride, xp=xp)


def maxpool_backward(dout, argmax, x_shape: tuple[int, int, int, int], pool_height: int, pool_width: int,
                     stride: int, *, xp=None):
    """Max-pool backward: each ``dout`` element goes to its window's first maximum."""
    xp = _xp(xp, dout=dout, argmax=argmax)
    impl = _provider("maxpool_backward", xp)
    return impl.maxpool_backward(dout, argmax, tuple(x_shape), pool_height, pool_width, stride, xp=xp)


def conv_forward(x, w, b, stride: int, pad: int, *, xp=None) -> tuple[Any, ConvColumns]:
    """Convolution forward: ``(out (N, F, Ho, Wo), ConvColumns)``."""
    xp = _xp(xp, x=x, w=w, b=b)
    impl = _provider("conv_forward", xp)
    out, cols = impl.conv_forward(x, w, b, stride, pad, xp=xp)
    return out, ConvColumns(_name(impl), cols)


def conv_backward(dout, cols: ConvColumns, x_shape: tuple[int, int, int, int], w, stride: int, pad: int,
                  need_dx: bool = True, *, xp=None):
    """Convolution backward ``(dx, dw, db)`` by the implementation that made ``cols`` (dx ``None``
    unless ``need_dx``). Columns of another dtype than ``dout`` are cast to it first."""
    if not isinstance(cols, ConvColumns):
        raise TypeError(f"kernels.conv_backward: cols must be the ConvColumns returned by kernels.conv_forward, "
                        f"got {type(cols).__name__}")
    xp = _xp(xp, dout=dout, w=w)
    data = cols.data if cols.dtype == dout.dtype else xp.astype(cols.data, dout.dtype)
    return _module(cols.producer).conv_backward(dout, data, tuple(x_shape), w, stride, pad, need_dx, xp=xp)


def relu_backward(dout, x, *, xp=None):
    """ReLU backward: ``dout`` where ``x > 0``, else 0."""
    xp = _xp(xp, dout=dout, x=x)
    return _provider("relu_backward", xp).relu_backward(dout, x, xp=xp)


def matmul(a, b, *, xp=None):
    """The matrix product ``a @ b`` of two 2-D arrays."""
    xp = _xp(xp, a=a, b=b)
    return _provider("matmul", xp).matmul(a, b, xp=xp)


def adam_step(w, dw, m, v, t: int, lr: float, beta1: float, beta2: float, eps: float, *, xp=None):
    """One Adam update: ``(next_w, m, v)``; see the module docstring."""
    xp = _xp(xp, w=w, dw=dw, m=m, v=v)
    return _provider("adam_step", xp).adam_step(w, dw, m, v, t, lr, beta1, beta2, eps, xp=xp)


def embedding_backward(dout, idx, V: int, *, xp=None):
    """Word-embedding backward: dW ``(V, D)`` with every row of dout ``(M, D)`` added at ``idx (M,)``."""
    xp = _xp(xp, dout=dout, idx=idx)
    return _provider("embedding_backward", xp).embedding_backward(dout, idx, int(V), xp=xp)


# The composite ops (a convolution then max-pooling) are built on the functions above.
from .fused import COMPOSITE_OPS, composite_path, conv_pool_backward, conv_pool_forward  # noqa: E402
