"""Kernel conv ops (``conv_forward`` / ``conv_backward``) and ``relu_backward``: generic vs numpy_fast.

The generic ops are checked against an independent einsum reference on every namespace; the
NumPy fast ops against the generic ones on many geometries (non-square filters, strides 1-3,
pads 0-3, float32/float64); the dispatcher keeps each path's columns opaque and hands them back
to the path that made them.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_emulator import emulated, emulator  # noqa: F401  (fixtures)
from helpers import assert_namespace, rel_error

from xnn import backend, kernels
from xnn.kernels import generic
from xnn.kernels.cpu import numpy_fast

# (x_shape, w_shape, stride, pad)
GEOMETRIES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
    ((2, 2, 9, 11), (3, 2, 3, 5), 2, 1),
    ((1, 3, 10, 8), (2, 3, 5, 2), 3, 2),
    ((3, 1, 6, 5), (5, 1, 2, 2), 2, 0),
    ((1, 2, 5, 7), (3, 2, 1, 1), 1, 0),
    ((2, 2, 8, 9), (2, 2, 3, 5), 3, 3),
    ((2, 2, 4, 4), (3, 2, 4, 4), 1, 0),
    ((1, 1, 3, 2), (2, 1, 5, 6), 2, 2),
    ((4, 3, 8, 8), (6, 3, 7, 7), 1, 3),
    ((3, 2, 7, 6), (4, 2, 2, 3), 2, 3),
]
DTYPES = [np.float32, np.float64]


def geometry_id(g) -> str:
    (N, C, H, W), (F, _, HH, WW), s, p = g
    return f"x{N}x{C}x{H}x{W}-w{F}x{HH}x{WW}-s{s}-p{p}"


def reference(x, w, b, stride, pad, dout):
    """out, dx, dw, db by explicit window sums (einsum over a padded copy)."""
    N, C, H, W = x.shape
    _, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.empty((N, C, HH, WW, Ho, Wo))
    for i in range(HH):
        for j in range(WW):
            win[:, :, i, j] = xpad[:, :, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride]
    out = np.einsum("nckluv,fckl->nfuv", win, w) + b[:, None, None]
    dw = np.einsum("nckluv,nfuv->fckl", win, dout)
    dwin = np.einsum("fckl,nfuv->nckluv", w, dout)
    dxpad = np.zeros_like(xpad, dtype=np.float64)
    for i in range(HH):
        for j in range(WW):
            dxpad[:, :, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride] += dwin[:, :, i, j]
    return out, dxpad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def close(a, b, dtype) -> bool:
    """Equal to rounding: max|a - b| / max|b| (float32 sums that cancel make elementwise errors noisy)."""
    tol = 1e-5 if dtype == np.float32 else 1e-12
    return float(np.max(np.abs(a - b), initial=0.0)) <= tol * max(1.0, float(np.max(np.abs(b), initial=0.0)))


def make(rng, g, dtype):
    xs, ws, s, p = g
    F = ws[0]
    N, _, H, W = xs
    Ho, Wo = 1 + (H + 2 * p - ws[2]) // s, 1 + (W + 2 * p - ws[3]) // s
    arrays = [rng.standard_normal(shape) for shape in (xs, ws, (F,), (N, F, Ho, Wo))]
    return [a.astype(dtype) for a in arrays], s, p


@pytest.mark.parametrize("g", GEOMETRIES, ids=geometry_id)
def test_generic_conv_matches_reference_on_every_namespace(xp, rng, g):
    (x, w, b, dout), s, p = make(rng, g, np.float64)
    ref = reference(x, w, b, s, p, dout)
    out, cols = generic.conv_forward(xp.asarray(x), xp.asarray(w), xp.asarray(b), s, p)
    dx, dw, db = generic.conv_backward(xp.asarray(dout), cols, x.shape, xp.asarray(w), s, p)
    for got, want in zip((out, dx, dw, db), ref):
        assert_namespace(got, xp)
        assert tuple(got.shape) == want.shape
        assert rel_error(backend.to_numpy(got), want) < 1e-10


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("g", GEOMETRIES, ids=geometry_id)
def test_numpy_fast_conv_equals_generic(rng, g, dtype):
    (x, w, b, dout), s, p = make(rng, g, dtype)
    out_g, cols_g = generic.conv_forward(x, w, b, s, p)
    out_f, cols_f = numpy_fast.conv_forward(x, w, b, s, p)
    assert out_f.dtype == dtype and out_f.flags.c_contiguous and out_f.shape == out_g.shape
    # numpy_fast keeps the padded input and rebuilds columns chunk by chunk in its backward.
    N, C, H, W = x.shape
    assert cols_f.shape == (N, C, H + 2 * p, W + 2 * p) and not np.shares_memory(cols_f, x)
    assert close(out_f, out_g, dtype)
    grads_g = generic.conv_backward(dout, cols_g, x.shape, w, s, p)
    grads_f = numpy_fast.conv_backward(dout, cols_f, x.shape, w, s, p)
    for a, b_ in zip(grads_f, grads_g):
        assert a.dtype == dtype and a.shape == b_.shape
        assert close(a, b_, dtype)


@pytest.mark.parametrize("impl", [generic, numpy_fast], ids=["generic", "numpy_fast"])
def test_need_dx_false_skips_dx_and_keeps_dw_db(rng, impl):
    (x, w, b, dout), s, p = make(rng, GEOMETRIES[1], np.float64)
    _, cols = impl.conv_forward(x, w, b, s, p)
    _, dw, db = impl.conv_backward(dout, cols, x.shape, w, s, p)
    none, dw2, db2 = impl.conv_backward(dout, cols, x.shape, w, s, p, need_dx=False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


def test_numpy_fast_conv_handles_non_contiguous_inputs(rng):
    (x, w, b, dout), s, p = make(rng, GEOMETRIES[0], np.float64)
    xt = np.asfortranarray(x)
    wt = np.asfortranarray(w)
    dt = np.asfortranarray(dout)
    out, cols = numpy_fast.conv_forward(xt, wt, b, s, p)
    ref = reference(x, w, b, s, p, dout)
    assert rel_error(out, ref[0]) < 1e-12
    for got, want in zip(numpy_fast.conv_backward(dt, cols, x.shape, wt, s, p), ref[1:]):
        assert rel_error(got, want) < 1e-12


def test_dispatch_keeps_columns_opaque_and_returns_them_to_their_producer(monkeypatch, rng):
    (x, w, b, dout), s, p = make(rng, GEOMETRIES[0], np.float64)
    out, cols = kernels.conv_forward(x, w, b, s, p)
    assert isinstance(cols, kernels.ConvColumns) and cols.producer == "numpy_fast"
    monkeypatch.setenv("XNN_KERNELS", "generic")
    out_g, cols_g = kernels.conv_forward(x, w, b, s, p)
    assert cols_g.producer == "generic" and rel_error(out, out_g) < 1e-12
    # Columns made before the switch still go back to the kernel that made them.
    for a, b_ in zip(kernels.conv_backward(dout, cols, x.shape, w, s, p),
                     reference(x, w, b, s, p, dout)[1:]):
        assert rel_error(a, b_) < 1e-12
    with pytest.raises(TypeError, match="ConvColumns"):
        kernels.conv_backward(dout, cols.data, x.shape, w, s, p)
    for op in ("conv_forward", "conv_backward", "relu_backward"):
        assert op in kernels.OPS


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_fast_equals_where(rng, dtype):
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    x[0, 0, 0, :3] = 0.0
    dout = rng.standard_normal(x.shape).astype(dtype)
    got = numpy_fast.relu_backward(dout, x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.where(x > 0, dout, 0))


def test_relu_backward_non_finite_dout_stays_local(xp):
    x = xp.asarray([[-1.0, 2.0, 0.0, 3.0]])
    dout = xp.asarray([[np.inf, np.inf, np.nan, np.nan]])
    dx = kernels.relu_backward(dout, x)
    assert_namespace(dx, xp)
    got = backend.to_numpy(dx)
    assert got[0, 0] == 0 and got[0, 1] == np.inf and got[0, 2] == 0 and np.isnan(got[0, 3])


@pytest.mark.parametrize("g", GEOMETRIES[:4], ids=geometry_id)
def test_cuda_conv_ops_wrap_the_cuda_im2col_col2im(emulated, rng, g):  # noqa: F811
    (x, w, b, dout), s, p = make(rng, g, np.float64)
    out, cols = emulated.conv_forward(x, w, b, s, p)
    dx, dw, db = emulated.conv_backward(dout, cols, x.shape, w, s, p)
    for got, want in zip((out, dx, dw, db), reference(x, w, b, s, p, dout)):
        assert rel_error(got, want) < 1e-10
    assert [e.split("<")[0] for e in emulated.launched] == ["im2col", "col2im"]
    assert emulated.conv_backward(dout, cols, x.shape, w, s, p, need_dx=False)[0] is None
    assert "relu_backward" not in emulated.OPS and not hasattr(emulated, "relu_backward")  # generic serves it


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_numpy_fast_backward_with_non_finite_weights_matches_generic(rng):
    """Infinite weights give NaN/inf exactly where the generic path does."""
    (x, w, b, dout), s, p = make(rng, GEOMETRIES[0], np.float64)
    w[0, 0, 0, 0] = np.inf
    _, cols_f = numpy_fast.conv_forward(x, w, b, s, p)
    _, cols_g = generic.conv_forward(x, w, b, s, p)
    for a, b_ in zip(numpy_fast.conv_backward(dout, cols_f, x.shape, w, s, p),
                     generic.conv_backward(dout, cols_g, x.shape, w, s, p)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b_))
        np.testing.assert_allclose(a[np.isfinite(b_)], b_[np.isfinite(b_)], rtol=1e-12)
