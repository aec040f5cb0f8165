"""Linear classifiers and their losses: gradients, naive == vectorized, training, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend
from xnn.models.linear import LinearClassifier, LinearSVM, Softmax
from xnn.models.linear_losses import (
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)

LOSSES = [softmax_loss_naive, softmax_loss_vectorized, svm_loss_naive, svm_loss_vectorized]


def _problem(rng, N=6, D=5, C=4):
    W = rng.standard_normal((D, C)) * 0.1
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, size=N)
    return W, X, y


@pytest.mark.parametrize("loss_fn", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_linear_loss_gradient(xp, rng, loss_fn, reg):
    W, X, y = _problem(rng)
    loss, dW = loss_fn(xp.asarray(W), xp.asarray(X), xp.asarray(y), reg)
    assert isinstance(loss, float)
    assert_namespace(dW, xp)
    assert dW.shape == W.shape and dW.dtype == xp.float64
    num = numeric_grad(lambda w: loss_fn(xp.asarray(w), xp.asarray(X), xp.asarray(y), reg)[0], W)
    assert rel_error(num, dW) < 1e-7


@pytest.mark.parametrize("naive, vectorized", [(softmax_loss_naive, softmax_loss_vectorized),
                                               (svm_loss_naive, svm_loss_vectorized)])
def test_naive_matches_vectorized(xp, rng, naive, vectorized):
    W, X, y = _problem(rng, N=9, D=7, C=5)
    args = (xp.asarray(W), xp.asarray(X), xp.asarray(y), 0.3)
    loss_n, dW_n = naive(*args)
    loss_v, dW_v = vectorized(*args)
    assert abs(loss_n - loss_v) <= 1e-12 * max(1.0, abs(loss_n))
    assert rel_error(dW_n, dW_v) < 1e-10


def test_softmax_loss_value_near_log_c(rng):
    # Tiny random weights: every class is equally likely, loss ~ -log(0.1).
    W = rng.standard_normal((3073, 10)) * 1e-4
    X = rng.standard_normal((50, 3073))
    y = rng.integers(0, 10, size=50)
    loss, _ = softmax_loss_vectorized(W, X, y, 0.0)
    assert abs(loss - math.log(10)) < 0.05


def test_svm_loss_known_value():
    # Zero weights: every score is 0, each wrong class has margin 1 -> loss C - 1.
    W = np.zeros((4, 3))
    X = np.ones((5, 4))
    y = np.array([0, 1, 2, 0, 1])
    loss, dW = svm_loss_vectorized(W, X, y, 0.0)
    assert loss == pytest.approx(2.0)
    assert loss == pytest.approx(svm_loss_naive(W, X, y, 0.0)[0])
    assert dW.shape == (4, 3)


def test_reg_term_is_reg_times_sum_of_squares(rng):
    W, X, y = _problem(rng)
    for fn in LOSSES:
        l0, d0 = fn(W, X, y, 0.0)
        l1, d1 = fn(W, X, y, 2.5)
        assert l1 - l0 == pytest.approx(2.5 * np.sum(W * W), rel=1e-12)
        np.testing.assert_allclose(d1 - d0, 5.0 * W, rtol=1e-12, atol=1e-15)


def test_float32_stays_float32(rng):
    W, X, y = _problem(rng)
    for fn in LOSSES:
        _, dW = fn(W.astype(np.float32), X.astype(np.float32), y, 0.1)
        assert dW.dtype == np.float32


@pytest.mark.parametrize("fn", LOSSES, ids=lambda f: f.__name__)
def test_bad_inputs(rng, fn):
    W, X, y = _problem(rng)
    with pytest.raises(ValueError, match=fn.__name__ + ".*features"):
        fn(W, X[:, :-1], y, 0.0)
    with pytest.raises(ValueError, match="labels must lie"):
        fn(W, X, y + 10, 0.0)
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        fn(W, X, y[:-1], 0.0)
    with pytest.raises(TypeError, match="integer"):
        fn(W, X, y.astype(np.float64), 0.0)


def test_linear_classifier_init_train_predict_rng_order(rng):
    X = rng.standard_normal((40, 6))
    y = rng.integers(0, 3, size=40)
    np.random.seed(231)
    clf = Softmax()
    assert clf.W is None
    history = clf.train(X, y, learning_rate=1e-1, reg=1e-3, num_iters=30, batch_size=10)
    # Same RNG stream by hand: W first, then one choice per iteration.
    np.random.seed(231)
    W = 0.001 * np.random.randn(6, 3)
    expected = []
    for _ in range(30):
        idx = np.random.choice(40, 10)
        loss, dW = softmax_loss_vectorized(W, X[idx], y[idx], 1e-3)
        expected.append(loss)
        W = W - 1e-1 * dW
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    np.testing.assert_allclose(clf.W, W, rtol=1e-12)
    assert all(isinstance(v, float) for v in history)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(X @ W, axis=1))


@pytest.mark.parametrize("cls", [Softmax, LinearSVM])
def test_linear_classifier_learns_separable_data(xp, rng, cls):
    centers = rng.standard_normal((3, 5)) * 5
    y = rng.integers(0, 3, size=90)
    X = centers[y] + rng.standard_normal((90, 5)) * 0.1
    np.random.seed(0)
    clf = cls()
    history = clf.train(xp.asarray(X), xp.asarray(y), learning_rate=1e-2, reg=0.0, num_iters=200,
                        batch_size=30)
    assert history[-1] < history[0]
    pred = clf.predict(xp.asarray(X))
    assert_namespace(pred, xp)
    assert np.mean(backend.to_numpy(pred) == y) > 0.95


def test_linear_classifier_verbose_prints(capsys, rng):
    X = rng.standard_normal((20, 4))
    y = rng.integers(0, 2, size=20)
    np.random.seed(1)
    history = LinearSVM().train(X, y, num_iters=201, batch_size=5, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["iteration %d / 201: loss %f" % (it, history[it]) for it in (0, 100, 200)]


def test_linear_classifier_float32_weights(rng):
    X = rng.standard_normal((10, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=10)
    clf = Softmax()
    clf.train(X, y, num_iters=2, batch_size=4)
    assert clf.W.dtype == np.float32


def test_base_loss_and_untrained_predict():
    with pytest.raises(NotImplementedError):
        LinearClassifier().loss(np.zeros((1, 1)), np.zeros(1, dtype=np.int64), 0.0)
    with pytest.raises(ValueError, match="not trained"):
        Softmax().predict(np.zeros((2, 3)))


def test_linear_classifier_save_load(tmp_path, rng, capsys):
    X = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, size=10)
    clf = Softmax()
    clf.train(X, y, num_iters=3, batch_size=5)
    path = tmp_path / "softmax.npz"
    clf.save(path)
    other = Softmax()
    assert other.load(path) is True
    np.testing.assert_array_equal(other.W, clf.W)
    assert not other.load(tmp_path / "missing.npz")
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{path} saved.", f"{path} loaded.", f"{tmp_path / 'missing.npz'} not available."]
    assert other.to("cpu") is other and other.device == "cpu"
