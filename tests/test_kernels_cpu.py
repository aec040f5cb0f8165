"""CPU kernels: generic (standard-only) and numpy_fast against loop references and each other."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_namespace

from xnn import backend, kernels
from xnn.kernels import generic
from xnn.kernels.cpu import numpy_fast

# (x_shape, HH, WW, stride, pad): square and non-square filters, strides that do not divide.
CONV_GEOMETRIES = [
    ((2, 3, 7, 7), 3, 3, 1, 1),
    ((2, 2, 9, 11), 3, 5, 2, 1),
    ((1, 3, 10, 8), 5, 2, 3, 2),
    ((2, 1, 6, 5), 2, 2, 2, 0),
    ((1, 2, 5, 7), 1, 1, 1, 0),
    ((2, 2, 8, 9), 3, 5, 3, 3),
    ((1, 2, 4, 4), 4, 4, 1, 0),
    ((1, 1, 3, 2), 5, 6, 2, 2),
]
# (x_shape, pool_height, pool_width, stride): tiling, overlapping, non-square, floor-cropped.
POOL_GEOMETRIES = [
    ((2, 3, 8, 8), 2, 2, 2),
    ((2, 2, 9, 9), 3, 3, 2),
    ((1, 2, 6, 7), 2, 2, 1),
    ((2, 1, 7, 9), 2, 3, 2),
    ((1, 2, 9, 10), 3, 2, 3),
    ((1, 1, 5, 5), 2, 2, 3),
    ((1, 1, 4, 4), 4, 4, 1),
]


def out_size(n: int, k: int, stride: int, pad: int = 0) -> int:
    return 1 + (n + 2 * pad - k) // stride


def im2col_loop(x: np.ndarray, HH: int, WW: int, stride: int, pad: int) -> np.ndarray:
    """Reference: one window at a time, flattened in (c, i, j) order."""
    N, C, H, W = x.shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.zeros((N, C * HH * WW, Ho * Wo), dtype=x.dtype)
    for ho in range(Ho):
        for wo in range(Wo):
            win = xpad[:, :, ho * stride:ho * stride + HH, wo * stride:wo * stride + WW]
            cols[:, :, ho * Wo + wo] = win.reshape(N, -1)
    return cols


def maxpool_loop(x: np.ndarray, ph: int, pw: int, stride: int):
    """Reference: window max and the flat index of its first maximum."""
    N, C, H, W = x.shape
    Ho, Wo = out_size(H, ph, stride), out_size(W, pw, stride)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    arg = np.zeros((N, C, Ho, Wo), dtype=np.int32)
    for ho in range(Ho):
        for wo in range(Wo):
            win = x[:, :, ho * stride:ho * stride + ph, wo * stride:wo * stride + pw].reshape(N, C, -1)
            arg[:, :, ho, wo] = np.argmax(win, axis=-1)
            out[:, :, ho, wo] = np.max(win, axis=-1)
    return out, arg


def maxpool_backward_loop(dout: np.ndarray, arg: np.ndarray, x_shape, ph: int, pw: int, stride: int):
    dx = np.zeros(x_shape, dtype=dout.dtype)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for ho in range(Ho):
                for wo in range(Wo):
                    i, j = divmod(int(arg[n, c, ho, wo]), pw)
                    dx[n, c, ho * stride + i, wo * stride + j] += dout[n, c, ho, wo]
    return dx


@pytest.mark.parametrize("geom", CONV_GEOMETRIES)
def test_im2col_matches_loop_and_numpy_fast(xp, rng, geom):
    x_shape, HH, WW, stride, pad = geom
    x = rng.standard_normal(x_shape)
    ref = im2col_loop(x, HH, WW, stride, pad)
    cols = generic.im2col(xp.asarray(x), HH, WW, stride, pad)
    assert_namespace(cols, xp)
    np.testing.assert_array_equal(backend.to_numpy(cols), ref)
    np.testing.assert_array_equal(numpy_fast.im2col(x, HH, WW, stride, pad), ref)


@pytest.mark.parametrize("geom", CONV_GEOMETRIES)
def test_col2im_is_adjoint_of_im2col(xp, rng, geom):
    x_shape, HH, WW, stride, pad = geom
    x = rng.standard_normal(x_shape)
    c = rng.standard_normal(im2col_loop(x, HH, WW, stride, pad).shape)
    dx = generic.col2im(xp.asarray(c), x_shape, HH, WW, stride, pad)
    assert_namespace(dx, xp)
    assert tuple(dx.shape) == x_shape
    lhs = float(np.sum(im2col_loop(x, HH, WW, stride, pad) * c))
    rhs = float(np.sum(x * backend.to_numpy(dx)))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
    # The dispatcher serves col2im from generic on NumPy too (numpy_fast leaves that op out).
    assert "col2im" not in numpy_fast.OPS and kernels.op_path("col2im", backend.namespace(c)) == "generic"
    dispatched = kernels.col2im(c, x_shape, HH, WW, stride, pad)
    np.testing.assert_allclose(dispatched, backend.to_numpy(dx), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geom", POOL_GEOMETRIES)
def test_maxpool_forward_matches_loop(xp, rng, geom):
    x_shape, ph, pw, stride = geom
    x = rng.standard_normal(x_shape)
    ref_out, ref_arg = maxpool_loop(x, ph, pw, stride)
    out, arg = generic.maxpool_forward(xp.asarray(x), ph, pw, stride)
    assert_namespace(out, xp)
    assert arg.dtype == xp.int32
    np.testing.assert_array_equal(backend.to_numpy(out), ref_out)
    np.testing.assert_array_equal(backend.to_numpy(arg), ref_arg)
    f_out, f_arg = numpy_fast.maxpool_forward(x, ph, pw, stride)
    assert f_arg.dtype == np.int32
    np.testing.assert_array_equal(f_out, ref_out)
    np.testing.assert_array_equal(f_arg, ref_arg)


@pytest.mark.parametrize("geom", POOL_GEOMETRIES)
def test_maxpool_backward_matches_loop(xp, rng, geom):
    x_shape, ph, pw, stride = geom
    x = rng.standard_normal(x_shape)
    _, arg = maxpool_loop(x, ph, pw, stride)
    dout = rng.standard_normal(arg.shape)
    ref = maxpool_backward_loop(dout, arg, x_shape, ph, pw, stride)
    dx = generic.maxpool_backward(xp.asarray(dout), xp.asarray(arg), x_shape, ph, pw, stride)
    assert_namespace(dx, xp)
    np.testing.assert_allclose(backend.to_numpy(dx), ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(numpy_fast.maxpool_backward(dout, arg, x_shape, ph, pw, stride), ref,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("impl", [generic, numpy_fast], ids=["generic", "numpy_fast"])
def test_maxpool_ties_go_to_first_maximum(impl):
    x = np.ones((1, 2, 5, 5))
    out, arg = impl.maxpool_forward(x, 3, 3, 2)
    assert np.all(arg == 0)
    dx = impl.maxpool_backward(np.ones_like(out), arg, x.shape, 3, 3, 2)
    expected = np.zeros_like(x)
    expected[:, :, 0:3:2, 0:3:2] = 1.0  # window corners (0, 0), (0, 2), (2, 0), (2, 2)
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("impl", [generic, numpy_fast], ids=["generic", "numpy_fast"])
def test_maxpool_nan_propagates_and_inf_gradient_stays_local(impl):
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out, arg = impl.maxpool_forward(x, 2, 2, 2)
    assert np.isnan(out[0, 0, 0, 0]) and arg[0, 0, 0, 0] == 1
    assert out[0, 0, 1, 1] == 15
    dout = np.ones_like(out)
    dout[0, 0, 1, 1] = np.inf
    dx = impl.maxpool_backward(dout, arg, x.shape, 2, 2, 2)
    assert np.isinf(dx[0, 0, 3, 3]) and not np.isnan(dx).any()
    assert np.count_nonzero(dx) == 4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kernels_keep_dtype(xp, dtype):
    x = xp.ones((1, 2, 5, 5), dtype=getattr(xp, dtype))
    cols = generic.im2col(x, 3, 2, 2, 1)
    assert cols.dtype == x.dtype
    assert generic.col2im(cols, (1, 2, 5, 5), 3, 2, 2, 1).dtype == x.dtype
    out, arg = generic.maxpool_forward(x, 2, 2, 1)
    assert out.dtype == x.dtype
    assert generic.maxpool_backward(out, arg, (1, 2, 5, 5), 2, 2, 1).dtype == x.dtype
    xn = np.ones((1, 2, 5, 5), dtype=dtype)
    assert numpy_fast.im2col(xn, 3, 2, 2, 1).dtype == xn.dtype
    out, arg = numpy_fast.maxpool_forward(xn, 2, 2, 1)
    assert out.dtype == xn.dtype
    assert numpy_fast.maxpool_backward(out, arg, xn.shape, 2, 2, 1).dtype == xn.dtype


def test_numpy_fast_handles_non_contiguous_input(rng):
    x = rng.standard_normal((3, 2, 9, 8)).transpose(0, 1, 3, 2)[:, :, ::-1, :]
    np.testing.assert_array_equal(numpy_fast.im2col(x, 3, 2, 2, 0), im2col_loop(np.ascontiguousarray(x), 3, 2, 2, 0))
    out, arg = numpy_fast.maxpool_forward(x, 3, 3, 2)
    ref_out, ref_arg = maxpool_loop(np.ascontiguousarray(x), 3, 3, 2)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg, ref_arg)


def test_dispatch_honours_xnn_kernels_generic(monkeypatch):
    import array_api_compat.numpy as np_compat
    import array_api_strict
    assert kernels.kernel_path(np_compat) == "numpy_fast"
    assert kernels.kernel_path(array_api_strict) == "generic"
    monkeypatch.setenv("XNN_KERNELS", "generic")
    assert kernels.kernel_path(np_compat) == "generic"


def test_kernels_use_overrides_the_environment_and_nests(monkeypatch):
    import array_api_compat.numpy as np_compat
    monkeypatch.setenv("XNN_KERNELS", "generic")
    assert kernels.current() == "generic"
    with kernels.use("auto") as choice:
        assert choice == "auto" and kernels.op_path("conv_forward", np_compat) == "numpy_fast"
        with kernels.use("GENERIC"):
            assert kernels.op_path("conv_forward", np_compat) == "generic"
        assert kernels.current() == "auto"
    assert kernels.current() == "generic"


def test_unknown_kernel_choice_is_a_named_error(monkeypatch):
    with pytest.raises(ValueError, match=r"kernels.use: unknown kernel choice 'fast'; expected one of auto, generic"):
        with kernels.use("fast"):
            pass
    monkeypatch.setenv("XNN_KERNELS", "cuda")
    with pytest.raises(ValueError, match="XNN_KERNELS: unknown kernel choice 'cuda'"):
        kernels.current()
    with pytest.raises(ValueError, match="unknown op 'conv'"):
        kernels.op_path("conv", np)


def test_ops_a_fast_module_lacks_fall_back_to_generic():
    import array_api_compat.numpy as np_compat
    for op in kernels.OPS:
        expected = "numpy_fast" if op in numpy_fast.OPS else "generic"
        assert kernels.op_path(op, np_compat) == expected
    assert set(generic.OPS) == set(kernels.OPS)


def test_layers_hand_the_resolved_namespace_down(monkeypatch, rng):
    """The namespace is looked up once per public call: the kernel receives it as ``xp``."""
    from xnn import layers
    seen = []
    original = numpy_fast.maxpool_forward

    def spy(x, ph, pw, s, *, xp=None):
        seen.append(xp)
        return original(x, ph, pw, s, xp=xp)
    monkeypatch.setattr(numpy_fast, "maxpool_forward", spy)
    x = rng.standard_normal((2, 3, 4, 4))
    layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert seen and seen[0] is backend.namespace(x)
