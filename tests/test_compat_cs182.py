"""The cs182 flavor reproduces the Berkeley / Stanford 2016-17 starter code, quirks included.

Two behaviours of that starter give seeded numbers that differ from Stanford 2018+:

* its dropout keeps a unit where ``rand >= p`` (``p`` = drop probability) and scales by ``1 / (1 - p)``;
* its ``FullyConnectedNet.loss`` writes ``bn_param[mode] = mode`` (the mode string as the key), so
  ``bn_param['mode']`` keeps the ``'train'`` set in ``__init__`` and batchnorm normalizes with the
  batch statistics even in a test-mode pass.

Each test computes the expected figure the course's way (plain NumPy written here from that
description) and compares it with the flavor's, digit for digit.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, rel_error

from xnn import backend, layers, models
from xnn.compat import cs182


# --------------------------------------------------------------------------- the course's way, in plain NumPy
def course_dropout_forward(x, dropout_param):
    """Berkeley's dropout: reseed when a seed is given, keep where ``rand >= p``, scale by ``1/(1-p)``."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "test":
        return x, (dropout_param, None)
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * mask, (dropout_param, mask)


def course_train_mode_scores(X, params, num_layers, eps=1e-5):
    """affine - batchnorm (batch statistics, as the starter's test pass uses) - relu ... - affine."""
    out = X
    for i in range(1, num_layers):
        a = out.reshape(out.shape[0], -1).dot(params[f"W{i}"]) + params[f"b{i}"]
        a_hat = (a - a.mean(axis=0)) / np.sqrt(a.var(axis=0) + eps)
        out = np.maximum(0, params[f"gamma{i}"] * a_hat + params[f"beta{i}"])
    return out.dot(params[f"W{num_layers}"]) + params[f"b{num_layers}"]


# --------------------------------------------------------------------------- dropout: rand >= p
def _dropout_figures(forward, seed=231):
    """The notebook's dropout cell: mean of the train output and its zero fraction for p = 0.3, 0.6, 0.75."""
    np.random.seed(seed)
    x = np.random.randn(500, 500) + 10
    figures = []
    for p in (0.3, 0.6, 0.75):
        out, _ = forward(x, {"mode": "train", "p": p})
        out_test, _ = forward(x, {"mode": "test", "p": p})
        figures.append((out.mean(), (out == 0).mean(), out_test.mean(), (out_test == 0).mean()))
    return figures


def test_dropout_reproduces_the_notebook_figures_the_course_way():
    ours, course = _dropout_figures(cs182.dropout_forward), _dropout_figures(course_dropout_forward)
    assert ours == course  # every printed number, to the last digit
    assert [round(zero, 2) for _, zero, _, _ in ours] == [0.3, 0.6, 0.75]
    # and not the Stanford-style draw (rand < 1 - p), which prints other figures from the same seed
    def keep_below(x, param):
        return layers.dropout_forward(x, dict(param, p=1 - param["p"]))
    assert [z for _, z, _, _ in _dropout_figures(keep_below)] != [z for _, z, _, _ in ours]


def test_dropout_seeded_mask_and_backward():
    x = np.random.randn(7, 9)
    param = {"mode": "train", "p": 0.3, "seed": 42}
    out, cache = cs182.dropout_forward(x, param)
    expected, (_, mask) = course_dropout_forward(x, dict(param))
    assert np.array_equal(out, expected) and np.array_equal(cache[1], mask)
    dout = np.random.randn(7, 9)
    assert np.array_equal(cs182.dropout_backward(dout, cache), dout * mask)


def test_dropout_namespaces(xp):
    x = xp.asarray(np.random.randn(4, 5))
    out, _ = cs182.dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 3})
    assert_namespace(out, xp)
    expected, _ = course_dropout_forward(backend.to_numpy(x), {"mode": "train", "p": 0.5, "seed": 3})
    assert rel_error(out, expected) == 0.0


