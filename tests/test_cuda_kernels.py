"""CUDA kernels on a real GPU against the standard-only kernels (``xnn.kernels.generic``).

Every test here needs CuPy and a CUDA GPU (marker ``gpu``; skipped otherwise, a failure with
``--require-gpu``). Inputs are made on the host, the CUDA result is copied back and compared
with ``generic`` run on the same NumPy data: im2col and max-pool forward exactly (they only copy
and compare), col2im and max-pool backward to 1e-12 relative in float64 (the gathers add in a
different order than generic's per-offset loops).
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import CONV_CASES, POOL_CASES, conv_case_id, maxpool_forward_ref, pool_case_id, pool_input

pytestmark = pytest.mark.gpu

DTYPES = [np.float32, np.float64]


def _tol(dtype) -> float:
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def _close(actual, expected, dtype) -> None:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=_tol(dtype), atol=_tol(dtype) * scale)


@pytest.fixture
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture
def cuda():
    import xnn.kernels.cuda as cuda_kernels
    return cuda_kernels


@pytest.fixture
def generic():
    from xnn.kernels import generic as generic_kernels
    return generic_kernels


def _on_gpu(cp, a: np.ndarray):
    return cp.asarray(a)


def _host(cp, a) -> np.ndarray:
    assert isinstance(a, cp.ndarray), f"expected a cupy.ndarray, got {type(a).__name__}"
    return cp.asnumpy(a)


# --------------------------------------------------------------------------- im2col / col2im
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_im2col_matches_generic(cp, cuda, generic, case, dtype, rng):
    N, C, H, W, HH, WW, s, p = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    cols = cuda.im2col(_on_gpu(cp, x), HH, WW, s, p)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(_host(cp, cols), generic.im2col(x, HH, WW, s, p))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_col2im_matches_generic(cp, cuda, generic, case, dtype, rng):
    N, C, H, W, HH, WW, s, p = case
    Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
    dcols = rng.standard_normal((N, C * HH * WW, Ho * Wo)).astype(dtype)
    dx = cuda.col2im(_on_gpu(cp, dcols), (N, C, H, W), HH, WW, s, p)
    assert dx.dtype == dtype and dx.shape == (N, C, H, W)
    _close(_host(cp, dx), generic.col2im(dcols, (N, C, H, W), HH, WW, s, p), dtype)


def test_col2im_is_deterministic(cp, cuda, rng):
    dcols = _on_gpu(cp, rng.standard_normal((8, 3 * 5 * 5, 16 * 16)))
    first = _host(cp, cuda.col2im(dcols, (8, 3, 16, 16), 5, 5, 1, 2))
    for _ in range(3):
        np.testing.assert_array_equal(_host(cp, cuda.col2im(dcols, (8, 3, 16, 16), 5, 5, 1, 2)), first)


# --------------------------------------------------------------------------- max-pool
@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "ties"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=pool_case_id)
def test_maxpool_matches_generic(cp, cuda, generic, case, dtype, ties, rng):
    N, C, H, W, ph, pw, s = case
    x = pool_input(rng, (N, C, H, W), dtype, ties)
    out, arg = cuda.maxpool_forward(_on_gpu(cp, x), ph, pw, s)
    ref_out, ref_arg = generic.maxpool_forward(x, ph, pw, s)
    assert out.dtype == dtype and arg.dtype == np.int32
    np.testing.assert_array_equal(_host(cp, arg), ref_arg)
    np.testing.assert_array_equal(_host(cp, arg), maxpool_forward_ref(x, ph, pw, s)[1])  # first maximum
    np.testing.assert_array_equal(_host(cp, out), ref_out)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = cuda.maxpool_backward(_on_gpu(cp, dout), arg, (N, C, H, W), ph, pw, s)
    assert dx.dtype == dtype and dx.shape == (N, C, H, W)
    _close(_host(cp, dx), generic.maxpool_backward(dout, ref_arg, (N, C, H, W), ph, pw, s), dtype)


def test_maxpool_nan_wins_like_generic(cp, cuda, generic):
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = x[0, 1, 2, 3] = x[0, 1, 3, 2] = np.nan
    out, arg = cuda.maxpool_forward(_on_gpu(cp, x), 2, 2, 2)
    ref_out, ref_arg = generic.maxpool_forward(x, 2, 2, 2)
    np.testing.assert_array_equal(_host(cp, arg), ref_arg)
    np.testing.assert_array_equal(_host(cp, out), ref_out)


def test_maxpool_backward_accepts_int64_argmax(cp, cuda, generic, rng):
    x = rng.standard_normal((2, 3, 7, 7))
    out, arg = generic.maxpool_forward(x, 3, 3, 2)
    dout = rng.standard_normal(out.shape)
    dx = cuda.maxpool_backward(_on_gpu(cp, dout), _on_gpu(cp, arg.astype(np.int64)), x.shape, 3, 3, 2)
    _close(_host(cp, dx), generic.maxpool_backward(dout, arg, x.shape, 3, 3, 2), np.float64)


# --------------------------------------------------------------------------- layouts and sizes
def test_non_contiguous_inputs(cp, cuda, generic, rng):
    x = rng.standard_normal((2, 3, 9, 8))
    xt = _on_gpu(cp, x).transpose(0, 1, 3, 2)          # (2, 3, 8, 9), strided on the GPU
    host_xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2))
    np.testing.assert_array_equal(_host(cp, cuda.im2col(xt, 3, 2, 2, 1)), generic.im2col(host_xt, 3, 2, 2, 1))
    out, arg = cuda.maxpool_forward(xt[:, :, ::-1], 2, 3, 2)
    ref_out, ref_arg = generic.maxpool_forward(np.ascontiguousarray(host_xt[:, :, ::-1]), 2, 3, 2)
    np.testing.assert_array_equal(_host(cp, out), ref_out)
    np.testing.assert_array_equal(_host(cp, arg), ref_arg)


def test_more_images_than_grid_rows(cp, cuda, generic, rng):
    # 70000 > 65535 images: the kernels' loop over gridDim.y must cover the rest.
    x = rng.standard_normal((70000, 1, 4, 4)).astype(np.float32)
    xg = _on_gpu(cp, x)
    np.testing.assert_array_equal(_host(cp, cuda.im2col(xg, 3, 3, 1, 1)), generic.im2col(x, 3, 3, 1, 1))
    out, arg = cuda.maxpool_forward(xg, 2, 2, 2)
    ref_out, ref_arg = generic.maxpool_forward(x, 2, 2, 2)
    np.testing.assert_array_equal(_host(cp, arg), ref_arg)
    dx = cuda.maxpool_backward(out, arg, x.shape, 2, 2, 2)
    _close(_host(cp, dx), generic.maxpool_backward(ref_out, ref_arg, x.shape, 2, 2, 2), np.float32)


def test_large_single_image_uses_the_grid_stride_loop(cp, cuda, generic, rng):
    # One image whose columns need more blocks than one launch gets with many images.
    x = rng.standard_normal((1, 8, 96, 96)).astype(np.float32)
    cols = cuda.im2col(_on_gpu(cp, x), 5, 5, 1, 2)
    np.testing.assert_array_equal(_host(cp, cols), generic.im2col(x, 5, 5, 1, 2))
    dx = cuda.col2im(cols, x.shape, 5, 5, 1, 2)
    _close(_host(cp, dx), generic.col2im(generic.im2col(x, 5, 5, 1, 2), x.shape, 5, 5, 1, 2), np.float32)


def test_empty_batch(cp, cuda):
    cols = cuda.im2col(cp.zeros((0, 3, 5, 5)), 3, 3, 1, 1)
    assert isinstance(cols, cp.ndarray) and cols.shape == (0, 27, 25)


# --------------------------------------------------------------------------- dispatch and errors
def test_dispatcher_uses_cuda_for_cupy(cp, monkeypatch, rng):
    import array_api_compat.cupy as cp_compat

    from xnn import kernels
    monkeypatch.delenv("XNN_KERNELS", raising=False)
    assert kernels.kernel_path(cp_compat) == "cuda"
    x = rng.standard_normal((2, 3, 6, 6))
    cols = kernels.im2col(_on_gpu(cp, x), 3, 3, 1, 1)
    assert isinstance(cols, cp.ndarray)


def test_xnn_kernels_generic_bypasses_cuda(cp, cuda, generic, monkeypatch, rng):
    import array_api_compat.cupy as cp_compat

    from xnn import kernels

    def refuse(*args, **kwargs):
        raise AssertionError("the CUDA module must not be used under XNN_KERNELS=generic")

    for op in ("im2col", "col2im", "maxpool_forward", "maxpool_backward"):
        monkeypatch.setattr(cuda, op, refuse)
    monkeypatch.setenv("XNN_KERNELS", "generic")
    assert kernels.kernel_path(cp_compat) == "generic"
    x = rng.standard_normal((2, 3, 6, 6))
    cols = kernels.im2col(_on_gpu(cp, x), 3, 3, 1, 1)
    assert isinstance(cols, cp.ndarray)
    np.testing.assert_array_equal(_host(cp, cols), generic.im2col(x, 3, 3, 1, 1))
    out, arg = kernels.maxpool_forward(_on_gpu(cp, x), 2, 2, 2)
    dx = kernels.maxpool_backward(out, arg, x.shape, 2, 2, 2)
    assert isinstance(dx, cp.ndarray)


@pytest.mark.parametrize("op", ["im2col", "maxpool_forward"])
def test_float16_is_a_type_error(cp, cuda, op, monkeypatch):
    from xnn import kernels
    monkeypatch.delenv("XNN_KERNELS", raising=False)
    x = cp.zeros((2, 3, 6, 6), dtype=cp.float16)
    args = (3, 3, 1, 1) if op == "im2col" else (2, 2, 2)
    with pytest.raises(TypeError, match="float16"):
        getattr(cuda, op)(x, *args)
    with pytest.raises(TypeError, match="float16"):
        getattr(kernels, op)(x, *args)


def test_modules_are_compiled_once_per_device(cp, cuda):
    from xnn.kernels.cuda import loader
    k1 = loader.get_kernel("im2col", np.float32)
    k2 = loader.get_kernel("im2col", np.float64)
    assert k1 is not None and k2 is not None
    device = cp.cuda.runtime.getDevice()
    module = loader._modules[(device, "im2col.cu")]
    assert loader.get_module("im2col.cu") is module
    loader.get_kernel("maxpool_forward", np.float32)
    assert (device, "pool.cu") in loader._modules
