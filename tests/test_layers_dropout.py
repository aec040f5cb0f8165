"""dropout_forward/backward (p = keep probability) on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn.backend import to_numpy
from xnn.layers.dropout import _dropout_mask, apply_dropout, dropout_backward, dropout_forward


def _cs231n_mask(shape, p, seed):
    """What cs231n computes: reseed, rand(*shape) < p, scaled by 1/p (float64)."""
    np.random.seed(seed)
    return (np.random.rand(*shape) < p) / p


# --------------------------------------------------------------------------- train / test behaviour
@pytest.mark.parametrize("p", [0.25, 0.4, 0.7])
def test_keep_rate_and_inverted_scaling(xp, p):
    np.random.seed(231)
    x = np.random.randn(300, 300) + 10
    out, (param, mask) = dropout_forward(xp.asarray(x), {"mode": "train", "p": p})
    assert_namespace(out, xp)
    assert_namespace(mask, xp)
    out_np, mask_np = to_numpy(out), to_numpy(mask)
    assert abs(np.mean(out_np != 0) - p) < 0.01
    # inverted dropout keeps the mean: allow 6 standard errors of the mean of x * mask
    assert abs(out_np.mean() - x.mean()) < 6 * np.sqrt(np.mean(x**2) * (1 - p) / p / x.size)
    kept = mask_np != 0
    np.testing.assert_allclose(mask_np[kept], 1.0 / p, rtol=1e-6)  # the GPU mask is float32
    assert np.array_equal(kept, out_np != 0)
    np.testing.assert_allclose(out_np, x * mask_np, rtol=1e-15)


def test_test_mode_is_identity(xp, rng):
    x = xp.asarray(rng.standard_normal((4, 5)))
    param = {"mode": "test", "p": 0.3}
    out, cache = dropout_forward(x, param)
    assert out is x
    assert cache[0] is param and cache[1] is None and len(cache) == 2
    dout = xp.asarray(rng.standard_normal((4, 5)))
    assert dropout_backward(dout, cache) is dout


def test_keep_all_with_p_one(xp, rng):
    x = rng.standard_normal((3, 4))
    out, _ = dropout_forward(xp.asarray(x), {"mode": "train", "p": 1.0})
    assert rel_error(out, x) == 0.0


def test_cache_is_param_and_mask(xp, rng):
    param = {"mode": "train", "p": 0.5, "seed": 1}
    _, cache = dropout_forward(xp.asarray(rng.standard_normal((2, 3))), param)
    assert isinstance(cache, tuple) and len(cache) == 2 and cache[0] is param
    assert cache[1].shape == (2, 3)


# --------------------------------------------------------------------------- seeded draws (cs231n fidelity)
@pytest.mark.parametrize("shape,p,seed", [((4, 5), 0.3, 123), ((2, 3, 4), 0.8, 0), ((10,), 0.5, 231)])
def test_seeded_mask_matches_cs231n_draw(xp, rng, shape, p, seed):
    x = rng.standard_normal(shape)
    expected = _cs231n_mask(shape, p, seed)
    out, (_, mask) = dropout_forward(xp.asarray(x), {"mode": "train", "p": p, "seed": seed})
    np.testing.assert_array_equal(to_numpy(mask), expected)
    np.testing.assert_array_equal(to_numpy(out), x * expected)
    assert mask.dtype == xp.float64


@pytest.mark.parametrize("mode", ["train", "test"])
def test_seed_reseeds_global_rng(xp, mode):
    shape, seed = (3, 7), 42
    np.random.seed(seed)
    if mode == "train":
        np.random.rand(*shape)
    expected_next = np.random.rand(5)
    np.random.seed(999)
    dropout_forward(xp.asarray(np.ones(shape)), {"mode": mode, "p": 0.5, "seed": seed})
    np.testing.assert_array_equal(np.random.rand(5), expected_next)


def test_shared_seeded_param_repeats_the_mask(xp):
    param = {"mode": "train", "p": 0.5, "seed": 7}
    x = xp.asarray(np.ones((6, 6)))
    _, (_, m1) = dropout_forward(x, param)
    _, (_, m2) = dropout_forward(x, param)
    np.testing.assert_array_equal(to_numpy(m1), to_numpy(m2))


def test_unseeded_follows_global_rng_on_host_backends(xp):
    if not (xp.__name__.endswith("numpy") or xp.__name__ == "array_api_strict"):
        pytest.skip("the GPU draws from cupy.random")
    np.random.seed(5)
    expected = (np.random.rand(4, 4) < 0.6) / 0.6
    np.random.seed(5)
    _, (_, mask) = dropout_forward(xp.asarray(np.ones((4, 4))), {"mode": "train", "p": 0.6})
    np.testing.assert_array_equal(to_numpy(mask), expected)


def test_dropout_mask_helper_serves_a_drop_probability_wrapper(xp, rng):
    x = xp.asarray(rng.standard_normal((5, 4)))
    drop = 0.25
    mask = _dropout_mask(x, 1 - drop, 3)
    np.testing.assert_array_equal(to_numpy(mask), _cs231n_mask((5, 4), 1 - drop, 3))
    out, (param, mask2) = apply_dropout("old_dropout", x, {"mode": "train", "p": drop, "seed": 3}, 1 - drop)
    np.testing.assert_array_equal(to_numpy(mask2), to_numpy(mask))
    assert param["p"] == drop


# --------------------------------------------------------------------------- gradients, dtypes, parity
def test_backward_numeric(xp, rng):
    x = rng.standard_normal((4, 6))
    dout = rng.standard_normal((4, 6))
    param = {"mode": "train", "p": 0.6, "seed": 11}
    _, cache = dropout_forward(xp.asarray(x), param)
    dx = dropout_backward(xp.asarray(dout), cache)
    assert_namespace(dx, xp)
    num = numeric_grad(lambda v: to_numpy(dropout_forward(xp.asarray(v.copy()), param)[0]), x, dout)
    assert rel_error(dx, num) < 1e-8
    assert np.all(to_numpy(dx)[to_numpy(cache[1]) == 0] == 0)


@pytest.mark.parametrize("seed", [None, 3])
def test_float32_stays_float32(xp, rng, seed):
    x = xp.asarray(rng.standard_normal((5, 5)).astype(np.float32))
    param = {"mode": "train", "p": 0.5}
    if seed is not None:
        param["seed"] = seed
    out, cache = dropout_forward(x, param)
    assert out.dtype == xp.float32
    assert dropout_backward(xp.ones((5, 5), dtype=xp.float32), cache).dtype == xp.float32


def test_backend_parity_with_numpy(xp, rng):
    x = rng.standard_normal((6, 7))
    dout = rng.standard_normal((6, 7))
    param = {"mode": "train", "p": 0.35, "seed": 17}
    out_ref, cache_ref = dropout_forward(x, dict(param))
    out, cache = dropout_forward(xp.asarray(x), dict(param))
    assert rel_error(out, out_ref) == 0.0
    assert rel_error(dropout_backward(xp.asarray(dout), cache), dropout_backward(dout, cache_ref)) == 0.0


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("param,missing", [({"mode": "train"}, "p"), ({"p": 0.5}, "mode")])
def test_missing_keys(xp, param, missing):
    with pytest.raises(KeyError, match=missing):
        dropout_forward(xp.ones((2, 2)), param)


def test_invalid_mode(xp):
    with pytest.raises(ValueError, match='dropout_forward: Invalid forward dropout mode "eval"'):
        dropout_forward(xp.ones((2, 2)), {"mode": "eval", "p": 0.5})


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, "half"])
def test_keep_probability_out_of_range(xp, p):
    with pytest.raises(ValueError, match="dropout_forward: .*p"):
        dropout_forward(xp.ones((2, 2)), {"mode": "train", "p": p})


def test_backward_dout_shape(xp):
    _, cache = dropout_forward(xp.ones((2, 3)), {"mode": "train", "p": 0.5, "seed": 0})
    with pytest.raises(ValueError, match="dropout_backward: dout"):
        dropout_backward(xp.ones((3, 2)), cache)


def test_non_array_input():
    with pytest.raises(TypeError, match="dropout_forward: x"):
        dropout_forward([1.0, 2.0], {"mode": "train", "p": 0.5})


def test_mixed_namespaces_in_backward():
    import array_api_strict as strict
    _, cache = dropout_forward(np.ones((2, 3)), {"mode": "train", "p": 0.5, "seed": 0})
    with pytest.raises(TypeError, match="mixed array namespaces"):
        dropout_backward(strict.ones((2, 3), dtype=strict.float64), cache)
