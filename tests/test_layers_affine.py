"""affine_forward/backward and relu_forward/backward on every backend."""

from __future__ import annotations

import array_api_compat.numpy as np_xp
import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn.backend import to_numpy
from xnn.layers.affine import affine_backward, affine_forward, relu_backward, relu_forward


def _affine_data(rng, dtype=np.float64):
    x = rng.standard_normal((3, 2, 2, 3)).astype(dtype)
    w = rng.standard_normal((12, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    return x, w, b


# --------------------------------------------------------------------------- notebook values
def test_affine_forward_notebook_values(xp):
    x = np.linspace(-0.1, 0.5, num=2 * 120).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=120 * 3).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = affine_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b))
    correct = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    assert_namespace(out, xp)
    assert rel_error(out, correct) < 1e-7


def test_relu_forward_notebook_values(xp):
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, cache = relu_forward(xp.asarray(x))
    correct = np.array([[0, 0, 0, 0], [0, 0, 0.04545455, 0.13636364],
                        [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert_namespace(out, xp)
    assert rel_error(out, correct) < 1e-7
    np.testing.assert_array_equal(to_numpy(cache), x)


# --------------------------------------------------------------------------- caches and shapes
def test_affine_cache_holds_unflattened_inputs(xp, rng):
    x, w, b = (xp.asarray(a) for a in _affine_data(rng))
    out, cache = affine_forward(x, w, b)
    assert out.shape == (3, 5)
    assert len(cache) == 3 and cache[0] is x and cache[1] is w and cache[2] is b
    dx, dw, db = affine_backward(xp.ones((3, 5), dtype=xp.float64), cache)
    assert dx.shape == (3, 2, 2, 3) and dw.shape == (12, 5) and db.shape == (5,)
    for g in (dx, dw, db):
        assert_namespace(g, xp)


# --------------------------------------------------------------------------- gradients
def test_affine_backward_numeric(xp, rng):
    x, w, b = _affine_data(rng)
    dout = rng.standard_normal((3, 5))
    _, cache = affine_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b))
    dx, dw, db = affine_backward(xp.asarray(dout), cache)

    def fwd(xn, wn, bn):
        return to_numpy(affine_forward(xp.asarray(xn.copy()), xp.asarray(wn.copy()), xp.asarray(bn.copy()))[0])

    assert rel_error(dx, numeric_grad(lambda v: fwd(v, w, b), x, dout)) < 1e-8
    assert rel_error(dw, numeric_grad(lambda v: fwd(x, v, b), w, dout)) < 1e-8
    assert rel_error(db, numeric_grad(lambda v: fwd(x, w, v), b, dout)) < 1e-8


def test_relu_backward_numeric(xp, rng):
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.01] = 0.5  # keep away from the kink
    dout = rng.standard_normal((4, 5))
    _, cache = relu_forward(xp.asarray(x))
    dx = relu_backward(xp.asarray(dout), cache)
    assert_namespace(dx, xp)
    num = numeric_grad(lambda v: to_numpy(relu_forward(xp.asarray(v.copy()))[0]), x, dout)
    assert rel_error(dx, num) < 1e-8


# --------------------------------------------------------------------------- dtypes and parity
def test_float32_stays_float32(xp, rng):
    x, w, b = (xp.asarray(a) for a in _affine_data(rng, np.float32))
    out, cache = affine_forward(x, w, b)
    assert out.dtype == xp.float32
    grads = affine_backward(xp.ones((3, 5), dtype=xp.float32), cache)
    assert all(g.dtype == xp.float32 for g in grads)
    r, rc = relu_forward(x)
    assert r.dtype == xp.float32
    assert relu_backward(xp.ones(x.shape, dtype=xp.float32), rc).dtype == xp.float32


def test_mixed_float32_float64_upcasts(xp, rng):
    x, w, b = _affine_data(rng)
    out, _ = affine_forward(xp.asarray(x.astype(np.float32)), xp.asarray(w), xp.asarray(b))
    assert out.dtype == xp.float64


def test_backend_parity_with_numpy(xp, rng):
    x, w, b = _affine_data(rng)
    dout = rng.standard_normal((3, 5))
    out_ref, cache_ref = affine_forward(np_xp.asarray(x), np_xp.asarray(w), np_xp.asarray(b))
    out, cache = affine_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b))
    assert rel_error(out, out_ref) < 1e-10
    for g, g_ref in zip(affine_backward(xp.asarray(dout), cache), affine_backward(dout, cache_ref)):
        assert rel_error(g, g_ref) < 1e-10
    r, rc = relu_forward(xp.asarray(x))
    r_ref, rc_ref = relu_forward(x)
    assert rel_error(r, r_ref) == 0.0
    assert rel_error(relu_backward(xp.asarray(x), rc), relu_backward(x, rc_ref)) == 0.0


# --------------------------------------------------------------------------- bad input
def test_affine_w_rows_mismatch_names_shapes(xp, rng):
    x = xp.asarray(rng.standard_normal((2, 3, 4)))
    w = xp.asarray(rng.standard_normal((10, 5)))
    b = xp.asarray(rng.standard_normal(5))
    with pytest.raises(ValueError, match=r"affine_forward.*x \(2, 3, 4\).*w \(10, 5\)"):
        affine_forward(x, w, b)


@pytest.mark.parametrize("w_shape,b_shape", [((12,), (5,)), ((12, 5, 1), (5,)), ((12, 5), (5, 1)),
                                             ((12, 5), (4,))])
def test_affine_wrong_rank_or_bias(xp, rng, w_shape, b_shape):
    x = xp.asarray(rng.standard_normal((3, 12)))
    with pytest.raises(ValueError, match="affine_forward"):
        affine_forward(x, xp.asarray(rng.standard_normal(w_shape)), xp.asarray(rng.standard_normal(b_shape)))


def test_affine_scalar_x_rejected(xp):
    with pytest.raises(ValueError, match="affine_forward: x"):
        affine_forward(xp.asarray(1.0), xp.ones((1, 2)), xp.ones(2))


def test_affine_backward_dout_shape(xp, rng):
    x, w, b = (xp.asarray(a) for a in _affine_data(rng))
    _, cache = affine_forward(x, w, b)
    with pytest.raises(ValueError, match="affine_backward: dout"):
        affine_backward(xp.ones((3, 4), dtype=xp.float64), cache)


def test_relu_backward_dout_shape(xp):
    _, cache = relu_forward(xp.ones((2, 3)))
    with pytest.raises(ValueError, match="relu_backward: dout"):
        relu_backward(xp.ones((3, 2)), cache)


def test_mixed_namespaces_type_error(rng):
    import array_api_strict as strict
    x = rng.standard_normal((2, 3))
    w = strict.asarray(rng.standard_normal((3, 4)))
    with pytest.raises(TypeError, match="mixed array namespaces"):
        affine_forward(x, w, strict.asarray(np.zeros(4)))


def test_non_array_input_type_error():
    with pytest.raises(TypeError):
        affine_forward([[1.0, 2.0]], np.ones((2, 2)), np.ones(2))
