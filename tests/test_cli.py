"""xnn command line: info, data download, and train smoke runs that check every artifact."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import numpy as np
import pytest

import xnn
from xnn import backend, cli
from xnn.data import load_sample
from xnn.training import runs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = ["--num-train", "60", "--num-val", "20", "--epochs", "2", "--batch-size", "20", "--no-progress", "--quiet"]


def test_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"numpy            {np.__version__}" in out
    assert "array-api-compat" in out and "gpu available    " in out and "cupy" in out
    numpy_row = next(line for line in out.splitlines() if line.strip().startswith("numpy ") and "im2col" in line)
    for op in ("im2col", "col2im", "maxpool_forward", "maxpool_backward"):
        assert f"{op}: " in numpy_row
    assert "array_api_strict im2col: generic" in out


def test_python_m_xnn():
    proc = subprocess.run([sys.executable, "-m", "xnn", "info"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "kernel paths" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "xnn"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stderr == ""  # bare xnn prints its help
    assert proc.stdout.startswith("usage: xnn") and "{train,eval,predict,sweep,bench,info,data}" in proc.stdout


@pytest.mark.parametrize("argv", [["train", "--epochs", "0"], ["train", "--model", "resnet"],
                                  ["train", "--lr", "-1"], ["data", "upload"], ["bogus"]])
def test_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_bare_data_prints_its_help(capsys):
    assert cli.main(["data"]) == 0
    assert capsys.readouterr().out.startswith("usage: xnn data [-h] {download}")


def test_data_download_command(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr("xnn.data.download_cifar10", lambda dest: calls.append(dest) or tmp_path / "x")
    assert cli.main(["data", "download", "--dest", str(tmp_path)]) == 0
    assert calls == [str(tmp_path)] and str(tmp_path / "x") in capsys.readouterr().out


def test_data_download_failure_is_one_line(monkeypatch, capsys):
    def fail(dest):
        raise RuntimeError("download of https://example.invalid/c.tar.gz failed: no network")
    monkeypatch.setattr("xnn.data.download_cifar10", fail)
    assert cli.main(["data", "download"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xnn: error: download of https://example.invalid/c.tar.gz failed")


def test_missing_cifar_dir_is_reported(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert cli.main(["train", "--data", "cifar10", "--data-dir", str(missing), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and err.count("data download`") == 1  # said once, by the data module or the CLI
    assert not any(tmp_path.glob("cnn-*"))  # no run directory for a run that never started


@pytest.mark.skipif(backend.gpu_available(), reason="checks the no-GPU message")
def test_gpu_without_gpu(tmp_path, capsys):
    assert cli.main(["train", "--device", "gpu", "--out", str(tmp_path)] + TINY) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_run_dirs_are_unique(tmp_path):
    a, b = runs.make_run_dir(tmp_path, "cnn"), runs.make_run_dir(tmp_path, "cnn")
    assert a != b and a.is_dir() and b.is_dir() and a.name.startswith("cnn-")


@pytest.mark.parametrize("name", ["cnn", "fc", "twolayer", "softmax"])
def test_train_writes_every_artifact(name, tmp_path, capsys):
    assert cli.main(["train", "--model", name, "--out", str(tmp_path), "--seed", "3"] + TINY) == 0
    out = capsys.readouterr().out
    (run,) = list(tmp_path.iterdir())
    assert run.name.startswith(f"{name}-")
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "filters.png", "history.json",
                                                      "history.png", "model.npz", "preprocessing.npz"]
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == name and config["epochs"] == 2 and config["batch_size"] == 20
    assert config["num_train_images"] == 60 and config["num_val_images"] == 20 and config["device"] == "cpu"
    assert config["input_shape"] == [3, 32, 32] and config["class_names"][:2] == ["airplane", "automobile"]
    hist = json.loads((run / "history.json").read_text())
    assert len(hist["loss_history"]) == 2 * 3 and np.all(np.isfinite(hist["loss_history"]))
    assert len(hist["val_acc_history"]) == len(hist["train_acc_history"]) >= 2
    assert 0 <= hist["final_val_acc"] <= 1 and hist["wall_time_s"] > 0
    for png in ("history.png", "filters.png"):
        assert (run / png).read_bytes()[:8] == PNG_MAGIC
    modes = {stat.S_IMODE(p.stat().st_mode) for p in run.iterdir()}
    assert len(modes) == 1  # model.npz like every other file (the umask decides)
    assert (f"final accuracy of model.npz: train {hist['final_train_acc']:.4f} (all 60 images), "
            f"val {hist['final_val_acc']:.4f} (all 20 images)") in out
    # model.npz holds plain arrays; load_run rebuilds the model and reproduces the reported accuracy
    with np.load(run / "model.npz", allow_pickle=False) as npz:
        assert len(npz.files) > 0
    loaded = xnn.load_run(run)
    raw = load_sample(60, 20, 0, subtract_mean=False)
    assert np.mean(loaded.predict(raw["X_val"]) == raw["y_val"]) == pytest.approx(hist["final_val_acc"])
