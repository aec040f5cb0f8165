"""Solver reliability: argument and data checks, non-finite losses, Ctrl-C, resume errors."""

from __future__ import annotations

import logging
import os
import signal

import numpy as np
import pytest
from test_solver import LinearSoftmax, _data

from xnn.solver import Solver
from xnn.training import checkpoint

# The toy data's column 0 counts the rows (0..49, to identify minibatch draws), so a few of these
# runs really do diverge; the divergence warning has its own tests in test_solver_ux.py.
pytestmark = pytest.mark.filterwarnings("ignore:Solver. the loss is diverging:RuntimeWarning")


class NaNModel(LinearSoftmax):
    """Softmax regression whose loss turns NaN from the third training step on."""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is not None and len(self.seen) >= 3:
            return float("nan"), out[1]
        return out


def test_nonfinite_loss_warns_once_and_keeps_going_by_default(rng, caplog):
    solver = Solver(NaNModel(), _data(rng), batch_size=10, num_epochs=2, verbose=False)
    with caplog.at_level(logging.INFO, logger="xnn.solver"), pytest.warns(RuntimeWarning) as record:
        solver.train()
    assert len(solver.loss_history) == 10 and solver.stop_reason is None  # cs231n keeps going
    assert len(record) == 1 and "iteration 3 / 10" in str(record[0].message)
    assert "last finite loss" in caplog.text


def test_nonfinite_loss_stop_raises_before_the_update(rng):
    model = NaNModel()
    solver = Solver(model, _data(rng), batch_size=10, num_epochs=2, verbose=False, on_nonfinite="stop")
    with pytest.raises(FloatingPointError, match=r"loss is nan at iteration 3 / 10 \(last finite loss "
                                                 r"[0-9.]+ at iteration 2\)") as err:
        solver.train()
    assert repr(solver.loss_history[1]) in str(err.value)
    assert len(solver.loss_history) == 3 and "training stopped" in solver.stop_reason
    assert all(np.isfinite(v).all() for v in model.params.values())  # the NaN step did not update
    with pytest.raises(ValueError, match='on_nonfinite must be "warn" or "stop"'):
        Solver(NaNModel(), _data(rng), on_nonfinite=True)
    with pytest.raises(ValueError, match='Unrecognized arguments "stop_on_nonfinite"'):
        Solver(NaNModel(), _data(rng), stop_on_nonfinite=False)


def test_nonfinite_at_the_first_step(rng):
    class AlwaysNaN(LinearSoftmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            return out if y is None else (float("inf"), out[1])

    with pytest.raises(FloatingPointError, match=r"loss is inf at iteration 1 / 5 \(no finite loss before it\)"):
        Solver(AlwaysNaN(), _data(rng), batch_size=10, num_epochs=1, verbose=False, on_nonfinite="stop").train()


@pytest.mark.parametrize("change, exc, pattern", [
    ({"X_train": "data"}, TypeError, r"^Solver: X_train must be an array, got str"),
    ({"y_train": "float"}, TypeError, r"^Solver: y_train must hold integer class labels, got dtype float64"),
    ({"y_val": "negative"}, ValueError, r"^Solver: y_val holds a negative label \(-1\)"),
    ({"y_train": "2d"}, ValueError, r"^Solver: y_train must be 1-D \(N,\) class labels, got shape \(50, 1\)"),
    ({"X_train": "nan"}, ValueError,
     r"^Solver: X_train holds NaN or inf values \(in rows 0..49 of X_train \(50, 4\)\)"),
    ({"X_val": "features"}, ValueError, r"^Solver: X_train samples are \(4,\) but X_val samples are \(3,\)"),
    ({"X_train": "1d"}, ValueError, r"^Solver: X_train must be \(N, ...\) with at least 2 dimensions"),
])
def test_bad_data(rng, change, exc, pattern):
    data = _data(rng)
    (key, how), = change.items()
    make = {"data": lambda a: "data", "float": lambda a: a * 1.0, "negative": lambda a: a - 1,
            "2d": lambda a: a[:, None], "nan": lambda a: np.where(np.arange(50)[:, None] == 7, np.nan, a),
            "features": lambda a: a[:, :3], "1d": lambda a: a[:, 0]}[how]
    data[key] = make(data[key])
    with pytest.raises(exc, match=pattern):
        Solver(LinearSoftmax(), data)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"num_epochs": -1}, ValueError, r"num_epochs must be a non-negative integer, got -1"),
    ({"print_every": 0, "verbose": True}, ValueError,
     r"print_every must be a positive integer when verbose \(it sets how often the loss is printed\), got 0"),
    ({"batch_size": 2.5}, ValueError, r"batch_size must be a positive integer, got 2.5"),
    ({"batch_size": "10"}, TypeError, r"batch_size must be a positive integer, got str"),
    ({"lr_decay": float("nan")}, ValueError, r"lr_decay must be a finite number, got nan"),
    ({"optim_config": {"learning_rate": float("inf")}}, ValueError,
     r"optim_config\['learning_rate'\] must be a finite number, got inf"),
    ({"optim_config": [1e-3]}, TypeError, r"optim_config must be a dict \(a mapping\), got list"),
    ({"num_train_samples": 0}, ValueError, r"num_train_samples must be a positive integer, got 0"),
    ({"checkpoint_name": 3}, TypeError, r"checkpoint_name must be a path string or None, got int"),
])
def test_bad_arguments(rng, kwargs, exc, pattern):
    with pytest.raises(exc, match=rf"^Solver: {pattern}"):
        Solver(LinearSoftmax(), _data(rng), **kwargs)


