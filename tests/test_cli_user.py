"""The command line as a user runs it, in real processes: a log written to a file, Ctrl-C, the
printed resume command, eval and predict on the result."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys

import numpy as np
import pytest

from xnn.data import load_sample

SMALL = ["--num-train", "200", "--num-val", "40", "--batch-size", "50"]


def _xnn(*argv, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "xnn", *argv], cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False, **kw)


def test_a_log_written_to_a_file_is_clean(tmp_path):
    log, err = tmp_path / "train.log", tmp_path / "train.err"
    with open(log, "w") as out, open(err, "w") as errors:
        proc = subprocess.run([sys.executable, "-m", "xnn", "train", "--model", "fc", "--epochs", "3", *SMALL],
                              cwd=tmp_path,
                              stdout=out, stderr=errors, timeout=300, check=False)
    text = log.read_text()
    assert proc.returncode == 0 and err.read_text() == ""
    assert "\r" not in text and "Saving checkpoint" not in text  # no bar frames, no messages about temp files
    lines = text.splitlines()
    assert [line.split("  loss")[0] for line in lines if line.startswith("epoch")] == [
        "epoch 0 / 3", "epoch 1 / 3", "epoch 2 / 3", "epoch 3 / 3"]
    assert len(lines) == 5 + 4 + 3  # settings, one line per epoch, results
    (run,) = (tmp_path / "runs").iterdir()
    assert lines[-1] == f"next: python -m xnn eval runs/{run.name}   (test accuracy, per class)"
    evaluated = _xnn("eval", f"runs/{run.name}", cwd=tmp_path)
    assert evaluated.returncode == 0 and evaluated.stderr == "" and "test accuracy: " in evaluated.stdout
    import matplotlib.image as mpimg
    image = load_sample(0, 0, 1, subtract_mean=False)["X_test"][0].transpose(1, 2, 0).astype(np.uint8)
    mpimg.imsave(tmp_path / "frog.png", image)
    predicted = _xnn("predict", f"runs/{run.name}", "frog.png", cwd=tmp_path)
    assert predicted.returncode == 0 and predicted.stdout.startswith("frog.png: ") and predicted.stdout.count("%") == 3


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_prints_the_exact_resume_command(tmp_path):
    argv = [sys.executable, "-m", "xnn", "train", "--epochs", "4", *SMALL]  # cnn: ~0.1 s per iteration
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    child = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in child.stdout:
        if line.startswith("epoch 1 /"):
            child.send_signal(signal.SIGINT)
            break
    _, err = child.communicate(timeout=300)
    assert child.returncode == 130, err
    (run,) = (tmp_path / "runs").iterdir()
    (kept,) = (p.name for p in run.glob("checkpoint*"))  # only the interrupted step's checkpoint stays
    assert re.fullmatch(r"checkpoint_epoch_[1-3]_interrupted\.npz", kept)
    lines = err.splitlines()
    assert lines == [f"xnn: interrupted; runs/{run.name} keeps {kept}",
                     f"resume with: python -m xnn train --resume runs/{run.name}"]
    command = shlex.split(lines[-1].removeprefix("resume with: "))
    assert command[:3] == ["python", "-m", "xnn"]
    resumed = subprocess.run([sys.executable, *command[1:]], cwd=tmp_path, capture_output=True, text=True,
                             timeout=300, check=False)
    assert resumed.returncode == 0 and resumed.stderr == ""
    assert resumed.stdout.startswith(f"resuming runs/{run.name} from {kept}")
    hist = json.loads((run / "history.json").read_text())
    assert len(hist["loss_history"]) == 4 * 4 and len(hist["val_acc_history"]) == 5
    assert not list(run.glob("checkpoint*")) and (run / "model.npz").is_file()
    assert json.loads((run / "config.json").read_text())["resumed"][0]["from"] == kept
