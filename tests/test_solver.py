"""Solver: cs231n's contract (kwargs, prints, histories, lr decay, best params, RNG) and xnn's extras."""

from __future__ import annotations

import numpy as np
import pytest

from xnn import backend, optim
from xnn.solver import Solver

# The toy data's column 0 counts the rows (0..49, to identify minibatch draws), so a few of these
# runs really do diverge; the divergence warning has its own tests in test_solver_ux.py.
pytestmark = pytest.mark.filterwarnings("ignore:Solver. the loss is diverging:RuntimeWarning")


class LinearSoftmax:
    """A tiny NumPy softmax regression with the model interface (no xnn.layers needed)."""

    def __init__(self, D=4, C=3, seed=0):
        r = np.random.default_rng(seed)
        self.params = {"W": 0.1 * r.standard_normal((D, C)), "b": np.zeros(C)}
        self.seen = []

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        self.seen.append(X[:, 0].copy())
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.mean(np.log(probs[np.arange(N), y]))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def _data(rng, n_train=50, n_val=20, D=4, C=3):
    centers = rng.standard_normal((C, D)) * 3
    y_train = rng.integers(0, C, size=n_train)
    y_val = rng.integers(0, C, size=n_val)
    X_train = centers[y_train] + rng.standard_normal((n_train, D))
    X_train[:, 0] = np.arange(n_train)  # column 0 identifies the row (to check the minibatch draws)
    return {"X_train": X_train, "y_train": y_train,
            "X_val": centers[y_val] + rng.standard_normal((n_val, D)), "y_val": y_val}


def test_defaults_and_attributes(rng):
    data = _data(rng)
    model = LinearSoftmax()
    solver = Solver(model, data)
    assert solver.update_rule is optim.sgd
    assert (solver.optim_config, solver.lr_decay, solver.batch_size, solver.num_epochs) == ({}, 1.0, 100, 10)
    assert (solver.num_train_samples, solver.num_val_samples, solver.checkpoint_name) == (1000, None, None)
    assert (solver.print_every, solver.verbose) == (10, True)
    assert solver.X_train is data["X_train"] and solver.model is model
    assert (solver.epoch, solver.best_val_acc, solver.best_params) == (0, 0, {})
    assert solver.loss_history == [] and solver.train_acc_history == [] and solver.val_acc_history == []
    assert solver.optim_configs == {"W": {}, "b": {}}
    assert solver.device == "cpu"


def test_bad_arguments(rng):
    data = _data(rng)
    with pytest.raises(ValueError) as err:
        Solver(LinearSoftmax(), data, foo=1, bar=2)
    assert str(err.value).startswith('Unrecognized arguments "foo", "bar"; valid arguments: update_rule, ')
    for name in ("nope", "_prepare", "backend"):
        with pytest.raises(ValueError) as err:
            Solver(LinearSoftmax(), data, update_rule=name)
        assert str(err.value).startswith(f'Invalid update_rule "{name}"; valid values: "sgd", ')
    with pytest.raises(KeyError, match="y_val"):
        Solver(LinearSoftmax(), {k: v for k, v in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match="X_train has 50 rows but y_train has 49"):
        Solver(LinearSoftmax(), dict(data, y_train=data["y_train"][:-1]))
    with pytest.raises(ValueError, match="batch_size"):
        Solver(LinearSoftmax(), data, batch_size=0)


def test_optim_configs_are_shallow_copies(rng):
    config = {"learning_rate": 0.1}
    solver = Solver(LinearSoftmax(), _data(rng), optim_config=config)
    assert solver.optim_configs["W"] == config
    assert solver.optim_configs["W"] is not config and solver.optim_configs["W"] is not solver.optim_configs["b"]


def test_history_lengths_prints_and_rng_order(rng, capsys):
    data = _data(rng)  # 50 training rows, batch 10 -> 5 iterations per epoch
    model = LinearSoftmax()
    np.random.seed(231)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.05}, batch_size=10,
                    num_epochs=3, num_train_samples=20, print_every=4)
    solver.train()
    assert len(solver.loss_history) == 15
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4  # t=0 and three epoch ends
    assert all(type(v) is float for v in solver.loss_history + solver.train_acc_history + solver.val_acc_history)
    # The same RNG stream by hand: a choice per step, plus a train subsample (50 > 20) per check.
    np.random.seed(231)
    expected = []
    for t in range(15):
        expected.append(np.random.choice(50, 10))
        if t == 0 or (t + 1) % 5 == 0:
            np.random.choice(50, 20)
    for seen, idx in zip(model.seen, expected, strict=True):
        np.testing.assert_array_equal(seen, idx)
    lines = capsys.readouterr().out.splitlines()
    want = []
    for t in range(15):
        if t % 4 == 0:
            want.append("(Iteration %d / 15) loss: %f" % (t + 1, solver.loss_history[t]))
        if t == 0 or (t + 1) % 5 == 0:
            k = 0 if t == 0 else (t + 1) // 5
            want.append("(Epoch %d / 3) train acc: %f; val_acc: %f" % (
                k, solver.train_acc_history[k], solver.val_acc_history[k]))
    assert lines == want


