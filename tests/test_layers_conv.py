"""Convolution layers: notebook numbers, gradient checks, fast == naive, backends, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace, numeric_grad, rel_error

from xnn import backend, kernels
from xnn import layers as conv

FAST_PAIRS = [
    (conv.conv_forward_fast, conv.conv_backward_fast),
    (conv.conv_forward_strides, conv.conv_backward_strides),
    (conv.conv_forward_im2col, conv.conv_backward_im2col),
]
PAIR_IDS = ["fast", "strides", "im2col"]
# (x_shape, w_shape, stride, pad): non-square filters, strides that do not divide, pad 0..3.
GEOMETRIES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
    ((2, 2, 9, 11), (3, 2, 3, 5), 2, 1),
    ((1, 3, 10, 8), (2, 3, 5, 2), 3, 2),
    ((2, 1, 6, 5), (3, 1, 2, 2), 2, 0),
    ((2, 2, 8, 9), (2, 2, 3, 5), 3, 3),
    ((1, 2, 5, 7), (3, 2, 1, 1), 1, 0),
]

NOTEBOOK_OUT = np.array([
    [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
     [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
     [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
    [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
     [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
     [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])


def make_inputs(rng, x_shape, w_shape, dtype=np.float64):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


def conv_numpy_loop(x, w, b, stride, pad):
    """Independent reference: plain NumPy loops over every output element's window."""
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    win = xpad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(win * w[f]) + b[f]
    return out


@pytest.mark.parametrize("forward", [conv.conv_forward_naive] + [p[0] for p in FAST_PAIRS])
def test_notebook_forward_numbers(xp, forward):
    x = np.linspace(-0.1, 0.5, num=96).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=144).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    out, _ = forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), {"stride": 2, "pad": 1})
    assert_namespace(out, xp)
    assert rel_error(out, NOTEBOOK_OUT) < 1e-7
    assert rel_error(out, conv_numpy_loop(x, w, b, 2, 1)) < 1e-12


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_naive_forward_matches_numpy_loop(xp, rng, geom):
    x_shape, w_shape, stride, pad = geom
    x, w, b = make_inputs(rng, x_shape, w_shape)
    out, cache = conv.conv_forward_naive(xp.asarray(x), xp.asarray(w), xp.asarray(b),
                                         {"stride": stride, "pad": pad})
    assert rel_error(out, conv_numpy_loop(x, w, b, stride, pad)) < 1e-12
    assert len(cache) == 4


@pytest.mark.parametrize("generic", [False, True], ids=["dispatch", "generic"])
@pytest.mark.parametrize("pair", FAST_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("geom", GEOMETRIES)
def test_fast_matches_naive(xp, rng, monkeypatch, geom, pair, generic):
    if generic:
        monkeypatch.setenv("XNN_KERNELS", "generic")
    x_shape, w_shape, stride, pad = geom
    x, w, b = (xp.asarray(a) for a in make_inputs(rng, x_shape, w_shape))
    cp = {"stride": stride, "pad": pad}
    out_n, cache_n = conv.conv_forward_naive(x, w, b, cp)
    out_f, cache_f = pair[0](x, w, b, cp)
    assert_namespace(out_f, xp)
    assert rel_error(out_f, out_n) < 1e-12
    dout = xp.asarray(rng.standard_normal(tuple(out_n.shape)))
    for g_n, g_f in zip(conv.conv_backward_naive(dout, cache_n), pair[1](dout, cache_f)):
        assert_namespace(g_f, xp)
        assert tuple(g_f.shape) == tuple(g_n.shape)
        assert rel_error(g_f, g_n) < 1e-10


@pytest.mark.parametrize("backward", ["naive", "fast"])
def test_numerical_gradients(xp, rng, backward):
    x, w, b = make_inputs(rng, (2, 2, 5, 6), (3, 2, 3, 2))
    cp = {"stride": 2, "pad": 1}
    forward, back = ((conv.conv_forward_naive, conv.conv_backward_naive) if backward == "naive"
                     else (conv.conv_forward_fast, conv.conv_backward_fast))
    out, cache = forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), cp)
    dout = rng.standard_normal(tuple(out.shape))
    dx, dw, db = back(xp.asarray(dout), cache)

    def run(x_, w_, b_):
        return backend.to_numpy(forward(xp.asarray(x_), xp.asarray(w_), xp.asarray(b_), cp)[0])

    assert rel_error(dx, numeric_grad(lambda v: run(v, w, b), x, dout)) < 1e-8
    assert rel_error(dw, numeric_grad(lambda v: run(x, v, b), w, dout)) < 1e-8
    assert rel_error(db, numeric_grad(lambda v: run(x, w, v), b, dout)) < 1e-8


@pytest.mark.parametrize("pair", [(conv.conv_forward_naive, conv.conv_backward_naive)] + FAST_PAIRS,
                         ids=["naive"] + PAIR_IDS)
