"""Download and safely extract the official CIFAR-10 python archive.

The archive is streamed to ``cifar-10-python.tar.gz.part`` next to its destination; a dropped
connection is retried, resuming with an HTTP ``Range`` request (as is a ``.part`` file left by an
earlier, interrupted call), and only a complete file with the right MD5 is renamed to its final
name, so an interrupted or corrupted download never leaves a partial file under
``cifar-10-python.tar.gz``. Extraction
refuses absolute paths, ``..`` components, links and device files, and moves the extracted
``cifar-10-batches-py`` directory into place only once it is complete.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

from .paths import BATCHES_DIRNAME, default_data_root

__all__ = ["CIFAR10_URL", "CIFAR10_MD5", "ARCHIVE_NAME", "download_cifar10", "safe_extract"]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _TransientError(Exception):
    """A failed attempt worth retrying (connection dropped, timeout, HTTP 5xx/408/429)."""


def _part_path(target: Path) -> Path:
    """Where an unfinished download of ``target`` lives (never the final name)."""
    return target.with_name(target.name + ".part")


def _open(url: str, offset: int) -> tuple[Any, int]:
    """Open ``url`` asking for bytes from ``offset``; returns the response and where it starts.

    Raises ``_TransientError`` for retryable failures and ``RuntimeError`` for the others.
    """
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        resp = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing after offset: the part is already complete
            return None, offset
        if exc.code >= 500 or exc.code in (408, 429):
            raise _TransientError(f"HTTP {exc.code} {exc.reason}") from exc
        raise RuntimeError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if url.startswith(("http://", "https://")) and not isinstance(exc, ValueError):
            raise _TransientError(str(exc)) from exc
        raise RuntimeError(f"download of {url} failed: {exc}") from exc
    start = offset if offset and getattr(resp, "status", None) == 206 else 0  # 200: the whole file again
    return resp, start


def _attempt(url: str, part: Path, progress: bool) -> None:
    """One request: append to ``part`` from its current size (HTTP Range) or rewrite it."""
    from tqdm.std import tqdm as quiet_tqdm

    from ..progress import live_tqdm
    tqdm = live_tqdm(progress) or quiet_tqdm  # a live bar on a terminal or with ipywidgets, else none

    offset = part.stat().st_size if part.exists() else 0
    resp, start = _open(url, offset)
    if resp is None:
        return
    with resp, open(part, "r+b" if part.exists() else "wb") as out:
        out.seek(start)
        out.truncate()
        length = int(resp.headers.get("Content-Length") or 0) or None
        total = start + length if length else None
        with tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=part.name[:-5],
                  disable=tqdm is quiet_tqdm) as bar:
            try:
                for block in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as exc:
                raise _TransientError(f"connection lost after {out.tell()} bytes: {exc}") from exc
        if total is not None and out.tell() < total:
            raise _TransientError(f"connection closed after {out.tell()} of {total} bytes")
        out.flush()
        os.fsync(out.fileno())


def _fetch(url: str, target: Path, md5: str | None, progress: bool, retries: int = 3, backoff: float = 1.0) -> None:
    """Download ``url`` to ``target`` via ``<target>.part``; rename only when complete and verified.

    A dropped connection or a server error is retried ``retries`` times (waiting ``backoff``,
    then twice as long ...), each retry resuming with an HTTP ``Range`` request from the bytes
    already in the ``.part`` file; a ``.part`` left by an earlier call is resumed the same way.
    The MD5 of the whole file is checked before the rename: a mismatch deletes the ``.part``
    file and raises ``ValueError``. When every attempt fails, ``RuntimeError`` names the URL and
    the ``.part`` file is kept (if it holds anything) for the next call to resume.
    """
    part = _part_path(target)
    for attempt in range(retries + 1):
        try:
            _attempt(url, part, progress)
            break
        except _TransientError as exc:
            if attempt == retries:
                _drop_if_empty(part)
                kept = f"; {part.stat().st_size} bytes kept in {part} for the next try" if part.exists() else ""
                raise RuntimeError(f"download of {url} failed after {retries + 1} attempts: {exc}{kept}") from exc
            log.warning("download of %s: %s; retrying (%d/%d)", url, exc, attempt + 1, retries)
            time.sleep(backoff * 2 ** attempt)
        except BaseException:
            _drop_if_empty(part)
            raise
    got = _md5(part) if md5 is not None else None
    if got != md5:
        part.unlink(missing_ok=True)
        raise ValueError(f"download of {url} is corrupt: MD5 {got} != expected {md5}; "
                         f"nothing was written to {target}")
    os.replace(part, target)


def _drop_if_empty(part: Path) -> None:
    if part.exists() and part.stat().st_size == 0:
        part.unlink()


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
                     progress: bool = True, force: bool = False, retries: int = 3, backoff: float = 1.0) -> Path:
    """Download CIFAR-10 (python version) into ``dest`` and return its ``cifar-10-batches-py`` directory.

    ``dest`` defaults to :func:`xnn.data.default_data_root` (``$XNN_DATA`` or the per-user cache).
    The archive ``cifar-10-python.tar.gz`` is kept in ``dest`` (reused when its MD5 matches), and
    the batches end up in ``dest/cifar-10-batches-py``. When that directory already exists the
    call returns it without downloading (``force=True`` downloads and replaces it). Raises
    ``RuntimeError`` naming the URL when the download fails and ``ValueError`` for a checksum
    mismatch or an unsafe/corrupt archive; no partial file is ever left under a final name.

    A dropped connection or server error is retried ``retries`` times with exponential
    ``backoff`` (seconds), resuming from the bytes already received (HTTP ``Range``); an
    interrupted call leaves ``cifar-10-python.tar.gz.part``, which the next call resumes
    (``force=True`` starts over).
    """
    if dest is None:
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
        if force:
            _part_path(archive).unlink(missing_ok=True)
        _fetch(url, archive, md5, progress, retries=retries, backoff=backoff)
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
