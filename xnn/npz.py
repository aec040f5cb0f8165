"""``.npz`` archives of plain arrays: atomic writes and pickle-free reads.

Models (``save``/``load``), Solver checkpoints and run directories all store their arrays this
way: a file is written to a temporary name in the same directory, synced and then renamed over
the target (a crash never leaves half a file), and read back with ``allow_pickle=False`` (a file
can never run code).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib

import numpy as np

__all__ = ["load", "save_atomic"]


def save_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` at exactly ``path``, atomically.

    The archive goes to a temporary file in the same directory first, is flushed to disk
    (``fsync``) and is then moved over ``path`` with :func:`os.replace` (and the directory synced),
    so a crash or a kill never leaves a half-written file under ``path``.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive as host NumPy arrays, read with ``allow_pickle=False``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file when it
    holds pickled objects (for instance a cs231n ``np.save`` of a params dict), is not an ``.npz``
    archive, or is truncated/corrupt.
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{os.fspath(path)!r} is a single .npy array, not an .npz archive")
        with archive:
            return {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise ValueError(f"{os.fspath(path)!r} is not a readable .npz archive (truncated or corrupt: "
                         f"{type(err).__name__}: {err})") from err
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(f"{os.fspath(path)!r} holds pickled Python objects; xnn only reads plain "
                             "arrays (allow_pickle=False). Re-save it with xnn's save().") from err
        raise
