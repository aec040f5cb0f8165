"""Image files in, model-sized RGB arrays out (for ``xnn predict`` and notebooks).

Files are read with matplotlib's reader (PNG natively, JPEG and the rest through Pillow, which
matplotlib already depends on), so no new image dependency is needed. Resizing is done here in
NumPy: area averaging when shrinking (every input pixel counts, no aliasing), bilinear
interpolation when enlarging.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["load_images", "read_image", "resize"]


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The image at ``path`` as RGB ``(H, W, 3)`` float64 with values 0..255.

    Grayscale is repeated into three channels; an alpha channel is dropped. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` saying what the file is when it
    is not an image matplotlib can read.
    """
    import matplotlib.image as mpimg
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no such image file: {name!r}")
    try:
        img = np.asarray(mpimg.imread(name))
    except (OSError, ValueError, SyntaxError) as err:  # Pillow's UnidentifiedImageError is an OSError
        from ..npz import describe_file
        raise ValueError(f"{name!r} is not an image matplotlib can read (it is {describe_file(name)})") from err
    if img.dtype.kind == "f":  # PNG: floats in [0, 1] (float32 k/255 for an 8-bit file)
        img = img.astype(np.float64) * 255.0
        rounded = np.round(img)
        if np.allclose(img, rounded, rtol=0, atol=1e-3):  # 8-bit levels: give back the exact integers
            img = rounded
    else:
        img = img.astype(np.float64) * (255.0 / np.iinfo(img.dtype).max)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"{name!r}: expected a grayscale or RGB(A) image, got an array of shape {img.shape}")
    color = img[:, :, :3] if img.shape[2] >= 3 else img[:, :, :1]
    return np.repeat(color, 3, axis=2) if color.shape[2] == 1 else color


def _resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights: area averaging for ``n_out <= n_in``, else bilinear (pixel centers)."""
    M = np.zeros((n_out, n_in))
    if n_out <= n_in:
        edges = np.arange(n_out + 1) * (n_in / n_out)
        for i in range(n_out):
            lo, hi = edges[i], edges[i + 1]
            for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                M[i, j] = min(hi, j + 1) - max(lo, j)
        return M / M.sum(axis=1, keepdims=True)
    centers = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
    left = np.floor(centers).astype(int)
    right = np.minimum(left + 1, n_in - 1)
    frac = centers - left
    M[np.arange(n_out), left] += 1 - frac
    M[np.arange(n_out), right] += frac
    return M


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img (H, W, C)`` resampled to ``(height, width, C)`` (unchanged when it already has that size)."""
    H, W = img.shape[:2]
    if (H, W) == (height, width):
        return img
    return np.einsum("ih,hwc,jw->ijc", _resample_matrix(H, height), img, _resample_matrix(W, width))


def load_images(paths: Sequence[str | os.PathLike], height: int = 32, width: int = 32) -> np.ndarray:
    """Image files as one NCHW batch ``(N, 3, height, width)`` float64 0..255 (resized when needed)."""
    return np.stack([resize(read_image(p), height, width) for p in paths]).transpose(0, 3, 1, 2)
