"""conv_pool (a convolution fused with the max-pool after it): equal to the two layers, gradients,
every backend, the NumPy fused path's fallbacks, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, grad_error, numeric_grad, rel_error

from xnn import backend, kernels, layers
from xnn.kernels.cpu import threads

# (x_shape, w_shape, conv stride, pad, pool (height, width, stride)): tiling, overlapping and
# cropped pools, non-square filters, strided convolutions.
CASES = [
    ((3, 2, 8, 8), (4, 2, 3, 3), 1, 1, (2, 2, 2)),
    ((2, 3, 9, 9), (5, 3, 3, 3), 1, 1, (3, 3, 2)),
    ((2, 2, 11, 10), (3, 2, 3, 5), 2, 2, (2, 2, 1)),
    ((4, 1, 7, 7), (2, 1, 2, 2), 1, 0, (3, 2, 3)),
]


@pytest.fixture(autouse=True)
def split_small_batches(monkeypatch):
    """Let the NumPy kernels split these small batches over their threads."""
    monkeypatch.setattr(threads, "MIN_PARALLEL_WORK", 0)


def _inputs(case, dtype=np.float64, seed=0):
    xs, ws, stride, pad, pool = case
    rs = np.random.RandomState(seed)
    x, w, b = rs.randn(*xs).astype(dtype), rs.randn(*ws).astype(dtype), rs.randn(ws[0]).astype(dtype)
    conv_param = {"stride": stride, "pad": pad}
    pool_param = {"pool_height": pool[0], "pool_width": pool[1], "stride": pool[2]}
    return x, w, b, conv_param, pool_param


def _unfused(x, w, b, conv_param, pool_param, dout):
    a, conv_cache = layers.conv_forward_fast(x, w, b, conv_param)
    out, pool_cache = layers.max_pool_forward_fast(a, pool_param)
    return out, layers.conv_backward_fast(layers.max_pool_backward_fast(dout, pool_cache), conv_cache)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_equals_conv_then_pool(case, dtype):
    x, w, b, conv_param, pool_param = _inputs(case, dtype)
    out, cache = layers.conv_pool_forward(x, w, b, conv_param, pool_param)
    dout = np.random.RandomState(1).randn(*out.shape).astype(dtype)
    ref_out, (ref_dx, ref_dw, ref_db) = _unfused(x, w, b, conv_param, pool_param, dout)
    np.testing.assert_array_equal(out, ref_out)          # the same GEMMs, bias adds and first maxima
    dx, dw, db = layers.conv_pool_backward(dout, cache)
    np.testing.assert_array_equal(dx, ref_dx)
    np.testing.assert_array_equal(dw, ref_dw)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5 if dtype == np.float32 else 1e-12)
    dw2, db2 = layers.conv_pool_backward_params(dout, cache)
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)
    assert out.dtype == dx.dtype == dw.dtype == dtype


@pytest.mark.parametrize("case", CASES[:2])
def test_gradients_float64(case):
    x, w, b, conv_param, pool_param = _inputs(case, seed=3)
    out, cache = layers.conv_pool_forward(x, w, b, conv_param, pool_param)
    dout = np.random.RandomState(4).randn(*out.shape)
    dx, dw, db = layers.conv_pool_backward(dout, cache)
    for analytic, arg in ((dx, x), (dw, w), (db, b)):
        numeric = numeric_grad(lambda _: layers.conv_pool_forward(x, w, b, conv_param, pool_param)[0], arg, dout)
        # relative to the largest entry: elementwise errors blow up on entries near zero
        assert grad_error(analytic, numeric) < 1e-8


def test_every_backend_gives_the_numpy_result(xp):
    x, w, b, conv_param, pool_param = _inputs(CASES[1])
    out, cache = layers.conv_pool_forward(*(xp.asarray(a) for a in (x, w, b)), conv_param, pool_param)
    assert_namespace(out, xp)
    dout = np.random.RandomState(2).randn(*out.shape)
    grads = layers.conv_pool_backward(xp.asarray(dout), cache)
    ref_out, ref_grads = _unfused(x, w, b, conv_param, pool_param, dout)
    assert rel_error(backend.to_numpy(out), ref_out) < 1e-12
    for got, want in zip(grads, ref_grads):
        assert_namespace(got, xp)
        assert rel_error(backend.to_numpy(got), want) < 1e-10


def test_the_path_is_fused_on_numpy_and_composed_on_the_generic_kernels():
    import array_api_compat.numpy as np_compat
    import array_api_strict
    assert kernels.op_path("conv_pool_forward", np_compat) == "numpy_fast"
    assert kernels.op_path("conv_pool_backward", array_api_strict) == "composed"
    with kernels.use("generic"):
        assert kernels.op_path("conv_pool_forward", np_compat) == "composed"


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_windows_and_non_finite_gradients_take_the_unfused_kernels():
    x, w, b, conv_param, pool_param = _inputs(CASES[0])
    w = w.copy()
    w[0, 0, 1, 1] = np.nan                                # every output of filter 0 is NaN
    out, cache = layers.conv_pool_forward(x, w, b, conv_param, pool_param)
    ref_out, _ = _unfused(x, w, b, conv_param, pool_param, np.ones((3, 4, 4, 4)))
    np.testing.assert_array_equal(out, ref_out)
    assert np.isnan(out[:, 0]).all() and np.isfinite(out[:, 1:]).all()
    x, w, b, conv_param, pool_param = _inputs(CASES[0])
    out, cache = layers.conv_pool_forward(x, w, b, conv_param, pool_param)
    dout = np.ones_like(out)
    dout[0, 0, 0, 0] = np.inf
    dx, dw, db = layers.conv_pool_backward(dout, cache)
    _, (ref_dx, ref_dw, ref_db) = _unfused(x, w, b, conv_param, pool_param, dout)
    np.testing.assert_array_equal(np.isinf(dw), np.isinf(ref_dw))
    assert np.isinf(db[0]) and np.isfinite(db[1:]).all()


def test_bad_input_names_the_layer_and_the_shapes():
    x, w, b, conv_param, pool_param = _inputs(CASES[0])
    with pytest.raises(ValueError, match=r"conv_pool_forward: pool window 9x9 does not fit the input 8x8"):
        layers.conv_pool_forward(x, w, b, conv_param, {"pool_height": 9, "pool_width": 9, "stride": 1})
    with pytest.raises(KeyError, match=r"conv_pool_forward: pool_param is missing 'stride'"):
        layers.conv_pool_forward(x, w, b, conv_param, {"pool_height": 2, "pool_width": 2})
    out, cache = layers.conv_pool_forward(x, w, b, conv_param, pool_param)
    with pytest.raises(ValueError, match=r"conv_pool_backward: dout must have shape \(3, 4, 4, 4\)"):
        layers.conv_pool_backward(np.ones((3, 4, 8, 8)), cache)
    with pytest.raises(TypeError, match=r"conv_pool_backward: cache must be the 7-tuple"):
        layers.conv_pool_backward(np.ones_like(out), cache[:5])