class InterruptingModel(LinearSoftmax):
    """Sends itself SIGINT during the loss of step ``at`` (as a Ctrl-C would arrive)."""

    def __init__(self, at, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def loss(self, X, y=None):
        if y is not None and len(self.seen) == self.at - 1:
            os.kill(os.getpid(), signal.SIGINT)
        return super().loss(X, y)


def test_ctrl_c_saves_after_the_step_and_resume_is_exact(tmp_path, rng):
    data = _data(rng)
    kwargs = {"update_rule": "sgd_momentum", "optim_config": {"learning_rate": 0.05}, "batch_size": 10,
              "num_epochs": 3, "num_train_samples": 20, "verbose": False, "checkpoint_name": str(tmp_path / "run")}
    np.random.seed(3)
    full = Solver(LinearSoftmax(), data, **kwargs)
    full.train()
    np.random.seed(3)
    stopped = Solver(InterruptingModel(at=8), data, **kwargs)
    with pytest.raises(KeyboardInterrupt):
        stopped.train()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    path = tmp_path / "run_epoch_1_interrupted.npz"
    assert path.is_file() and len(stopped.loss_history) == 8  # step 8 finished, then saved
    np.random.seed(12345)
    resumed = Solver(LinearSoftmax(seed=5), data, **kwargs)
    resumed.resume(path)
    assert resumed.iteration == 7 and resumed.epoch == 1
    resumed.train()
    assert resumed.loss_history == full.loss_history
    assert resumed.train_acc_history == full.train_acc_history and resumed.val_acc_history == full.val_acc_history
    for k in full.model.params:
        np.testing.assert_array_equal(resumed.model.params[k], full.model.params[k])


def test_resume_rejects_bad_files(tmp_path, rng):
    data = _data(rng)
    solver = Solver(LinearSoftmax(), data, batch_size=10, num_epochs=1, verbose=False,
                    checkpoint_name=str(tmp_path / "a"))
    solver.train()
    good = tmp_path / "a_epoch_1.npz"
    with pytest.raises(FileNotFoundError):
        Solver(LinearSoftmax(), data).resume(tmp_path / "missing.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"truncated\.npz.*not a readable \.npz archive"):
        Solver(LinearSoftmax(), data).resume(truncated)
    with pytest.raises(ValueError, match=r"checkpoint parameters do not match the model: W saved \(4, 3\) vs "
                                         r"model \(5, 3\)"):
        Solver(LinearSoftmax(D=5), dict(data, X_train=np.ones((50, 5)), X_val=np.ones((20, 5)))).resume(good)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.asarray(checkpoint.FORMAT), obj=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds pickled Python objects"):
        Solver(LinearSoftmax(), data).resume(pickled)
    arrays = checkpoint.solver_state_arrays(solver)
    del arrays["rng.keys"]
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(ValueError, match=r"incomplete xnn Solver checkpoint \(missing rng.keys\)"):
        Solver(LinearSoftmax(), data).resume(tmp_path / "partial.npz")
    with pytest.warns(UserWarning, match="batch_size is 25 but the checkpoint .* was written with 10"):
        Solver(LinearSoftmax(), data, batch_size=25).resume(good)
