"""Word embeddings, temporal affine and the masked temporal softmax loss on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, grad_error, numeric_grad, rel_error
from recurrent_refs import linspace, temporal_softmax_ref

from xnn import layers
from xnn.backend import to_numpy


# --------------------------------------------------------------------------- word embeddings
def test_word_embedding_forward_notebook_inputs(xp):
    x = np.array([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = linspace(0, 1, (5, 3))
    out, _ = layers.word_embedding_forward(xp.asarray(x), xp.asarray(W))
    assert_namespace(out, xp)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(to_numpy(out), W[x])
    assert rel_error(to_numpy(out)[0, 1], [0.64285714, 0.71428571, 0.78571429]) < 1e-8


def test_word_embedding_forward_copies(xp):
    W = xp.asarray(np.arange(6.0).reshape(3, 2))
    out, _ = layers.word_embedding_forward(xp.asarray(np.array([[1]])), W)
    out[0, 0, 0] = 100.0
    assert float(to_numpy(W)[1, 0]) == 2.0


def test_word_embedding_backward_accumulates_repeats(xp, rng):
    N, T, V, D = 6, 4, 7, 3
    x = rng.integers(0, 3, size=(N, T))         # rows 3..6 never used, rows 0..2 repeated
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    _, cache = layers.word_embedding_forward(xp.asarray(x), xp.asarray(W))
    dW = layers.word_embedding_backward(xp.asarray(dout), cache)
    assert_namespace(dW, xp)
    expected = np.zeros((V, D))
    np.add.at(expected, x, dout)
    np.testing.assert_allclose(to_numpy(dW), expected, rtol=1e-13, atol=1e-14)
    assert np.all(to_numpy(dW)[3:] == 0.0)
    np.testing.assert_array_equal(to_numpy(layers.word_embedding_backward(xp.asarray(dout), cache)), to_numpy(dW))


def test_word_embedding_backward_numeric(xp, rng):
    N, T, V, D = 5, 3, 5, 4
    x = rng.integers(0, V, size=(N, T))
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    _, cache = layers.word_embedding_forward(xp.asarray(x), xp.asarray(W))
    dW = layers.word_embedding_backward(xp.asarray(dout), cache)
    num = numeric_grad(lambda w: to_numpy(layers.word_embedding_forward(xp.asarray(x), xp.asarray(w))[0]), W, dout)
    assert grad_error(dW, num) < 1e-9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_word_embedding_dtypes(xp, rng, dtype):
    W = rng.standard_normal((4, 3)).astype(dtype)
    x = np.array([[0, 1], [3, 3]], dtype=np.int32)
    out, cache = layers.word_embedding_forward(xp.asarray(x), xp.asarray(W))
    dW = layers.word_embedding_backward(xp.asarray(np.ones((2, 2, 3), dtype=np.float64)), cache)
    assert out.dtype == xp.asarray(W).dtype and dW.dtype == xp.asarray(W).dtype


def test_word_embedding_bad_indices(xp):
    W = xp.asarray(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must hold word indices in \[0, 5\).*max 5"):
        layers.word_embedding_forward(xp.asarray(np.array([[0, 5]])), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must hold word indices .*min -1"):
        layers.word_embedding_forward(xp.asarray(np.array([[-1, 2]])), W)
    with pytest.raises(TypeError, match="word_embedding_forward: x must hold integer word indices, got .*float64"):
        layers.word_embedding_forward(xp.asarray(np.array([[0.0, 1.0]])), W)
    with pytest.raises(ValueError, match=r"word_embedding_forward: x must be 2-D \(N, T\)"):
        layers.word_embedding_forward(xp.asarray(np.array([0, 1])), W)
    out, cache = layers.word_embedding_forward(xp.asarray(np.array([[0, 1]])), W)
    with pytest.raises(ValueError, match=r"word_embedding_backward: dout must have shape \(1, 2, 2\)"):
        layers.word_embedding_backward(out[:, :1, :], cache)


# --------------------------------------------------------------------------- temporal affine
def test_temporal_affine_numeric(xp, rng):
    N, T, D, M = 2, 3, 4, 5
    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, T, M))
    out, cache = layers.temporal_affine_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b))
    np.testing.assert_allclose(to_numpy(out), np.einsum("ntd,dm->ntm", x, w) + b, rtol=1e-13)
    assert len(cache) == 4
    dx, dw, db = layers.temporal_affine_backward(xp.asarray(dout), cache)

    def fwd(xn, wn, bn):
        return to_numpy(layers.temporal_affine_forward(xp.asarray(xn.copy()), xp.asarray(wn.copy()),
                                                       xp.asarray(bn.copy()))[0])
    assert grad_error(dx, numeric_grad(lambda v: fwd(v, w, b), x, dout)) < 1e-9
    assert grad_error(dw, numeric_grad(lambda v: fwd(x, v, b), w, dout)) < 1e-9
    assert grad_error(db, numeric_grad(lambda v: fwd(x, w, v), b, dout)) < 1e-9


def test_temporal_affine_bad_shapes(xp):
    x = xp.asarray(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"temporal_affine_forward: w must have shape \(4, 5\), got \(3, 5\)"):
        layers.temporal_affine_forward(x, xp.asarray(np.zeros((3, 5))), xp.asarray(np.zeros(5)))
    with pytest.raises(ValueError, match=r"temporal_affine_forward: b must have shape \(5,\)"):
        layers.temporal_affine_forward(x, xp.asarray(np.zeros((4, 5))), xp.asarray(np.zeros(4)))


# --------------------------------------------------------------------------- temporal softmax loss
def test_temporal_softmax_loss_matches_loop_reference_and_numeric(xp, rng):
    N, T, V = 7, 8, 9
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) > 0.5
    loss, dx = layers.temporal_softmax_loss(xp.asarray(x), xp.asarray(y), xp.asarray(mask))
    assert isinstance(loss, float)
    assert abs(loss - temporal_softmax_ref(x, y, mask)) < 1e-12
    assert np.all(to_numpy(dx)[~mask] == 0.0)
    num = numeric_grad(lambda v: np.array(layers.temporal_softmax_loss(xp.asarray(v), xp.asarray(y),
                                                                       xp.asarray(mask))[0]), x.copy(), h=1e-5)
    assert grad_error(dx, num) < 1e-9


@pytest.mark.parametrize("N, T, V, p", [(100, 1, 10, 1.0), (100, 10, 10, 1.0), (500, 10, 10, 0.1)])
def test_near_uniform_scores_give_log_v_per_counted_step(xp, N, T, V, p):
    """The notebook's sanity check: loss ~ (unmasked steps per sequence) * log(V), divided by N."""
    rng = np.random.default_rng(0)
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) <= p
    loss, _ = layers.temporal_softmax_loss(xp.asarray(x), xp.asarray(y), xp.asarray(mask))
    expected = mask.sum() / N * np.log(V)
    assert abs(loss - expected) < 0.01 * max(1.0, expected)


