"""xnn eval and xnn predict on a trained run directory."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xnn
from xnn import cli
from xnn.data import load_sample


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    argv = ["train", "--model", "twolayer", "--num-train", "200", "--num-val", "50", "--epochs", "2",
            "--no-progress", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 0
    (run,) = out.iterdir()
    return run


def test_eval_reports_test_accuracy_per_class(run_dir, capsys):
    assert cli.main(["eval", str(run_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    raw = load_sample(0, 0, None, subtract_mean=False)
    predicted = xnn.load_run(run_dir).predict(raw["X_test"])
    correct = int(np.sum(predicted == raw["y_test"]))
    assert lines[0] == f"{run_dir}: twolayer model on the bundled CIFAR-10 sample's test split"
    assert lines[1] == f"test accuracy: {correct / 400:.4f} ({correct} / 400 images)"
    assert [line.split()[0] for line in lines[2:12]] == list(raw["classes"])
    cat = int(np.sum((predicted == 3) & (raw["y_test"] == 3)))
    assert lines[5].endswith(f"({cat} / {int(np.sum(raw['y_test'] == 3))})")
    assert lines[12] == f"wrote {run_dir / 'confusion-sample.png'} and eval-sample.json"
    report = json.loads((run_dir / "eval-sample.json").read_text())
    assert report["accuracy"] == correct / 400 and np.sum(report["confusion"]) == 400
    assert (run_dir / "confusion-sample.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_on_cifar10(run_dir, cifar_dir, capsys):
    assert cli.main(["eval", str(run_dir), "--data-dir", str(cifar_dir)]) == 0
    out = capsys.readouterr().out
    assert f"on the CIFAR-10 test batch in {cifar_dir}" in out and "/ 1017 images)" in out
    assert (run_dir / "eval-cifar10.json").is_file()


def test_predict_prints_the_top_classes(run_dir, tmp_path, capsys):
    import matplotlib.image as mpimg
    raw = load_sample(0, 0, 3, subtract_mean=False)
    for i in range(2):
        mpimg.imsave(tmp_path / f"img{i}.png", raw["X_test"][i].transpose(1, 2, 0).astype(np.uint8))
    big = np.kron(raw["X_test"][2].transpose(1, 2, 0), np.ones((2, 3, 1))).astype(np.uint8)  # 64x96
    mpimg.imsave(tmp_path / "big.png", big)
    paths = [str(tmp_path / n) for n in ("img0.png", "img1.png", "big.png")]
    assert cli.main(["predict", str(run_dir), *paths]) == 0
    lines = capsys.readouterr().out.splitlines()
    loaded = xnn.load_run(run_dir)
    proba = loaded.predict_proba(raw["X_test"][:2])
    for line, p, path in zip(lines, proba, paths):
        best = np.argsort(-p)[:3]
        assert line == f"{path}: " + ", ".join(f"{raw['classes'][i]} {100 * p[i]:.1f}%" for i in best)
    assert lines[2].startswith(f"{paths[2]} (resized from 96x64): ") and lines[2].count("%") == 3
    assert cli.main(["predict", str(run_dir), paths[0], "--top", "1"]) == 0
    assert capsys.readouterr().out.count("%") == 1


def test_predict_errors(run_dir, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an image")
    assert cli.main(["predict", str(run_dir), str(tmp_path / "notes.txt")]) == 2
    assert "notes.txt' is not an image matplotlib can read (it is a text file)" in capsys.readouterr().err
    assert cli.main(["predict", str(run_dir), str(tmp_path / "nope.png")]) == 2
    assert "no such image file" in capsys.readouterr().err


def test_eval_without_the_data_says_how_to_get_it(run_dir, tmp_path, capsys):
    assert cli.main(["eval", str(run_dir), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("xnn: error: ") and "test_batch" in err[0]
    assert err[1].startswith("xnn: get CIFAR-10 with `") and "--data-dir DIR" in err[1]
