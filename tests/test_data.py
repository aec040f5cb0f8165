"""xnn.data: CIFAR-10 reader, splits, bundled sample, corrupt files, downloader."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from xnn import data as xdata
from xnn.data.download import safe_extract


# --------------------------------------------------------------------------- fixtures
def _py2_style(blob: bytes, keys: tuple[str, ...]) -> bytes:
    """Rewrite str keys from BINUNICODE to Python 2's SHORT_BINSTRING opcode (the official layout).

    Pickles address memo entries by index, not by byte offset, so the swap keeps the file valid.
    Such a key loads as str with encoding='latin1' and as bytes with encoding='bytes'.
    """
    for key in keys:
        raw = key.encode()
        blob = blob.replace(b"X" + len(raw).to_bytes(4, "little") + raw, b"U" + bytes([len(raw)]) + raw)
    return blob


def write_batch(path: Path, images: np.ndarray, labels, style: str = "py2") -> None:
    """A CIFAR-10 batch file (protocol 2) with ``py2`` (str/latin1-or-bytes) or ``bytes`` keys."""
    content = {"batch_label": "testing batch", "labels": [int(v) for v in labels], "data": images}
    if style == "bytes":
        content = {k.encode(): v for k, v in content.items()}
    blob = pickle.dumps(content, protocol=2)
    if style == "py2":
        blob = _py2_style(blob, tuple(content))
    path.write_bytes(blob)


def make_cifar_dir(root: Path, n_per_batch: int = 4, n_test: int = 5, seed: int = 0) -> Path:
    """A tiny cifar-10-batches-py directory; odd batches use py2 keys, even ones bytes keys."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        imgs = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        write_batch(root / f"data_batch_{i}", imgs, rng.integers(0, 10, n_per_batch),
                    "py2" if i % 2 else "bytes")
    write_batch(root / "test_batch", rng.integers(0, 256, size=(n_test, 3072), dtype=np.uint8),
                rng.integers(0, 10, n_test))
    meta = pickle.dumps({"label_names": list(xdata.CIFAR10_CLASSES), "num_vis": 3072}, protocol=2)
    (root / "batches.meta").write_bytes(_py2_style(meta, ("label_names", "num_vis")))
    return root


@pytest.fixture
def tiny_dir(tmp_path):
    return make_cifar_dir(tmp_path / "cifar-10-batches-py")


def _raw(path: Path):
    d = pickle.loads(path.read_bytes(), encoding="bytes")
    return d[b"data"], np.array(d[b"labels"])


# --------------------------------------------------------------------------- reading
def test_fixture_has_both_key_encodings(tiny_dir):
    blob = (tiny_dir / "data_batch_1").read_bytes()
    assert blob[:2] == b"\x80\x02"
    assert set(pickle.loads(blob, encoding="latin1")) == {"batch_label", "labels", "data"}
    assert set(pickle.loads(blob, encoding="bytes")) == {b"batch_label", b"labels", b"data"}
    with open(tiny_dir / "data_batch_1", "rb") as f:
        assert set(xdata.load_pickle(f)) == {"batch_label", "labels", "data"}


@pytest.mark.parametrize("name", ["data_batch_1", "data_batch_2"])  # py2 keys, bytes keys
def test_load_batch_layout(tiny_dir, name):
    X, Y = xdata.load_CIFAR_batch(tiny_dir / name)
    data, labels = _raw(tiny_dir / name)
    assert X.shape == (4, 32, 32, 3) and X.dtype == np.float64 and Y.dtype == np.int64
    np.testing.assert_array_equal(Y, labels)
    # pixel (h, w) of channel c is value c*1024 + h*32 + w of the row
    for i, c, h, w in [(0, 0, 0, 0), (1, 2, 31, 5), (3, 1, 7, 30)]:
        assert X[i, h, w, c] == data[i, c * 1024 + h * 32 + w]


def test_load_cifar10_concatenates_in_order(tiny_dir):
    Xtr, Ytr, Xte, Yte = xdata.load_CIFAR10(tiny_dir)
    assert Xtr.shape == (20, 32, 32, 3) and Xte.shape == (5, 32, 32, 3)
    expect = np.concatenate([_raw(tiny_dir / f"data_batch_{i}")[1] for i in range(1, 6)])
    np.testing.assert_array_equal(Ytr, expect)
    np.testing.assert_array_equal(Yte, _raw(tiny_dir / "test_batch")[1])
    assert xdata.load_label_names(tiny_dir) == list(xdata.CIFAR10_CLASSES)


