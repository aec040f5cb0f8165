"""Where CIFAR-10 (and the COCO captioning data) live by default.

:func:`default_data_root` is ``$XNN_DATA`` when set, else a per-user cache directory
(``~/.cache/xnn`` on Linux, ``~/Library/Caches/xnn`` on macOS, ``%LOCALAPPDATA%\\xnn`` on
Windows). The CIFAR-10 batches live in its ``cifar-10-batches-py`` subdirectory, which is where
:func:`xnn.data.download_cifar10` extracts them. ``$XNN_DATA`` may also point straight at a
``cifar-10-batches-py`` directory. ``XNN_DATA=sample`` is not a directory but a switch
(:func:`sample_requested`): ``get_CIFAR10_data`` then serves the bundled sample, and the data root
stays the per-user cache (use ``./sample`` for a directory of that name). The COCO captioning
files (:mod:`xnn.data.coco`) are read from the root's ``coco_captioning`` subdirectory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["BATCHES_DIRNAME", "COCO_DIRNAME", "SAMPLE_SWITCH", "TEST_FILE", "TRAIN_FILES", "default_cifar10_dir",
           "default_coco_dir", "default_data_root", "sample_requested"]

BATCHES_DIRNAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
COCO_DIRNAME = "coco_captioning"
#: The ``XNN_DATA`` value that asks for the bundled sample instead of a directory.
SAMPLE_SWITCH = "sample"


def sample_requested() -> bool:
    """Whether ``XNN_DATA`` is the word ``sample`` (any case, surrounding spaces ignored)."""
    return os.environ.get("XNN_DATA", "").strip().lower() == SAMPLE_SWITCH


def default_data_root() -> Path:
    """``$XNN_DATA`` if set (and not the ``sample`` switch), else the per-user cache directory for xnn."""
    env = os.environ.get("XNN_DATA")
    if env and not sample_requested():
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
