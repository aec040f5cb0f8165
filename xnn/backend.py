"""Backend shim: array namespaces, devices, host<->device moves and random draws.

This is the only module of xnn (besides ``xnn.kernels.cuda``) that knows CuPy exists, and it
never imports CuPy at import time. Layer code asks :func:`namespace` for the namespace of its
inputs and does its math through that namespace (the Python Array API), so the same code runs
on NumPy, CuPy and array-api-strict.

Devices are named ``"cpu"`` (NumPy), ``"gpu"`` / ``"cuda"`` (CuPy) and ``"auto"`` (the GPU when
CuPy sees one, else the CPU). The device in force is, in order of precedence: an explicit
``device=`` argument, the innermost :func:`use_device` context, the ``XNN_DEVICE`` environment
variable, ``"cpu"``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import os
from collections.abc import Iterator
from typing import Any

import array_api_compat
import numpy as np

from .choices import did_you_mean

__all__ = [
    "namespace",
    "namespace_name",
    "is_numpy_namespace",
    "is_cupy_namespace",
    "is_strict_namespace",
    "resolve_device",
    "use_device",
    "current_device",
    "gpu_available",
    "namespace_for_device",
    "device_of",
    "to_device",
    "to_numpy",
    "from_host",
    "gather_rows",
    "dtype_named",
    "host_randn",
    "uniform",
    "seeded_uniform",
]

_DEVICE_ALIASES = {"cpu": "cpu", "numpy": "cpu", "gpu": "gpu", "cuda": "gpu", "cupy": "gpu", "auto": "auto"}
_device_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("xnn_device", default=None)


# --------------------------------------------------------------------------- namespaces
def _describe(x: Any) -> str:
    """Short text for an array: its type, shape and dtype."""
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    return f"{type(x).__module__}.{type(x).__name__}(shape={tuple(shape) if shape is not None else '?'}, dtype={dtype})"


def namespace(*arrays: Any, **named: Any):
    """Array API namespace shared by the given arrays.

    ``None`` and Python scalars are ignored. Keyword arguments work like positional ones but
    give the arrays names for the error message, e.g. ``namespace(x=x, w=w)``.

    Returns the array-api-compat wrapper for NumPy / CuPy arrays (functions return plain
    ``numpy.ndarray`` / ``cupy.ndarray``) and the module itself for array-api-strict.

    Raises ``TypeError`` when the arrays come from different namespaces (NumPy mixed with
    CuPy, say) or live on different devices (CuPy GPUs, array-api-strict's devices), naming
    both, and for inputs that are not arrays.
    """
    items = [(f"argument {i}", a) for i, a in enumerate(arrays)] + list(named.items())
    found = None  # (name, array, xp)
    for name, a in items:
        if a is None or isinstance(a, (bool, int, float, complex)):
            continue
        try:
            xp = array_api_compat.array_namespace(a)
        except TypeError:
            raise TypeError(f"{name} is not an array: got {type(a).__name__}; expected a NumPy, CuPy or "
                            "Array API array") from None
        if found is None:
            found = (name, a, xp)
            continue
        name0, a0, xp0 = found
        if xp is not xp0:
            raise TypeError(f"mixed array namespaces: {name0} is {_describe(a0)} but {name} is {_describe(a)}; "
                            "move them to one device first (xnn.backend.to_device)")
        if not is_numpy_namespace(xp) and array_api_compat.device(a) != array_api_compat.device(a0):
            raise TypeError(f"mixed devices: {name0} is on {array_api_compat.device(a0)} but {name} is on "
                            f"{array_api_compat.device(a)}")
    if found is None:
        return array_api_compat.array_namespace(np.empty(0))
    return found[2]


def namespace_name(xp) -> str:
    """``"numpy"``, ``"cupy"``, ``"array_api_strict"`` or the namespace's module name."""
    if is_numpy_namespace(xp):
        return "numpy"
    if is_cupy_namespace(xp):
        return "cupy"
    if is_strict_namespace(xp):
        return "array_api_strict"
    return getattr(xp, "__name__", str(xp))


def is_numpy_namespace(xp) -> bool:
    """True for NumPy and its array-api-compat wrapper."""
    return array_api_compat.is_numpy_namespace(xp)


def is_cupy_namespace(xp) -> bool:
    """True for CuPy and its array-api-compat wrapper."""
    return array_api_compat.is_cupy_namespace(xp)


def is_strict_namespace(xp) -> bool:
    """True for array-api-strict."""
    return array_api_compat.is_array_api_strict_namespace(xp)


# --------------------------------------------------------------------------- devices
def _normalize_device(device: str) -> str:
    key = str(device).lower()
    if key not in _DEVICE_ALIASES:
        hint = did_you_mean(key, _DEVICE_ALIASES)
        raise ValueError(f"unknown device {device!r}; expected one of 'cpu', 'gpu', 'cuda', 'auto'"
                         + (f"; {hint}" if hint else ""))
    return _DEVICE_ALIASES[key]


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device (cached; never raises)."""
    try:
        cupy = importlib.import_module("cupy")
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDARuntimeError, driver problems: no GPU for us
        return False


def current_device() -> str:
    """The device in force without an explicit argument: context, then XNN_DEVICE, then cpu."""
    ctx = _device_context.get()
    if ctx is not None:
        return ctx
    return _normalize_device(os.environ.get("XNN_DEVICE", "cpu") or "cpu")


def resolve_device(device: str | None = None) -> str:
    """Resolve a device name to ``"cpu"`` or ``"gpu"``.

    ``None`` means the device in force (:func:`current_device`). ``"auto"`` becomes ``"gpu"``
    when :func:`gpu_available`, else ``"cpu"``. Asking for ``"gpu"`` without one raises
    ``RuntimeError`` saying why.
    """
    dev = _normalize_device(device) if device is not None else current_device()
    if dev == "auto":
        return "gpu" if gpu_available() else "cpu"
    if dev == "gpu" and not gpu_available():
        raise RuntimeError("device 'gpu' requested but no CUDA GPU is usable: install CuPy "
                           "(pip install 'xnn[cuda12]' or 'xnn[cuda13]') on a machine with an NVIDIA GPU")
    return dev


@contextlib.contextmanager
def use_device(device: str) -> Iterator[str]:
    """Context manager: make ``device`` the default for code that takes no ``device=``.

    Yields the resolved device name (``"cpu"`` or ``"gpu"``).
    """
    resolved = resolve_device(device)
    token = _device_context.set(resolved)
    try:
        yield resolved
    finally:
        _device_context.reset(token)


def namespace_for_device(device: str | None = None):
    """The array namespace that serves a device: compat NumPy for cpu, compat CuPy for gpu."""
    if resolve_device(device) == "gpu":
        import array_api_compat.cupy as cp_compat
        return cp_compat
    import array_api_compat.numpy as np_compat
    return np_compat


def device_of(x: Any) -> str:
    """``"gpu"`` for CuPy arrays, ``"cpu"`` for anything else (NumPy, array-api-strict)."""
    return "gpu" if array_api_compat.is_cupy_array(x) else "cpu"


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy-or-view of any array (CuPy arrays are copied to the host)."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_array_api_obj(x) and not isinstance(x, np.generic):
        return np.from_dlpack(x)
    return np.asarray(x)


def to_device(x: Any, device: str | None = None):
    """Move an array to ``device`` ("cpu" -> numpy.ndarray, "gpu" -> cupy.ndarray).

    Dicts and lists/tuples are moved element-wise (handy for ``model.params``); other
    objects (Python scalars, strings, None) are returned unchanged.
    """
    dev = resolve_device(device)
    if isinstance(x, dict):
        return {k: to_device(v, dev) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, dev) for v in x)
    if not (array_api_compat.is_array_api_obj(x) or isinstance(x, np.generic)):
        return x
    if dev == "gpu":
        cupy = importlib.import_module("cupy")
        return x if isinstance(x, cupy.ndarray) else cupy.asarray(to_numpy(x))
    return to_numpy(x)


def gather_rows(a: Any, idx: np.ndarray) -> Any:
    """Rows ``a[idx]`` for host indices ``idx (B,)``, gathered where ``a`` lives.

    ``a`` is ``(N, ...)`` of any namespace; the result is ``(B, ...)`` in ``a``'s namespace.
    NumPy arrays use fancy indexing; other namespaces get the indices moved next to ``a`` and
    ``xp.take``.
    """
    if isinstance(a, np.ndarray):
        return a[idx]
    return namespace(a).take(a, from_host(np.asarray(idx), like=a), axis=0)


def dtype_named(xp, dtype: Any):
    """The dtype object of namespace ``xp`` named like ``dtype`` (``np.float32`` -> ``xp.float32``)."""
    return getattr(xp, np.dtype(dtype).name)


def from_host(a: np.ndarray, like: Any = None, *, device: str | None = None):
    """Put a host NumPy array into the namespace and device of ``like`` (array-api-strict's too).

    With ``like=None`` the array goes to ``device`` (or the device in force).
    """
    if like is None:
        return to_device(np.asarray(a), device)
    if isinstance(like, np.ndarray) or isinstance(like, np.generic):
        return np.asarray(a)
    if array_api_compat.is_cupy_array(like):
        with like.device:
            return importlib.import_module("cupy").asarray(a)
    return namespace(like).asarray(a, device=array_api_compat.device(like))


# --------------------------------------------------------------------------- randomness
def host_randn(*shape: int) -> np.ndarray:
    """Standard normal draws from NumPy's legacy global RNG (cs231n's ``np.random.randn``)."""
    return np.random.randn(*shape)  # noqa: NPY002  (the course draws weights from the global RNG)


def seeded_uniform(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """cs231n's seeded draw: ``np.random.seed(seed)`` then ``np.random.rand(*shape)`` (float64, host).

    Reseeding the global RNG is part of the contract (notebooks rely on the side effect).
    """
    np.random.seed(seed)  # noqa: NPY002  (reseeding the global RNG is the contract)
    return np.random.rand(*shape)  # noqa: NPY002


def uniform(shape: tuple[int, ...], like: Any):
    """Uniform [0, 1) draws from the backend's own generator, as an array like ``like``.

    NumPy and array-api-strict: NumPy's legacy global RNG (``np.random.rand``), so
    ``np.random.seed`` makes it reproducible. CuPy: ``cupy.random`` on the array's device.
    The result is float64 on the host-backed namespaces and ``like``'s float dtype on CuPy.
    """
    if array_api_compat.is_cupy_array(like):
        cupy = importlib.import_module("cupy")
        with like.device:
            return cupy.random.random_sample(shape, dtype=like.dtype if like.dtype.kind == "f" else "float64")
    return from_host(np.random.rand(*shape), like)  # noqa: NPY002  (np.random.seed must reproduce it)
