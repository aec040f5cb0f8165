"""xnn: the CS231n layer library on NumPy (CPU) and CuPy (GPU), written once against the Array API."""

__version__ = "0.1.0"

from . import backend  # noqa: E402  (the public device helpers)

__all__ = ["__version__", "backend"]
