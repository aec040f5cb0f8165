"""Property tests (hypothesis) over random shapes, strides, pads, pool windows, dtypes and namespaces.

Valid inputs: output shapes follow the floor formulas, the fast layers equal the naive
references (forward and backward), and small float64 cases pass a numerical gradient check.
Invalid inputs: only the documented exceptions (ValueError, TypeError, KeyError), never a crash
elsewhere. Budgets: explicit ``max_examples`` and ``deadline=None``; each test takes a few
seconds at most on 2 cores.
"""

from __future__ import annotations

import math

import array_api_compat.numpy as np_compat
import array_api_strict
import numpy as np
from helpers import numeric_grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xnn import backend
from xnn import layers as L

NAMESPACES = st.sampled_from([np_compat, array_api_strict])
DTYPES = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: 2e-4, np.float64: 1e-10, "grad": 1e-7}
DOCUMENTED = (ValueError, TypeError, KeyError)


@st.composite
def conv_cases(draw, max_hw=7):
    """``(x, w, b, conv_param)`` host arrays of a valid convolution."""
    N, C, F = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    pad, stride = draw(st.integers(0, 2)), draw(st.integers(1, 3))
    HH, WW = draw(st.integers(1, H + 2 * pad)), draw(st.integers(1, W + 2 * pad))
    dtype = draw(DTYPES)
    r = np.random.default_rng(draw(st.integers(0, 2**16)))
    x, w, b = (r.standard_normal(s).astype(dtype) for s in ((N, C, H, W), (F, C, HH, WW), (F,)))
    return x, w, b, {"stride": stride, "pad": pad}


@st.composite
def pool_cases(draw):
    """``(x, pool_param)`` of a valid max-pool (distinct values: no ties)."""
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    ph, pw, s = draw(st.integers(1, H)), draw(st.integers(1, W)), draw(st.integers(1, 4))
    r = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = r.permutation(N * C * H * W).reshape(N, C, H, W).astype(draw(DTYPES)) / 7.0
    return x, {"pool_height": ph, "pool_width": pw, "stride": s}


def _host(a):
    return np.asarray(backend.to_numpy(a), dtype=np.float64)


def _grad_ok(analytic, numeric) -> None:
    """Analytic == numerical gradient up to finite-difference noise (relative to the largest entry)."""
    _close(analytic, numeric, "grad")


def _close(a, b, dtype) -> None:
    """Equal up to the dtype's rounding, relative to the largest magnitude (sums cancel to ~0)."""
    a, b = _host(a), _host(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=TOL[dtype], atol=TOL[dtype] * max(1.0, float(np.abs(b).max(initial=0))))


@settings(max_examples=100, deadline=None)
@given(case=conv_cases(), xp=NAMESPACES)
def test_conv_fast_equals_naive_with_floor_shapes(case, xp):
    x, w, b, cp = case
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * cp["pad"] - HH) // cp["stride"], 1 + (W + 2 * cp["pad"] - WW) // cp["stride"]
    xs, ws, bs = (xp.asarray(a) for a in (x, w, b))
    out_fast, cache_fast = L.conv_forward_fast(xs, ws, bs, cp)
    out_naive, cache_naive = L.conv_forward_naive(xs, ws, bs, cp)
    assert tuple(out_fast.shape) == tuple(out_naive.shape) == (N, F, Ho, Wo)
    assert out_fast.dtype == xs.dtype and backend.namespace(out_fast) is backend.namespace(xs)
    _close(out_fast, out_naive, x.dtype.type)
    dout = xp.asarray(np.random.default_rng(1).standard_normal((N, F, Ho, Wo)).astype(x.dtype))
    for g_fast, g_naive in zip(L.conv_backward_fast(dout, cache_fast), L.conv_backward_naive(dout, cache_naive)):
        _close(g_fast, g_naive, x.dtype.type)


