"""Download and safely extract the official CIFAR-10 python archive (used by :mod:`xnn.data`).

The archive is streamed to a temporary file next to its destination while its MD5 is computed;
only a complete file with the right checksum is renamed to its final name, so an interrupted or
corrupted download never leaves a partial file under ``cifar-10-python.tar.gz``. Extraction
refuses absolute paths, ``..`` components, links and device files, and moves the extracted
``cifar-10-batches-py`` directory into place only once it is complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

__all__ = ["CIFAR10_URL", "CIFAR10_MD5", "ARCHIVE_NAME", "download_cifar10", "safe_extract"]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
BATCHES_DIRNAME = "cifar-10-batches-py"
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, target: Path, md5: str | None, progress: bool) -> None:
    """Stream ``url`` into ``target`` via a temporary file; rename only when complete and verified."""
    from tqdm.auto import tqdm

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as resp:
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
                        for block in iter(lambda: resp.read(_CHUNK), b""):
                            out.write(block)
                            digest.update(block)
                            bar.update(len(block))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise RuntimeError(f"download of {url} failed: {exc}") from exc
        if md5 is not None and digest.hexdigest() != md5:
            raise ValueError(f"download of {url} is corrupt: MD5 {digest.hexdigest()} != expected {md5}; "
                             f"nothing was written to {target}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """``ValueError`` for a member that could write outside the destination or is not a plain file/dir."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts or ":" in member.name:
        raise ValueError(f"{archive.name}: unsafe path {member.name!r} in archive {archive}; refusing to extract")
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"{archive.name}: member {member.name!r} is a link or special file; refusing to extract")


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Extract a .tar.gz into ``dest`` after checking every member (no absolute paths, ``..``, links)."""
    archive, dest = Path(archive), Path(dest)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                _check_member(m, archive)
            for m in members:
                if hasattr(tarfile, "data_filter"):
                    tar.extract(m, dest, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    tar.extract(m, dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{archive.name}: not a readable .tar.gz archive ({exc}) at {archive}") from exc


def download_cifar10(dest: str | os.PathLike | None = None, *, url: str = CIFAR10_URL, md5: str | None = CIFAR10_MD5,
                     progress: bool = True, force: bool = False) -> Path:
    """Download CIFAR-10 (python version) into ``dest`` and return its ``cifar-10-batches-py`` directory.

    ``dest`` defaults to :func:`xnn.data.default_data_root` (``$XNN_DATA`` or the per-user cache).
    The archive ``cifar-10-python.tar.gz`` is kept in ``dest`` (reused when its MD5 matches), and
    the batches end up in ``dest/cifar-10-batches-py``. When that directory already exists the
    call returns it without downloading (``force=True`` downloads and replaces it). Raises
    ``RuntimeError`` naming the URL when the download fails and ``ValueError`` for a checksum
    mismatch or an unsafe/corrupt archive; no partial file is ever left under a final name.
    """
    if dest is None:
        from .data import default_data_root
        dest = default_data_root()
    dest = Path(dest).expanduser()
    batches = dest / BATCHES_DIRNAME
    if batches.is_dir() and not force:
        log.info("CIFAR-10 already present at %s", batches)
        return batches
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / ARCHIVE_NAME
    if force or not archive.is_file() or (md5 is not None and _md5(archive) != md5):
        log.info("downloading %s to %s", url, archive)
        _fetch(url, archive, md5, progress)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        safe_extract(archive, staging)
        extracted = staging / BATCHES_DIRNAME
        if not extracted.is_dir():
            raise ValueError(f"{archive.name}: archive from {url} has no {BATCHES_DIRNAME}/ directory")
        if batches.exists():
            shutil.rmtree(batches)
        os.replace(extracted, batches)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return batches
