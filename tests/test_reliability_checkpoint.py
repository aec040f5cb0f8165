"""Crash safety: a training process SIGKILLed mid-run resumes, in a new process, onto exactly the
loss curve of an uninterrupted run; checkpoints are complete archives or absent, never partial."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from xnn.npz import load as read_npz
from xnn.npz import save_atomic as write_npz_atomic
from xnn.training import checkpoint

SCRIPT = Path(__file__).with_name("reliability_train_run.py")
EPOCHS = 6


def _run(out: Path, name: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(out), str(name), *extra], capture_output=True,
                          text=True, timeout=120, check=False)


def _epochs_saved(directory: Path, prefix: str) -> list[int]:
    found = (re.fullmatch(rf"{prefix}_epoch_(\d+)\.npz", p.name) for p in directory.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def _kill_after_first_epoch(out: Path, name: Path) -> int:
    """Start a slowed-down run, SIGKILL it once the epoch-1 checkpoint exists; its return code."""
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(out), str(name), "--sleep", "0.02"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while not Path(f"{name}_epoch_1.npz").exists():
            if proc.poll() is not None:
                pytest.fail(f"training process ended before its first epoch checkpoint: {proc.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("no epoch-1 checkpoint within 60 s")
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_then_resume_gives_the_uninterrupted_history(tmp_path):
    full_dir, killed_dir = tmp_path / "full", tmp_path / "killed"
    full_dir.mkdir()
    killed_dir.mkdir()
    done = _run(full_dir / "out.json", full_dir / "run")
    assert done.returncode == 0, done.stderr
    full = json.loads((full_dir / "out.json").read_text())
    assert _epochs_saved(full_dir, "run") == list(range(EPOCHS + 1))

    code = _kill_after_first_epoch(killed_dir / "out.json", killed_dir / "run")
    assert code == -signal.SIGKILL
    saved = _epochs_saved(killed_dir, "run")
    assert 1 in saved and EPOCHS not in saved, f"not killed mid-run: {saved}"
    assert not (killed_dir / "out.json").exists()
    for epoch in saved:  # whatever the kill interrupted, every file under a final name is complete
        assert int(read_npz(killed_dir / f"run_epoch_{epoch}.npz")["epoch"]) == epoch

    last = killed_dir / f"run_epoch_{saved[-1]}.npz"
    resumed_run = _run(killed_dir / "out.json", killed_dir / "run", "--resume", str(last))
    assert resumed_run.returncode == 0, resumed_run.stderr
    resumed = json.loads((killed_dir / "out.json").read_text())
    assert len(resumed["loss_history"]) == len(full["loss_history"]) == EPOCHS * 10
    assert resumed == full  # losses, accuracies, best accuracy, parameters, running means: bit for bit
    assert _epochs_saved(killed_dir, "run") == list(range(EPOCHS + 1))


def test_checkpoint_contents_and_pickle_free(tmp_path):
    done = _run(tmp_path / "out.json", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "run_epoch_2.npz", allow_pickle=False) as ck:
        keys = set(ck.files)
        assert str(ck["format"]) == checkpoint.FORMAT and int(ck["epoch"]) == 2 and int(ck["iteration"]) == 19
        assert len(ck["loss_history"]) == 20 and ck["rng.keys"].shape == (624,)
        assert all(ck[k].dtype != object for k in ck.files)
    assert {"param.W1", "param.gamma1", "bn_param.0.running_mean", "optim.W1.m", "optim.W1.v",
            "optim_scalar.W1.t", "best_param.W3", "train_acc_history", "val_acc_history"} <= keys
    assert not list(tmp_path.glob(".tmp-*"))


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "ck.npz"
    write_npz_atomic(path, {"a": np.arange(3)})

    class Boom:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_npz_atomic(path, {"a": np.zeros(2), "b": Boom()})
    np.testing.assert_array_equal(read_npz(path)["a"], np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def test_run_json_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    # --resume rewrites config.json in place: a disk failing mid-write must leave the old file
    from xnn.training.runs import write_json
    path = tmp_path / "config.json"
    write_json(path, {"epochs": 3})

    def failing_sync(fd):
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", failing_sync)
        with pytest.raises(OSError, match="disk full"):
            write_json(path, {"epochs": 5})
    assert json.loads(path.read_text()) == {"epochs": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _cli_run(out: Path, *argv: str, code: int = 0) -> Path:
    from xnn import cli
    base = ["train", "--model", "fc", "--num-train", "60", "--num-val", "20", "--batch-size", "20",
            "--no-progress", "--quiet", "--out", str(out)]
    assert cli.main([*base, *argv]) == code
    (run,) = out.iterdir()
    return run


def test_cli_resume_after_a_crash_continues_the_loss_curve(tmp_path, monkeypatch, capsys):
    from helpers import crash_solver_at

    from xnn import cli
    full = _cli_run(tmp_path / "full", "--epochs", "3")
    assert not list(full.glob("checkpoint*"))  # removed once training completed
    undo = crash_solver_at(monkeypatch, 4)  # in epoch 2 (3 steps per epoch)
    crashed = _cli_run(tmp_path / "crashed", "--epochs", "3", code=2)
    assert sorted(p.name for p in crashed.glob("checkpoint*")) == ["checkpoint_epoch_1.npz"]  # newest only
    err = capsys.readouterr().err
    assert f"xnn: {crashed} keeps checkpoint_epoch_1.npz; after fixing the cause, continue with: " in err
    undo()
    assert cli.main(["train", "--resume", str(crashed), "--quiet"]) == 0  # the same directory, its own settings
    assert list((tmp_path / "crashed").iterdir()) == [crashed] and not list(crashed.glob("checkpoint*"))
    want, got = (json.loads((run / "history.json").read_text()) for run in (full, crashed))
    assert len(want["loss_history"]) == 9 and got["loss_history"] == want["loss_history"]
    assert got["val_acc_history"] == want["val_acc_history"] and got["best_val_acc"] == want["best_val_acc"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the loss NaN
def test_cli_stops_on_a_nonfinite_loss(tmp_path, capsys):
    from xnn import cli
    code = cli.main(["train", "--model", "twolayer", "--num-train", "40", "--num-val", "10", "--epochs", "1",
                     "--batch-size", "20", "--lr", "1e30", "--update-rule", "sgd", "--no-progress", "--quiet",
                     "--out", str(tmp_path)])
    assert code == 2
    assert re.search(r"xnn: error: Solver: loss is (nan|inf) at iteration \d+ / 2", capsys.readouterr().err)
