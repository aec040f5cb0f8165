"""``.npz`` archives of plain arrays: atomic writes and pickle-free reads (and the same atomic
write for the text files and figures of run and sweep directories).

Models (``save``/``load``), Solver checkpoints and run directories all store their arrays this
way: a file is written to a temporary name in the same directory, synced and then renamed over
the target (a crash never leaves half a file), and read back with ``allow_pickle=False`` (a file
can never run code).
"""

from __future__ import annotations

import os
import secrets
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

__all__ = ["describe_file", "load", "save_atomic", "write_atomic", "write_text_atomic"]


def _create_temporary(directory: str, suffix: str) -> tuple[int, str]:
    """Open a new ``.tmp-*<suffix>`` file in ``directory`` with the permissions of any new file.

    :func:`tempfile.mkstemp` creates files readable by the owner only (0600), so a file moved
    into place from it would differ from every other file the user writes; ``os.open`` with mode
    0666 lets the process umask decide, as ``open()`` does.
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write into {directory!r}: the directory does not exist")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".tmp-{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")  # pragma: no cover


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> None:
    """Create the file at exactly ``path`` with ``write(f)`` on a binary file object, atomically.

    The content goes to a temporary file in the same directory first, is flushed to disk
    (``fsync``) and is then moved over ``path`` with :func:`os.replace` (and the directory synced),
    so a crash or a kill never leaves a half-written file under ``path``. The file gets the
    usual permissions of a new file (0666 minus the umask). A missing directory raises
    ``FileNotFoundError`` naming ``path`` and the directory.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = _create_temporary(directory, os.path.splitext(path)[1])
    except FileNotFoundError as err:
        raise FileNotFoundError(f"cannot write {path!r}: the directory {directory!r} does not exist") from err
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def save_atomic(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` at exactly ``path``, atomically (:func:`write_atomic`)."""
    write_atomic(path, lambda f: np.savez(f, **arrays))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) at exactly ``path``, atomically (:func:`write_atomic`)."""
    write_atomic(path, lambda f: f.write(text.encode("utf-8")))


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


def describe_file(path: str | os.PathLike) -> str:
    """What the file at ``path`` looks like from its first bytes, for error messages.

    ``"an .npz (zip) archive"``, ``"a single .npy array"``, ``"a Python pickle"``, ``"a text file"``,
    ``"an empty file"`` or ``"a binary file that is none of these"``.
    """
    with open(path, "rb") as f:
        head = f.read(512)
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return _describe_npy(path)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "a Python pickle"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file that is none of these"
    return "a text file"


_MAGIC = ((b"PK\x03\x04", "an .npz (zip) archive"), (b"PK\x05\x06", "an empty zip archive"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"))


def _describe_npy(path: str | os.PathLike) -> str:
    """``"a single .npy array"``, or one holding pickled objects (cs231n's ``np.save`` of a params dict)."""
    try:
        with open(path, "rb") as f:
            fmt = np.lib.format
            version = fmt.read_magic(f)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            _, _, dtype = read_header(f)
    except (ValueError, OSError):
        return "a single .npy array with an unreadable header"
    if dtype.hasobject:
        return "a single .npy file of pickled Python objects (as np.save of a dict writes)"
    return "a single .npy array"


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive as host NumPy arrays, read with ``allow_pickle=False``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file and saying
    what it is instead when it is not an ``.npz`` archive (a text file, a pickle such as a cs231n
    ``np.save`` of a params dict, a single ``.npy`` array), when an array in it holds pickled
    objects, or when it is truncated/corrupt.
    """
    name = os.fspath(path)
    if os.path.isfile(name) and not describe_file(name).startswith("an .npz"):
        raise ValueError(f"{name!r} is not an .npz archive: it is {describe_file(name)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise ValueError(f"{name!r} is not a readable .npz archive (truncated or corrupt: "
                         f"{type(err).__name__}: {err})") from err
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(f"{name!r} holds pickled Python objects; xnn only reads plain "
                             "arrays (allow_pickle=False). Re-save it with xnn's save().") from err
        raise