@settings(max_examples=100, deadline=None)
@given(case=pool_cases(), xp=NAMESPACES)
def test_pool_fast_equals_naive_with_floor_shapes(case, xp):
    x, pp = case
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - pp["pool_height"]) // pp["stride"], 1 + (W - pp["pool_width"]) // pp["stride"]
    xs = xp.asarray(x)
    out_fast, cache_fast = L.max_pool_forward_fast(xs, pp)
    out_naive, cache_naive = L.max_pool_forward_naive(xs, pp)
    assert tuple(out_fast.shape) == (N, C, Ho, Wo) and out_fast.dtype == xs.dtype
    np.testing.assert_array_equal(_host(out_fast), _host(out_naive))
    dout = xp.asarray(np.random.default_rng(2).standard_normal((N, C, Ho, Wo)).astype(x.dtype))
    dx_fast, dx_naive = L.max_pool_backward_fast(dout, cache_fast), L.max_pool_backward_naive(dout, cache_naive)
    assert dx_fast.dtype == xs.dtype  # overlapping windows add in another order: float32 rounding differs
    _close(dx_fast, dx_naive, x.dtype.type)


@settings(max_examples=20, deadline=None)
@given(case=conv_cases(max_hw=4))
def test_conv_fast_gradients_small_float64(case):
    (x, w, b), cp = (a.astype(np.float64) for a in case[:3]), case[3]
    assume(x.size + w.size <= 60)
    out, cache = L.conv_forward_fast(x, w, b, cp)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, dw, db = L.conv_backward_fast(dout, cache)
    _grad_ok(dx, numeric_grad(lambda v: L.conv_forward_fast(v, w, b, cp)[0], x, dout))
    _grad_ok(dw, numeric_grad(lambda v: L.conv_forward_fast(x, v, b, cp)[0], w, dout))
    _grad_ok(db, numeric_grad(lambda v: L.conv_forward_fast(x, w, v, cp)[0], b, dout))


@settings(max_examples=20, deadline=None)
@given(case=pool_cases())
def test_pool_fast_gradient_small_float64(case):
    x, pp = case[0].astype(np.float64), case[1]
    assume(x.size <= 80)
    out, cache = L.max_pool_forward_fast(x, pp)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    num = numeric_grad(lambda v: L.max_pool_forward_fast(v, pp)[0], x, dout, h=1e-7)
    _grad_ok(L.max_pool_backward_fast(dout, cache), num)


@settings(max_examples=20, deadline=None)
@given(N=st.integers(2, 4), C=st.sampled_from([1, 2, 4, 6]), HW=st.integers(1, 3), data=st.data())
def test_groupnorm_gradient_any_divisor(N, C, HW, data):
    G = data.draw(st.sampled_from([g for g in range(1, C + 1) if C % g == 0]), label="G")
    assume((C // G) * HW * HW >= 4)  # a group of 2 or 3 values is too ill-conditioned for finite differences
    r = np.random.default_rng(data.draw(st.integers(0, 99), label="seed"))
    x, gamma, beta = r.standard_normal((N, C, HW, HW)), r.standard_normal((1, C, 1, 1)), r.standard_normal((1, C, 1, 1))
    out, cache = L.spatial_groupnorm_forward(x, gamma, beta, G, {})
    dout = r.standard_normal(out.shape)
    dx, dgamma, _ = L.spatial_groupnorm_backward(dout, cache)
    _grad_ok(dx, numeric_grad(lambda v: L.spatial_groupnorm_forward(v, gamma, beta, G, {})[0], x, dout))
    _grad_ok(dgamma, numeric_grad(lambda v: L.spatial_groupnorm_forward(x, v, beta, G, {})[0], gamma,
                                          dout))


# --------------------------------------------------------------------------- bad inputs
ANY_PARAM = st.one_of(st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True, width=32),
                      st.none(), st.text(max_size=2), st.booleans())
ANY_DTYPE = st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, np.complex64,
                             np.float16])