# --------------------------------------------------------------------------- FullyConnectedNet
N, D, H1, H2, C = 2, 15, 20, 30, 10
#: The Berkeley bn_drop notebook's expected scores for its linspace model (printed to 8 digits there).
NOTEBOOK_BN_SCORES = np.array([
    [0.28397701, 0.46532063, 0.64666426, 0.82800788, 1.0093515, 1.19069513, 1.37203875, 1.55338238, 1.734726,
     1.91606962],
    [-0.9, -0.78888889, -0.67777778, -0.56666667, -0.45555556, -0.34444444, -0.23333333, -0.12222222, -0.01111111,
     0.1]])


def _linspace_bn_model():
    """The notebook's "initial predictions" model: batchnorm on, every W and b set by linspace."""
    model = cs182.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=0, weight_scale=5e-2,
                                    dtype=np.float64, use_batchnorm=True)
    for name, (lo, hi), shape in (("W1", (-0.7, 0.3), (D, H1)), ("b1", (-0.1, 0.9), (H1,)),
                                  ("W2", (-0.3, 0.4), (H1, H2)), ("b2", (-0.9, 0.1), (H2,)),
                                  ("W3", (-0.3, 0.4), (H2, C)), ("b3", (-0.9, 0.1), (C,))):
        model.params[name] = np.linspace(lo, hi, num=int(np.prod(shape))).reshape(shape)
    return model, np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T


def test_initial_predictions_error_figure():
    model, X = _linspace_bn_model()
    scores = model.loss(X)  # a test-mode pass, in which the starter's batchnorm still uses batch statistics
    expected = course_train_mode_scores(X, model.params, model.num_layers)
    assert rel_error(scores, expected) < 1e-15
    figure = "initial predictions error: %.2e" % rel_error(scores, NOTEBOOK_BN_SCORES)
    assert figure == "initial predictions error: 5.00e-08"  # the notebook's expectation
    reference = models.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, dtype=np.float64,
                                         normalization="batchnorm")
    reference.params = dict(model.params)
    assert rel_error(reference.loss(X), NOTEBOOK_BN_SCORES) > 0.5  # a real test-mode pass is far off


def test_bn_params_keep_train_mode_and_gain_the_mode_key():
    model, X = _linspace_bn_model()
    model.loss(X)
    assert [p["mode"] for p in model.bn_params] == ["train", "train"]
    assert all(p["test"] == "test" and "running_mean" in p for p in model.bn_params)
    model.loss(X, np.array([1, 2]))
    assert all(p["train"] == "train" and p["mode"] == "train" for p in model.bn_params)
    assert model.dropout_param == {"mode": "train"}  # the starter writes the mode even without dropout
    model.bn_params[0]["mode"] = "test"  # a caller that sets the real key gets what it asked for
    scores = model.loss(X)
    assert rel_error(scores, course_train_mode_scores(X, model.params, model.num_layers)) > 1e-6


class _CourseWayDropoutNet(models.FullyConnectedNet):
    """xnn's network with the course's dropout layer; ``dropout_param['p']`` holds the drop probability."""

    dropout_forward = staticmethod(course_dropout_forward)


@pytest.mark.parametrize("dropout", [0.25, 0.5])
def test_fc_net_dropout_is_the_course_mask(dropout):
    np.random.seed(231)
    X, y = np.random.randn(N, D), np.random.randint(C, size=(N,))
    np.random.seed(0)
    ours = cs182.FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2, dtype=np.float64,
                                   dropout=dropout, seed=123)
    np.random.seed(0)
    course = _CourseWayDropoutNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2, dtype=np.float64,
                                  dropout_keep_ratio=1 - dropout, seed=123)
    course.dropout_param["p"] = dropout
    loss, grads = ours.loss(X, y)
    course_loss, course_grads = course.loss(X, y)
    assert loss == course_loss
    assert all(np.array_equal(grads[k], course_grads[k]) for k in course_grads)
