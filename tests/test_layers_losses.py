"""softmax_loss and svm_loss on every backend."""

from __future__ import annotations

import math

import array_api_compat.numpy as np_xp
import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn.backend import to_numpy
from xnn.layers.losses import softmax_loss, svm_loss

LOSSES = [softmax_loss, svm_loss]


def _scores(rng, N=6, C=4, scale=1.0, dtype=np.float64):
    x = (scale * rng.standard_normal((N, C))).astype(dtype)
    y = rng.integers(0, C, size=N)
    return x, y


def _softmax_reference(x, y):
    """Plain NumPy cross-entropy written independently (float64, unshifted logsumexp)."""
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


def _svm_reference(x, y):
    """Plain NumPy hinge loss with explicit loops."""
    total = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if j != y[i]:
                total += max(0.0, x[i, j] - x[i, y[i]] + 1.0)
    return total / x.shape[0]


# --------------------------------------------------------------------------- notebook sanity values
def test_notebook_sanity_values(xp):
    np.random.seed(231)
    N, C = 50, 10
    x = 0.001 * np.random.randn(N, C)
    y = np.random.randint(C, size=N)
    loss, dx = softmax_loss(xp.asarray(x), xp.asarray(y))
    assert abs(loss - math.log(10)) < 0.05
    assert_namespace(dx, xp)
    loss, dx = svm_loss(xp.asarray(x), xp.asarray(y))
    assert abs(loss - 9.0) < 0.1
    assert_namespace(dx, xp)


@pytest.mark.parametrize("loss_fn,reference", [(softmax_loss, _softmax_reference), (svm_loss, _svm_reference)])
def test_loss_matches_independent_reference(xp, rng, loss_fn, reference):
    x, y = _scores(rng, N=8, C=5, scale=2.0)
    loss, _ = loss_fn(xp.asarray(x), xp.asarray(y))
    assert type(loss) is float
    assert abs(loss - reference(x, y)) < 1e-12 * max(1.0, abs(loss))


def test_softmax_is_numerically_stable(xp):
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]])
    y = np.array([0, 2])
    loss, dx = softmax_loss(xp.asarray(x), xp.asarray(y))
    assert math.isfinite(loss) and abs(loss - 1e4 / 2) < 1e-9
    assert np.all(np.isfinite(to_numpy(dx)))


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("loss_fn", LOSSES)
def test_loss_gradient_numeric(xp, rng, loss_fn):
    x, y = _scores(rng, N=7, C=5, scale=1.5)
    _, dx = loss_fn(xp.asarray(x), xp.asarray(y))
    num = numeric_grad(lambda v: loss_fn(xp.asarray(v.copy()), xp.asarray(y))[0], x, h=1e-5)
    assert rel_error(dx, num) < 1e-7


# --------------------------------------------------------------------------- dtypes and parity
@pytest.mark.parametrize("loss_fn", LOSSES)
def test_float32_stays_float32(xp, rng, loss_fn):
    x, y = _scores(rng, dtype=np.float32)
    loss, dx = loss_fn(xp.asarray(x), xp.asarray(y))
    assert type(loss) is float
    assert dx.dtype == xp.float32


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_backend_parity_with_numpy(xp, rng, loss_fn):
    x, y = _scores(rng, N=9, C=6, scale=3.0)
    loss_ref, dx_ref = loss_fn(np_xp.asarray(x), np_xp.asarray(y))
    loss, dx = loss_fn(xp.asarray(x), xp.asarray(y))
    assert abs(loss - loss_ref) <= 1e-10 * abs(loss_ref)
    assert rel_error(dx, dx_ref) < 1e-10


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_int32_labels_accepted(xp, rng, loss_fn):
    x, y = _scores(rng)
    loss, _ = loss_fn(xp.asarray(x), xp.asarray(y.astype(np.int32)))
    loss64, _ = loss_fn(xp.asarray(x), xp.asarray(y))
    assert loss == loss64


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("loss_fn", LOSSES)
@pytest.mark.parametrize("bad", [[0, 1, 4], [-1, 0, 1]])
def test_labels_out_of_range(xp, loss_fn, bad):
    x = xp.asarray(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=f"{loss_fn.__name__}: labels must lie in \\[0, 4\\)"):
        loss_fn(x, xp.asarray(np.array(bad)))


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_non_integer_labels(xp, loss_fn):
    x = xp.asarray(np.zeros((3, 4)))
    with pytest.raises(TypeError, match=f"{loss_fn.__name__}: y must hold integer"):
        loss_fn(x, xp.asarray(np.array([0.0, 1.0, 2.0])))


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_label_count_mismatch(xp, loss_fn):
    x = xp.asarray(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=f"{loss_fn.__name__}: y must have shape \\(3,\\)"):
        loss_fn(x, xp.asarray(np.array([0, 1])))


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_wrong_rank_scores(xp, loss_fn):
    with pytest.raises(ValueError, match=f"{loss_fn.__name__}: x must be 2-D"):
        loss_fn(xp.asarray(np.zeros(4)), xp.asarray(np.array([0, 1, 2, 3])))


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_mixed_namespaces_type_error(loss_fn):
    import array_api_strict as strict
    with pytest.raises(TypeError, match="mixed array namespaces"):
        loss_fn(np.zeros((2, 3)), strict.asarray(np.array([0, 1])))