def test_backend_parity_with_numpy(xp, rng, pair):
    x, w, b = make_inputs(rng, (2, 3, 8, 7), (4, 3, 3, 5))
    cp = {"stride": 2, "pad": 2}
    out_ref, cache_ref = pair[0](x, w, b, cp)
    out, cache = pair[0](xp.asarray(x), xp.asarray(w), xp.asarray(b), cp)
    assert rel_error(out, out_ref) < 1e-10
    dout = rng.standard_normal(out_ref.shape)
    for g, g_ref in zip(pair[1](xp.asarray(dout), cache), pair[1](dout, cache_ref)):
        assert rel_error(g, g_ref) < 1e-10


@pytest.mark.parametrize("pair", [(conv.conv_forward_naive, conv.conv_backward_naive)] + FAST_PAIRS,
                         ids=["naive"] + PAIR_IDS)
def test_dtypes_float32_stays_and_mixed_upcasts(xp, rng, pair):
    x, w, b = make_inputs(rng, (2, 2, 5, 5), (3, 2, 3, 3), np.float32)
    cp = {"stride": 1, "pad": 1}
    out, cache = pair[0](xp.asarray(x), xp.asarray(w), xp.asarray(b), cp)
    assert out.dtype == xp.float32
    grads = pair[1](xp.ones(tuple(out.shape), dtype=xp.float32), cache)
    assert all(g.dtype == xp.float32 for g in grads)
    # ThreeLayerConvNet passes float64 images to float32 weights: the result upcasts.
    out64, cache64 = pair[0](xp.asarray(x.astype(np.float64)), xp.asarray(w), xp.asarray(b), cp)
    assert out64.dtype == xp.float64
    assert rel_error(out64, out) < 1e-4
    grads = pair[1](xp.ones(tuple(out64.shape), dtype=xp.float64), cache64)
    assert all(g.dtype == xp.float64 for g in grads)


def test_caches_output_layout_and_input_untouched(rng):
    x, w, b = make_inputs(rng, (2, 3, 6, 6), (4, 3, 3, 3))
    x_copy = x.copy()
    cp = {"stride": 1, "pad": 1}
    out, cache = conv.conv_forward_naive(x, w, b, cp)
    assert len(cache) == 4 and cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is cp
    out, cache = conv.conv_forward_fast(x, w, b, cp)
    assert len(cache) == 5 and cache[0] is x and cache[3] is cp
    # x_cols belongs to the kernel that ran the forward pass (its layout is that kernel's business).
    assert isinstance(cache[4], kernels.ConvColumns)
    assert cache[4].producer == kernels.op_path("conv_forward", backend.namespace(x))
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(x, x_copy)
    # The three fast pairs share a cache layout.
    np.testing.assert_allclose(conv.conv_backward_im2col(out, cache)[0], conv.conv_backward_fast(out, cache)[0])


BAD_INPUTS = [
    # (description, x_shape, w_shape, b_shape, conv_param, error, words in the message)
    ("x rank", (3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1, "pad": 1}, ValueError, ["x", "4-D", "(3, 8, 8)"]),
    ("w rank", (1, 3, 8, 8), (2, 27), (2,), {"stride": 1, "pad": 1}, ValueError, ["w", "(2, 27)"]),
    ("channels", (1, 3, 8, 8), (2, 4, 3, 3), (2,), {"stride": 1, "pad": 1}, ValueError, ["channels", "(2, 4, 3, 3)"]),
    ("filter too big", (1, 3, 4, 4), (2, 3, 7, 7), (2,), {"stride": 1, "pad": 1}, ValueError, ["filter 7x7", "6x6"]),
    ("stride 0", (1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 0, "pad": 1}, ValueError, ["stride", "0"]),
    ("negative pad", (1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1, "pad": -1}, ValueError, ["pad"]),
    ("missing key", (1, 3, 8, 8), (2, 3, 3, 3), (2,), {"stride": 1}, KeyError, ["conv_param", "'pad'"]),
    ("b shape", (1, 3, 8, 8), (2, 3, 3, 3), (3,), {"stride": 1, "pad": 1}, ValueError, ["b", "(2,)", "(3,)"]),
]


@pytest.mark.parametrize("forward", [conv.conv_forward_naive] + [p[0] for p in FAST_PAIRS])
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_named(xp, forward, case):
    _, x_shape, w_shape, b_shape, cp, error, words = case
    x, w, b = xp.ones(x_shape), xp.ones(w_shape), xp.ones(b_shape)
    with pytest.raises(error) as info:
        forward(x, w, b, cp)
    message = str(info.value)
    assert forward.__name__ in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("pair", [(conv.conv_forward_naive, conv.conv_backward_naive)] + FAST_PAIRS,
                         ids=["naive"] + PAIR_IDS)
def test_backward_rejects_wrong_dout_shape(xp, pair):
    _, cache = pair[0](xp.ones((2, 3, 6, 6)), xp.ones((4, 3, 3, 3)), xp.ones(4), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"conv_backward_\w+: dout must have shape \(2, 4, 6, 6\)"):
        pair[1](xp.ones((2, 4, 5, 6)), cache)


def test_mixed_namespaces_are_a_type_error():
    import array_api_strict
    with pytest.raises(TypeError, match="mixed array namespaces"):
        conv.conv_forward_fast(np.ones((1, 1, 3, 3)), array_api_strict.ones((1, 1, 2, 2)), np.ones(1),
                               {"stride": 1, "pad": 0})