def test_no_subsample_draw_when_data_is_small(rng):
    data = _data(rng)
    model = LinearSoftmax()
    np.random.seed(5)
    Solver(model, data, batch_size=25, num_epochs=1, verbose=False).train()  # 50 <= 1000: no subsample
    np.random.seed(5)
    expected = [np.random.choice(50, 25) for _ in range(2)]
    for seen, idx in zip(model.seen, expected, strict=True):
        np.testing.assert_array_equal(seen, idx)


def test_lr_decay_per_epoch(rng):
    solver = Solver(LinearSoftmax(), _data(rng), update_rule="sgd_momentum",
                    optim_config={"learning_rate": 0.1}, lr_decay=0.5, batch_size=25, num_epochs=3, verbose=False)
    solver.train()
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5**3)
        assert "velocity" in config
    assert solver.epoch == 3


class ScheduledModel:
    """Its val accuracy at each check follows a schedule keyed by how many steps were taken."""

    def __init__(self, schedule):
        self.schedule = schedule
        self.params = {"w": np.zeros(1)}

    def loss(self, X, y=None):
        N = X.shape[0]
        if y is not None:
            return 1.0, {"w": np.zeros(1)}
        correct = int(round(self.schedule[int(self.params["w"][0])] * N))
        scores = np.zeros((N, 2))
        scores[correct:, 1] = 1.0  # rows [0, correct) predict class 0 (all labels are 0)
        return scores


def _count_steps(w, dw, config):
    return w + 1, config  # a callable update rule: w counts the steps taken


@pytest.mark.parametrize("schedule, best_w, best_acc", [
    ({1: 0.5, 2: 0.5, 3: 0.7, 4: 0.7}, 3, 0.7),  # ties keep the first
    ({1: 0.3, 2: 0.6, 3: 0.6, 4: 0.1}, 2, 0.6),
])
def test_best_params_strict_and_callable_rule(schedule, best_w, best_acc):
    data = {"X_train": np.zeros((10, 1)), "y_train": np.zeros(10, dtype=np.int64),
            "X_val": np.zeros((10, 1)), "y_val": np.zeros(10, dtype=np.int64)}
    model = ScheduledModel(schedule)
    solver = Solver(model, data, update_rule=_count_steps, batch_size=10, num_epochs=4, verbose=False)
    assert solver.update_rule is _count_steps
    solver.train()
    assert solver.val_acc_history == [schedule[k] for k in (1, 2, 3, 4)]
    assert solver.best_val_acc == best_acc
    assert model.params["w"][0] == best_w  # the copy taken at the best check, not a live view


def test_best_params_empty_when_val_acc_is_always_zero():
    data = {"X_train": np.zeros((4, 1)), "y_train": np.zeros(4, dtype=np.int64),
            "X_val": np.zeros((4, 1)), "y_val": np.zeros(4, dtype=np.int64)}
    model = ScheduledModel({1: 0.0, 2: 0.0})
    Solver(model, data, update_rule=_count_steps, batch_size=4, num_epochs=2, verbose=False).train()
    assert model.params == {}  # cs231n quirk 6


def test_checkpoints_written_and_readable(tmp_path, rng, capsys):
    name = str(tmp_path / "run")
    solver = Solver(LinearSoftmax(), _data(rng), update_rule="sgd_momentum", optim_config={"learning_rate": 0.1},
                    lr_decay=0.9, batch_size=25, num_epochs=2, checkpoint_name=name, print_every=100)
    solver.train()
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f'Saving checkpoint to "{name}_epoch_0.npz"' and lines[2].startswith("(Epoch 0 / 2)")
    assert lines[-2] == f'Saving checkpoint to "{name}_epoch_2.npz"' and lines[-1].startswith("(Epoch 2 / 2)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_epoch_0.npz", "run_epoch_1.npz", "run_epoch_2.npz"]
    with np.load(f"{name}_epoch_1.npz", allow_pickle=False) as ck:
        assert int(ck["epoch"]) == 1 and str(ck["hyper.update_rule"]) == "sgd_momentum"
        assert float(ck["optim_scalar.W.learning_rate"]) == pytest.approx(0.1 * 0.9)  # decayed before the check
        assert ck["optim.W.velocity"].shape == (4, 3) and ck["param.W"].shape == (4, 3)
        assert len(ck["loss_history"]) == 2 and len(ck["val_acc_history"]) == 2
        assert float(ck["hyper.lr_decay"]) == 0.9 and int(ck["hyper.batch_size"]) == 25
    assert not list(tmp_path.glob(".tmp-*"))  # atomic writes leave no temp files


