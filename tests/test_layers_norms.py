"""Batchnorm, layernorm, spatial batchnorm and spatial groupnorm on every backend."""

from __future__ import annotations

import array_api_compat.numpy as np_xp
import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn.backend import to_numpy
from xnn.layers.norms import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from xnn.layers.spatial_norms import (
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)


def _bn(xp, x, g, b, param):
    return batchnorm_forward(x, g, b, param)


def _ln(xp, x, g, b, param):
    return layernorm_forward(x, g, b, param)


def _sbn(xp, x, g, b, param):
    return spatial_batchnorm_forward(x, g, b, param)


def _gn(G):
    def forward(xp, x, g, b, param):
        return spatial_groupnorm_forward(x, g, b, G, param)
    return forward


# (name, forward, backward, x shape, gamma shape)
LAYERS = [
    ("batchnorm", _bn, batchnorm_backward, (5, 4), (4,)),
    ("batchnorm_alt", _bn, batchnorm_backward_alt, (5, 4), (4,)),
    ("layernorm", _ln, layernorm_backward, (4, 6), (6,)),
    ("spatial_batchnorm", _sbn, spatial_batchnorm_backward, (2, 3, 3, 2), (3,)),
    ("groupnorm_G1", _gn(1), spatial_groupnorm_backward, (2, 4, 2, 3), (1, 4, 1, 1)),
    ("groupnorm_G2", _gn(2), spatial_groupnorm_backward, (2, 4, 2, 3), (1, 4, 1, 1)),
    ("groupnorm_G4", _gn(4), spatial_groupnorm_backward, (2, 4, 2, 3), (1, 4, 1, 1)),
]
LAYER_IDS = [layer[0] for layer in LAYERS]


def _data(rng, x_shape, g_shape, dtype=np.float64):
    x = (4 * rng.standard_normal(x_shape) + 3).astype(dtype)
    gamma = rng.standard_normal(g_shape).astype(dtype)
    beta = rng.standard_normal(g_shape).astype(dtype)
    dout = rng.standard_normal(x_shape).astype(dtype)
    return x, gamma, beta, dout


# --------------------------------------------------------------------------- gradients
# Centered differences with h=1e-5 in float64: dx entries near zero make rel_error roundoff-limited
# at ~1e-8..1e-7 (measured over random draws), so dx is held to 1e-6; a wrong formula gives >1e-3.
@pytest.mark.parametrize("name,forward,backward,x_shape,g_shape", LAYERS, ids=LAYER_IDS)
def test_backward_numeric(xp, rng, name, forward, backward, x_shape, g_shape):
    x, gamma, beta, dout = _data(rng, x_shape, g_shape)
    _, cache = forward(xp, xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), {"mode": "train"})
    dx, dgamma, dbeta = backward(xp.asarray(dout), cache)
    for g in (dx, dgamma, dbeta):
        assert_namespace(g, xp)
    assert dgamma.shape == g_shape and dbeta.shape == g_shape

    def f(xn, gn, bn):
        arrays = (xp.asarray(a.copy()) for a in (xn, gn, bn))
        return to_numpy(forward(xp, *arrays, {"mode": "train"})[0])

    assert rel_error(dx, numeric_grad(lambda v: f(v, gamma, beta), x, dout, h=1e-5)) < 1e-6
    assert rel_error(dgamma, numeric_grad(lambda v: f(x, v, beta), gamma, dout, h=1e-5)) < 1e-7
    assert rel_error(dbeta, numeric_grad(lambda v: f(x, gamma, v), beta, dout, h=1e-5)) < 1e-7


def test_batchnorm_test_mode_backward_numeric(xp, rng):
    x, gamma, beta, dout = _data(rng, (5, 3), (3,))
    param = {"mode": "test", "running_mean": xp.asarray(rng.standard_normal(3)),
             "running_var": xp.asarray(rng.random(3) + 0.5)}
    _, cache = batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(xp.asarray(dout), cache)
        f = lambda v: to_numpy(batchnorm_forward(xp.asarray(v.copy()), xp.asarray(gamma),  # noqa: E731
                                                 xp.asarray(beta), param)[0])
        assert rel_error(dx, numeric_grad(f, x, dout, h=1e-5)) < 1e-6


def test_batchnorm_backward_alt_matches_graph_version(xp, rng):
    x, gamma, beta, dout = _data(rng, (50, 7), (7,))
    _, cache = batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), {"mode": "train"})
    graph = batchnorm_backward(xp.asarray(dout), cache)
    closed = batchnorm_backward_alt(xp.asarray(dout), cache)
    for a, b in zip(graph, closed):
        assert rel_error(a, b) < 1e-12


