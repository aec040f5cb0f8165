"""ThreeLayerConvNet: notebook sanity numbers, RNG order, quirk 7, gradients on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad

from xnn import backend
from xnn.models import ThreeLayerConvNet


def test_initial_loss_sanity():
    np.random.seed(231)
    model = ThreeLayerConvNet()
    N = 50
    X = np.random.randn(N, 3, 32, 32)
    y = np.random.randint(10, size=N)
    loss, _ = model.loss(X, y)
    assert isinstance(loss, float)
    assert abs(loss - math.log(10)) < 0.01
    model.reg = 0.5
    loss_reg, _ = model.loss(X, y)
    assert 2.45 < loss_reg < 2.57  # about 2.51 in the notebook
    expected = 0.5 * 0.5 * sum(float(np.sum(model.params[k].astype(np.float64) ** 2)) for k in ("W1", "W2", "W3"))
    assert loss_reg - loss == pytest.approx(expected, rel=1e-5)


def test_init_rng_order_shapes_and_dtype():
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=5, num_classes=6,
                              weight_scale=0.1)
    np.random.seed(231)
    W1 = 0.1 * np.random.randn(4, 3, 3, 3)
    W2 = 0.1 * np.random.randn(4 * 4 * 4, 5)
    W3 = 0.1 * np.random.randn(5, 6)
    for name, W in (("W1", W1), ("W2", W2), ("W3", W3)):
        np.testing.assert_array_equal(model.params[name], W.astype(np.float32))
    assert {k: v.shape for k, v in model.params.items()} == {
        "W1": (4, 3, 3, 3), "b1": (4,), "W2": (64, 5), "b2": (5,), "W3": (5, 6), "b3": (6,)}
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert model.reg == 0.0 and model.dtype is np.float32 and model.device == "cpu"
    np.testing.assert_array_equal(model.params["b2"], np.zeros(5, np.float32))


def test_loss_does_not_cast_x(rng):
    # cs231n quirk 7: float64 images meet float32 weights; the layers compute in float64.
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4, num_classes=3)
    X = rng.standard_normal((2, 3, 8, 8))
    assert model.loss(X).dtype == np.float64
    assert model.loss(X.astype(np.float32)).dtype == np.float32


def _scaled_error(num, ana) -> float:
    ana = np.asarray(backend.to_numpy(ana))
    scale = max(1e-3, float(np.max(np.abs(num))) + float(np.max(np.abs(ana))))
    return float(np.max(np.abs(num - ana))) / scale


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_gradients(xp, rng, reg):
    np.random.seed(231)
    model = ThreeLayerConvNet(input_dim=(2, 4, 4), num_filters=2, filter_size=3, hidden_dim=4, num_classes=3,
                              weight_scale=0.3, reg=reg, dtype=np.float64)
    host = {k: v + (0.1 * rng.standard_normal(v.shape) if k.startswith("b") else 0.0)
            for k, v in model.params.items()}
    X = xp.asarray(rng.standard_normal((3, 2, 4, 4)))
    y = xp.asarray(rng.integers(0, 3, size=3))
    model.params = {k: xp.asarray(v) for k, v in host.items()}
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float)
    for name, value in host.items():
        assert_namespace(grads[name], xp)

        def f(v, name=name):
            model.params[name] = xp.asarray(v)
            return model.loss(X, y)[0]

        num = numeric_grad(f, value.copy(), h=1e-6)
        model.params[name] = xp.asarray(value)
        assert _scaled_error(num, grads[name]) < 1e-7, name


def test_even_filter_size_shapes(rng):
    # pad (fs-1)//2 shrinks the map for even filters; W2 is sized from the real pooled map.
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=2, filter_size=4, hidden_dim=3, num_classes=2)
    assert model.params["W2"].shape == (2 * 3 * 3, 3)
    assert model.loss(rng.standard_normal((2, 1, 8, 8))).shape == (2, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="input_dim"):
        ThreeLayerConvNet(input_dim=(3, 32))
    with pytest.raises(ValueError, match="num_filters"):
        ThreeLayerConvNet(num_filters=0)
    with pytest.raises(ValueError, match="2x2 pool"):
        ThreeLayerConvNet(input_dim=(3, 1, 1), filter_size=3)


def test_learns_a_small_batch(rng):
    from xnn.solver import Solver
    np.random.seed(0)
    X = rng.standard_normal((20, 3, 8, 8))
    y = rng.integers(0, 4, size=20)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=6, filter_size=3, hidden_dim=20, num_classes=4,
                              weight_scale=1e-1)
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, update_rule="adam",
                    optim_config={"learning_rate": 1e-2}, batch_size=10, num_epochs=15, verbose=False)
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]


def test_save_load_and_to(tmp_path, rng, capsys):
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4, num_classes=3)
    assert model.to("cpu") is model
    path = tmp_path / "cnn.npz"
    model.save(path)
    other = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4, num_classes=3)
    assert other.load(path)
    X = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(other.loss(X), model.loss(X))
    assert capsys.readouterr().out.splitlines() == [f"{path} saved.", f"{path} loaded."]


@pytest.mark.parametrize("bias", [0.0, -0.5])
def test_pool_before_relu_matches_the_conv_relu_pool_sandwich(xp, rng, bias):
    """The model pools before the ReLU; loss and grads equal the cs231n sandwich path's.

    Integer-valued images and weights make many tied window maxima, and a negative conv bias
    many windows whose maximum is <= 0 (zero gradient on both paths).
    """
    from xnn import layers

    np.random.seed(0)
    model = ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5, num_classes=4,
                              reg=0.1, dtype=np.float64)
    host = dict(model.params)
    host["W1"] = rng.integers(-1, 2, size=host["W1"].shape).astype(np.float64)
    host["b1"] = np.full(host["b1"].shape, bias)
    host["W2"] = 0.1 * rng.standard_normal(host["W2"].shape)
    host["W3"] = 0.1 * rng.standard_normal(host["W3"].shape)
    model.params = p = {k: xp.asarray(v) for k, v in host.items()}
    X = xp.asarray(rng.integers(-2, 3, size=(4, 2, 6, 6)).astype(np.float64))
    y = xp.asarray(rng.integers(0, 4, size=4))
    loss, grads = model.loss(X, y)

    conv_param, pool_param = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    h1, c1 = layers.conv_relu_pool_forward(X, p["W1"], p["b1"], conv_param, pool_param)
    h2, c2 = layers.affine_relu_forward(h1, p["W2"], p["b2"])
    scores, c3 = layers.affine_forward(h2, p["W3"], p["b3"])
    data_loss, dscores = layers.softmax_loss(scores, y)
    ref = {}
    d, ref["W3"], ref["b3"] = layers.affine_backward(dscores, c3)
    d, ref["W2"], ref["b2"] = layers.affine_relu_backward(d, c2)
    _, ref["W1"], ref["b1"] = layers.conv_relu_pool_backward(d, c1)
    penalty = 0.5 * 0.1 * sum(float(np.sum(host[k] ** 2)) for k in ("W1", "W2", "W3"))
    assert loss == pytest.approx(float(data_loss) + penalty, rel=1e-12)
    for name, g in ref.items():
        expected = backend.to_numpy(g) + (0.1 * host[name] if name.startswith("W") else 0.0)
        got = backend.to_numpy(grads[name])
        scale = max(1e-300, float(np.max(np.abs(expected))))
        assert float(np.max(np.abs(got - expected))) / scale < 1e-12, name
    assert float(np.max(np.abs(backend.to_numpy(ref["W1"])))) > 0   # the conv gradient is not all zero
