"""Run directories: load_run rebuilds the trained model, load_data's mean image, evaluation, image files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xnn
from xnn import cli
from xnn.data import load_sample
from xnn.data.images import load_images, read_image, resize
from xnn.training import runs
from xnn.training.evaluate import confusion_matrix, evaluate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    argv = ["train", "--model", "cnn", "--num-train", "100", "--num-val", "40", "--epochs", "2", "--batch-size", "25",
            "--no-progress", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    (run,) = out.iterdir()
    return run


def test_load_data_matches_the_loaders_and_keeps_the_mean():
    settings = {"data": "sample", "data_dir": None, "num_train": 300, "num_val": 50, "dtype": "float64"}
    data = runs.load_data(settings)
    reference = load_sample(300, 50, 0)
    for k in ("X_train", "y_train", "X_val", "y_val"):
        np.testing.assert_array_equal(data[k], reference[k])  # bit for bit what training always used
    raw = load_sample(300, 0, 0, subtract_mean=False)["X_train"]
    np.testing.assert_allclose(data["mean_image"], raw.mean(axis=0), rtol=1e-12)
    assert data["mean_image"].shape == (3, 32, 32) and data["class_names"][3] == "cat"


def test_load_run_rebuilds_the_trained_model(run_dir):
    loaded = xnn.load_run(run_dir)
    assert type(loaded.model).__name__ == "ThreeLayerConvNet" and loaded.model.device == "cpu"
    with np.load(run_dir / "model.npz") as saved:
        for k, v in loaded.model.params.items():
            np.testing.assert_array_equal(v, saved[f"param.{k}"])
    hist = json.loads((run_dir / "history.json").read_text())
    raw = load_sample(100, 40, 0, subtract_mean=False)
    assert np.mean(loaded.predict(raw["X_val"]) == raw["y_val"]) == pytest.approx(hist["final_val_acc"])
    proba = loaded.predict_proba(raw["X_val"][:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    assert loaded.class_names[0] == "airplane" and loaded.history["best_epoch"] in (0, 1, 2)


def test_load_run_without_preprocessing_file_recomputes_the_mean(run_dir, tmp_path):
    old = tmp_path / "old-run"
    old.mkdir()
    for name in ("config.json", "model.npz"):
        (old / name).write_bytes((run_dir / name).read_bytes())
    np.testing.assert_array_equal(xnn.load_run(old).mean_image, xnn.load_run(run_dir).mean_image)


def test_load_run_errors(run_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a run directory: it has no config.json"):
        xnn.load_run(tmp_path)
    (tmp_path / "config.json").write_text((run_dir / "config.json").read_text())
    with pytest.raises(FileNotFoundError, match=r"has no model\.npz: the run did not finish; continue it with "
                                                r"xnn train --resume"):
        xnn.load_run(tmp_path)
    config = json.loads((run_dir / "config.json").read_text())
    config["model_kwargs"]["filter_size"] = 3  # a config that does not match the saved weights
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.npz").write_bytes((run_dir / "model.npz").read_bytes())
    with pytest.raises(ValueError, match=r"param\.W1: saved \(32, 3, 5, 5\), model needs \(32, 3, 3, 3\)"):
        xnn.load_run(tmp_path)


def test_confusion_and_evaluation():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    result = evaluate(lambda X: np.array([0, 1, 1, 2, 0, 2]), None, np.array([0, 0, 1, 2, 2, 2]), ["a", "b", "c", "d"])
    assert result.accuracy == pytest.approx(4 / 6) and result.num_images == 6
    np.testing.assert_allclose(result.per_class_accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(result.per_class_accuracy[3])
    lines = result.report().splitlines()
    assert lines[0] == "test accuracy: 0.6667 (4 / 6 images)"
    assert lines[1:] == ["  a   50.0%  (1 / 2)", "  b  100.0%  (1 / 1)", "  c   66.7%  (2 / 3)", "  d     n/a  (0 / 0)"]
    assert result.to_dict()["per_class_accuracy"] == {"a": 0.5, "b": 1.0, "c": pytest.approx(2 / 3), "d": None}
    assert result.plot().axes[0].get_title() == "Confusion matrix (accuracy 66.7%)"
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        confusion_matrix([0, 2], [0, 1], 2)


def test_read_and_resize_images(tmp_path):
    import matplotlib.image as mpimg
    raw = load_sample(0, 0, 2, subtract_mean=False)["X_test"]
    rgb = raw[0].transpose(1, 2, 0).astype(np.uint8)
    mpimg.imsave(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)  # 8-bit PNG: exact
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    mpimg.imsave(tmp_path / "g.png", gray, cmap="gray", vmin=0, vmax=255)
    assert read_image(tmp_path / "g.png").shape == (8, 8, 3)
    mpimg.imsave(tmp_path / "b.jpg", np.kron(rgb, np.ones((2, 2, 1), np.uint8)))
    batch = load_images([tmp_path / "a.png", tmp_path / "b.jpg"])
    assert batch.shape == (2, 3, 32, 32)
    assert np.abs(batch[1] - batch[0]).mean() < 12  # JPEG is lossy; the resized image stays close
    block = np.arange(16.0).reshape(4, 4, 1)
    np.testing.assert_allclose(resize(block, 2, 2)[..., 0], [[2.5, 4.5], [10.5, 12.5]])  # area average
    (tmp_path / "n.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"n\.txt' is not an image matplotlib can read \(it is a text file\)"):
        read_image(tmp_path / "n.txt")
    with pytest.raises(FileNotFoundError, match="no such image file"):
        read_image(tmp_path / "missing.png")


def test_build_model_refuses_unknown_names():
    settings = {"model": "cnnn", "model_kwargs": {}, "dtype": "float32", "device": "cpu", "reg": 0.0}
    with pytest.raises(ValueError, match=r"unknown model 'cnnn'; valid values: \"cnn\", .*did you mean \"cnn\"\?"):
        runs.build_model(settings, (3, 32, 32))


def test_a_run_that_does_not_name_its_data(run_dir, tmp_path, capsys):
    """A run directory with only config.json + model.npz whose data xnn cannot reload (as a sweep's best trial)."""
    config = json.loads((run_dir / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "data": "custom"}))
    (tmp_path / "model.npz").write_bytes((run_dir / "model.npz").read_bytes())
    loaded = xnn.load_run(tmp_path)
    assert loaded.mean_image is None and type(loaded.model).__name__ == "ThreeLayerConvNet"
    with pytest.raises(ValueError, match=r"has no preprocessing\.npz .* \(data = 'custom'\)"):
        loaded.predict(np.zeros((1, 3, 32, 32)))
    assert cli.main(["eval", str(tmp_path)]) == 2
    assert "raw images cannot be prepared for its model" in capsys.readouterr().err
