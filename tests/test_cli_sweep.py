"""``python -m xnn sweep``: the sweep directory it writes, --resume, and errors for bad options."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

pytest.importorskip("distributed")

from xnn.cli import main  # noqa: E402

SWEEP = ["sweep", "--model", "fc", "--trials", "4", "--epochs", "1", "--lr", "1e-4:1e-2:log", "--reg",
         "1e-5:1e-1:log", "--hidden", "20,30x20", "--num-train", "200", "--num-val", "100", "--batch-size", "50"]


def xnn(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "xnn", *args], capture_output=True, text=True, timeout=timeout)


def test_sweep_writes_the_sweep_directory_and_resume_runs_only_missing_trials(tmp_path):
    out = tmp_path / "fc-sweep"
    done = xnn(*SWEEP, "--workers", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"sweep directory: {out}" in done.stdout and "best trials:" in done.stdout
    assert sum(line.startswith("sweep: trial ") for line in done.stderr.splitlines()) == 4  # one line per trial
    assert "Dask dashboard: http" in done.stderr
    recorded = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["trial"] for r in recorded) == [0, 1, 2, 3]
    assert all(r["config"]["hidden_dims"] in ([20], [30, 20]) for r in recorded)
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4"]
    accs = [float(row["best_val_acc"]) for row in rows if row["status"] == "ok"]
    assert accs == sorted(accs, reverse=True)
    assert (out / "sweep.png").stat().st_size > 0
    for name in ("config.json", "history.json", "history.png", "model.npz"):
        assert (out / "best" / name).is_file()
    assert json.loads((out / "best" / "config.json").read_text())["num_train_images"] == 200

    lines = (out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text("".join(lines[:2]))
    again = xnn("sweep", "--resume", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert "2 of 4 trials already recorded" in again.stderr
    assert sum(line.startswith("sweep: trial ") for line in again.stderr.splitlines()) == 2
    rerun = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["trial"] for r in rerun) == [0, 1, 2, 3]
    assert {r["trial"]: r["best_val_acc"] for r in rerun} == {r["trial"]: r["best_val_acc"] for r in recorded}


@pytest.mark.parametrize("option, value, message", [
    ("--lr", "1e-2:1e-4:log", "--lr: low must be smaller than high"),
    ("--reg", "1e-5:1e-1:cubic", "--reg: unknown scale 'cubic'; allowed scales are log, linear, int"),
    ("--trials", "0", "trials must be an integer >= 1"),
    ("--hidden", "100,abc", "--hidden: expected sizes like 100,200x100"),
    ("--lr", "fast", "--lr: expected LOW:HIGH[:SCALE] or a comma-separated list"),
])
def test_bad_options_are_one_error_line_with_status_2(tmp_path, capsys, option, value, message):
    args = list(SWEEP)
    args[args.index(option) + 1] = value
    assert main([*args, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xnn: error: ") and message in err
    assert not (tmp_path / "s").exists()


def test_resume_of_a_directory_without_a_sweep_says_so(tmp_path, capsys):
    assert main(["sweep", "--resume", str(tmp_path)]) == 2
    assert "cli_args.json not found" in capsys.readouterr().err


def test_nothing_to_sweep_is_an_error(tmp_path, capsys):
    assert main(["sweep", "--model", "fc", "--out", str(tmp_path / "s")]) == 2
    assert "nothing to sweep; give at least one of --lr, --reg, --hidden" in capsys.readouterr().err


def test_a_hidden_size_range_without_a_scale_is_an_int_range():
    import argparse

    from xnn.cli.sweep import space_from_args
    args = argparse.Namespace(lr=None, reg=None, hidden="50:200", model="twolayer")
    assert space_from_args(args) == {"hidden_dim": ("int", 50.0, 200.0)}
    args.hidden = "64:256:log"   # an explicit scale is kept (and then refused by the sweep)
    assert space_from_args(args) == {"hidden_dim": ("log", 64.0, 256.0)}


def test_data_dir_alone_means_cifar10_as_in_xnn_train(tmp_path, capsys):
    missing = tmp_path / "no-cifar"
    assert main([*SWEEP, "--data-dir", str(missing), "--out", str(tmp_path / "s")]) == 2
    assert str(missing) in capsys.readouterr().err   # read as CIFAR-10, not silently swapped for the sample
    assert not (tmp_path / "s").exists()
    assert main([*SWEEP, "--data", "sample", "--data-dir", str(missing), "--out", str(tmp_path / "s")]) == 2
    assert "--data-dir is only read with --data cifar10" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
