"""Solver experience: a real signature, errors with valid values, config warnings, divergence, progress displays."""

from __future__ import annotations

import inspect
import sys
import types
import warnings

import numpy as np
import pytest
from test_solver import LinearSoftmax, _data

from xnn import progress
from xnn.captioning_solver import CaptioningSolver
from xnn.compat.solvers import CS182Solver
from xnn.solver import Solver
from xnn.training import guards


def test_signature_shows_every_argument_with_its_default():
    params = inspect.signature(Solver).parameters
    want = {"update_rule": "sgd", "optim_config": None, "lr_decay": 1.0, "batch_size": 100, "num_epochs": 10,
            "num_train_samples": 1000, "num_val_samples": None, "checkpoint_name": None, "print_every": 10,
            "verbose": True, "device": None, "progress": None, "on_nonfinite": "warn"}
    assert {name: params[name].default for name in want} == want
    assert all(params[name].kind is inspect.Parameter.KEYWORD_ONLY for name in want)
    assert list(params)[:2] == ["model", "data"] and list(params)[-1] == "kwargs"
    assert "log_acc_iteration" in CS182Solver.argument_names() and "batch_size" in CS182Solver.argument_names()
    flavor = inspect.signature(CS182Solver).parameters  # a flavor shows its extras and the Solver's arguments
    assert list(flavor)[:3] == ["model", "data", "log_acc_iteration"] and flavor["batch_size"].default == 100
    captioning = inspect.signature(CaptioningSolver).parameters  # a narrower contract shows only its own
    assert "num_train_samples" not in captioning and captioning["print_every"].default == 10
    assert list(CaptioningSolver.defaults) == CaptioningSolver.argument_names()


def test_unrecognized_arguments_suggest_and_list(rng):
    with pytest.raises(ValueError) as err:
        Solver(LinearSoftmax(), _data(rng), num_epoch=3, verbose=False)
    message = str(err.value)
    assert message.startswith('Unrecognized arguments "num_epoch"; did you mean "num_epochs"?; valid arguments: ')
    assert message.endswith("valid arguments: update_rule, optim_config, lr_decay, batch_size, num_epochs, "
                            "num_train_samples, num_val_samples, checkpoint_name, print_every, verbose, device, "
                            "progress, on_nonfinite")
    with pytest.raises(ValueError, match=r'^Unrecognized arguments "foo", "batchsize" \("batchsize": did you mean '
                                         r'"batch_size"\?\); valid arguments: '):
        Solver(LinearSoftmax(), _data(rng), foo=1, batchsize=3)


def test_invalid_update_rule_lists_the_rules(rng):
    with pytest.raises(ValueError) as err:
        Solver(LinearSoftmax(), _data(rng), update_rule="adamw")
    assert str(err.value) == ('Invalid update_rule "adamw"; valid values: "sgd", "sgd_momentum", '
                              '"sgd_nesterov_momentum", "rmsprop", "adam", "adagrad"; did you mean "adam"?')
    with pytest.raises(ValueError, match=r'on_nonfinite must be "warn" or "stop", got \'stpo\'.*did you mean "stop"'):
        Solver(LinearSoftmax(), _data(rng), on_nonfinite="stpo")


