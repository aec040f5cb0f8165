"""xnn train as a user meets it: readable output, honest --resume, errors that name flags, no leftovers."""

from __future__ import annotations

import json
import re

import pytest
from helpers import crash_solver_at

from xnn import cli, progress
from xnn.solver import Solver

BASE = ["train", "--model", "fc", "--num-train", "60", "--num-val", "20", "--batch-size", "20", "--no-progress"]


def _train(tmp_path, *argv, code=0):
    assert cli.main([*BASE, "--out", str(tmp_path), *argv]) == code
    runs = [p for p in tmp_path.iterdir() if p.is_dir()]
    return runs[0] if len(runs) == 1 else runs


@pytest.fixture
def crashed(tmp_path, monkeypatch, capsys):
    """A run that crashed in epoch 2 (3 iterations per epoch), leaving checkpoint_epoch_1.npz."""
    undo = crash_solver_at(monkeypatch, 4)
    run = _train(tmp_path / "out", "--epochs", "3", code=2)
    undo()
    capsys.readouterr()
    return run


def test_output_is_readable(tmp_path, capsys):
    _train(tmp_path, "--epochs", "2")
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == ("model     fc: FullyConnectedNet(hidden_dims=[100, 100], weight_scale=0.05, "
                        "normalization=batchnorm), float32 on cpu")
    assert lines[1] == "data      bundled CIFAR-10 sample: 60 training / 20 validation images"
    assert lines[2] == ("training  2 epochs x 3 iterations of 20 images; adam, lr 0.001 x0.95 per epoch, reg 0.01, "
                        "seed 0")
    assert [line.split("  loss")[0] for line in lines[5:8]] == ["epoch 0 / 2", "epoch 1 / 2", "epoch 2 / 2"]
    assert "Saving checkpoint" not in out and "checkpoint" not in "".join(lines[5:])  # none stays
    assert lines[-2].startswith("final accuracy of model.npz: train ") and "(all 60 images)" in lines[-2]
    assert lines[-1].startswith("next: ") and " eval " in lines[-1]
    assert err == "" and max(len(line) for line in lines[:5] if not line.startswith("output")) < 120


