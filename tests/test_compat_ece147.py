"""The ece147 flavor's ``nndl.layer_tests``: UCLA's self-tests, printing the course's lines and figures.

The expected figures are computed here the way the course's checks compute them (cs231n's
notebook checks: fixed linspace inputs, centred-difference numerical gradients with h = 1e-5,
the notebooks' relative error), in plain NumPy, from the same seed.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from xnn import compat, models
from xnn.gradient_check import eval_numerical_gradient


def rel_error(x, y):
    """The notebooks' relative error."""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def num_grad(f, x, df, h=1e-5):
    """cs231n's eval_numerical_gradient_array: centred differences of ``sum(f(x) * df)``, one entry at a time."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(*x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def affine(x, w, b):
    return x.reshape(x.shape[0], -1).dot(w) + b


def affine_grads(x, w, b, dout):
    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(axis=0)


@pytest.fixture(scope="module")
def layer_tests():
    compat.alias("nndl", flavor="ece147")
    try:
        yield importlib.import_module("nndl.layer_tests")
    finally:
        compat.unalias("nndl")


def _printed(capsys, fn, seed=0):
    np.random.seed(seed)
    fn()
    return capsys.readouterr().out.splitlines()


# --------------------------------------------------------------------------- the module
def test_star_import_gives_the_course_names(layer_tests):
    names = set(layer_tests.__all__)
    assert {"affine_forward_test", "affine_backward_test", "relu_forward_test", "relu_backward_test",
            "affine_relu_test", "fc_net_test", "rel_error"} <= names
    # the course file star-imports nndl.layers and imports these by name
    assert {"affine_forward", "batchnorm_forward", "eval_numerical_gradient", "eval_numerical_gradient_array",
            "affine_relu_forward", "affine_relu_backward", "FullyConnectedNet", "np"} <= names
    from xnn.compat import ece147
    assert layer_tests.FullyConnectedNet is ece147.FullyConnectedNet
    assert "layer_tests" in compat.modules("ece147") and "layer_tests" not in compat.modules("cs231n")


# --------------------------------------------------------------------------- fixed inputs
def test_affine_forward_test(layer_tests, capsys):
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    correct = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    assert _printed(capsys, layer_tests.affine_forward_test) == [
        "If affine_forward function is working, difference should be less than 1e-9:",
        f"difference: {rel_error(affine(x, w, b), correct)}"]


def test_relu_forward_test(layer_tests, capsys):
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    correct = np.array([[0., 0., 0., 0.], [0., 0., 0.04545455, 0.13636364], [0.22727273, 0.31818182, 0.40909091, 0.5]])
    lines = _printed(capsys, layer_tests.relu_forward_test)
    assert lines == ["If relu_forward function is working, difference should be around 1e-8:",
                     f"difference: {rel_error(np.maximum(0, x), correct)}"]
    assert lines[1] == "difference: 4.999999798022158e-08"  # the figure UCLA's executed notebook shows


# --------------------------------------------------------------------------- numerical gradients, seeded
def test_affine_backward_test(layer_tests, capsys):
    lines = _printed(capsys, layer_tests.affine_backward_test, seed=231)
    np.random.seed(231)
    x, w, b = np.random.randn(10, 2, 3), np.random.randn(6, 5), np.random.randn(5)
    dout = np.random.randn(10, 5)
    dx, dw, db = affine_grads(x, w, b, dout)
    dx_num = num_grad(lambda v: affine(v, w, b), x, dout)
    dw_num = num_grad(lambda v: affine(x, v, b), w, dout)
    db_num = num_grad(lambda v: affine(x, w, v), b, dout)
    assert lines == ["If affine_backward is working, error should be less than 1e-9::",
                     f"dx error: {rel_error(dx_num, dx)}", f"dw error: {rel_error(dw_num, dw)}",
                     f"db error: {rel_error(db_num, db)}"]


def test_relu_backward_test(layer_tests, capsys):
    lines = _printed(capsys, layer_tests.relu_backward_test, seed=231)
    np.random.seed(231)
    x = np.random.randn(10, 10)
    dout = np.random.randn(*x.shape)
    dx_num = num_grad(lambda v: np.maximum(0, v), x, dout)
    # the course's line says relu_forward here too
    assert lines == ["If relu_forward function is working, error should be less than 1e-9:",
                     f"dx error: {rel_error(dx_num, (x > 0) * dout)}"]


def test_affine_relu_test(layer_tests, capsys):
    lines = _printed(capsys, layer_tests.affine_relu_test, seed=231)
    np.random.seed(231)
    x, w, b = np.random.randn(2, 3, 4), np.random.randn(12, 10), np.random.randn(10)
    dout = np.random.randn(2, 10)
    a = affine(x, w, b)
    dx, dw, db = affine_grads(x, w, b, (a > 0) * dout)
    f = np.maximum
    errors = [rel_error(num_grad(lambda v: f(0, affine(v, w, b)), x, dout), dx),
              rel_error(num_grad(lambda v: f(0, affine(x, v, b)), w, dout), dw),
              rel_error(num_grad(lambda v: f(0, affine(x, w, v)), b, dout), db)]
    assert lines == ["If affine_relu_forward and affine_relu_backward are working, error should be less than 1e-9::",
                     *(f"{n} error: {e}" for n, e in zip(("dx", "dw", "db"), errors))]


def test_fc_net_test(layer_tests, capsys):
    lines = _printed(capsys, layer_tests.fc_net_test, seed=231)
    np.random.seed(231)  # cs231n's FullyConnectedNet check, with the cs231n model (same weights as UCLA's)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    expected = []
    for reg in (0, 3.14):
        expected.append(f"Running check with reg = {reg}")
        model = models.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                                         dtype=np.float64)
        loss, grads = model.loss(X, y)
        expected.append(f"Initial loss: {loss}")
        for name in sorted(grads):
            grad_num = eval_numerical_gradient(lambda _, m=model: m.loss(X, y)[0], model.params[name],
                                               verbose=False, h=1e-5)
            expected.append(f"{name} relative error: {rel_error(grad_num, grads[name])}")
    assert lines == expected and len(lines) == 16  # W1..W3, b1..b3 per reg
    assert all(float(line.split(": ")[1]) < 1e-4 for line in lines if "relative error" in line)