# --------------------------------------------------------------------------- dtypes and parity
@pytest.mark.parametrize("name,forward,backward,x_shape,g_shape", LAYERS, ids=LAYER_IDS)
def test_float32_stays_float32(xp, rng, name, forward, backward, x_shape, g_shape):
    x, gamma, beta, dout = (xp.asarray(a) for a in _data(rng, x_shape, g_shape, np.float32))
    param = {"mode": "train"}
    out, cache = forward(xp, x, gamma, beta, param)
    assert out.dtype == xp.float32
    assert all(g.dtype == xp.float32 for g in backward(dout, cache))
    if "running_mean" in param:
        assert param["running_mean"].dtype == xp.float32 and param["running_var"].dtype == xp.float32


@pytest.mark.parametrize("name,forward,backward,x_shape,g_shape", LAYERS, ids=LAYER_IDS)
def test_backend_parity_with_numpy(xp, rng, name, forward, backward, x_shape, g_shape):
    arrays = _data(rng, x_shape, g_shape)
    ref_param, param = {"mode": "train"}, {"mode": "train"}
    out_ref, cache_ref = forward(np_xp, *(np_xp.asarray(a) for a in arrays[:3]), ref_param)
    out, cache = forward(xp, *(xp.asarray(a) for a in arrays[:3]), param)
    assert_namespace(out, xp)
    assert rel_error(out, out_ref) < 1e-10
    for g, g_ref in zip(backward(xp.asarray(arrays[3]), cache), backward(arrays[3], cache_ref)):
        assert rel_error(g, g_ref) < 1e-10
    for key in ("running_mean", "running_var"):
        if key in ref_param:
            assert_namespace(param[key], xp)
            assert rel_error(param[key], ref_param[key]) < 1e-10


# --------------------------------------------------------------------------- batchnorm semantics
def test_batchnorm_train_normalizes_with_biased_variance_and_eps(xp, rng):
    x, gamma, beta, _ = _data(rng, (8, 3), (3,))
    out, _ = batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), {"mode": "train"})
    expected = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5) + beta
    assert rel_error(out, expected) < 1e-12


def test_batchnorm_running_stats_written_back(xp, rng):
    x, gamma, beta, _ = _data(rng, (8, 3), (3,))
    param = {"mode": "train", "momentum": 0.8}
    batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    assert rel_error(param["running_mean"], 0.2 * x.mean(axis=0)) < 1e-12
    assert rel_error(param["running_var"], 0.2 * x.var(axis=0)) < 1e-12
    first_mean = to_numpy(param["running_mean"]).copy()
    batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    assert rel_error(param["running_mean"], 0.8 * first_mean + 0.2 * x.mean(axis=0)) < 1e-12
    assert_namespace(param["running_mean"], xp)


def test_batchnorm_test_mode_writes_default_zero_stats(xp, rng):
    x, gamma, beta, _ = _data(rng, (4, 3), (3,))
    param = {"mode": "test"}
    out, _ = batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    assert np.all(to_numpy(param["running_mean"]) == 0) and np.all(to_numpy(param["running_var"]) == 0)
    assert param["running_mean"].shape == (3,)
    assert rel_error(out, gamma * x / np.sqrt(1e-5) + beta) < 1e-12


def test_batchnorm_train_then_test(xp):
    np.random.seed(231)
    N, D = 200, 3
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0, 4.0])
    param = {"mode": "train"}
    for _ in range(60):
        x = 3.0 * np.random.randn(N, D) + 5.0
        batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    assert np.allclose(to_numpy(param["running_mean"]), 5.0, atol=0.5)
    assert np.allclose(to_numpy(param["running_var"]), 9.0, atol=1.5)
    param["mode"] = "test"
    x = 3.0 * np.random.randn(2000, D) + 5.0
    out = to_numpy(batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)[0])
    assert np.allclose(out.mean(axis=0), beta, atol=0.15 * gamma.max())
    assert np.allclose(out.std(axis=0), gamma, rtol=0.1)


def test_batchnorm_missing_mode_keyerror(xp):
    with pytest.raises(KeyError, match="mode"):
        batchnorm_forward(xp.ones((2, 3)), xp.ones(3), xp.zeros(3), {})


@pytest.mark.parametrize("forward", [batchnorm_forward, spatial_batchnorm_forward])
def test_batchnorm_invalid_mode(xp, forward):
    shape = (2, 3) if forward is batchnorm_forward else (2, 3, 2, 2)
    with pytest.raises(ValueError, match='Invalid forward batchnorm mode "eval"'):
        forward(xp.ones(shape), xp.ones(3), xp.zeros(3), {"mode": "eval"})


# --------------------------------------------------------------------------- layernorm / spatial semantics
def test_layernorm_normalizes_rows_and_ignores_mode(xp, rng):
    x, _, _, _ = _data(rng, (4, 6), (6,))
    ones, zeros = xp.ones(6, dtype=xp.float64), xp.zeros(6, dtype=xp.float64)
    out, _ = layernorm_forward(xp.asarray(x), ones, zeros, {"mode": "train"})
    out_test, _ = layernorm_forward(xp.asarray(x), ones, zeros, {"mode": "test", "eps": 1e-5})
    expected = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)
    assert rel_error(out, expected) < 1e-12
    assert rel_error(out_test, out) == 0.0