def test_temporal_softmax_all_false_mask_and_integer_mask(xp, rng):
    x = xp.asarray(rng.standard_normal((3, 4, 5)))
    y = xp.asarray(rng.integers(0, 5, size=(3, 4)))
    loss, dx = layers.temporal_softmax_loss(x, y, xp.asarray(np.zeros((3, 4), dtype=bool)))
    assert loss == 0.0 and np.all(to_numpy(dx) == 0.0)
    m = rng.random((3, 4)) > 0.3
    l_bool, dx_bool = layers.temporal_softmax_loss(x, y, xp.asarray(m))
    l_int, dx_int = layers.temporal_softmax_loss(x, y, xp.asarray(m.astype(np.int64)))
    assert l_bool == l_int
    np.testing.assert_array_equal(to_numpy(dx_bool), to_numpy(dx_int))


def test_temporal_softmax_divides_by_batch_not_by_unmasked(xp):
    x = np.zeros((2, 3, 4))
    y = np.zeros((2, 3), dtype=np.int64)
    mask = np.array([[True, False, False], [False, False, False]])
    loss, _ = layers.temporal_softmax_loss(xp.asarray(x), xp.asarray(y), xp.asarray(mask))
    assert abs(loss - np.log(4) / 2) < 1e-15


def test_temporal_softmax_verbose_prints_flat_shape(xp, capsys):
    layers.temporal_softmax_loss(xp.asarray(np.zeros((7, 8, 9))), xp.asarray(np.zeros((7, 8), dtype=np.int64)),
                                 xp.asarray(np.ones((7, 8), dtype=bool)), verbose=True)
    assert capsys.readouterr().out == "dx_flat:  (56, 9)\n"


def test_temporal_softmax_bad_input(xp):
    x = xp.asarray(np.zeros((2, 3, 4)))
    y = xp.asarray(np.zeros((2, 3), dtype=np.int64))
    mask = xp.asarray(np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: mask must have shape \(2, 3\), got \(3, 2\)"):
        layers.temporal_softmax_loss(x, y, xp.asarray(np.ones((3, 2), dtype=bool)))
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: y must hold word indices in \[0, 4\)"):
        layers.temporal_softmax_loss(x, xp.asarray(np.full((2, 3), 4)), mask)
    with pytest.raises(TypeError, match="temporal_softmax_loss: y must hold integer word indices"):
        layers.temporal_softmax_loss(x, xp.asarray(np.zeros((2, 3))), mask)
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: y must have shape \(2, 3\)"):
        layers.temporal_softmax_loss(x, xp.asarray(np.zeros((2, 4), dtype=np.int64)), mask)
    with pytest.raises(TypeError, match="temporal_softmax_loss: mask must be an array"):
        layers.temporal_softmax_loss(x, y, [[True] * 3] * 2)
