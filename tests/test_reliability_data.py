"""Data reliability: the downloader resumes (HTTP Range), retries and never leaves a partial file
under its final name; any truncation or corruption of a CIFAR-10 batch is a ValueError naming it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import pickle
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data import make_cifar_dir, write_batch

from xnn import data as xdata
from xnn.data.download import ARCHIVE_NAME, BATCHES_DIRNAME


class FlakyServer:
    """A local HTTP server for one file that honours ``Range`` and misbehaves on purpose.

    ``cut_after``: the first ``len(cut_after)`` requests announce the full length but close the
    connection after that many bytes; ``fail_first``: that many ``503`` answers come first;
    ``ignore_range``: answer every request with the whole file (status 200).
    """

    def __init__(self, blob: bytes, cut_after=(), fail_first=0, ignore_range=False):
        self.blob, self.cut_after, self.fail_first, self.ignore_range = blob, list(cut_after), fail_first, ignore_range
        self.ranges: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.ranges.append(self.headers.get("Range"))
                if server.fail_first:
                    server.fail_first -= 1
                    self.send_error(503, "busy")
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and not server.ignore_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(server.blob):
                        self.send_error(416)
                        return
                body = server.blob[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(server.blob) - 1}/{len(server.blob)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after:
                    body = body[:server.cut_after.pop(0)]
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{ARCHIVE_NAME}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def archive_blob(tmp_path_factory):
    import io
    import tarfile
    src = make_cifar_dir(tmp_path_factory.mktemp("src") / BATCHES_DIRNAME)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(src.iterdir()):
            tar.add(p, arcname=f"{BATCHES_DIRNAME}/{p.name}")
    blob = buf.getvalue()
    return blob, hashlib.md5(blob).hexdigest()


def _names(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_dropped_connection_is_resumed_with_range(tmp_path, archive_blob):
    blob, md5 = archive_blob
    with FlakyServer(blob, cut_after=[1000, 2500]) as srv:
        out = xdata.download_cifar10(tmp_path, url=srv.url, md5=md5, progress=False, backoff=0)
    assert srv.ranges == [None, "bytes=1000-", "bytes=3500-"]
    assert (tmp_path / ARCHIVE_NAME).read_bytes() == blob
    assert _names(tmp_path) == [BATCHES_DIRNAME, ARCHIVE_NAME]
    assert xdata.load_CIFAR10(out)[0].shape == (20, 32, 32, 3)


def test_server_errors_are_retried_then_reported(tmp_path, archive_blob):
    blob, md5 = archive_blob
    with FlakyServer(blob, fail_first=2) as srv:
        xdata.download_cifar10(tmp_path / "ok", url=srv.url, md5=md5, progress=False, backoff=0)
    assert srv.ranges == [None, None, None]
    with FlakyServer(blob, fail_first=10) as srv, pytest.raises(RuntimeError, match=r"download of http://127.0.0.1:"
                                                                 r"\d+/cifar-10-python.tar.gz failed after 3 attempts: "
                                                                 r"HTTP 503"):
        xdata.download_cifar10(tmp_path / "bad", url=srv.url, md5=md5, progress=False, retries=2, backoff=0)
    assert _names(tmp_path / "bad") == []


def test_interrupted_call_keeps_a_part_file_that_the_next_call_resumes(tmp_path, archive_blob):
    blob, md5 = archive_blob
    with FlakyServer(blob, cut_after=[700, 0, 0]) as srv, pytest.raises(RuntimeError, match="700 bytes kept in"):
        xdata.download_cifar10(tmp_path, url=srv.url, md5=md5, progress=False, retries=2, backoff=0)
    assert _names(tmp_path) == [ARCHIVE_NAME + ".part"]  # never the final name
    assert (tmp_path / (ARCHIVE_NAME + ".part")).read_bytes() == blob[:700]
    with FlakyServer(blob) as srv:
        xdata.download_cifar10(tmp_path, url=srv.url, md5=md5, progress=False, backoff=0)
    assert srv.ranges == ["bytes=700-"]
    assert _names(tmp_path) == [BATCHES_DIRNAME, ARCHIVE_NAME]


def test_server_without_range_support_restarts_and_checks_md5(tmp_path, archive_blob):
    blob, md5 = archive_blob
    with FlakyServer(blob, cut_after=[900], ignore_range=True) as srv:
        xdata.download_cifar10(tmp_path, url=srv.url, md5=md5, progress=False, backoff=0)
    assert (tmp_path / ARCHIVE_NAME).read_bytes() == blob
    (tmp_path / (ARCHIVE_NAME + ".part")).write_bytes(b"garbage!" * 10)  # a stale, wrong part file
    with FlakyServer(blob) as srv, pytest.raises(ValueError, match="corrupt: MD5"):
        xdata.download_cifar10(tmp_path / "x", url=srv.url, md5="0" * 32, progress=False)
    assert not (tmp_path / "x" / ARCHIVE_NAME).exists() and not (tmp_path / "x" / (ARCHIVE_NAME + ".part")).exists()


def test_complete_part_file_gets_416_and_is_used(tmp_path, archive_blob):
    blob, md5 = archive_blob
    (tmp_path / (ARCHIVE_NAME + ".part")).write_bytes(blob)
    with FlakyServer(blob) as srv:
        xdata.download_cifar10(tmp_path, url=srv.url, md5=md5, progress=False)
    assert srv.ranges == [f"bytes={len(blob)}-"]
    assert (tmp_path / ARCHIVE_NAME).read_bytes() == blob


# --------------------------------------------------------------------------- corrupt batches
@functools.cache
def _batch_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "data_batch_1"
        write_batch(path, np.random.default_rng(0).integers(0, 256, (6, 3072), dtype=np.uint8), [0, 1, 2, 3, 4, 9])
        return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_truncation_or_corruption_is_a_named_value_error(tmp_path, data):
    batch_bytes = _batch_bytes()
    cut = data.draw(st.integers(0, len(batch_bytes) - 1), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(batch_bytes) - 1), st.integers(1, 255)), max_size=3))
    blob = bytearray(batch_bytes)
    for i, x in flips:
        blob[i] ^= x
    path = tmp_path / "data_batch_1"
    for content in (bytes(batch_bytes[:cut]), bytes(blob)):
        path.write_bytes(content)
        try:
            X, y = xdata.load_CIFAR_batch(path)
        except ValueError as err:
            assert str(err).startswith("data_batch_1: ")
        else:  # a flip inside the pixel bytes can leave a valid batch
            assert X.shape[1:] == (32, 32, 3) and X.shape[0] == y.shape[0] and ((y >= 0) & (y <= 9)).all()


def test_wrong_pickle_protocol_object_is_named(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": "abc"}, protocol=2))
    with pytest.raises(ValueError, match=r"^test_batch: not a CIFAR-10 batch \('labels' is not a list of ints"):
        xdata.load_CIFAR_batch(path)
