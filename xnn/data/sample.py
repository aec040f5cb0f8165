"""The real CIFAR-10 subset bundled with xnn (2000 train / 400 val / 400 test images).

``xnn/data/README.md`` says where the images come from and how the file is built.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from .cifar import mean_subtract_nchw

__all__ = ["SAMPLE_FILE", "load_sample", "sample_pool"]

SAMPLE_FILE = "cifar10_sample.npz"


def _sample_path():
    return resources.files("xnn.data").joinpath(SAMPLE_FILE)


def _arrays() -> dict[str, np.ndarray]:
    with resources.as_file(_sample_path()) as path, np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def sample_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sample as :func:`xnn.data.load_CIFAR10` returns a folder: ``Xtr, ytr, Xte, yte``.

    ``Xtr (2400, 32, 32, 3)`` float64 NHWC holds the sample's 2000 train then 400 val images (the
    first 2400 training rows it was cut from), ``ytr (2400,)`` int64; ``Xte (400, 32, 32, 3)``,
    ``yte (400,)`` are its test images.
    """
    arrays = _arrays()
    Xtr = np.concatenate([arrays["X_train"], arrays["X_val"]]).transpose(0, 2, 3, 1).astype(np.float64)
    ytr = np.concatenate([arrays["y_train"], arrays["y_val"]]).astype(np.int64)
    return Xtr, ytr, arrays["X_test"].transpose(0, 2, 3, 1).astype(np.float64), arrays["y_test"].astype(np.int64)


def load_sample(num_training: int | None = None, num_validation: int | None = None, num_test: int | None = None,
                subtract_mean: bool = True) -> dict[str, Any]:
    """The bundled real CIFAR-10 subset (Krizhevsky 2009), split like :func:`get_CIFAR10_data`.

    The package ships 2000 training, 400 validation and 400 test images (see
    ``xnn/data/README.md``); ``num_*`` take the first rows of each split (default: all).
    Returns ``X_train (n, 3, 32, 32)`` float64 (mean image of the returned train split subtracted
    when ``subtract_mean``), ``y_train (n,)`` int64, likewise ``X_val``/``y_val``/``X_test``/``y_test``,
    and ``classes``, the ten class names.
    """
    arrays = _arrays()
    out: dict[str, Any] = {}
    nhwc = []
    for split, count in (("train", num_training), ("val", num_validation), ("test", num_test)):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        n = X.shape[0] if count is None else count
        if isinstance(n, bool) or int(n) != n or not 0 <= n <= X.shape[0]:
            raise ValueError(f"load_sample: the bundled sample holds {X.shape[0]} {split} images; "
                             f"num_{'training' if split == 'train' else 'validation' if split == 'val' else 'test'} "
                             f"must be 0..{X.shape[0]}, got {count!r}")
        nhwc.append(X[:n].transpose(0, 2, 3, 1).astype(np.float64))
        out[f"y_{split}"] = y[:n].astype(np.int64)
    out["X_train"], out["X_val"], out["X_test"] = mean_subtract_nchw(*nhwc, subtract_mean)
    out["classes"] = [str(c) for c in arrays["classes"]]
    return {k: out[k] for k in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "classes")}
