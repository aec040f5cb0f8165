"""``xnn info``: versions, devices and the kernel path every op takes on every namespace."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
from importlib import metadata

from .. import __version__, backend, kernels
from ..data import default_cifar10_dir

__all__ = ["add_parser", "info_text", "run"]


def add_parser(sub) -> None:
    """Register ``xnn info``."""
    p = sub.add_parser("info", help="versions, devices and the kernel path of every op",
                       description="Print versions, devices, GPU availability and which kernel path each op takes.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print :func:`info_text`."""
    print(info_text())
    return 0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cupy_lines() -> list[str]:
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:  # ImportError, or a CuPy that fails to load its CUDA libraries
        return [f"cupy             not available ({type(exc).__name__})"]
    lines = [f"cupy             {cupy.__version__}"]
    try:
        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            lines.append(f"  gpu {i}          {name}, {props['totalGlobalMem'] / 2**30:.1f} GiB, "
                         f"compute capability {props['major']}.{props['minor']}")
    except Exception as exc:
        lines.append(f"  no usable CUDA device ({exc})")
    return lines


def _namespaces() -> list[tuple[str, object]]:
    found = [("numpy", importlib.import_module("array_api_compat.numpy"))]
    try:
        found.append(("array_api_strict", importlib.import_module("array_api_strict")))
    except ImportError:
        pass
    if backend.gpu_available():
        found.append(("cupy", importlib.import_module("array_api_compat.cupy")))
    return found


def _kernel_lines() -> list[str]:
    """One line per namespace: the module serving each op (ops a fast module lacks fall back to generic)."""
    lines = [f"  choice           {kernels.current()} (XNN_KERNELS or kernels.use)"]
    for name, xp in _namespaces():
        try:
            paths = ", ".join(f"{op}: {kernels.op_path(op, xp)}" for op in kernels.OPS)
        except Exception as exc:
            paths = f"unavailable ({type(exc).__name__}: {exc})"
        lines.append(f"  {name:<17}{paths}")
    return lines


def info_text() -> str:
    """The report printed by ``xnn info``."""
    gpu = backend.gpu_available()
    lines = [f"xnn              {__version__}",
             f"python           {platform.python_version()} ({platform.platform()})",
             f"numpy            {_version('numpy')}",
             f"array-api-compat {_version('array-api-compat')}",
             f"array-api-strict {_version('array-api-strict')}",
             f"matplotlib       {_version('matplotlib')}",
             *_cupy_lines(),
             f"devices          cpu{', gpu' if gpu else ''}",
             f"gpu available    {'yes' if gpu else 'no'}",
             f"auto device      {backend.resolve_device('auto')}",
             f"XNN_DEVICE       {os.environ.get('XNN_DEVICE', '(unset)')}",
             f"XNN_KERNELS      {os.environ.get('XNN_KERNELS', '(unset)')}",
             f"cifar10 dir      {default_cifar10_dir()}",
             "kernel paths"] + _kernel_lines()
    return "\n".join(lines)
