"""Course flavors of xnn.compat: cs182 (drop-probability dropout, Berkeley Solver) and ece147 (UCLA keys).

A flavor only adapts signatures and keys, so each test compares it with xnn's cs231n objects on
the same seeds: the numbers must be identical, not just close.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend, compat, models, optim
from xnn.compat import cs182, ece147, ece147_optim, solvers
from xnn.solver import Solver

N, D, H1, H2, C = 6, 15, 20, 30, 10


def _fc_run(cls, **kwargs):
    """Seeded notebook-style FullyConnectedNet: train-mode loss and grads, then test-mode scores."""
    np.random.seed(231)
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = cls([H1, H2], input_dim=D, num_classes=C, reg=0.1, weight_scale=5e-2, dtype=np.float64, seed=123,
                **kwargs)
    loss, grads = model.loss(X, y)
    return model, loss, grads, model.loss(X)


def _assert_same_run(a, b):
    (_, loss_a, grads_a, scores_a), (_, loss_b, grads_b, scores_b) = a, b
    assert loss_a == loss_b
    assert sorted(grads_a) == sorted(grads_b)
    for k in grads_a:
        assert np.array_equal(grads_a[k], grads_b[k]), k
    assert np.array_equal(scores_a, scores_b)


# --------------------------------------------------------------------------- FullyConnectedNet fidelity
@pytest.mark.parametrize("setting", ["plain", "batchnorm", "dropout", "batchnorm+dropout"])
def test_fc_net_flavors_match_cs231n(setting):
    norm, keep = "batchnorm" in setting, 0.75 if "dropout" in setting else 1
    ref = _fc_run(models.FullyConnectedNet, dropout_keep_ratio=keep, normalization="batchnorm" if norm else None)
    _assert_same_run(ref, _fc_run(ece147.FullyConnectedNet, dropout=keep, use_batchnorm=norm))
    if setting == "plain":  # cs182's dropout mask and batchnorm modes follow its own starter (test_compat_cs182.py)
        _assert_same_run(ref, _fc_run(cs182.FullyConnectedNet))


def test_cs182_fc_net_train_pass_matches_cs231n_and_its_test_pass_does_not():
    ref = _fc_run(models.FullyConnectedNet, normalization="batchnorm")
    ours = _fc_run(cs182.FullyConnectedNet, use_batchnorm=True)
    assert ours[1] == ref[1] and all(np.array_equal(ours[2][k], ref[2][k]) for k in ref[2])
    assert rel_error(ours[3], ref[3]) > 1e-3  # batchnorm stays in train mode there, as in the starter


def test_fc_net_dropout_changes_the_loss():
    """Guard for the test above: the seeded dropout really is active in the compared runs."""
    plain = _fc_run(cs182.FullyConnectedNet)[1]
    assert _fc_run(cs182.FullyConnectedNet, dropout=0.25)[1] != plain
    assert _fc_run(ece147.FullyConnectedNet, dropout=0.75)[1] != plain


def test_cs182_fc_net_attributes():
    model = _fc_run(cs182.FullyConnectedNet, dropout=0.25, use_batchnorm=True)[0]
    assert model.use_dropout and model.use_batchnorm and model.normalization == "batchnorm"
    assert model.dropout_param == {"mode": "test", "p": 0.25, "seed": 123}  # p restored to the drop prob
    assert len(model.bn_params) == 2 and "running_mean" in model.bn_params[0]
    off = cs182.FullyConnectedNet([H1], input_dim=D, num_classes=C)
    assert not off.use_dropout and off.dropout_param == {} and off.bn_params == [] and not off.use_batchnorm
    with pytest.raises(ValueError, match="DROPPING"):
        cs182.FullyConnectedNet([H1], input_dim=D, num_classes=C, dropout=1.0)


def test_ece147_fc_net_attributes():
    model = _fc_run(ece147.FullyConnectedNet, dropout=0.5)[0]
    assert model.use_dropout and not model.use_batchnorm and model.dropout_param["p"] == 0.5
    off = ece147.FullyConnectedNet([H1], input_dim=D, num_classes=C)  # dropout=1 means off
    assert not off.use_dropout and off.dropout_param == {}


def test_ece147_three_layer_convnet_accepts_use_batchnorm():
    np.random.seed(0)
    ref = models.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=5)
    np.random.seed(0)
    ucla = ece147.ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=5,
                                    use_batchnorm=False)
    assert ucla.use_batchnorm is False
    assert all(np.array_equal(ref.params[k], ucla.params[k]) for k in ref.params)
    with pytest.raises(NotImplementedError, match="use_batchnorm=True"):
        ece147.ThreeLayerConvNet(use_batchnorm=True)


# --------------------------------------------------------------------------- cs182 dropout layer
def test_cs182_dropout_drops_p():
    np.random.seed(1)
    x = np.random.randn(400, 500) + 10
    out, _ = cs182.dropout_forward(x, {"mode": "train", "p": 0.3})
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    assert np.allclose(out[out != 0], x[out != 0] / 0.7)
    assert abs(out.mean() - x.mean()) < 0.05
    test_out, (_, test_mask) = cs182.dropout_forward(x, {"mode": "test", "p": 0.3})
    assert test_out is x and test_mask is None


@pytest.mark.parametrize("param, error", [({"mode": "train", "p": 1.0}, ValueError),
                                          ({"mode": "train", "p": -0.1}, ValueError),
                                          ({"mode": "train", "p": "x"}, ValueError),
                                          ({"mode": "train"}, KeyError),
                                          ({"mode": "eval", "p": 0.2}, ValueError)])
def test_cs182_dropout_bad_input(param, error):
    with pytest.raises(error, match="dropout_forward"):
        cs182.dropout_forward(np.ones((2, 3)), param)


# --------------------------------------------------------------------------- ece147 optimizer keys
def _lin(a, b):
    return np.linspace(a, b, num=20).reshape(4, 5)


def test_ece147_rmsprop_state_under_a(xp):
    w, dw = xp.asarray(_lin(-0.4, 0.6)), xp.asarray(_lin(-0.6, 0.4))
    next_w, config = ece147_optim.rmsprop(w, dw, {"learning_rate": 1e-2, "a": xp.asarray(_lin(0.6, 0.9))})
    ref_w, ref = optim.rmsprop(w, dw, {"learning_rate": 1e-2, "cache": xp.asarray(_lin(0.6, 0.9))})
    assert "cache" not in config and set(config) == {"learning_rate", "decay_rate", "epsilon", "a"}
    assert_namespace(next_w, xp)
    assert rel_error(next_w, ref_w) == 0.0 and rel_error(config["a"], ref["cache"]) == 0.0
    assert abs(float(backend.to_numpy(next_w)[0, 0]) + 0.39223849) < 1e-8  # the notebook's number


def test_ece147_adam_state_v_a_t():
    w, dw = _lin(-0.4, 0.6), _lin(-0.6, 0.4)
    cfg = {"learning_rate": 1e-2, "v": _lin(0.6, 0.9), "a": _lin(0.7, 0.5), "t": 5}
    next_w, config = ece147_optim.adam(w, dw, cfg)
    ref_w, ref = optim.adam(w, dw, {"learning_rate": 1e-2, "m": _lin(0.6, 0.9), "v": _lin(0.7, 0.5), "t": 5})
    assert "m" not in config and config["t"] == 6
    assert np.array_equal(next_w, ref_w)
    assert np.array_equal(config["v"], ref["m"]) and np.array_equal(config["a"], ref["v"])
    assert abs(next_w[0, 0] + 0.40094747) < 1e-8 and abs(config["v"][0, 0] - 0.48) < 1e-8
    assert abs(config["a"][0, 0] - 0.69966) < 1e-8


def test_ece147_optim_has_nesterov():
    assert ece147_optim.sgd_nesterov_momentum is optim.sgd_nesterov_momentum
    assert set(ece147_optim.UPDATE_RULES) == {"sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam",
                                         "adagrad"}


# --------------------------------------------------------------------------- Solvers
def _data():
    rs = np.random.RandomState(5)
    return {"X_train": rs.randn(40, 12), "y_train": rs.randint(4, size=40),
            "X_val": rs.randn(20, 12), "y_val": rs.randint(4, size=20)}


def _train(solver_cls, update_rule, **kwargs):
    np.random.seed(7)
    model = models.FullyConnectedNet([8], input_dim=12, num_classes=4, weight_scale=0.1, dtype=np.float64)
    solver = solver_cls(model, _data(), update_rule=update_rule, num_epochs=2, batch_size=10, verbose=False,
                        optim_config={"learning_rate": 1e-2}, **kwargs)
    solver.train()
    return solver


@pytest.mark.parametrize("rule, keys, ref_keys", [("rmsprop", {"a"}, {"cache"}),
                                                  ("adam", {"v", "a", "t"}, {"m", "v", "t"})])
def test_ece147_solver_uses_ucla_keys(rule, keys, ref_keys):
    ucla, ref = _train(solvers.ECE147Solver, rule), _train(Solver, rule)
    state = set(ucla.optim_configs["W1"]) - {"learning_rate", "decay_rate", "epsilon", "beta1", "beta2"}
    ref_state = set(ref.optim_configs["W1"]) - {"learning_rate", "decay_rate", "epsilon", "beta1", "beta2"}
    assert state == keys and ref_state == ref_keys
    assert ucla.update_rule is getattr(ece147_optim, rule)
    assert ucla.loss_history == ref.loss_history  # same math, only the keys differ
    assert all(np.array_equal(ucla.model.params[k], ref.model.params[k]) for k in ref.model.params)


def test_ece147_solver_through_the_alias():
    compat.alias("utils", flavor="ece147")
    try:
        from utils.solver import Solver as UtilsSolver
        solver = _train(UtilsSolver, "sgd_nesterov_momentum")
        assert "velocity" in solver.optim_configs["b1"]
    finally:
        compat.unalias("utils")


@pytest.mark.parametrize("rule", ["FullyConnectedNet", "nope", "_adam_rule"])
def test_flavor_solver_rejects_unknown_rules(rule):
    with pytest.raises(ValueError, match=f'Invalid update_rule "{rule}"'):
        _train(solvers.ECE147Solver, rule)


def test_flavor_solver_reports_unknown_kwargs_before_the_update_rule():
    # cs231n checks leftover kwargs first, then the update rule; the flavors keep that order.
    with pytest.raises(ValueError, match='Unrecognized arguments "bogus"'):
        _train(solvers.ECE147Solver, "nope", bogus=1)
    assert solvers.ECE147Solver.optim_module is solvers.ece147_optim
    assert _train(solvers.ECE147Solver, "rmsprop").update_rule is solvers.ece147_optim.rmsprop


def test_flavor_solver_passes_callables_through():
    assert _train(solvers.ECE147Solver, optim.sgd).update_rule is optim.sgd


@pytest.mark.parametrize("cls, extra", [
    (solvers.CS182Solver, {"log_acc_iteration": 1}),  # Berkeley's own kwarg (read for its truth value)
    (solvers.ECE147Solver, {"num_train_samples": 10, "num_val_samples": None, "checkpoint_name": None}),
])
def test_flavor_solvers_take_their_course_kwargs(cls, extra, capsys):
    solver = _train(cls, "sgd", print_every=0, lr_decay=0.5, **extra)  # quiet: print_every is never read
    assert len(solver.loss_history) == 8 and capsys.readouterr().out == ""
    assert solver.optim_configs["W1"]["learning_rate"] == 1e-2 * 0.25


def test_cs182_solver_log_acc_iteration_and_npz(tmp_path):
    solver = _train(solvers.CS182Solver, "sgd_momentum", log_acc_iteration=True)
    assert solver.log_acc_iteration_history == [0, 3, 7]  # 4 iterations per epoch, 2 epochs
    assert solver.log_grad_norm_history == []
    quiet = _train(solvers.CS182Solver, "sgd_momentum")
    assert quiet.log_acc_iteration_history == [] and quiet.loss_history == solver.loss_history
    with pytest.raises(ValueError, match="Unrecognized arguments"):
        _train(Solver, "sgd", log_acc_iteration=True)

    path = tmp_path / "hist.npz"
    solver.record_histories_as_npz(str(path))
    with np.load(path) as saved:
        assert set(saved.files) == {"train_losses", "train_accs", "val_accs"}
        assert np.array_equal(saved["train_losses"], np.asarray(solver.loss_history))
        assert np.array_equal(saved["train_accs"], np.asarray(solver.train_acc_history))
        assert np.array_equal(saved["val_accs"], np.asarray(solver.val_acc_history))
        assert saved["train_losses"].shape == (8,) and saved["val_accs"].shape == (3,)


# --------------------------------------------------------------------------- old a1 neural_net.TwoLayerNet
def _toy_net():
    from xnn.compat.neural_net import TwoLayerNet
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    return net, 10 * np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])


def test_neural_net_two_layer_net_notebook_numbers():
    net, X, y = _toy_net()
    correct_scores = np.array([[-0.81233741, -1.27654624, -0.70335995], [-0.17129677, -1.18803311, -0.47310444],
                               [-0.51590475, -1.01354314, -0.8504215], [-0.15419291, -0.48629638, -0.52901952],
                               [-0.00618733, -0.12435261, -0.15226949]])
    assert np.max(np.abs(net.loss(X) - correct_scores)) < 1e-7
    loss, grads = net.loss(X, y, reg=0.05)
    assert abs(loss - 1.30378789133) < 1e-10  # reg * sum(W**2), no 1/2 (the notebook's number)
    for name in ("W1", "b1", "W2", "b2"):
        num = numeric_grad(lambda _: np.asarray(net.loss(X, y, reg=0.05)[0]), net.params[name], h=1e-5)
        assert rel_error(num, grads[name]) < 1e-8, name


def test_neural_net_two_layer_net_train_and_predict(capsys):
    net, X, y = _toy_net()
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=True)
    assert len(stats["loss_history"]) == 100 and stats["loss_history"][-1] < 0.02  # the notebook's bar
    assert len(stats["train_acc_history"]) == 100 and stats["val_acc_history"][-1] == 1.0
    assert np.array_equal(net.predict(X), y)
    assert capsys.readouterr().out.startswith("iteration 0 / 100: loss ")


def test_neural_net_is_served_by_the_alias():
    compat.alias("cs231n")
    try:
        from cs231n.classifiers.neural_net import TwoLayerNet

        from xnn.compat import neural_net
        assert TwoLayerNet is neural_net.TwoLayerNet
    finally:
        compat.unalias("cs231n")
