"""Compile the ``.cu`` sources of this package with NVRTC (through CuPy) and cache the modules.

Each source file holds ``template <typename T> __global__`` kernels; they are compiled for
``float`` and ``double`` through ``cupy.RawModule(code=..., name_expressions=[...])`` once per
(CUDA device, source file) and looked up by name expression (``"im2col<float>"``).

:data:`KERNELS` (file -> kernel names) and :data:`CTYPES` (dtype -> C type) are the single list
of what gets compiled: :func:`name_expressions` derives the NVRTC names from them, and the
nvcc compile test builds its instantiation wrapper from the same function, so the two cannot
drift. Another test checks :data:`KERNELS` against the template definitions in the sources.

CuPy is imported only inside the functions that launch or compile, so this module (and the
dtype checks of :func:`get_kernel`) work without CuPy.
"""

from __future__ import annotations

import importlib
import importlib.resources
import threading
from typing import Any

import numpy as np

__all__ = ["KERNELS", "CTYPES", "COMPILE_OPTIONS", "source_files", "read_source", "name_expressions",
           "source_of", "ctype_of", "get_module", "get_kernel", "COMMON_HEADER"]

#: Kernel names defined in each source file of this package (templates over the float type).
KERNELS: dict[str, tuple[str, ...]] = {
    "im2col.cu": ("im2col", "col2im"),
    "pool.cu": ("maxpool_forward", "maxpool_backward"),
    "embedding.cu": ("embedding_backward",),
}

#: NumPy dtype name -> C type the templates are instantiated for.
CTYPES: dict[str, str] = {"float32": "float", "float64": "double"}

#: Device helpers put in front of every source (NVRTC compiles without include paths).
COMMON_HEADER = "common.cuh"

#: Options passed to NVRTC (and, by the compile test, to nvcc).
COMPILE_OPTIONS: tuple[str, ...] = ("-std=c++17",)

_modules: dict[tuple[int, str], Any] = {}
_lock = threading.Lock()


def source_files() -> tuple[str, ...]:
    """Names of the ``.cu`` files this package compiles."""
    return tuple(KERNELS)


def read_source(filename: str) -> str:
    """Text to compile for one ``.cu`` file: :data:`COMMON_HEADER` followed by the file, read as
    package data (works from a wheel or a checkout)."""
    if filename not in KERNELS:
        raise ValueError(f"unknown CUDA source {filename!r}; expected one of {sorted(KERNELS)}")
    files = importlib.resources.files(__package__)
    common = files.joinpath(COMMON_HEADER).read_text(encoding="utf-8")
    return f"{common}\n// ---- {filename}\n{files.joinpath(filename).read_text(encoding='utf-8')}"


def name_expressions(filename: str) -> list[str]:
    """NVRTC name expressions of every kernel in ``filename``, e.g. ``["im2col<float>", ...]``."""
    return [f"{kernel}<{ctype}>" for kernel in KERNELS[filename] for ctype in CTYPES.values()]


def source_of(kernel: str) -> str:
    """The source file that defines ``kernel`` (``ValueError`` for an unknown name)."""
    for filename, names in KERNELS.items():
        if kernel in names:
            return filename
    known = sorted(k for names in KERNELS.values() for k in names)
    raise ValueError(f"unknown CUDA kernel {kernel!r}; expected one of {known}")


def ctype_of(dtype: Any) -> str:
    """C type for a NumPy-compatible dtype; ``TypeError`` naming the dtype unless float32/float64."""
    try:
        name = np.dtype(dtype).name if dtype is not None else "None"
    except TypeError:
        name = str(dtype)
    if name not in CTYPES:
        raise TypeError(f"CUDA kernels support float32 and float64 only, got dtype {name}")
    return CTYPES[name]


def get_module(filename: str):
    """The compiled ``cupy.RawModule`` of ``filename`` for the current CUDA device (cached)."""
    cupy = importlib.import_module("cupy")
    key = (cupy.cuda.runtime.getDevice(), filename)
    module = _modules.get(key)
    if module is None:
        with _lock:
            module = _modules.get(key)
            if module is None:
                names = name_expressions(filename)
                module = cupy.RawModule(code=read_source(filename), options=COMPILE_OPTIONS,
                                        name_expressions=names)
                # NVRTC runs (on this device) at the first get_function: do it here, so a
                # compile error is raised now and no broken module is cached. CuPy also keeps
                # the binary in its on-disk kernel cache, so later processes skip NVRTC.
                module.get_function(names[0])
                _modules[key] = module
    return module


def get_kernel(name: str, dtype: Any):
    """The ``cupy.RawKernel``-like function ``name<T>`` for ``dtype`` on the current device.

    ``name`` is one of the kernels of :data:`KERNELS`; ``dtype`` must be float32 or float64
    (``TypeError`` naming the dtype otherwise, raised before CuPy is touched).
    """
    ctype = ctype_of(dtype)
    filename = source_of(name)
    return get_module(filename).get_function(f"{name}<{ctype}>")
