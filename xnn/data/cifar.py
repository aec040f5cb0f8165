"""CIFAR-10 reading with cs231n's ``data_utils`` contract (the split is in :mod:`xnn.data.splits`).

The official CIFAR-10 python files are pickles. They are read with a restricted unpickler
(:class:`_CifarUnpickler`) that can only build the builtins and NumPy array types those files
contain, so a tampered file cannot run code. Any file that is missing, truncated or not a
CIFAR-10 batch raises an error that names the file and what is wrong with it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .paths import TEST_FILE, TRAIN_FILES

__all__ = [
    "CIFAR10_CLASSES",
    "load_CIFAR10",
    "load_CIFAR_batch",
    "load_label_names",
    "load_pickle",
    "mean_subtract_nchw",
]

IMAGE_VALUES = 3 * 32 * 32
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# --------------------------------------------------------------------------- unpickling
def _allowed_globals() -> dict[tuple[str, str], Any]:
    """(module, name) -> object for every global the CIFAR-10 pickles may reference."""
    reconstruct = np.empty(0).__reduce__()[0]  # numpy's ndarray reconstructor, whatever its module
    scalar = np.float64(0).__reduce__()[0]
    import codecs
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): codecs.encode}  # Python 3 protocol-2 pickles write bytes this way
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = reconstruct
        allowed[(mod, "scalar")] = scalar
    return allowed


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global except the few NumPy types CIFAR-10 files use."""

    _ALLOWED = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: not a type a CIFAR-10 "
                                         "file contains") from None


def load_pickle(f: BinaryIO) -> Any:
    """Unpickle a CIFAR-10 file object the way cs231n does (``encoding='latin1'``, so keys load as str).

    Only builtins and NumPy arrays/dtypes can be built (no arbitrary code runs); anything else
    raises ``pickle.UnpicklingError``.
    """
    return _CifarUnpickler(f, encoding="latin1").load()


def _read_batch_dict(filename: str | os.PathLike) -> dict[str, Any]:
    """The batch dict of ``filename`` with str keys; errors name the file and the problem."""
    path = Path(filename)
    if not path.is_file():
        raise FileNotFoundError(f"{path.name}: CIFAR-10 file not found at {path}")
    try:
        with open(path, "rb") as f:
            obj = load_pickle(f)
    except OSError:
        raise
    except Exception as exc:  # a corrupt pickle can fail in many ways (EOF, bad opcodes, codecs, struct ...)
        raise ValueError(f"{path.name}: not a readable CIFAR-10 pickle ({type(exc).__name__}: {exc}) "
                         f"at {path}") from exc
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path.name}: not a CIFAR-10 batch (expected a dict, got {type(obj).__name__}) at {path}")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def load_CIFAR_batch(filename: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load one CIFAR-10 batch file.

    Returns ``X`` float64 ``(n, 32, 32, 3)`` (NHWC, values 0..255) and ``Y`` int64 ``(n,)``.
    ``n`` is whatever the file holds (10000 in the official files). Raises ``FileNotFoundError``
    for a missing file and ``ValueError`` naming the file for a corrupt or foreign one.
    """
    name = Path(filename).name
    batch = _read_batch_dict(filename)
    for key in ("data", "labels"):
        if key not in batch:
            raise ValueError(f"{name}: not a CIFAR-10 batch (missing key '{key}')")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_VALUES:
        desc = f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}"
        raise ValueError(f"{name}: not a CIFAR-10 batch ('data' must be uint8 (n, {IMAGE_VALUES}), got {desc})")
    try:
        Y = np.asarray(batch["labels"], dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a CIFAR-10 batch ('labels' is not a list of ints: {exc})") from exc
    n = data.shape[0]
    if Y.shape[0] != n:
        raise ValueError(f"{name}: corrupt CIFAR-10 batch ({n} images but {Y.shape[0]} labels)")
    if n and (Y.min() < 0 or Y.max() > 9):
        raise ValueError(f"{name}: corrupt CIFAR-10 batch (labels must be 0..9, got {Y.min()}..{Y.max()})")
    X = data.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    return X, Y


def load_CIFAR10(ROOT: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a ``cifar-10-batches-py`` directory.

    Returns ``Xtr (Ntr, 32, 32, 3)`` float64, ``Ytr (Ntr,)`` int64 (``data_batch_1..5`` in order,
    50000 images in the official files) and ``Xte (Nte, 32, 32, 3)``, ``Yte (Nte,)`` from ``test_batch``.
    """
    root = Path(ROOT)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR-10 directory not found: {root} (run `python -m xnn data download` "
                                "or pass the directory that holds data_batch_1..5 and test_batch)")
    parts = [load_CIFAR_batch(root / name) for name in TRAIN_FILES]
    Xtr = np.concatenate([p[0] for p in parts])
    Ytr = np.concatenate([p[1] for p in parts])
    Xte, Yte = load_CIFAR_batch(root / TEST_FILE)
    return Xtr, Ytr, Xte, Yte


def load_label_names(ROOT: str | os.PathLike) -> list[str]:
    """Class names from ``batches.meta`` (falls back to the standard ten names when absent)."""
    meta = Path(ROOT) / "batches.meta"
    if not meta.is_file():
        return list(CIFAR10_CLASSES)
    names = _read_batch_dict(meta).get("label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise ValueError(f"batches.meta: not a CIFAR-10 meta file (bad 'label_names') at {meta}")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


# --------------------------------------------------------------------------- splits
def mean_subtract_nchw(X_train: np.ndarray, X_val: np.ndarray, X_test: np.ndarray,
                        subtract_mean: bool) -> list[np.ndarray]:
    """Subtract the train mean image (NHWC) from all three splits if asked, then make them contiguous NCHW."""
    if subtract_mean:
        mean_image = np.mean(X_train, axis=0)
        X_train, X_val, X_test = X_train - mean_image, X_val - mean_image, X_test - mean_image
    return [np.ascontiguousarray(x.transpose(0, 3, 1, 2)) for x in (X_train, X_val, X_test)]
