"""get_CIFAR10_data on a set smaller than asked, and the XNN_DATA=sample switch (offline notebooks)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_data import make_cifar_dir

from xnn import data as xdata
from xnn.compat.course_data import use_course_datasets
from xnn.data import splits


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("XNN_DATA", raising=False)
    monkeypatch.setattr(splits, "_WARNED", set())  # each test sees its own first warning


@pytest.mark.parametrize("pool, n_test, asked, used", [
    (50000, 10000, (49000, 1000, 1000), (49000, 1000, 1000)),  # the full set: exactly as asked
    (5085, 1017, (49000, 1000, 1000), (4984, 101, 1000)),      # the shared mini set
    (2400, 400, (49000, 1000, 1000), (2352, 48, 400)),         # the bundled sample
    (50000, 500, (49000, 1000, 1000), (49000, 1000, 500)),     # only the test file is short
    (20, 5, (49000, 1000, 1000), (19, 1, 5)),                  # tiny: validation keeps one image
    (20, 5, (10, 0, 5), (10, 0, 5)),
    (20, 5, (30, 0, 2), (20, 0, 2)),
    (1, 5, (30, 10, 2), (1, 0, 2)),
])
def test_fit_sizes(pool, n_test, asked, used):
    assert splits.fit_sizes(pool, n_test, *asked) == used


def test_smaller_set_uses_what_exists_and_warns_once(tmp_path):
    root = make_cifar_dir(tmp_path / "cifar-10-batches-py", n_per_batch=40, n_test=30)  # 200 train, 30 test
    with pytest.warns(UserWarning) as record:
        d = xdata.get_CIFAR10_data(cifar10_dir=root)
    assert len(record) == 1
    message = str(record[0].message)
    assert str(root) in message and "holds 200 training and 30 test images" in message
    assert "using num_training=196, num_validation=4, num_test=30" in message
    assert [d[k].shape[0] for k in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")] == [
        196, 196, 4, 4, 30, 30]
    same = xdata.get_CIFAR10_data(196, 4, 30, cifar10_dir=root)  # what the warning says it used
    assert all(np.array_equal(d[k], same[k]) for k in d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = xdata.get_CIFAR10_data(cifar10_dir=root)  # the same shortfall warns only once
    assert again["X_train"].shape == (196, 3, 32, 32)


def test_counts_must_still_be_non_negative_integers(tmp_path):
    root = make_cifar_dir(tmp_path / "cifar-10-batches-py")
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="num_validation must be a non-negative integer"):
            xdata.get_CIFAR10_data(10, bad, 2, cifar10_dir=root)


def test_sample_switch_serves_the_bundled_sample(monkeypatch):
    monkeypatch.setenv("XNN_DATA", "sample")
    raw = xdata.get_CIFAR10_data(2000, 400, 400, subtract_mean=False)  # fits: no warning
    sample = xdata.load_sample(subtract_mean=False)
    assert all(np.array_equal(raw[k], sample[k]) for k in raw)
    with pytest.warns(UserWarning, match=r"the bundled CIFAR-10 sample \(XNN_DATA=sample\) holds 2400 training "
                                         r"and 400 test images.*num_training=2352, num_validation=48, num_test=400"):
        d = xdata.get_CIFAR10_data()
    assert d["X_train"].shape == (2352, 3, 32, 32) and d["X_val"].shape == (48, 3, 32, 32)
    np.testing.assert_allclose(d["X_train"].mean(axis=0), 0, atol=1e-9)
    assert xdata.default_data_root().name == "xnn"  # 'sample' is a switch, never a directory


def test_explicit_directory_wins_over_the_sample_switch(tmp_path, monkeypatch):
    root = make_cifar_dir(tmp_path / "cifar-10-batches-py")
    monkeypatch.setenv("XNN_DATA", "sample")
    assert xdata.get_CIFAR10_data(10, 5, 5, cifar10_dir=root)["X_train"].shape == (10, 3, 32, 32)


def test_course_datasets_folder_unless_the_sample_is_asked_for(tmp_path, monkeypatch):
    import types
    seen = []
    module = types.SimpleNamespace(get_CIFAR10_data=lambda *a, cifar10_dir=None: seen.append(cifar10_dir))
    (tmp_path / "datasets" / "cifar-10-batches-py").mkdir(parents=True)
    use_course_datasets(module, [str(tmp_path)])
    module.get_CIFAR10_data()
    monkeypatch.setenv("XNN_DATA", "sample")
    module.get_CIFAR10_data()
    assert seen == [str(tmp_path / "datasets" / "cifar-10-batches-py"), None]
