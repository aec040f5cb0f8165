"""Figures and image grids.

* Image grids (cs231n ``vis_utils``): :func:`visualize_grid`, :func:`vis_grid`, :func:`vis_nn`
  return arrays; :func:`first_layer_images` turns fully connected first-layer weights into images.
* Plots: :func:`plot_history`, :func:`plot_filters`, :func:`plot_templates`,
  :func:`plot_confusion`, :func:`plot_image_grid` return a matplotlib ``Figure``, which Jupyter
  shows inline when a cell returns it; they save it only when given a ``path``, and the
  one-axes plots draw into your own axes with ``ax=``. They use matplotlib's object API, never
  pyplot's global state.

The plots (and matplotlib) load on first use, so the course's ``vis_utils`` names import fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from .grids import first_layer_images, vis_grid, vis_nn, visualize_grid

_LAZY = {"plot_history": "plots", "plot_filters": "plots", "plot_templates": "plots", "plot_confusion": "plots",
         "plot_image_grid": "plots", "InlineFigure": "figure"}

__all__ = ["visualize_grid", "vis_grid", "vis_nn", "first_layer_images", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import a plot function (and with it matplotlib) on first access (PEP 562)."""
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'xnn.vis' has no attribute {name!r}")