def test_get_cifar10_data_split_and_mean(tiny_dir):
    d = xdata.get_CIFAR10_data(12, 5, 3, cifar10_dir=tiny_dir)
    Xtr, Ytr, Xte, _ = xdata.load_CIFAR10(tiny_dir)
    assert list(d) == ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]
    mean = Xtr[:12].mean(axis=0)
    np.testing.assert_allclose(d["X_train"], (Xtr[:12] - mean).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(d["X_val"], (Xtr[12:17] - mean).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(d["X_test"], (Xte[:3] - mean).transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(d["y_val"], Ytr[12:17])
    for k in ("X_train", "X_val", "X_test"):
        assert d[k].dtype == np.float64 and d[k].flags.c_contiguous and d[k].shape[1:] == (3, 32, 32)
    raw = xdata.get_CIFAR10_data(12, 5, 3, subtract_mean=False, cifar10_dir=tiny_dir)
    np.testing.assert_array_equal(raw["X_train"], Xtr[:12].transpose(0, 3, 1, 2))


def test_default_dir_from_env(tiny_dir, monkeypatch):
    monkeypatch.setenv("XNN_DATA", str(tiny_dir.parent))
    assert xdata.default_cifar10_dir() == tiny_dir
    assert xdata.get_CIFAR10_data(10, 2, 2)["X_train"].shape == (10, 3, 32, 32)
    monkeypatch.setenv("XNN_DATA", str(tiny_dir))  # straight at the batches directory
    assert xdata.default_cifar10_dir() == tiny_dir
    monkeypatch.delenv("XNN_DATA")
    assert xdata.default_data_root().name == "xnn"


def test_shared_subset(cifar_dir):
    Xtr, _, Xte, _ = xdata.load_CIFAR10(cifar_dir)
    assert Xtr.shape == (5085, 32, 32, 3) and Xte.shape == (1017, 32, 32, 3)
    d = xdata.get_CIFAR10_data(4000, 1000, 1000, cifar10_dir=cifar_dir)
    assert d["X_train"].shape == (4000, 3, 32, 32) and d["X_val"].shape == (1000, 3, 32, 32)
    assert d["X_test"].shape == (1000, 3, 32, 32)
    assert d["y_train"][:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert d["X_train"].dtype == np.float64 and d["y_train"].dtype == np.int64
    np.testing.assert_allclose(d["X_train"].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(d["X_test"][0] + Xtr[:4000].mean(axis=0).transpose(2, 0, 1),
                               Xte[0].transpose(2, 0, 1))
    assert 0 <= Xtr.min() and Xtr.max() <= 255


# --------------------------------------------------------------------------- bundled sample
def test_load_sample():
    s = xdata.load_sample()
    assert s["X_train"].shape == (2000, 3, 32, 32) and s["X_val"].shape == (400, 3, 32, 32)
    assert s["X_test"].shape == (400, 3, 32, 32) and s["classes"] == list(xdata.CIFAR10_CLASSES)
    assert s["y_train"][:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    for k in ("X_train", "X_val", "X_test"):
        assert s[k].dtype == np.float64 and s[k].flags.c_contiguous
    assert s["y_train"].dtype == np.int64 and set(np.unique(s["y_train"])) == set(range(10))
    np.testing.assert_allclose(s["X_train"].mean(axis=0), 0, atol=1e-9)
    small = xdata.load_sample(100, 20, 10, subtract_mean=False)
    assert small["X_train"].shape == (100, 3, 32, 32) and small["X_val"].shape == (20, 3, 32, 32)
    assert small["X_train"].min() >= 0 and small["X_train"].max() <= 255
    with pytest.raises(ValueError, match="holds 2000 train images"):
        xdata.load_sample(num_training=5000)


def test_sample_file_needs_no_pickle():
    with np.load(Path(xdata.__file__).parent / xdata.SAMPLE_FILE, allow_pickle=False) as npz:
        assert npz["X_train"].dtype == np.uint8 and npz["y_train"].dtype == np.uint8
        assert npz["classes"].dtype.kind == "U"


def test_sample_matches_get_cifar10_data(cifar_dir):
    s = xdata.load_sample()
    d = xdata.get_CIFAR10_data(2000, 400, 400, cifar10_dir=cifar_dir)
    for k in d:
        np.testing.assert_array_equal(s[k], d[k])


# --------------------------------------------------------------------------- corrupt files
def test_missing_file(tiny_dir):
    (tiny_dir / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        xdata.load_CIFAR10(tiny_dir)
    with pytest.raises(FileNotFoundError, match="CIFAR-10 directory not found"):
        xdata.load_CIFAR10(tiny_dir / "nope")


def test_truncated_file(tiny_dir):
    path = tiny_dir / "data_batch_1"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="data_batch_1: not a readable CIFAR-10 pickle"):
        xdata.load_CIFAR_batch(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="data_batch_1"):
        xdata.load_CIFAR_batch(path)


@pytest.mark.parametrize("content, message", [
    ({"labels": [1]}, r"data_batch_1: not a CIFAR-10 batch \(missing key 'data'\)"),
    ({"data": np.zeros((1, 3072), np.uint8)}, "missing key 'labels'"),
    ({"data": np.zeros((2, 100), np.uint8), "labels": [1, 2]}, "'data' must be uint8"),
    ({"data": np.zeros((2, 3072), np.float32), "labels": [1, 2]}, "'data' must be uint8"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [1]}, "2 images but 1 labels"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [1, 12]}, "labels must be 0..9"),
    ([1, 2, 3], "expected a dict"),
])
def test_not_a_batch(tmp_path, content, message):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match=message):
        xdata.load_CIFAR_batch(path)


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.mkdir, (str(self.marker),))


def test_pickle_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Evil(marker), "labels": []}, protocol=2))
    with pytest.raises(ValueError, match="data_batch_1.*refusing to load global"):
        xdata.load_CIFAR_batch(path)
    assert not marker.exists()