def test_quiet_and_live_bar(tmp_path, capsys, monkeypatch):
    _train(tmp_path / "q", "--epochs", "1", "--quiet")
    out = capsys.readouterr().out
    assert not any(line.startswith(("epoch", "model ")) for line in out.splitlines())
    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)
    assert cli.main([*[a for a in BASE if a != "--no-progress"], "--out", str(tmp_path / "t"), "--epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "3/3" in err and "epoch 1 / 1" in out  # the bar on stderr, epoch lines above it


def test_resume_continues_in_the_same_directory_and_config_stays_true(crashed, capsys):
    assert cli.main(["train", "--resume", str(crashed), "--epochs", "4", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"resuming {crashed} from checkpoint_epoch_1.npz (1 of 4 epochs done)")
    config = json.loads((crashed / "config.json").read_text())
    assert config["epochs"] == 4 and config["lr"] == 1e-3 and config["model"] == "fc"
    (entry,) = config["resumed"]
    assert entry["from"] == "checkpoint_epoch_1.npz" and entry["epochs"] == [3, 4] and entry["epochs_done"] == 1
    hist = json.loads((crashed / "history.json").read_text())
    assert len(hist["loss_history"]) == 4 * 3 and len(hist["val_acc_history"]) == 5
    assert (crashed / "model.npz").is_file() and not list(crashed.glob("checkpoint*"))


def test_resume_refuses_conflicting_flags(crashed, capsys):
    assert cli.main(["train", "--resume", str(crashed), "--lr", "0.5", "--model", "fc"]) == 2
    err = capsys.readouterr().err
    assert "--lr 0.5 (the run has lr = 0.001)" in err and "--model" not in err.split("but ")[1].split(".")[0]
    assert "Only --epochs and --device may change" in err
    assert cli.main(["train", "--resume", str(crashed), "--out", "elsewhere"]) == 2
    assert "--out does not apply to --resume" in capsys.readouterr().err
    assert json.loads((crashed / "config.json").read_text()).get("resumed") is None  # nothing written


def test_resume_finds_nothing_to_resume(tmp_path, capsys):
    run = _train(tmp_path, "--epochs", "1", "--quiet")
    assert cli.main(["train", "--resume", str(run)]) == 2
    assert "there is no checkpoint to continue from: it finished (model.npz holds the result)" in \
        capsys.readouterr().err
    assert cli.main(["train", "--resume", str(tmp_path)]) == 2
    assert "has no config.json, so it is not a run directory of xnn train" in capsys.readouterr().err
    (run / "notes.txt").write_text("lr = 0.1\n")
    assert cli.main(["train", "--resume", str(run / "notes.txt")]) == 2
    assert "notes.txt' is not an .npz archive: it is a text file" in capsys.readouterr().err


def test_failed_runs_leave_no_empty_directory(tmp_path, monkeypatch, capsys):
    def fail(self, t=0, num_iterations=0):
        raise RuntimeError("boom")
    monkeypatch.setattr(Solver, "_step", fail)
    assert cli.main([*BASE, "--out", str(tmp_path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "xnn: error: boom" in err and "xnn: removed the unfinished run directory" in err
    assert list(tmp_path.iterdir()) == []


def test_diverging_run_warns_then_stops_and_is_removed(tmp_path, capsys):
    code = cli.main(["train", "--model", "twolayer", "--num-train", "60", "--num-val", "20", "--batch-size", "20",
                     "--no-progress", "--quiet", "--out", str(tmp_path), "--epochs", "2", "--lr", "1e6",
                     "--update-rule", "sgd"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 3  # no NumPy overflow chatter, no second copy of the error
    assert lines[0].startswith("xnn: warning: Solver: the loss is diverging: ")
    assert "more than 10x the first loss" in lines[0] and "learning_rate'] = 1000000.0" in lines[0]
    assert lines[1].startswith("xnn: error: Solver: loss is nan at iteration 4 / 6")
    assert lines[2].startswith("xnn: removed the unfinished run directory") and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["--lr", "abc"], "argument --lr: expected a positive number, got 'abc'"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    (["--model", "resnt"], "argument --model: 'resnt' is not one of cnn, fc, twolayer, softmax"),
    (["--update-rule", "adamw"], "'adamw' is not one of sgd, sgd_momentum, sgd_nesterov_momentum, rmsprop, adam, "
                                 "adagrad; did you mean \"adam\"?"),
    (["--device", "gpus"], "argument --device: 'gpus' is not one of cpu, gpu, auto; did you mean \"gpu\"?"),
])
def test_flag_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", *argv])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_data_flags_name_cli_flags(tmp_path, capsys, monkeypatch):
    assert cli.main(["train", "--data", "sample", "--data-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "--data-dir is only read with --data cifar10" in capsys.readouterr().err
    def smaller_set(*args, **kwargs):  # what get_CIFAR10_data says for a set smaller than asked
        raise ValueError("get_CIFAR10_data: d holds 5085 training and 1017 test images, but num_training + "
                         "num_validation = 49000 + 1000 = 50000 and num_test = 0 were asked for")
    monkeypatch.setattr("xnn.data.get_CIFAR10_data", smaller_set)
    assert cli.main(["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2  # implies cifar10
    err = capsys.readouterr().err
    assert "--num-train + --num-val = 49000 + 1000" in err and "num_training" not in err
    assert not (tmp_path / "o").exists()


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert "(default: cnn)" in out and "(default: runs)" in out and "(default: 0)" in out
    assert "per-model defaults" in out and "ThreeLayerConvNet(num_filters=32" in out
    assert re.search(r"\n  softmax +20 +200 +1e-06 +1 +sgd +5000 +Softmax\(\)\n", out)
    with pytest.raises(SystemExit):
        cli.main(["predict", "--help"])
    assert "(default: 3)" in capsys.readouterr().out


def test_eval_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["eval", str(tmp_path)]) == 2
    assert "is not a run directory: it has no config.json" in capsys.readouterr().err


def test_a_smaller_cifar10_set_is_reported_with_flags(cifar_dir, tmp_path, capsys):
    assert cli.main(["train", "--data-dir", str(cifar_dir), "--model", "twolayer", "--epochs", "1", "--quiet",
                     "--no-progress", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "xnn: warning: " in err and "fewer than asked (--num-train 49000, --num-val 1000); using --num-train " in err
    assert "num_training" not in err and "num_test" not in err
    config = json.loads(next(tmp_path.iterdir()).joinpath("config.json").read_text())
    assert config["data"] == "cifar10" and config["num_train_images"] + config["num_val_images"] <= 5085
