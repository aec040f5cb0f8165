"""Max-pool layers: notebook numbers, gradient checks, first-max ties, fast paths, backends, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend
from xnn.layers import pool

PAIRS = {
    "naive": (pool.max_pool_forward_naive, pool.max_pool_backward_naive),
    "fast": (pool.max_pool_forward_fast, pool.max_pool_backward_fast),
    "reshape": (pool.max_pool_forward_reshape, pool.max_pool_backward_reshape),
    "im2col": (pool.max_pool_forward_im2col, pool.max_pool_backward_im2col),
}
ANY_GEOMETRY = ["naive", "fast", "im2col"]
# (x_shape, pool_height, pool_width, stride)
GEOMETRIES = [
    ((2, 3, 8, 8), 2, 2, 2),   # tiling (reshape path)
    ((2, 2, 9, 9), 3, 3, 2),   # overlapping 3x3 stride 2
    ((1, 2, 6, 7), 2, 2, 1),   # overlapping 2x2 stride 1
    ((2, 1, 7, 9), 2, 3, 2),   # non-square window
    ((1, 2, 9, 10), 3, 2, 3),  # floor-cropped
    ((1, 2, 5, 5), 2, 2, 2),   # 2x2 s2 that does not tile (im2col path)
]

NOTEBOOK_OUT = np.array([
    [[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
     [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
     [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
    [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
     [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
     [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])


def param(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


def distinct_values(rng, shape):
    """Values at least 0.01 apart, so a 1e-6 perturbation never changes which element is the max."""
    return (rng.permutation(int(np.prod(shape))) * 0.01 - 1.0).reshape(shape)


def pool_numpy_loop(x, ph, pw, s):
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("name", list(PAIRS))
def test_notebook_forward_numbers(xp, name):
    x = np.linspace(-0.3, 0.4, num=96).reshape(2, 3, 4, 4)
    out, _ = PAIRS[name][0](xp.asarray(x), param(2, 2, 2))
    assert_namespace(out, xp)
    assert rel_error(out, NOTEBOOK_OUT) < 1e-7
    assert rel_error(out, pool_numpy_loop(x, 2, 2, 2)) == 0.0


@pytest.mark.parametrize("generic", [False, True], ids=["dispatch", "generic"])
@pytest.mark.parametrize("name", ["fast", "im2col"])
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_fast_matches_naive(xp, rng, monkeypatch, geom, name, generic):
    if generic:
        monkeypatch.setenv("XNN_KERNELS", "generic")
    x_shape, ph, pw, s = geom
    x = xp.asarray(rng.standard_normal(x_shape))
    out_n, cache_n = pool.max_pool_forward_naive(x, param(ph, pw, s))
    out_f, cache_f = PAIRS[name][0](x, param(ph, pw, s))
    assert_namespace(out_f, xp)
    assert rel_error(out_f, pool_numpy_loop(backend.to_numpy(x), ph, pw, s)) == 0.0
    assert rel_error(out_f, out_n) == 0.0
    dout = xp.asarray(rng.standard_normal(tuple(out_n.shape)))
    dx_n = pool.max_pool_backward_naive(dout, cache_n)
    dx_f = PAIRS[name][1](dout, cache_f)
    assert_namespace(dx_f, xp)
    assert rel_error(dx_f, dx_n) < 1e-14


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("geom", [((2, 2, 4, 6), 2, 2, 2), ((1, 2, 7, 7), 3, 3, 2), ((1, 2, 4, 5), 2, 2, 1)])
def test_numerical_gradient(xp, rng, name, geom):
    x_shape, ph, pw, s = geom
    if name == "reshape" and not (ph == pw == s):
        pytest.skip("reshape needs a tiling pool")
    forward, backward = PAIRS[name]
    x = distinct_values(rng, x_shape)
    out, cache = forward(xp.asarray(x), param(ph, pw, s))
    dout = rng.standard_normal(tuple(out.shape))
    dx = backward(xp.asarray(dout), cache)
    num = numeric_grad(lambda v: backend.to_numpy(forward(xp.asarray(v), param(ph, pw, s))[0]), x, dout)
    assert rel_error(dx, num) < 1e-8


@pytest.mark.parametrize("name", list(PAIRS))
def test_ties_route_to_first_maximum(xp, name):
    x = xp.ones((2, 3, 4, 4))
    out, cache = PAIRS[name][0](x, param(2, 2, 2))
    dx = backend.to_numpy(PAIRS[name][1](xp.ones(tuple(out.shape)), cache))
    expected = np.zeros((2, 3, 4, 4))
    expected[:, :, ::2, ::2] = 1.0  # top-left of each window, the whole gradient (no splitting)
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("name", ANY_GEOMETRY)
def test_overlapping_ties_accumulate_at_first_maximum(xp, name):
    x = xp.zeros((1, 1, 5, 5))
    out, cache = PAIRS[name][0](x, param(3, 3, 2))
    dx = backend.to_numpy(PAIRS[name][1](xp.ones(tuple(out.shape)), cache))
    expected = np.zeros((1, 1, 5, 5))
    expected[0, 0, 0:3:2, 0:3:2] = 1.0
    np.testing.assert_array_equal(dx, expected)


def test_fast_chooses_path_by_geometry():
    x8, x5 = np.ones((1, 1, 8, 8)), np.ones((1, 1, 5, 5))
    assert pool.max_pool_forward_fast(x8, param(2, 2, 2))[1][0] == "reshape"
    assert pool.max_pool_forward_fast(x5, param(2, 2, 2))[1][0] == "im2col"
    assert pool.max_pool_forward_fast(x8, param(3, 3, 2))[1][0] == "im2col"
    assert pool.max_pool_forward_fast(x8, param(2, 4, 2))[1][0] == "im2col"


def test_unknown_fast_tag_is_a_value_error():
    _, (_, inner) = pool.max_pool_forward_fast(np.ones((1, 1, 4, 4)), param(2, 2, 2))
    with pytest.raises(ValueError, match='^Unrecognized method "bogus"$'):
        pool.max_pool_backward_fast(np.ones((1, 1, 2, 2)), ("bogus", inner))


@pytest.mark.parametrize("geom", [((1, 1, 5, 5), 2, 2, 2), ((1, 1, 8, 8), 3, 3, 2), ((1, 1, 8, 8), 2, 4, 2)])
def test_reshape_rejects_non_tiling_geometry(geom):
    x_shape, ph, pw, s = geom
    with pytest.raises(ValueError, match=rf"max_pool_forward_reshape: .*pool {ph}x{pw} stride {s}"):
        pool.max_pool_forward_reshape(np.ones(x_shape), param(ph, pw, s))


@pytest.mark.parametrize("name", list(PAIRS))
def test_backend_parity_with_numpy(xp, rng, name):
    x = rng.standard_normal((2, 3, 6, 8))
    forward, backward = PAIRS[name]
    out_ref, cache_ref = forward(x, param(2, 2, 2))
    out, cache = forward(xp.asarray(x), param(2, 2, 2))
    assert rel_error(out, out_ref) < 1e-10
    dout = rng.standard_normal(out_ref.shape)
    assert rel_error(backward(xp.asarray(dout), cache), backward(dout, cache_ref)) < 1e-10


@pytest.mark.parametrize("name", list(PAIRS))
def test_float32_stays_float32(xp, rng, name):
    x = xp.asarray(rng.standard_normal((2, 2, 4, 4)).astype(np.float32))
    out, cache = PAIRS[name][0](x, param(2, 2, 2))
    assert out.dtype == xp.float32
    assert PAIRS[name][1](xp.ones(tuple(out.shape), dtype=xp.float32), cache).dtype == xp.float32


@pytest.mark.parametrize("name", list(PAIRS))
def test_naive_cache_and_input_untouched(name):
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    pp = param(2, 2, 2)
    _, cache = PAIRS[name][0](x, pp)
    np.testing.assert_array_equal(x, np.arange(32.0).reshape(1, 2, 4, 4))
    if name == "naive":
        assert len(cache) == 2 and cache[0] is x and cache[1] is pp


BAD_INPUTS = [
    ("x rank", (3, 4, 4), param(2, 2, 2), ValueError, ["x", "4-D", "(3, 4, 4)"]),
    ("window too big", (1, 1, 3, 3), param(4, 2, 1), ValueError, ["pool window 4x2", "3x3"]),
    ("stride 0", (1, 1, 4, 4), param(2, 2, 0), ValueError, ["stride", "0"]),
    ("missing key", (1, 1, 4, 4), {"pool_height": 2, "stride": 2}, KeyError, ["pool_param", "'pool_width'"]),
]


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_named(xp, name, case):
    _, x_shape, pp, error, words = case
    forward = PAIRS[name][0]
    with pytest.raises(error) as info:
        forward(xp.ones(x_shape), pp)
    message = str(info.value)
    assert forward.__name__ in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("name", list(PAIRS))
def test_backward_rejects_wrong_dout_shape(xp, name):
    _, cache = PAIRS[name][0](xp.ones((2, 3, 4, 4)), param(2, 2, 2))
    with pytest.raises(ValueError, match=rf"{PAIRS[name][1].__name__}: dout must have shape \(2, 3, 2, 2\)"):
        PAIRS[name][1](xp.ones((2, 3, 2, 3)), cache)