# --------------------------------------------------------------------------- download
def _tarball(tmp_path: Path, members: dict[str, bytes]) -> tuple[Path, str]:
    archive = tmp_path / "served" / "cifar-10-python.tar.gz"
    archive.parent.mkdir(exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path):
    src = make_cifar_dir(tmp_path / "src" / "cifar-10-batches-py")
    members = {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in sorted(src.iterdir())}
    return _tarball(tmp_path, members)


def test_download_extracts_and_loads(tmp_path, served):
    archive, md5 = served
    dest = tmp_path / "data"
    out = xdata.download_cifar10(dest, url=archive.as_uri(), md5=md5, progress=False)
    assert out == dest / "cifar-10-batches-py"
    assert xdata.load_CIFAR10(out)[0].shape == (20, 32, 32, 3)
    assert (dest / "cifar-10-python.tar.gz").read_bytes() == archive.read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    # present already: returned without fetching (a dead URL is never touched)
    assert xdata.download_cifar10(dest, url="file:///does/not/exist", md5=md5, progress=False) == out


def test_download_md5_mismatch_leaves_nothing(tmp_path, served):
    archive, _ = served
    dest = tmp_path / "data"
    with pytest.raises(ValueError, match="corrupt: MD5"):
        xdata.download_cifar10(dest, url=archive.as_uri(), md5="0" * 32, progress=False)
    assert list(dest.iterdir()) == []


def test_download_failure_names_url(tmp_path):
    url = (tmp_path / "missing.tar.gz").as_uri()
    with pytest.raises(RuntimeError, match="missing.tar.gz"):
        xdata.download_cifar10(tmp_path / "data", url=url, progress=False)
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.parametrize("name", ["../evil", "/tmp/xnn-evil-abs", "cifar-10-batches-py/../../evil"])
def test_unsafe_archive_rejected(tmp_path, name):
    archive, md5 = _tarball(tmp_path, {name: b"x"})
    dest = tmp_path / "data"
    with pytest.raises(ValueError, match="unsafe path"):
        xdata.download_cifar10(dest, url=archive.as_uri(), md5=md5, progress=False)
    assert not (tmp_path / "evil").exists() and not Path("/tmp/xnn-evil-abs").exists()
    assert not (dest / "cifar-10-batches-py").exists()


def test_symlink_member_rejected(tmp_path):
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(ValueError, match="link or special file"):
        safe_extract(archive, tmp_path / "out")


def test_archive_without_batches(tmp_path):
    archive, md5 = _tarball(tmp_path, {"other/readme.txt": b"hi"})
    with pytest.raises(ValueError, match="has no cifar-10-batches-py"):
        xdata.download_cifar10(tmp_path / "data", url=archive.as_uri(), md5=md5, progress=False)


def test_garbage_archive(tmp_path):
    bad = tmp_path / "served" / "x.tar.gz"
    bad.parent.mkdir()
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="not a readable .tar.gz"):
        xdata.download_cifar10(tmp_path / "data", url=bad.as_uri(), md5=None, progress=False)
