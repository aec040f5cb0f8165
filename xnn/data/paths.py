"""Where CIFAR-10 (and the COCO captioning data) live by default.

:func:`default_data_root` is ``$XNN_DATA`` when set, else a per-user cache directory
(``~/.cache/xnn`` on Linux, ``~/Library/Caches/xnn`` on macOS, ``%LOCALAPPDATA%\\xnn`` on
Windows). The CIFAR-10 batches live in its ``cifar-10-batches-py`` subdirectory, which is where
:func:`xnn.data.download_cifar10` extracts them. ``$XNN_DATA`` may also point straight at a
``cifar-10-batches-py`` directory. The COCO captioning files (:mod:`xnn.data.coco`) are read from
its ``coco_captioning`` subdirectory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["BATCHES_DIRNAME", "COCO_DIRNAME", "TEST_FILE", "TRAIN_FILES", "default_cifar10_dir", "default_coco_dir",
           "default_data_root"]

BATCHES_DIRNAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
COCO_DIRNAME = "coco_captioning"


def default_data_root() -> Path:
    """``$XNN_DATA`` if set, else the per-user cache directory for xnn (created on download)."""
    env = os.environ.get("XNN_DATA")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "xnn"


def default_cifar10_dir() -> Path:
    """Where CIFAR-10 is read from by default: ``<data root>/cifar-10-batches-py``.

    ``$XNN_DATA`` pointing straight at a directory holding ``data_batch_1`` is used as is.
    """
    root = default_data_root()
    if (root / TRAIN_FILES[0]).is_file():
        return root
    return root / BATCHES_DIRNAME


def default_coco_dir() -> Path:
    """Where the COCO captioning files are read from by default: ``<data root>/coco_captioning``."""
    return default_data_root() / COCO_DIRNAME
