"""Training and model plots: each returns a matplotlib ``Figure`` and saves it only when given a path.

Functions that draw a single axes take ``ax=`` (draw into an axes of your own figure; the
returned figure is then that axes' figure). Arrays may be NumPy, CuPy or any Array API arrays.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..backend import to_numpy
from .figure import finish, new_figure, target_axes
from .grids import filter_tiles, visualize_grid

__all__ = ["plot_confusion", "plot_filters", "plot_history", "plot_image_grid", "plot_templates"]

PathLike = str | os.PathLike | None
HISTORY_KEYS = ("loss_history", "train_acc_history", "val_acc_history")


def _history(solver_or_dict: Any) -> dict[str, list[float]]:
    get = solver_or_dict.get if isinstance(solver_or_dict, Mapping) else \
        (lambda key, default: getattr(solver_or_dict, key, default))
    return {k: [float(v) for v in get(k, [])] for k in HISTORY_KEYS}


def plot_history(solver_or_dict: Any, path: PathLike = None, *, axes: Sequence[Any] | None = None):
    """Training loss per iteration (left, "Training loss") and train/val accuracy per check (right).

    ``solver_or_dict``: a Solver, or a mapping with ``loss_history``, ``train_acc_history``,
    ``val_acc_history`` (lists of numbers; missing ones are drawn empty). ``axes``: two axes
    ``(loss_axes, accuracy_axes)`` to draw into instead of a new 11 x 4 inch figure.
    """
    h = _history(solver_or_dict)
    if axes is None:
        fig = new_figure(11, 4)
        ax_loss, ax_acc = fig.subplots(1, 2)
    else:
        ax_loss, ax_acc = axes
        fig = ax_loss.figure
    ax_loss.plot(np.arange(1, len(h["loss_history"]) + 1), h["loss_history"], ".", markersize=3, alpha=0.6)
    ax_loss.set(title="Training loss", xlabel="Iteration", ylabel="Loss")
    ax_acc.plot(h["train_acc_history"], "-o", label="train")
    ax_acc.plot(h["val_acc_history"], "-o", label="val")
    ax_acc.set(title="Classification accuracy", xlabel="Epoch", ylabel="Accuracy")
    ax_acc.legend(loc="lower right")
    return finish(fig, path)


def _draw_grid(ax: Any, grid: np.ndarray, title: str | None) -> None:
    """An image grid with values in [0, 255] (grayscale when it has one channel), axes hidden."""
    img = np.clip(grid, 0, 255).astype(np.uint8)
    ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None,
              interpolation="nearest")
    if title:
        ax.set_title(title)
    ax.axis("off")


def _grid_size(grid: np.ndarray) -> tuple[float, float]:
    """A figure size (inches) that shows every pixel of ``grid`` at least once, about 4 inches across."""
    H, W = grid.shape[:2]
    scale = max(1.0, 400.0 / max(H, W))
    return W * scale / 100 + 0.4, H * scale / 100 + 0.6


def plot_image_grid(grid: Any, title: str | None = None, path: PathLike = None, *, ax: Any = None):
    """Show an image grid ``(H, W, C)`` with values in ``[0, 255]`` (as :func:`visualize_grid` returns)."""
    grid = np.asarray(to_numpy(grid), dtype=np.float64)
    if grid.ndim != 3:
        raise ValueError(f"plot_image_grid: grid must be (H, W, C), got shape {grid.shape}")
    fig, ax = target_axes(ax, *_grid_size(grid))
    _draw_grid(ax, grid, title)
    return finish(fig, path)


def plot_filters(W1: Any, path: PathLike = None, title: str = "First-layer filters", *, ax: Any = None):
    """First-layer conv filters ``W1 (F, C, HH, WW)`` as an image grid (via :func:`visualize_grid`).

    With C = 3 each filter is an RGB tile; otherwise every (filter, channel) pair is a grayscale
    tile. Each tile is min-max scaled on its own.
    """
    return plot_image_grid(visualize_grid(filter_tiles("plot_filters", W1), padding=1), title, path, ax=ax)


def _class_names(fn: str, count: int, class_names: Sequence[str] | None) -> list[str]:
    """``class_names`` checked against ``count``; by default CIFAR-10's names for 10 classes."""
    if class_names is None:
        from ..data import CIFAR10_CLASSES
        return list(CIFAR10_CLASSES) if count == 10 else [f"class {i}" for i in range(count)]
    names = [str(n) for n in class_names]
    if len(names) != count:
        raise ValueError(f"{fn}: {count} classes but {len(names)} class_names were given")
    return names


def plot_templates(W: Any, class_names: Sequence[str] | None = None, path: PathLike = None, *,
                   image_shape: tuple[int, int, int] = (3, 32, 32), layout: str = "NCHW",
                   title: str | None = "Learned class templates"):
    """The weights of a linear classifier as one image per class, titled with the class names.

    ``W (D, C)`` or ``(D + 1, C)`` (a bias row last, as with the course's bias trick), where
    ``D = prod(image_shape)`` and ``image_shape = (channels, H, W)``. ``layout`` says how the images
    were flattened into rows of ``X``: ``"NCHW"`` (xnn's loaders) or ``"NHWC"`` (the course's
    ``X.reshape(N, -1)`` of ``(N, 32, 32, 3)`` images). All templates share one color scale (the
    min and max over every class), as the course notebooks draw them.
    """
    W = np.asarray(to_numpy(W), dtype=np.float64)
    C, H, Wd = image_shape
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f'plot_templates: layout must be "NCHW" or "NHWC", got {layout!r}')
    if W.ndim != 2 or W.shape[0] not in (C * H * Wd, C * H * Wd + 1):
        raise ValueError(f"plot_templates: W must be ({C * H * Wd}, classes) or ({C * H * Wd + 1}, classes) "
                         f"for {image_shape} images, got shape {W.shape}")
    cols = W[:C * H * Wd].T
    images = cols.reshape(-1, C, H, Wd).transpose(0, 2, 3, 1) if layout == "NCHW" else cols.reshape(-1, H, Wd, C)
    names = _class_names("plot_templates", images.shape[0], class_names)
    images = 255.0 * (images - images.min()) / max(images.max() - images.min(), 1e-12)
    ncols = min(5, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = new_figure(1.6 * ncols, 1.8 * nrows + (0.3 if title else 0))
    for i, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).ravel()):
        if i < len(names):
            _draw_grid(ax, images[i], names[i])
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def plot_confusion(confusion: Any, class_names: Sequence[str] | None = None, path: PathLike = None, *,
                   ax: Any = None, title: str | None = None):
    """A confusion matrix ``(C, C)`` (rows: true class, columns: predicted class) with counts.

    Cells are colored by the fraction of their row (the per-class recall on the diagonal) and
    labelled with the count. ``title`` defaults to ``"Confusion matrix (accuracy 41.2%)"``.
    """
    cm = np.asarray(to_numpy(confusion), dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion: confusion must be a square (C, C) matrix, got shape {cm.shape}")
    names = _class_names("plot_confusion", cm.shape[0], class_names)
    fig, ax = target_axes(ax, 1.0 + 0.55 * len(names), 0.8 + 0.5 * len(names))
    fraction = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                color="white" if fraction[i, j] > 0.5 else "black")
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right")
    ax.set_yticks(ticks, names)
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set(xlabel="Predicted class", ylabel="True class",
           title=title if title is not None else f"Confusion matrix (accuracy {100 * accuracy:.1f}%)")
    return finish(fig, path)
