"""xnn.npz: atomic archives with ordinary file modes, files described by what they are."""

from __future__ import annotations

import os
import pickle
import stat

import numpy as np
import pytest

from xnn import npz


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_archives_get_the_mode_of_any_new_file(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        npz.save_atomic(tmp_path / "a.npz", {"x": np.arange(3)})
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.npz").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "plain.txt"]  # no temporary left


def test_missing_directory_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "ck_epoch_0.npz"
    with pytest.raises(FileNotFoundError, match=r"cannot write '.*ck_epoch_0\.npz': the directory '.*such' "
                                                r"does not exist"):
        npz.save_atomic(target, {"x": np.zeros(1)})


def _write(path, kind):
    if kind == "text":
        path.write_text("learning_rate = 0.01\n")
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"W1": [1, 2]}))
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif kind == "npy-dict":  # what cs231n's np.save(params) writes
        with open(path, "wb") as f:
            np.save(f, {"W1": np.zeros(2)}, allow_pickle=True)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "png":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))


@pytest.mark.parametrize("kind, what", [
    ("text", "a text file"), ("pickle", "a Python pickle"), ("npy", "a single .npy array"),
    ("npy-dict", "a single .npy file of pickled Python objects"), ("empty", "an empty file"),
    ("png", "a PNG image")])
def test_non_archives_are_described_as_what_they_are(tmp_path, kind, what):
    path = tmp_path / "thing.npz"
    _write(path, kind)
    assert npz.describe_file(path).startswith(what)
    with pytest.raises(ValueError, match=rf"thing\.npz' is not an \.npz archive: it is {what}"):
        npz.load(path)


def test_object_arrays_inside_an_archive_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled Python objects"):
        npz.load(path)


def test_round_trip(tmp_path):
    arrays = {"a": np.arange(6).reshape(2, 3), "b": np.float32(1.5)}
    npz.save_atomic(tmp_path / "r.npz", arrays)
    got = npz.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(got["a"], arrays["a"])
    assert float(got["b"]) == 1.5
    with pytest.raises(FileNotFoundError):
        npz.load(tmp_path / "missing.npz")
