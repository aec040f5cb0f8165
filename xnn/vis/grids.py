"""Image grids (cs231n ``vis_utils``): arrays in, arrays out, no matplotlib.

Every function accepts NumPy, CuPy or other Array API arrays (they are copied to the host with
``xnn.backend.to_numpy``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import to_numpy

__all__ = ["visualize_grid", "vis_grid", "vis_nn", "first_layer_images", "filter_tiles"]


def _host_nhwc(fn: str, Xs: Any) -> np.ndarray:
    X = np.asarray(to_numpy(Xs), dtype=np.float64)
    if X.ndim != 4:
        raise ValueError(f"{fn}: Xs must be 4-D (N, H, W, C), got shape {X.shape}")
    return X


def _scaled(img: np.ndarray, ubound: float) -> np.ndarray:
    """``img`` min-max scaled to [0, ubound]; a constant image (max == min) maps to all zeros."""
    low, high = img.min(), img.max()
    if high == low:
        return np.zeros_like(img)
    return ubound * (img - low) / (high - low)


def visualize_grid(Xs: Any, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    """Tile images into a square grid, each image min-max scaled on its own to ``[0, ubound]``.

    Xs ``(N, H, W, C)``. With ``g = ceil(sqrt(N))`` the result is float64
    ``(H*g + padding*(g-1), W*g + padding*(g-1), C)``, images in row-major order, zeros in the gaps
    and in unused cells. Unlike cs231n (which divides by zero), a constant image becomes zeros.
    """
    X = _host_nhwc("visualize_grid", Xs)
    N, H, W, C = X.shape
    g = math.ceil(math.sqrt(N))
    grid = np.zeros((H * g + padding * (g - 1), W * g + padding * (g - 1), C))
    for n in range(N):
        top, left = (n // g) * (H + padding), (n % g) * (W + padding)
        grid[top:top + H, left:left + W] = _scaled(X[n], ubound)
    return grid


def _normalize01(G: np.ndarray) -> np.ndarray:
    """The whole of ``G`` min-max scaled to [0, 1] (zeros when constant)."""
    return _scaled(G, 1.0)


def vis_grid(Xs: Any) -> np.ndarray:
    """Square grid with a 1-pixel gap after every image, the whole grid scaled to ``[0, 1]``.

    Xs ``(N, H, W, C)``; with ``A = ceil(sqrt(N))`` the result is ``(A*(H+1), A*(W+1), C)`` in
    Xs' float dtype. Gaps and unused cells hold the global minimum before scaling (so 0 after).
    A constant input gives zeros instead of dividing by zero.
    """
    X = np.asarray(to_numpy(Xs))
    if X.ndim != 4:
        raise ValueError(f"vis_grid: Xs must be 4-D (N, H, W, C), got shape {X.shape}")
    N, H, W, C = X.shape
    A = math.ceil(math.sqrt(N))
    dtype = X.dtype if X.dtype.kind == "f" else np.float64
    G = np.full((A * (H + 1), A * (W + 1), C), X.min(), dtype=dtype)
    for n in range(N):
        top, left = (n // A) * (H + 1), (n % A) * (W + 1)
        G[top:top + H, left:left + W] = X[n]
    return _normalize01(G)


def vis_nn(rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Grid of a list of rows of ``(H, W, C)`` images, 1-pixel gaps, the whole grid scaled to ``[0, 1]``.

    With ``len(rows) = R`` rows of ``D`` images each the result is ``(R*(H+1), D*(W+1), C)``.
    Gaps start as ones before scaling. A constant grid gives zeros instead of dividing by zero.
    """
    imgs = [[np.asarray(to_numpy(im)) for im in row] for row in rows]
    if not imgs or not imgs[0]:
        raise ValueError("vis_nn: rows must be a non-empty list of non-empty lists of (H, W, C) images")
    H, W, C = imgs[0][0].shape
    dtype = imgs[0][0].dtype if imgs[0][0].dtype.kind == "f" else np.float64
    G = np.ones((len(imgs) * (H + 1), len(imgs[0]) * (W + 1), C), dtype=dtype)
    for r, row in enumerate(imgs):
        for d, im in enumerate(row):
            G[r * (H + 1):r * (H + 1) + H, d * (W + 1):d * (W + 1) + W] = im
    return _normalize01(G)


def first_layer_images(W: Any, image_shape: tuple[int, int, int] = (3, 32, 32), limit: int = 100) -> np.ndarray | None:
    """First-layer weights of a fully connected model as images, or ``None`` when they are not image-shaped.

    W ``(D, M)`` with ``D = C*H*W`` (or ``C*H*W + 1`` with a bias row last, as the linear
    classifiers use) gives ``(min(M, limit), C, H, W)``: column ``m`` reshaped to an image.
    """
    W = np.asarray(to_numpy(W), dtype=np.float64)
    size = int(np.prod(image_shape))
    if W.ndim != 2 or W.shape[0] not in (size, size + 1):
        return None
    cols = W[:size, :limit]
    return cols.T.reshape(-1, *image_shape)


def filter_tiles(fn: str, W1: Any) -> np.ndarray:
    """Conv filters ``W1 (F, C, HH, WW)`` as NHWC tiles for :func:`visualize_grid`.

    With C = 3 each filter is one RGB tile ``(F, HH, WW, 3)``; otherwise every (filter, channel)
    pair is a grayscale tile ``(F * C, HH, WW, 1)``.
    """
    W = np.asarray(to_numpy(W1), dtype=np.float64)
    if W.ndim != 4:
        raise ValueError(f"{fn}: W1 must be 4-D (F, C, HH, WW), got shape {W.shape}")
    if W.shape[1] == 3:
        return W.transpose(0, 2, 3, 1)
    return W.reshape(-1, 1, *W.shape[2:]).transpose(0, 2, 3, 1)
