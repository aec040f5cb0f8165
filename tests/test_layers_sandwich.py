"""Sandwich layers: float64 gradient checks on every backend, cache structure, backend parity."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend
from xnn.layers import sandwich as sw

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _fc_inputs(rng, norm: bool):
    x = rng.standard_normal((4, 2, 3))
    w = rng.standard_normal((6, 5)) * 0.5
    b = rng.standard_normal(5) * 0.1
    arrays = [x, w, b]
    if norm:
        arrays += [1 + 0.1 * rng.standard_normal(5), 0.1 * rng.standard_normal(5)]
    return arrays


def _conv_inputs(rng, norm: bool):
    x = rng.standard_normal((2, 2, 4, 4))
    w = rng.standard_normal((4, 2, 3, 3)) * 0.3
    b = rng.standard_normal(4) * 0.1
    arrays = [x, w, b]
    if norm:
        arrays += [1 + 0.1 * rng.standard_normal(4), 0.1 * rng.standard_normal(4)]
    return arrays


# name -> (input maker, uses norm params, extra (non-array) args factory)
CASES = {
    "affine_relu": (_fc_inputs, False, lambda: ()),
    "affine_bn_relu": (_fc_inputs, True, lambda: ({"mode": "train"},)),
    "affine_ln_relu": (_fc_inputs, True, lambda: ({},)),
    "conv_relu": (_conv_inputs, False, lambda: (dict(CONV),)),
    "conv_relu_pool": (_conv_inputs, False, lambda: (dict(CONV), dict(POOL))),
    "conv_bn_relu": (_conv_inputs, True, lambda: (dict(CONV), {"mode": "train"})),
}


def _run(xp, name, arrays, extra):
    fwd = getattr(sw, f"{name}_forward")
    return fwd(*[xp.asarray(a) for a in arrays], *extra)


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_every_backend(name, xp, rng):
    make, norm, extra = CASES[name]
    arrays = make(rng, norm)
    out, cache = _run(xp, name, arrays, extra())
    assert_namespace(out, xp)
    dout = rng.standard_normal(tuple(out.shape))
    grads = getattr(sw, f"{name}_backward")(xp.asarray(dout), cache)
    assert len(grads) == len(arrays)
    for i, (a, g) in enumerate(zip(arrays, grads)):
        assert_namespace(g, xp)
        assert tuple(g.shape) == a.shape and g.dtype == xp.float64

        def f(v, i=i):
            vals = [v if j == i else arrays[j] for j in range(len(arrays))]
            return backend.to_numpy(_run(xp, name, vals, extra())[0])

        num = numeric_grad(f, a.copy(), dout)
        if np.max(np.abs(num)) < 1e-6:  # the bias before a batchnorm has no effect at all
            assert np.max(np.abs(backend.to_numpy(g))) < 1e-10, f"{name}: gradient {i}"
        else:
            assert rel_error(g, num) < 1e-6, f"{name}: gradient {i}"


@pytest.mark.parametrize("name", list(CASES))
def test_backend_parity(name, xp, rng):
    import array_api_compat.numpy as np_compat
    make, norm, extra = CASES[name]
    arrays = make(rng, norm)
    dout = None
    results = []
    for ns in (np_compat, xp):
        out, cache = _run(ns, name, arrays, extra())
        if dout is None:
            dout = rng.standard_normal(tuple(out.shape))
        grads = getattr(sw, f"{name}_backward")(ns.asarray(dout), cache)
        results.append([backend.to_numpy(out)] + [backend.to_numpy(g) for g in grads])
    for a, b in zip(*results):
        # Relative to each result's scale: after batchnorm the conv bias gradient sums to zero, and
        # its ~1e-15 leftovers differ with the summation order of each backend.
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name, xp, rng):
    make, norm, extra = CASES[name]
    arrays = [a.astype(np.float32) for a in make(rng, norm)]
    out, cache = _run(xp, name, arrays, extra())
    grads = getattr(sw, f"{name}_backward")(out * 0 + 1, cache)
    assert out.dtype == xp.float32
    assert all(g.dtype == xp.float32 for g in grads)


# --------------------------------------------------------------------------- caches
def test_affine_relu_cache_structure(rng):
    x, w, b = _fc_inputs(rng, False)
    out, cache = sw.affine_relu_forward(x, w, b)
    fc_cache, relu_cache = cache
    assert fc_cache[0] is x and fc_cache[1] is w and fc_cache[2] is b
    assert np.allclose(relu_cache, x.reshape(4, -1) @ w + b)  # relu cache: the affine output
    assert np.allclose(out, np.maximum(relu_cache, 0))


def test_affine_norm_cache_structures(rng):
    x, w, b, g, be = _fc_inputs(rng, True)
    bn_param = {"mode": "train"}
    out, cache = sw.affine_bn_relu_forward(x, w, b, g, be, bn_param)
    assert len(cache) == 3 and cache[0][0] is x
    assert "running_mean" in bn_param and "running_var" in bn_param  # written back in place
    db = sw.affine_bn_relu_backward(np.ones_like(out), cache)[2]
    assert np.max(np.abs(db)) < 1e-12  # batchnorm removes the bias
    _, cache = sw.affine_ln_relu_forward(x, w, b, g, be, {})
    assert len(cache) == 3 and cache[0][0] is x


def test_conv_cache_structures(rng):
    x, w, b = _conv_inputs(rng, False)
    out, (conv_cache, relu_cache) = sw.conv_relu_forward(x, w, b, dict(CONV))
    assert out.shape == (2, 4, 4, 4) and conv_cache[0] is x and conv_cache[1] is w
    assert relu_cache.shape == (2, 4, 4, 4)
    out, cache = sw.conv_relu_pool_forward(x, w, b, dict(CONV), dict(POOL))
    assert out.shape == (2, 4, 2, 2) and len(cache) == 3 and cache[0][0] is x
    assert np.allclose(out, sw.conv_relu_forward(x, w, b, dict(CONV))[0]
                       .reshape(2, 4, 2, 2, 2, 2).max(axis=(3, 5)))
    g, be = np.ones(4), np.zeros(4)
    bn_param = {"mode": "train"}
    out, cache = sw.conv_bn_relu_forward(x, w, b, g, be, dict(CONV), bn_param)
    assert len(cache) == 3 and cache[0][0] is x
    assert bn_param["running_mean"].shape == (4,)


def test_conv_relu_matches_affine_of_columns(rng):
    """An independent check of the forward: 1x1 conv == per-pixel affine, then ReLU."""
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((5, 3, 1, 1))
    b = rng.standard_normal(5)
    out, _ = sw.conv_relu_forward(x, w, b, {"stride": 1, "pad": 0})
    ref = np.maximum(np.einsum("nchw,fc->nfhw", x, w[:, :, 0, 0]) + b[None, :, None, None], 0)
    assert rel_error(out, ref) < 1e-12


def test_bad_input_propagates_clear_errors(rng):
    x, w, b = _fc_inputs(rng, False)
    with pytest.raises(ValueError, match="affine_forward"):
        sw.affine_relu_forward(x, w[:5], b)
    x, w, b = _conv_inputs(rng, False)
    with pytest.raises(ValueError, match="channels"):
        sw.conv_relu_forward(x, w[:, :1], b, dict(CONV))
