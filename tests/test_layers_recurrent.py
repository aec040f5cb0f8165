"""RNN and LSTM layers (step and sequence) and sigmoid on every backend.

The notebook inputs of the RNN/LSTM captioning notebooks are checked against the float64 loop
references of ``recurrent_refs`` (and, where the course prints them, the values it prints);
every backward against centered differences in float64.
"""

from __future__ import annotations

import warnings

import array_api_compat.numpy as np_xp
import numpy as np
import pytest
from helpers import assert_namespace, grad_error, numeric_grad, rel_error
from recurrent_refs import linspace, lstm_ref, lstm_step_ref, rnn_ref, rnn_step_ref

from xnn import layers
from xnn.backend import to_numpy

# What the course notebooks print for these inputs (cross-checked by the loop references).
COURSE_RNN_STEP = [[-0.58172089, -0.50182032, -0.41232771, -0.31410098],
                   [0.66854692, 0.79562378, 0.87755553, 0.92795967],
                   [0.97934501, 0.99144213, 0.99646691, 0.99854353]]
COURSE_LSTM_STEP_H = [[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                      [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                      [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]]


def _on(xp, *arrays):
    return tuple(xp.asarray(a) for a in arrays)


# --------------------------------------------------------------------------- notebook forward values
def test_rnn_step_forward_notebook_inputs(xp):
    N, D, H = 3, 10, 4
    args = (linspace(-0.4, 0.7, (N, D)), linspace(-0.2, 0.5, (N, H)), linspace(-0.1, 0.9, (D, H)),
            linspace(-0.3, 0.7, (H, H)), np.linspace(-0.2, 0.4, num=H))
    next_h, _ = layers.rnn_step_forward(*_on(xp, *args))
    assert_namespace(next_h, xp)
    assert rel_error(next_h, rnn_step_ref(*args)) < 1e-12
    assert rel_error(next_h, COURSE_RNN_STEP) < 1e-8


def test_rnn_forward_notebook_inputs(xp):
    N, T, D, H = 2, 3, 4, 5
    args = (linspace(-0.1, 0.3, (N, T, D)), linspace(-0.3, 0.1, (N, H)), linspace(-0.2, 0.4, (D, H)),
            linspace(-0.4, 0.1, (H, H)), np.linspace(-0.7, 0.1, num=H))
    h, _ = layers.rnn_forward(*_on(xp, *args))
    assert h.shape == (N, T, H)
    assert rel_error(h, rnn_ref(*args)) < 1e-12
    assert rel_error(to_numpy(h)[0, 0], [-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251]) < 1e-7


def test_lstm_step_forward_notebook_inputs(xp):
    N, D, H = 3, 4, 5
    args = (linspace(-0.4, 1.2, (N, D)), linspace(-0.3, 0.7, (N, H)), linspace(-0.4, 0.9, (N, H)),
            linspace(-2.1, 1.3, (D, 4 * H)), linspace(-0.7, 2.2, (H, 4 * H)), np.linspace(0.3, 0.7, num=4 * H))
    next_h, next_c, _ = layers.lstm_step_forward(*_on(xp, *args))
    ref_h, ref_c = lstm_step_ref(*args)
    assert rel_error(next_h, ref_h) < 1e-12 and rel_error(next_c, ref_c) < 1e-12
    assert rel_error(next_h, COURSE_LSTM_STEP_H) < 1e-8


def test_lstm_forward_notebook_inputs(xp):
    N, D, H, T = 2, 5, 4, 3
    args = (linspace(-0.4, 0.6, (N, T, D)), linspace(-0.4, 0.8, (N, H)), linspace(-0.2, 0.9, (D, 4 * H)),
            linspace(-0.3, 0.6, (H, 4 * H)), np.linspace(0.2, 0.7, num=4 * H))
    h, _ = layers.lstm_forward(*_on(xp, *args))
    assert h.shape == (N, T, H)
    assert rel_error(h, lstm_ref(*args)) < 1e-12
    assert rel_error(to_numpy(h)[1, 2], [0.81733511, 0.83677871, 0.85403753, 0.86935314]) < 1e-7


# --------------------------------------------------------------------------- gradients (float64)
def _check_grads(xp, forward, backward, inputs, douts, tol):
    """Every input's analytic gradient against centered differences of sum(outputs * douts)."""
    outs = forward(*_on(xp, *inputs))
    outs, cache = (outs[:-1], outs[-1])
    grads = backward(*_on(xp, *douts), cache)
    for k, g in enumerate(grads):
        assert_namespace(g, xp)

        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            res = forward(*_on(xp, *args))[:-1]
            return np.concatenate([to_numpy(r).ravel() * d.ravel() for r, d in zip(res, douts)])
        num = numeric_grad(f, inputs[k].copy(), 1.0, h=1e-5)
        assert grad_error(g, num) < tol, f"gradient {k}: {grad_error(g, num)}"


def _randn(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


def test_rnn_step_backward_numeric(xp, rng):
    N, D, H = 4, 5, 6
    inputs = _randn(rng, (N, D), (N, H), (D, H), (H, H), (H,))
    _check_grads(xp, layers.rnn_step_forward, layers.rnn_step_backward, inputs, _randn(rng, (N, H)), 1e-9)


def test_rnn_backward_numeric(xp, rng):
    N, T, D, H = 2, 5, 3, 4
    inputs = _randn(rng, (N, T, D), (N, H), (D, H), (H, H), (H,))
    _check_grads(xp, layers.rnn_forward, layers.rnn_backward, inputs, _randn(rng, (N, T, H)), 1e-9)


def test_lstm_step_backward_numeric(xp, rng):
    N, D, H = 3, 4, 5
    inputs = _randn(rng, (N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))
    douts = _randn(rng, (N, H), (N, H))
    _check_grads(xp, layers.lstm_step_forward, layers.lstm_step_backward, inputs, douts, 1e-9)


def test_lstm_backward_numeric(xp, rng):
    N, T, D, H = 2, 4, 3, 3
    inputs = _randn(rng, (N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))
    _check_grads(xp, layers.lstm_forward, layers.lstm_backward, inputs, _randn(rng, (N, T, H)), 1e-9)


def test_single_step_sequence_equals_the_step(xp, rng):
    x, h0, Wx, Wh, b = _on(xp, *_randn(rng, (3, 1, 4), (3, 5), (4, 20), (5, 20), (20,)))
    h, _ = layers.lstm_forward(x, h0, Wx, Wh, b)
    step_h, _, _ = layers.lstm_step_forward(x[:, 0, :], h0, xp.zeros((3, 5), dtype=xp.float64), Wx, Wh, b)
    np.testing.assert_allclose(to_numpy(h)[:, 0], to_numpy(step_h), rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- dtypes, parity
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_float32_stays_float32(xp, rng, cell):
    G = 4 if cell == "lstm" else 1
    args = [a.astype(np.float32) for a in _randn(rng, (2, 3, 4), (2, 5), (4, 5 * G), (5, 5 * G), (5 * G,))]
    forward = getattr(layers, f"{cell}_forward")
    backward = getattr(layers, f"{cell}_backward")
    h, cache = forward(*_on(xp, *args))
    assert h.dtype == xp.float32
    grads = backward(xp.ones(h.shape, dtype=xp.float32), cache)
    assert all(g.dtype == xp.float32 for g in grads)
    h64, _ = forward(*(a.astype(np.float64) for a in args))
    assert rel_error(h, h64) < 1e-5


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_backend_parity_with_numpy(xp, rng, cell):
    G = 4 if cell == "lstm" else 1
    args = _randn(rng, (3, 6, 4), (3, 5), (4, 5 * G), (5, 5 * G), (5 * G,))
    dh = rng.standard_normal((3, 6, 5))
    forward, backward = getattr(layers, f"{cell}_forward"), getattr(layers, f"{cell}_backward")
    h_np, cache_np = forward(*_on(np_xp, *args))
    h_xp, cache_xp = forward(*_on(xp, *args))
    np.testing.assert_allclose(to_numpy(h_xp), h_np, rtol=1e-12, atol=1e-14)
    for g_xp, g_np in zip(backward(xp.asarray(dh), cache_xp), backward(dh, cache_np)):
        np.testing.assert_allclose(to_numpy(g_xp), g_np, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- sigmoid
def test_sigmoid_is_stable_for_large_magnitudes(xp):
    x = np.array([-1e6, -800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = to_numpy(layers.sigmoid(xp.asarray(x)))
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    mid = x[2:7]
    np.testing.assert_allclose(s[2:7], 1 / (1 + np.exp(-mid)), rtol=1e-15)
    s32 = layers.sigmoid(xp.asarray(x.astype(np.float32)))
    assert s32.dtype == xp.float32 and np.all(np.isfinite(to_numpy(s32)))


# --------------------------------------------------------------------------- bad input
def test_bad_shapes_name_the_layer_and_argument(xp, rng):
    x, h0, Wx, Wh, b = _on(xp, *_randn(rng, (2, 3, 4), (2, 5), (4, 5), (5, 5), (5,)))
    with pytest.raises(ValueError, match=r"rnn_forward: h0 must have shape \(2, 5\), got \(3, 5\)"):
        layers.rnn_forward(x, xp.asarray(rng.standard_normal((3, 5))), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_forward: x must be 3-D \(N, T, D\), got shape \(2, 4\)"):
        layers.rnn_forward(x[:, 0, :], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_step_forward: Wx must have shape \(3, 5\), got \(4, 5\)"):
        layers.rnn_step_forward(xp.asarray(rng.standard_normal((2, 3))), h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"lstm_forward: Wh must have shape \(5, 20\), got \(5, 5\)"):
        layers.lstm_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"lstm_step_forward: prev_c must have shape \(2, 5\)"):
        layers.lstm_step_forward(x[:, 0, :], h0, h0[:1, :], *_on(xp, *_randn(rng, (4, 20), (5, 20), (20,))))
    h, cache = layers.rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_backward: dh must have shape \(2, 3, 5\)"):
        layers.rnn_backward(h[:, :2, :], cache)
    with pytest.raises(TypeError, match="rnn_backward: cache must be the 5-tuple returned by rnn_forward"):
        layers.rnn_backward(h, cache[:3])
    with pytest.raises(TypeError, match="lstm_forward: h0 must be an array"):
        layers.lstm_forward(x, [[0.0] * 5] * 2, Wx, Wh, b)


def test_mixed_namespaces_are_a_type_error(rng):
    import array_api_strict
    x, h0, Wx, Wh, b = _randn(rng, (2, 3, 4), (2, 5), (4, 5), (5, 5), (5,))
    with pytest.raises(TypeError, match="rnn_forward: mixed array namespaces"):
        layers.rnn_forward(x, array_api_strict.asarray(h0), Wx, Wh, b)


# --------------------------------------------------------------------------- the notebooks' own checks
def test_lstm_backward_notebook_gradient_check():
    """LSTM_Captioning's check: seed 231, randn inputs, eval_numerical_gradient_array, rel_error
    "on the order of e-8 or less" (dWh e-6): entries near 1e-3 (dh0) or 1e-5 (dWh) carry ~2e-8
    and ~2e-6 of the centered differences' rounding, so the bounds are the orders of magnitude."""
    from xnn.gradient_check import eval_numerical_gradient_array
    np.random.seed(231)
    N, D, T, H = 2, 3, 10, 6
    x, h0 = np.random.randn(N, T, D), np.random.randn(N, H)
    Wx, Wh, b = np.random.randn(D, 4 * H), np.random.randn(H, 4 * H), np.random.randn(4 * H)
    out, cache = layers.lstm_forward(x, h0, Wx, Wh, b)
    dout = np.random.randn(*out.shape)
    dx, dh0, dWx, dWh, db = layers.lstm_backward(dout, cache)
    fwd = lambda: layers.lstm_forward(x, h0, Wx, Wh, b)[0]  # noqa: E731  (arrays perturbed in place)
    for analytic, arr, tol in ((dx, x, 1e-7), (dh0, h0, 1e-7), (dWx, Wx, 1e-7), (dWh, Wh, 1e-5), (db, b, 1e-7)):
        assert rel_error(analytic, eval_numerical_gradient_array(lambda _: fwd(), arr, dout)) < tol


def test_rnn_backward_notebook_gradient_check():
    from xnn.gradient_check import eval_numerical_gradient_array
    np.random.seed(231)
    N, D, T, H = 2, 3, 10, 5
    x, h0 = np.random.randn(N, T, D), np.random.randn(N, H)
    Wx, Wh, b = np.random.randn(D, H), np.random.randn(H, H), np.random.randn(H)
    out, cache = layers.rnn_forward(x, h0, Wx, Wh, b)
    dout = np.random.randn(*out.shape)
    grads = layers.rnn_backward(dout, cache)
    fwd = lambda: layers.rnn_forward(x, h0, Wx, Wh, b)[0]  # noqa: E731
    for analytic, arr in zip(grads, (x, h0, Wx, Wh, b)):
        assert rel_error(analytic, eval_numerical_gradient_array(lambda _: fwd(), arr, dout)) < 1e-6