@st.composite
def any_array(draw, max_rank=5):
    """An array of any rank (sizes 0..5), dtype and namespace (NumPy or array-api-strict)."""
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=max_rank)))
    dtype = draw(ANY_DTYPE)
    arr = np.zeros(shape, dtype=dtype) + (np.arange(math.prod(shape)).reshape(shape) % 3 == 1).astype(dtype)
    strict = dtype is not np.float16 and draw(st.booleans())  # array-api-strict has no float16
    return array_api_strict.asarray(arr) if strict else np_compat.asarray(arr)


def _only_documented(call, check=None):
    try:
        result = call()
    except DOCUMENTED as err:
        assert str(err), "an error without a message"
        return
    if check is not None:
        check(result)


@settings(max_examples=300, deadline=None)
@given(x=any_array(), w=any_array(), b=any_array(max_rank=2), stride=ANY_PARAM, pad=ANY_PARAM,
       which=st.sampled_from(["fast", "naive"]))
def test_conv_bad_inputs_raise_only_documented_errors(x, w, b, stride, pad, which):
    fn = L.conv_forward_fast if which == "fast" else L.conv_forward_naive

    def check(result):
        out, _ = result
        N, _, H, W = x.shape
        F, _, HH, WW = w.shape
        assert tuple(out.shape) == (N, F, 1 + (H + 2 * int(pad) - HH) // int(stride),
                                    1 + (W + 2 * int(pad) - WW) // int(stride))

    _only_documented(lambda: fn(x, w, b, {"stride": stride, "pad": pad}), check)


@settings(max_examples=300, deadline=None)
@given(x=any_array(), ph=ANY_PARAM, pw=ANY_PARAM, s=ANY_PARAM, dout=any_array(),
       which=st.sampled_from([L.max_pool_forward_fast, L.max_pool_forward_naive, L.max_pool_forward_reshape]))
def test_pool_bad_inputs_raise_only_documented_errors(x, ph, pw, s, dout, which):
    pp = {"pool_height": ph, "pool_width": pw, "stride": s}
    try:
        out, cache = which(x, pp)
    except DOCUMENTED:
        return
    assert tuple(out.shape[:2]) == tuple(x.shape[:2])
    backward = {L.max_pool_forward_fast: L.max_pool_backward_fast, L.max_pool_forward_naive: L.max_pool_backward_naive,
                L.max_pool_forward_reshape: L.max_pool_backward_reshape}[which]
    _only_documented(lambda: backward(dout, cache))


@settings(max_examples=300, deadline=None)
@given(x=any_array(max_rank=3), y=any_array(max_rank=2), loss=st.sampled_from([L.softmax_loss, L.svm_loss]))
def test_losses_bad_inputs_raise_only_documented_errors(x, y, loss):
    def check(result):
        value, dx = result
        assert isinstance(value, float) and tuple(dx.shape) == tuple(x.shape) and x.shape[0] >= 1

    _only_documented(lambda: loss(x, y), check)


@settings(max_examples=300, deadline=None)
@given(x=any_array(max_rank=4), gamma=any_array(max_rank=2), beta=any_array(max_rank=2), G=ANY_PARAM,
       mode=st.sampled_from(["train", "test", "eval", None]), eps=ANY_PARAM,
       which=st.sampled_from(["bn", "ln", "sbn", "gn", "dropout", "affine"]))
def test_norm_dropout_affine_bad_inputs_raise_only_documented_errors(x, gamma, beta, G, mode, eps, which):
    calls = {
        "bn": lambda: L.batchnorm_forward(x, gamma, beta, {"mode": mode, "eps": eps}),
        "ln": lambda: L.layernorm_forward(x, gamma, beta, {"eps": eps}),
        "sbn": lambda: L.spatial_batchnorm_forward(x, gamma, beta, {"mode": mode}),
        "gn": lambda: L.spatial_groupnorm_forward(x, gamma, beta, G, {"eps": eps}),
        "dropout": lambda: L.dropout_forward(x, {"mode": mode, "p": eps, "seed": 0}),
        "affine": lambda: L.affine_forward(x, gamma, beta),
    }
    _only_documented(calls[which])
