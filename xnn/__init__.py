"""xnn: the CS231n layer library on NumPy (CPU) and CuPy (GPU), written once against the Array API.

``import xnn`` is cheap and never imports CuPy: the submodules (``xnn.layers``, ``xnn.models``,
``xnn.optim``, ``xnn.solver``, ``xnn.data``, ``xnn.vis``, ``xnn.gradient_check``, ``xnn.compat``,
``xnn.kernels``, ...) load on first attribute access, so ``xnn.layers.affine_forward`` works after a
plain ``import xnn``. ``xnn.load_run(run_dir)`` rebuilds the trained model of an ``xnn train`` run.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from . import backend  # noqa: E402  (the public device helpers)

_SUBMODULES = ("layers", "models", "optim", "solver", "data", "vis", "gradient_check", "compat", "kernels",
               "validation", "npz", "training", "sweep")

#: Functions served from submodules: ``xnn.load_run(run_dir)`` rebuilds a trained run's model.
_FUNCTIONS = {"load_run": "training.runs"}

__all__ = ["__version__", "backend", *_SUBMODULES, *_FUNCTIONS]


def __getattr__(name: str) -> Any:
    """Import a public submodule (or the module of a public function) on first access (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(f".{_FUNCTIONS[name]}", __name__), name)
    raise AttributeError(f"module 'xnn' has no attribute {name!r}")