def test_spatial_batchnorm_per_channel_stats(xp, rng):
    x, gamma, beta, _ = _data(rng, (3, 2, 4, 5), (2,))
    param = {"mode": "train"}
    out, _ = spatial_batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), param)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    expected = gamma[None, :, None, None] * (x - mean) / np.sqrt(var + 1e-5) + beta[None, :, None, None]
    assert rel_error(out, expected) < 1e-12
    assert param["running_mean"].shape == (2,)
    assert rel_error(param["running_var"], 0.1 * var.ravel()) < 1e-12


@pytest.mark.parametrize("G", [1, 2, 3, 6])
def test_groupnorm_normalizes_each_group(xp, rng, G):
    x, _, _, _ = _data(rng, (2, 6, 3, 2), (1, 6, 1, 1))
    ones, zeros = xp.ones((1, 6, 1, 1), dtype=xp.float64), xp.zeros((1, 6, 1, 1), dtype=xp.float64)
    out, _ = spatial_groupnorm_forward(xp.asarray(x), ones, zeros, G, {})
    grouped = x.reshape(2, G, -1)
    expected = (grouped - grouped.mean(axis=2, keepdims=True)) / np.sqrt(grouped.var(axis=2, keepdims=True) + 1e-5)
    assert rel_error(out, expected.reshape(x.shape)) < 1e-12


@pytest.mark.parametrize("G", [2, 3])
def test_groupnorm_gradient_numeric_other_shape(xp, rng, G):
    x, gamma, beta, dout = _data(rng, (2, 6, 2, 2), (1, 6, 1, 1))
    _, cache = spatial_groupnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), G, {"eps": 1e-3})
    dx, _, _ = spatial_groupnorm_backward(xp.asarray(dout), cache)
    f = lambda v: to_numpy(spatial_groupnorm_forward(xp.asarray(v.copy()), xp.asarray(gamma),  # noqa: E731
                                                     xp.asarray(beta), G, {"eps": 1e-3})[0])
    assert rel_error(dx, numeric_grad(f, x, dout, h=1e-5)) < 1e-6


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("forward,x_shape,g_shape", [
    (batchnorm_forward, (4, 3), (4,)), (batchnorm_forward, (4, 3), (1, 3)),
    (layernorm_forward, (4, 3), (4,)), (spatial_batchnorm_forward, (2, 3, 2, 2), (1, 3, 1, 1))])
def test_gamma_shape_mismatch(xp, forward, x_shape, g_shape):
    with pytest.raises(ValueError, match=f"{forward.__name__}: gamma must have shape"):
        forward(xp.ones(x_shape), xp.ones(g_shape), xp.zeros(g_shape), {"mode": "train"})


def test_groupnorm_gamma_shape_must_be_1c11(xp):
    with pytest.raises(ValueError, match=r"spatial_groupnorm_forward: gamma must have shape \(1, 4, 1, 1\)"):
        spatial_groupnorm_forward(xp.ones((2, 4, 2, 2)), xp.ones(4), xp.zeros(4), 2, {})


@pytest.mark.parametrize("G", [3, 0, 5])
def test_groupnorm_G_must_divide_C(xp, G):
    with pytest.raises(ValueError, match="spatial_groupnorm_forward: G"):
        spatial_groupnorm_forward(xp.ones((2, 4, 2, 2)), xp.ones((1, 4, 1, 1)), xp.zeros((1, 4, 1, 1)), G, {})


@pytest.mark.parametrize("forward,x_shape", [(batchnorm_forward, (2, 3, 1)), (layernorm_forward, (6,)),
                                             (spatial_batchnorm_forward, (2, 3)),
                                             (spatial_groupnorm_forward, (2, 3, 4))])
def test_wrong_rank(xp, forward, x_shape):
    args = (xp.ones(x_shape), xp.ones(3), xp.zeros(3))
    extra = (1, {}) if forward is spatial_groupnorm_forward else ({"mode": "train"},)
    with pytest.raises(ValueError, match=f"{forward.__name__}: x must be"):
        forward(*args, *extra)


def test_running_stat_shape_mismatch(xp):
    param = {"mode": "train", "running_mean": xp.zeros(4, dtype=xp.float64)}
    with pytest.raises(ValueError, match="running_mean"):
        batchnorm_forward(xp.ones((2, 3)), xp.ones(3), xp.zeros(3), param)


def test_backward_dout_shape_mismatch(xp):
    _, cache = batchnorm_forward(xp.ones((2, 3)), xp.ones(3), xp.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="batchnorm_backward: dout"):
        batchnorm_backward(xp.ones((3, 2)), cache)


def test_mixed_namespaces_type_error():
    import array_api_strict as strict
    with pytest.raises(TypeError, match="mixed array namespaces"):
        batchnorm_forward(np.ones((2, 3)), strict.ones(3), strict.zeros(3), {"mode": "train"})
    with pytest.raises(TypeError, match="mixed array namespaces"):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3),
                          {"mode": "train", "running_mean": strict.zeros(3, dtype=strict.float64)})
