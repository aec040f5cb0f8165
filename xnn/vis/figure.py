"""Figures that show themselves in Jupyter without pyplot.

The plots build :class:`InlineFigure` objects with matplotlib's object API (no pyplot, so no
global figure list fills up, nothing is shown twice, and threads and headless machines are
fine). IPython displays a returned figure through :meth:`InlineFigure._repr_png_`; where
matplotlib's inline backend has registered its own formatter for figures, IPython uses that one
instead (the subclass matches it), so a figure is never drawn twice.
"""

from __future__ import annotations

import io
import os
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["InlineFigure", "finish", "new_figure", "target_axes"]


class InlineFigure(Figure):
    """A matplotlib :class:`~matplotlib.figure.Figure` with a PNG rich representation."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes (what Jupyter shows when a cell returns the figure)."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def new_figure(width: float, height: float) -> InlineFigure:
    """An empty ``width`` x ``height`` inch figure (100 dpi) on an Agg canvas, laid out automatically."""
    fig = InlineFigure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def target_axes(ax: Any, width: float, height: float) -> tuple[Figure, Any]:
    """``(figure, axes)`` to draw on: the caller's ``ax`` and its figure, or a new one-axes figure."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(width, height)
    return fig, fig.add_subplot(1, 1, 1)


def finish(fig: Figure, path: str | os.PathLike | None) -> Figure:
    """Save ``fig`` as ``path`` (format from the suffix) when a path is given; return ``fig``."""
    if path is not None:
        fig.savefig(os.fspath(path))
    return fig