def test_resume_from_checkpoint_follows_the_same_curve(tmp_path, rng):
    data = _data(rng)
    kwargs = dict(update_rule="adam", optim_config={"learning_rate": 0.05}, lr_decay=0.9, batch_size=10,
                  num_epochs=4, num_train_samples=20, verbose=False)
    np.random.seed(1)
    full = Solver(LinearSoftmax(), data, checkpoint_name=str(tmp_path / "a"), **kwargs)
    full.train()
    np.random.seed(999)  # a different RNG state: the checkpoint restores it
    resumed = Solver(LinearSoftmax(seed=7), data, **kwargs)
    resumed.resume(str(tmp_path / "a_epoch_2.npz"))
    assert resumed.epoch == 2 and len(resumed.loss_history) == 10
    assert isinstance(resumed.optim_configs["W"]["t"], int)
    resumed.train()
    np.testing.assert_allclose(resumed.loss_history, full.loss_history, rtol=1e-12)
    assert resumed.val_acc_history == full.val_acc_history
    for k in full.model.params:
        np.testing.assert_allclose(resumed.model.params[k], full.model.params[k], rtol=1e-12)


def test_resume_rejects_other_files(tmp_path, rng):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(ValueError, match="not an xnn Solver checkpoint"):
        Solver(LinearSoftmax(), _data(rng)).resume(str(path))


class MovableModel(LinearSoftmax):
    def to(self, device):
        self.moved_to = device
        return self


def test_device_argument(rng, monkeypatch):
    model = MovableModel()
    solver = Solver(model, _data(rng), device="cpu", num_epochs=1, batch_size=25, verbose=False)
    assert solver.device == "cpu" and model.moved_to == "cpu"
    monkeypatch.setenv("XNN_DEVICE", "cpu")
    assert Solver(MovableModel(), _data(rng)).device == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        Solver(MovableModel(), _data(rng), device="tpu")


def test_strict_namespace_data_is_moved_to_the_solver_device(rng):
    import array_api_strict as xps
    data = {k: xps.asarray(v) for k, v in _data(rng).items()}
    np.random.seed(0)
    solver = Solver(LinearSoftmax(), data, batch_size=10, num_epochs=2, verbose=False)
    solver.train()
    assert len(solver.loss_history) == 10 and all(isinstance(v, float) for v in solver.val_acc_history)


def test_progress_bar_keeps_the_printed_lines(rng, capsys, monkeypatch):
    monkeypatch.setattr("xnn.progress._is_terminal", lambda stream: True)  # as on a terminal
    np.random.seed(0)
    solver = Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=1, print_every=1, progress=True)
    solver.train()
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "(Iteration 1 / 2) loss: %f" % solver.loss_history[0],
        "(Epoch 0 / 1) train acc: %f; val_acc: %f" % (solver.train_acc_history[0], solver.val_acc_history[0]),
        "(Iteration 2 / 2) loss: %f" % solver.loss_history[1],
        "(Epoch 1 / 1) train acc: %f; val_acc: %f" % (solver.train_acc_history[1], solver.val_acc_history[1]),
    ]
    assert "2/2" in captured.err  # the bar itself goes to stderr


def test_check_accuracy_batches_and_subsample(rng):
    data = _data(rng, n_val=250)
    solver = Solver(LinearSoftmax(), data, verbose=False)
    model = solver.model
    expected = np.mean(np.argmax(model.loss(data["X_val"]), axis=1) == data["y_val"])
    assert solver.check_accuracy(data["X_val"], data["y_val"], batch_size=7) == pytest.approx(expected)
    np.random.seed(3)
    sub = solver.check_accuracy(data["X_val"], data["y_val"], num_samples=30)
    np.random.seed(3)
    idx = np.random.choice(250, 30)
    assert sub == pytest.approx(np.mean(np.argmax(model.loss(data["X_val"][idx]), axis=1) == data["y_val"][idx]))