def test_unused_optim_config_keys_warn(rng):
    with pytest.warns(UserWarning) as record:
        Solver(LinearSoftmax(), _data(rng), optim_config={"lr": 0.1, "momentum": 0.9})
    messages = [str(w.message) for w in record]
    assert messages == [
        'Solver: optim_config key "lr" is not used by update_rule "sgd", which reads learning_rate; '
        'did you mean "learning_rate"?',
        'Solver: optim_config key "momentum" is not used by update_rule "sgd", which reads learning_rate']
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Solver(LinearSoftmax(), _data(rng), update_rule="adam",
               optim_config={"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8})
        Solver(LinearSoftmax(), _data(rng), update_rule=lambda w, dw, c: (w, c), optim_config={"anything": 1})


class GrowingLoss:
    """Reports the losses of a schedule (zero gradients), to drive the divergence check."""

    def __init__(self, losses):
        self.losses, self.params = list(losses), {"w": np.zeros(1)}

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((X.shape[0], 3))
        return self.losses.pop(0), {"w": np.zeros(1)}


def _run(losses, **kw):
    data = {"X_train": np.zeros((10, 2)), "y_train": np.zeros(10, dtype=int), "X_val": np.zeros((4, 2)),
            "y_val": np.zeros(4, dtype=int)}
    Solver(GrowingLoss(losses), data, batch_size=10, num_epochs=len(losses), verbose=False, **kw).train()


def test_divergence_warns_once_past_the_threshold():
    assert guards.DIVERGENCE_FACTOR == 10
    with pytest.warns(RuntimeWarning) as record:
        _run([2.3, 5.0, 23.5, 7e14, 1e20], optim_config={"learning_rate": 1e6})
    assert len(record) == 1
    assert str(record[0].message) == ("Solver: the loss is diverging: 23.5 at iteration 3 / 5 is more than 10x "
                                      "the first loss 2.3; the learning rate is probably too high "
                                      "(optim_config['learning_rate'] = 1000000.0)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run([2.3, 22.9, 3.0])  # below 10x the first loss
        _run([0.01, 9.5, 0.2])  # a tiny first loss compares with 1


def _fake_notebook(monkeypatch, widgets: bool):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setattr(progress, "_widgets_available", lambda: widgets)


@pytest.mark.parametrize("where, setting, display", [
    ("file", None, "off"), ("file", True, "lines"), ("file", False, "off"),
    ("terminal", None, "terminal"), ("terminal", False, "off"),
    ("notebook", None, "lines"), ("notebook", True, "lines"), ("widgets", None, "notebook"),
])
def test_display_choice(monkeypatch, where, setting, display):
    monkeypatch.setattr(progress, "_is_terminal", lambda stream: where == "terminal")
    if where in ("notebook", "widgets"):
        _fake_notebook(monkeypatch, widgets=where == "widgets")
    assert progress.choose_display(setting) == display


def test_one_line_per_epoch_without_a_live_display(rng, capsys):
    np.random.seed(0)
    Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=3, verbose=False, progress=True,
           optim_config={"learning_rate": 1e-3}).train()
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and err == "" and "\r" not in out
    assert lines[0].startswith("train: epoch 1 / 3, iteration 2 / 6, loss ")
    assert lines[2].startswith("train: epoch 3 / 3, iteration 6 / 6, loss ") and "left" not in lines[2]
    Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=1, verbose=False).train()  # auto: nothing
    assert capsys.readouterr() == ("", "")


def test_notebook_without_widgets_falls_back_quietly(rng, capsys, monkeypatch):
    _fake_notebook(monkeypatch, widgets=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no TqdmWarning
        Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=2, print_every=100,
               optim_config={"learning_rate": 1e-3}).train()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "(Iteration 1 / 4) loss: %s" % lines[0].split("loss: ")[1], "(Epoch 0 / 2) train acc: %s" %
        lines[1].split("train acc: ")[1].split(",")[0], lines[2].split(",")[0], "train: epoch 1 / 2",
        lines[4].split(",")[0], "train: epoch 2 / 2"]


def test_bad_progress_value(rng):
    with pytest.raises(TypeError, match=r"progress must be None \(auto\), True or False, got 'yes'"):
        Solver(LinearSoftmax(), _data(rng), progress="yes")


def test_checkpoint_into_a_missing_directory_names_it(rng, tmp_path):
    solver = Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=1, verbose=False,
                    checkpoint_name=str(tmp_path / "no-such-dir" / "ck"))
    with pytest.raises(FileNotFoundError, match=r"cannot write '.*ck_epoch_0\.npz': the directory '.*no-such-dir' "
                                                r"does not exist"):
        solver.train()
