"""TwoLayerNet and FullyConnectedNet: notebook numbers, RNG order, gradients on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend
from xnn.models import FullyConnectedNet, TwoLayerNet


def scaled_error(num, ana) -> float:
    """max |num - ana| relative to the gradient's scale (floor 1e-3).

    Unlike the element-wise ``rel_error`` it does not blow up for gradients that are zero in
    exact arithmetic (the bias before a batchnorm layer) and come out as 1e-17 vs 1e-11.
    """
    num, ana = np.asarray(num), np.asarray(backend.to_numpy(ana))
    scale = max(1e-3, float(np.max(np.abs(num))) + float(np.max(np.abs(ana))))
    return float(np.max(np.abs(num - ana))) / scale


def _grad_errors(model, X, y, xp=None, h=1e-5, metric=rel_error):
    """Error per parameter (``metric(numeric, analytic)``) between the analytic and numeric gradients.

    With ``xp`` the model's parameters are NumPy copies converted to ``xp`` for each evaluation.
    """
    host = {k: np.array(backend.to_numpy(v), dtype=np.float64) for k, v in model.params.items()}
    convert = (lambda a: xp.asarray(a)) if xp is not None else (lambda a: a)
    Xc, yc = convert(X), convert(y)
    model.params = {k: convert(v) for k, v in host.items()}
    loss, grads = model.loss(Xc, yc)
    assert isinstance(loss, float)
    errors = {}
    for name in host:
        assert_namespace(grads[name], backend.namespace(model.params[name]))
        assert grads[name].shape == host[name].shape

        def f(value, name=name):
            model.params[name] = convert(value)
            return model.loss(Xc, yc)[0]

        num = numeric_grad(f, host[name], h=h)
        model.params[name] = convert(host[name])
        errors[name] = metric(num, grads[name])
    return errors


# --------------------------------------------------------------------------- TwoLayerNet
def test_two_layer_net_notebook_numbers():
    N, D, H, C = 3, 5, 50, 7
    np.random.seed(231)
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    y = np.asarray([0, 5, 1])
    scores = model.loss(X)
    np.testing.assert_allclose(scores[0, :3], [11.53165108, 12.2917344, 13.05181771], rtol=1e-8)
    np.testing.assert_allclose(scores[2, -1], 16.2846319, rtol=1e-8)
    assert abs(model.loss(X, y)[0] - 3.4702243556) < 1e-9
    model.reg = 1.0
    assert abs(model.loss(X, y)[0] - 26.5948426952) < 1e-9


def test_two_layer_net_init_rng_order_and_attributes():
    np.random.seed(231)
    model = TwoLayerNet(input_dim=4, hidden_dim=6, num_classes=3, weight_scale=0.5, reg=0.25)
    np.random.seed(231)
    W1 = 0.5 * np.random.randn(4, 6)
    W2 = 0.5 * np.random.randn(6, 3)
    assert list(model.params) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_array_equal(model.params["W1"], W1)
    np.testing.assert_array_equal(model.params["W2"], W2)
    np.testing.assert_array_equal(model.params["b1"], np.zeros(6))
    assert all(v.dtype == np.float64 for v in model.params.values())
    assert model.reg == 0.25 and model.device == "cpu"


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(xp, rng, reg):
    np.random.seed(0)
    model = TwoLayerNet(input_dim=6, hidden_dim=7, num_classes=4, weight_scale=0.3, reg=reg)
    X = rng.standard_normal((5, 2, 3))
    y = rng.integers(0, 4, size=5)
    errors = _grad_errors(model, X, y, xp)
    assert max(errors.values()) < 1e-6, errors


# --------------------------------------------------------------------------- FullyConnectedNet
def _notebook_problem():
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    return X, y, (D, H1, H2, C)


def test_fc_net_notebook_initial_loss_and_gradcheck():
    X, y, (D, H1, H2, C) = _notebook_problem()
    for reg in [0, 3.14]:
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                                  dtype=np.float64)
        loss, _ = model.loss(X, y)
        if reg == 0:
            assert 2.2 < loss < 2.4
            assert loss == pytest.approx(2.3004790897684924, abs=1e-12)  # the notebook's printed value
        else:
            assert loss == pytest.approx(7.052114776533016, abs=1e-10)
        errors = _grad_errors(model, X, y)
        # The notebook prints W2 relative error 2.21e-05 at reg 0 (a ReLU unit sits within h of its
        # kink); every other error is below 1e-6.
        limit = {"W2": 3e-5} if reg == 0 else {}
        for name, err in errors.items():
            assert err < limit.get(name, 1e-5), (reg, name, err)
        if reg == 0:
            assert errors["W2"] == pytest.approx(2.21e-5, rel=0.01)


def test_fc_net_init_rng_order_dtype_and_attributes():
    np.random.seed(231)
    model = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, weight_scale=0.1, normalization="batchnorm",
                              dropout_keep_ratio=0.5, seed=7)
    np.random.seed(231)
    expected = [0.1 * np.random.randn(6, 5), 0.1 * np.random.randn(5, 4), 0.1 * np.random.randn(4, 3)]
    after_init = np.random.randn()
    assert model.num_layers == 3 and model.use_dropout and model.normalization == "batchnorm"
    for i, W in enumerate(expected, start=1):
        np.testing.assert_array_equal(model.params[f"W{i}"], W.astype(np.float32))
    assert sorted(model.params) == sorted(["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2"])
    assert all(v.dtype == np.float32 for v in model.params.values())
    np.testing.assert_array_equal(model.params["gamma2"], np.ones(4, np.float32))
    np.testing.assert_array_equal(model.params["beta1"], np.zeros(5, np.float32))
    assert model.dropout_param == {"mode": "train", "p": 0.5, "seed": 7}
    assert model.bn_params == [{"mode": "train"}, {"mode": "train"}]
    assert model.bn_params[0] is not model.bn_params[1]
    # Nothing but the three weight draws consumed the RNG.
    assert np.random.randn() != after_init
    np.random.seed(231)
    FullyConnectedNet([5, 4], input_dim=6, num_classes=3, weight_scale=0.1, normalization="layernorm",
                      dropout_keep_ratio=0.5, seed=7)
    assert np.random.randn() == after_init


def test_fc_net_option_dicts():
    plain = FullyConnectedNet([3], input_dim=4, num_classes=2)
    assert plain.dropout_param == {} and plain.bn_params == [] and not plain.use_dropout
    assert plain.dtype is np.float32
    ln = FullyConnectedNet([3, 3], input_dim=4, num_classes=2, normalization="layernorm", dropout_keep_ratio=0.9)
    assert ln.bn_params == [{}, {}] and ln.bn_params[0] is not ln.bn_params[1]
    assert ln.dropout_param == {"mode": "train", "p": 0.9}


def test_fc_net_bad_arguments():
    with pytest.raises(ValueError, match="normalization 'groupnorm'"):
        FullyConnectedNet([3], normalization="groupnorm")
    with pytest.raises(ValueError, match="dropout_keep_ratio"):
        FullyConnectedNet([3], dropout_keep_ratio=0)
    with pytest.raises(ValueError, match=r"hidden_dims\[1\]"):
        FullyConnectedNet([3, 0])


@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize("keep", [1, 0.6])
def test_fc_net_gradients(xp, rng, normalization, keep):
    np.random.seed(3)
    model = FullyConnectedNet([5, 4], input_dim=3, num_classes=3, normalization=normalization, reg=0.1,
                              weight_scale=0.4, dtype=np.float64, dropout_keep_ratio=keep, seed=123)
    for name in model.params:  # nonzero biases: a dropped-out row must not sit exactly on a ReLU kink
        if name.startswith("b"):
            model.params[name] = model.params[name] + 0.1 * rng.standard_normal(model.params[name].shape)
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 3, size=6)
    errors = _grad_errors(model, X, y, xp, metric=scaled_error)
    assert max(errors.values()) < 1e-7, errors


def test_fc_net_modes_dtype_and_scores(rng):
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm", dropout_keep_ratio=0.5)
    X = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, size=6)
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float)
    assert model.bn_params[0]["mode"] == "train" and model.dropout_param["mode"] == "train"
    assert model.bn_params[0]["running_mean"].shape == (5,)
    assert all(g.dtype == np.float32 for g in grads.values())
    scores = model.loss(X)
    assert scores.shape == (6, 3) and scores.dtype == np.float32  # X cast to the model dtype
    assert model.bn_params[0]["mode"] == "test" and model.dropout_param["mode"] == "test"
    np.testing.assert_array_equal(model.loss(X), scores)  # test mode is deterministic


def test_fc_net_reg_only_on_weights(rng):
    np.random.seed(1)
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="layernorm", dtype=np.float64)
    model.params["b1"] += 3.0
    model.params["gamma1"] += 2.0
    X = rng.standard_normal((3, 4))
    y = rng.integers(0, 3, size=3)
    loss0, g0 = model.loss(X, y)
    model.reg = 2.0
    loss1, g1 = model.loss(X, y)
    w2 = sum(np.sum(model.params[k] ** 2) for k in ("W1", "W2"))
    assert loss1 - loss0 == pytest.approx(0.5 * 2.0 * w2, rel=1e-12)
    np.testing.assert_allclose(g1["W1"] - g0["W1"], 2.0 * model.params["W1"], atol=1e-12)
    np.testing.assert_array_equal(g1["b1"], g0["b1"])
    np.testing.assert_array_equal(g1["gamma1"], g0["gamma1"])


def test_fc_net_strict_parity(rng):
    import array_api_strict as xps
    np.random.seed(5)
    model = FullyConnectedNet([6], input_dim=4, num_classes=3, normalization="batchnorm", dtype=np.float64,
                              dropout_keep_ratio=0.7, seed=1)
    X = rng.standard_normal((5, 4))
    y = rng.integers(0, 3, size=5)
    loss_np, grads_np = model.loss(X, y)
    host = dict(model.params)
    model.params = {k: xps.asarray(v) for k, v in host.items()}
    model.bn_params = [{"mode": "train"}]
    loss_s, grads_s = model.loss(xps.asarray(X), xps.asarray(y))
    assert loss_s == pytest.approx(loss_np, rel=1e-12)
    for k in host:
        assert rel_error(grads_s[k], grads_np[k]) < 1e-10
    scores = model.loss(xps.asarray(X))
    assert_namespace(scores, xps)


def test_fc_net_save_load_and_to(tmp_path, rng, capsys):
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm")
    X = rng.standard_normal((6, 4))
    model.loss(X, rng.integers(0, 3, size=6))  # creates running statistics
    assert model.to("cpu") is model and model.device == "cpu"
    path = tmp_path / "fc.npy"  # cs231n notebooks pass names like this; the file is still .npz
    model.save(path)
    other = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm")
    assert other.load(path) is True
    for k, v in model.params.items():
        np.testing.assert_array_equal(other.params[k], v)
        assert other.params[k].dtype == v.dtype
    np.testing.assert_array_equal(other.bn_params[0]["running_var"], model.bn_params[0]["running_var"])
    np.testing.assert_array_equal(other.loss(X), model.loss(X))
    with np.load(path, allow_pickle=False) as archive:
        assert "param.W1" in archive.files and "bn_param.0.running_mean" in archive.files
    assert other.load(tmp_path / "nope") is False
    assert capsys.readouterr().out.splitlines() == [f"{path} saved.", f"{path} loaded.",
                                                    f"{tmp_path / 'nope'} not available."]


def test_load_refuses_pickled_files(tmp_path):
    path = tmp_path / "pickled.npy"
    np.save(path, {"W1": np.zeros(2)}, allow_pickle=True)
    with pytest.raises(ValueError, match="pickled"):
        TwoLayerNet(input_dim=2, hidden_dim=2, num_classes=2).load(path)


def test_fc_net_overfits_50_real_images(cifar_dir):
    from xnn.data import get_CIFAR10_data
    from xnn.solver import Solver
    data = get_CIFAR10_data(num_training=500, num_validation=50, num_test=10, cifar10_dir=cifar_dir)
    small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50],
             "X_val": data["X_val"], "y_val": data["y_val"]}
    np.random.seed(231)
    model = FullyConnectedNet([100, 100], weight_scale=1e-2)
    solver = Solver(model, small, print_every=10, num_epochs=20, batch_size=25, update_rule="sgd",
                    optim_config={"learning_rate": 1e-2}, verbose=False)
    solver.train()
    assert max(solver.train_acc_history) == 1.0


@pytest.mark.gpu
def test_fc_net_on_gpu_matches_cpu(rng, tmp_path):
    import cupy
    X = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, size=6)
    results = {}
    for device in ("cpu", "gpu"):
        np.random.seed(2)
        model = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm", dtype=np.float64,
                                  device=device)
        assert model.device == device
        loss, grads = model.loss(X, y)  # host data is moved to the model's device
        results[device] = (loss, {k: backend.to_numpy(v) for k, v in grads.items()})
        if device == "gpu":
            assert isinstance(model.params["W1"], cupy.ndarray)
            assert isinstance(model.bn_params[0]["running_mean"], cupy.ndarray)
            model.save(tmp_path / "gpu.npz")
            back = FullyConnectedNet([5], input_dim=4, num_classes=3, normalization="batchnorm", device="gpu")
            assert back.load(tmp_path / "gpu.npz") and isinstance(back.params["W1"], cupy.ndarray)
            assert model.to("cpu").device == "cpu" and isinstance(model.bn_params[0]["running_var"], np.ndarray)
    assert results["gpu"][0] == pytest.approx(results["cpu"][0], rel=1e-10)
    for k, g in results["cpu"][1].items():
        assert rel_error(results["gpu"][1][k], g) < 1e-9
