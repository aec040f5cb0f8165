"""Sweep progress: counts, best so far, one line per trial off a terminal and a live bar on one."""

from __future__ import annotations

import io
import logging

from xnn.sweep.progress import Progress, describe_config


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def finished(trial, acc, status="ok"):
    return {"trial": trial, "status": status, "best_val_acc": acc, "train_acc": acc, "seconds": 1.5,
            "worker": "tcp://w:1", "config": {"learning_rate": 0.00123456, "hidden_dims": [5]},
            "error": None if status == "ok" else "ValueError: bad"}


def test_off_a_terminal_each_finished_trial_is_one_log_line(caplog):
    caplog.set_level(logging.INFO, logger="xnn.sweep")
    progress = Progress(4, previous=[finished(0, 0.3)], stream=io.StringIO())
    assert progress.bar is None
    assert progress.finished(finished(2, 0.2), running=1) is False
    assert progress.finished(finished(3, None, "failed"), running=1) is False
    assert progress.finished(finished(1, 0.4), running=0) is True
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("sweep: trial 2: val acc 0.2000 train acc 0.2000 in 1.5 s on tcp://w:1 "
                               "[hidden_dims=[5] learning_rate=0.00123]")
    assert lines[0].endswith("2/4 done, 1 running, 0 failed; best val acc 0.3000 (trial 0)")
    assert "trial 3: FAILED (ValueError: bad)" in lines[1] and "3/4 done, 1 running, 1 failed" in lines[1]
    assert lines[2].endswith("4/4 done, 0 running, 1 failed; best val acc 0.4000 (trial 1)")


def test_on_a_terminal_a_bar_shows_running_failed_and_best():
    screen = Terminal()
    progress = Progress(2, stream=screen)
    progress.finished(finished(0, 0.25), running=1)
    progress.close()
    text = screen.getvalue()
    assert "trial 0: val acc 0.2500" in text
    assert "running 1, failed 0, best 0.2500" in text and "1/2" in text


def test_describe_config_rounds_floats():
    assert describe_config({"reg": 1.23456e-05, "batch_size": 50}) == "batch_size=50 reg=1.23e-05"
