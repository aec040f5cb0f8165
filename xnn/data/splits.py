"""``get_CIFAR10_data``: cs231n's train/val/test split, on whichever CIFAR-10 set is there.

cs231n's function assumes the full set (50000 training and 10000 test images). Notebooks call it
with the defaults (49000 / 1000 / 1000), so on a smaller set (the bundled sample, a partial
download, a course's reduced copy) xnn uses what exists instead of failing:

* the training files are shared between training and validation in the asked proportion,
  training first (it takes the first rows and the rounding remainder; validation keeps at least
  one image when it asked for any and there are two images or more);
* the test split takes what the test file holds, up to what was asked;
* one ``UserWarning`` per distinct shortfall names the set and the sizes used.

``XNN_DATA=sample`` (the word, not a path) makes calls without ``cifar10_dir`` read the bundled
sample instead of a directory: it behaves as a CIFAR-10 folder holding the first 2400 training and
the first 400 test images (see ``xnn/data/README.md``), so a notebook runs offline unchanged.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .cifar import load_CIFAR10, mean_subtract_nchw
from .paths import default_cifar10_dir, sample_requested
from .sample import sample_pool

__all__ = ["fit_sizes", "get_CIFAR10_data"]

_WARNED: set[tuple] = set()  # shortfalls already reported in this process
_XNN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def fit_sizes(n_pool: int, n_test: int, num_training: int, num_validation: int,
              num_test: int) -> tuple[int, int, int]:
    """The ``(num_training, num_validation, num_test)`` a set of ``n_pool`` training and ``n_test`` test images allows.

    Unchanged when the set is large enough. Otherwise the training images are split in the asked
    proportion (training takes the rest of the rounding, validation keeps at least one image when
    it asked for any and the pool has two or more) and the test split is cut to ``n_test``.
    """
    if num_training + num_validation > n_pool:
        share = num_validation * n_pool // (num_training + num_validation)
        if num_validation and num_training:
            share = min(max(share, 1), n_pool - 1)
        num_training, num_validation = n_pool - share, share
    return num_training, num_validation, min(num_test, n_test)


def _check_counts(fn: str, counts: dict[str, int]) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise ValueError(f"{fn}: {name} must be a non-negative integer, got {value!r}")


def _outside_xnn() -> int:
    """``stacklevel`` for a warning raised by the caller: the first frame outside xnn (a notebook cell).

    The warning then points at the user's line, past xnn's own wrappers (the course ``data_utils``).
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_XNN_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _warn_once(source: str, n_pool: int, n_test: int, asked: tuple[int, int, int],
               used: tuple[int, int, int]) -> None:
    key = (source, n_pool, n_test, asked, used)
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f"get_CIFAR10_data: {source} holds {n_pool} training and {n_test} test images, fewer than "
                  f"asked (num_training={asked[0]}, num_validation={asked[1]}, num_test={asked[2]}); using "
                  f"num_training={used[0]}, num_validation={used[1]}, num_test={used[2]}", UserWarning,
                  stacklevel=_outside_xnn())


def get_CIFAR10_data(num_training: int = 49000, num_validation: int = 1000, num_test: int = 1000,
                     subtract_mean: bool = True, cifar10_dir: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """CIFAR-10 split for a classifier, as cs231n's ``get_CIFAR10_data`` (plus ``cifar10_dir``).

    train = the first ``num_training`` training rows, val = rows ``[num_training,
    num_training + num_validation)``, test = the first ``num_test`` test rows. With
    ``subtract_mean`` the mean image of the train split is subtracted from all three (NHWC),
    then every split is transposed to contiguous NCHW.

    Returns keys ``X_train (num_training, 3, 32, 32)``, ``y_train (num_training,)``, ``X_val``,
    ``y_val``, ``X_test``, ``y_test``; X float64, y int64. ``cifar10_dir`` defaults to
    :func:`default_cifar10_dir`, or to the bundled sample under ``XNN_DATA=sample``. A set with
    fewer images than asked gives smaller splits (:func:`fit_sizes`) and one ``UserWarning``;
    a negative or fractional count is a ``ValueError``.
    """
    fn = "get_CIFAR10_data"
    asked = (num_training, num_validation, num_test)
    _check_counts(fn, dict(zip(("num_training", "num_validation", "num_test"), asked)))
    if cifar10_dir is None and sample_requested():
        source, (Xtr, ytr, Xte, yte) = "the bundled CIFAR-10 sample (XNN_DATA=sample)", sample_pool()
    else:
        root = Path(cifar10_dir) if cifar10_dir is not None else default_cifar10_dir()
        source, (Xtr, ytr, Xte, yte) = str(root), load_CIFAR10(root)
    used = fit_sizes(len(ytr), len(yte), *(int(v) for v in asked))
    if used != asked:
        _warn_once(source, len(ytr), len(yte), asked, used)
    n_train, n_val, n_test = used
    stop = n_train + n_val
    X_train, X_val, X_test = mean_subtract_nchw(Xtr[:n_train], Xtr[n_train:stop], Xte[:n_test], subtract_mean)
    return {"X_train": X_train, "y_train": ytr[:n_train], "X_val": X_val, "y_val": ytr[n_train:stop],
            "X_test": X_test, "y_test": yte[:n_test]}