def test_record_histories_as_npz_is_berkeleys(tmp_path, rng):
    from xnn.compat.solvers import CS182Solver
    assert not hasattr(Solver, "record_histories_as_npz")   # a course extra, not the cs231n contract
    solver = CS182Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=1, verbose=False)
    solver.train()
    solver.record_histories_as_npz(tmp_path / "h.npz")
    with np.load(tmp_path / "h.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["train_losses"], solver.loss_history)
        np.testing.assert_array_equal(f["val_accs"], solver.val_acc_history)


@pytest.mark.gpu
def test_gpu_training_matches_cpu(rng, tmp_path):
    from xnn.models import FullyConnectedNet
    data = _data(rng)
    curves, params = {}, {}
    for device in ("cpu", "gpu"):
        np.random.seed(0)
        model = FullyConnectedNet([8], input_dim=4, num_classes=3, dtype=np.float64, normalization="batchnorm",
                                  device="cpu")
        solver = Solver(model, data, update_rule="adam", batch_size=10, num_epochs=2, verbose=False, device=device,
                        checkpoint_name=str(tmp_path / device))
        solver.train()
        assert model.device == device  # the Solver moved the model; the data stayed on the host
        assert all(type(v) is float for v in solver.loss_history + solver.val_acc_history)
        curves[device] = solver.loss_history
        params[device] = {k: np.asarray(backend.to_numpy(v)) for k, v in model.params.items()}
    np.testing.assert_allclose(curves["gpu"], curves["cpu"], rtol=1e-9)
    for k in params["cpu"]:
        np.testing.assert_allclose(params["gpu"][k], params["cpu"][k], rtol=1e-8, atol=1e-12)
    with np.load(str(tmp_path / "gpu_epoch_2.npz"), allow_pickle=False) as ck:
        assert ck["optim.W1.m"].shape == (4, 8)


# --------------------------------------------------------------------------- cs231n's kwargs, as cs231n reads them
@pytest.mark.parametrize("print_every", [0, -5, 2.5, "never", None])
def test_print_every_is_only_read_when_verbose(rng, capsys, print_every):
    """cs231n reads print_every only inside ``if verbose and t % print_every == 0``: anything goes when quiet."""
    solver = Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=2, print_every=print_every,
                    verbose=False)
    solver.train()
    assert solver.print_every == print_every and len(solver.loss_history) == 4
    assert capsys.readouterr().out == ""


def test_print_every_is_checked_when_verbose_is_switched_on_later(rng):
    solver = Solver(LinearSoftmax(), _data(rng), batch_size=25, num_epochs=1, print_every=0, verbose=False)
    solver.verbose = True
    with pytest.raises(ValueError, match=r"^Solver: print_every must be a positive integer when verbose"):
        solver.train()
    assert solver.loss_history == []  # checked before the first step


def test_optim_config_may_be_any_mapping(rng):
    """cs231n only calls ``optim_config.items()`` (one shallow copy per parameter)."""
    import types
    config = types.MappingProxyType({"learning_rate": 0.05})
    solver = Solver(LinearSoftmax(), _data(rng), optim_config=config, batch_size=25, num_epochs=1, verbose=False)
    assert solver.optim_config is config and solver.optim_configs["W"] == {"learning_rate": 0.05}
    solver.train()
    assert type(solver.optim_configs["b"]) is dict


def test_every_cs231n_kwarg_is_accepted_with_its_meaning(rng, capsys, tmp_path):
    """The ten keyword arguments of cs231n's Solver, all at once, with numpy scalar values."""
    solver = Solver(LinearSoftmax(), _data(rng), update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
                    lr_decay=np.float64(0.5), batch_size=np.int64(25), num_epochs=np.int32(2),
                    num_train_samples=np.int64(10), num_val_samples=5, checkpoint_name=str(tmp_path / "ck"),
                    print_every=np.int64(3), verbose=1)
    solver.train()
    out = capsys.readouterr().out.splitlines()
    assert [line.split(")")[0] for line in out if line.startswith("(Iteration")] == ["(Iteration 1 / 4",
                                                                                    "(Iteration 4 / 4"]
    assert sum(line.startswith('Saving checkpoint to "') for line in out) == 3
    assert solver.optim_configs["W"]["learning_rate"] == 0.05 * 0.25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck_epoch_0.npz", "ck_epoch_1.npz", "ck_epoch_2.npz"]
