"""The real CUDA kernel sources, run on the CPU by ``cuda_emulator``, against loop references.

Runs wherever g++ is installed (no GPU, no CuPy): the same ``xnn.kernels.cuda`` functions that
launch on a GPU build their launch arguments, and the emulated kernels must match the loop
references of ``cuda_cases`` on every geometry, on the launch grid and on a tiny grid.
"""

from __future__ import annotations

import numpy as np
import pytest
from cuda_cases import (
    CONV_CASES,
    POOL_CASES,
    col2im_ref,
    conv_case_id,
    im2col_ref,
    maxpool_backward_ref,
    maxpool_forward_ref,
    pool_case_id,
    pool_input,
)
from cuda_emulator import emulated, emulator  # noqa: F401  (fixtures)

import xnn.kernels.cuda as cuda
from xnn.kernels.cuda import loader

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=conv_case_id)
def test_im2col_col2im_match_loop_references(emulated, case, dtype, rng):
    N, C, H, W, HH, WW, s, p = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    cols = emulated.im2col(x, HH, WW, s, p)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, im2col_ref(x, HH, WW, s, p))
    dcols = rng.standard_normal(cols.shape).astype(dtype)
    dx = emulated.col2im(dcols, x.shape, HH, WW, s, p)
    assert dx.dtype == dtype and dx.shape == x.shape
    # Same summation order as the reference (output positions row-major): equal up to rounding.
    np.testing.assert_allclose(dx, col2im_ref(dcols, x.shape, HH, WW, s, p),
                               rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-6 if dtype == np.float32 else 1e-13)
    # Adjointness: <im2col(x), d> == <x, col2im(d)>.
    lhs = float(np.sum(cols.astype(np.float64) * dcols))
    rhs = float(np.sum(x.astype(np.float64) * dx))
    assert abs(lhs - rhs) <= (1e-4 if dtype == np.float32 else 1e-10) * max(1.0, abs(lhs))
    assert emulated.launched == [f"im2col<{loader.CTYPES[np.dtype(dtype).name]}>",
                                 f"col2im<{loader.CTYPES[np.dtype(dtype).name]}>"]


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "ties"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOL_CASES, ids=pool_case_id)
def test_maxpool_matches_loop_references(emulated, case, dtype, ties, rng):
    N, C, H, W, ph, pw, s = case
    x = pool_input(rng, (N, C, H, W), dtype, ties)
    out, arg = emulated.maxpool_forward(x, ph, pw, s)
    ref_out, ref_arg = maxpool_forward_ref(x, ph, pw, s)
    assert out.dtype == dtype and arg.dtype == np.int32
    np.testing.assert_array_equal(arg, ref_arg)
    np.testing.assert_array_equal(out, ref_out)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = emulated.maxpool_backward(dout, arg, x.shape, ph, pw, s)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, maxpool_backward_ref(dout, ref_arg, x.shape, ph, pw, s),
                               rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)


def test_maxpool_nan_wins_its_window_and_propagates(emulated):
    x = np.arange(2 * 16, dtype=np.float64).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = np.nan   # window (0, 0), position 2
    x[0, 1, 2, 3] = np.nan   # window (1, 1), position 3
    x[0, 1, 3, 2] = np.nan   # same window, later: the first NaN wins
    out, arg = emulated.maxpool_forward(x, 2, 2, 2)
    ref_out, ref_arg = maxpool_forward_ref(x, 2, 2, 2)
    np.testing.assert_array_equal(arg, ref_arg)
    assert arg[0, 0, 0, 0] == 2 and arg[0, 1, 1, 1] == 1
    np.testing.assert_array_equal(out, ref_out)   # NaNs compare equal in assert_array_equal


def test_non_contiguous_inputs_are_made_contiguous(emulated, rng):
    x = rng.standard_normal((2, 3, 9, 8)).transpose(0, 1, 3, 2)   # (2, 3, 8, 9), not C-contiguous
    np.testing.assert_array_equal(emulated.im2col(x, 3, 2, 2, 1), im2col_ref(x, 3, 2, 2, 1))
    out, arg = emulated.maxpool_forward(x[:, :, ::-1], 2, 3, 2)
    np.testing.assert_array_equal(out, maxpool_forward_ref(x[:, :, ::-1], 2, 3, 2)[0])
    dout = rng.standard_normal(out.shape)[..., ::-1]
    dx = emulated.maxpool_backward(dout, np.asfortranarray(arg).astype(np.int64), x.shape, 2, 3, 2)
    np.testing.assert_allclose(dx, maxpool_backward_ref(dout, arg, x.shape, 2, 3, 2), rtol=1e-14, atol=0)


def test_empty_batch_launches_nothing(emulated):
    cols = emulated.im2col(np.zeros((0, 3, 5, 5)), 3, 3, 1, 1)
    assert cols.shape == (0, 27, 25)
    out, arg = emulated.maxpool_forward(np.zeros((0, 2, 4, 4), dtype=np.float32), 2, 2, 2)
    assert out.shape == arg.shape == (0, 2, 2, 2)
    assert emulated.launched == []


def _captured_grid(monkeypatch, n_images: int, per_image: int) -> tuple:
    calls = []
    monkeypatch.setattr(cuda.loader, "get_kernel", lambda name, dtype: lambda grid, block, args: calls.append(
        (grid, block)))
    cuda._launch("im2col", np.float32, n_images, per_image, ())
    return calls[0] if calls else None


def test_launch_grid_covers_each_image_once_with_blocks_of_256(monkeypatch):
    assert _captured_grid(monkeypatch, 50, 147 * 1024) == ((-(-147 * 1024 // 256), 50), (256,))
    assert _captured_grid(monkeypatch, 3, 1) == ((1, 3), (256,))
    assert _captured_grid(monkeypatch, 0, 100) is None
    assert _captured_grid(monkeypatch, 4, 0) is None


def test_launch_grid_is_capped_and_the_loops_cover_the_rest(monkeypatch):
    (gx, gy), _ = _captured_grid(monkeypatch, 100_000, 10**8)
    assert gy == 65535 and 1 <= gx and gx * gy <= cuda._MAX_BLOCKS
    (gx, gy), _ = _captured_grid(monkeypatch, 2, 10**9)
    assert gy == 2 and gx * gy <= cuda._MAX_BLOCKS


def test_images_too_large_for_32_bit_index_math_are_refused():
    with pytest.raises(ValueError, match=r"im2col: one image of cols \(2, 40000, 40000\) has 1600000000 elements"):
        cuda._check_image_size("im2col", "cols", (2, 40000, 40000))
    cuda._check_image_size("im2col", "cols", (10**6, 3, 5))  # many small images are fine


def test_bad_inputs_name_the_op_and_the_argument(emulated):
    x = np.zeros((2, 3, 5, 5))
    with pytest.raises(TypeError, match=r"im2col: x has dtype float16 \(2, 3, 5, 5\); the CUDA kernels support "
                                        "float32 and float64 only"):
        emulated.im2col(x.astype(np.float16), 3, 3, 1, 1)
    with pytest.raises(TypeError, match="maxpool_forward: x has dtype int64"):
        emulated.maxpool_forward(x.astype(np.int64), 2, 2, 2)
    with pytest.raises(ValueError, match="im2col: x must be 4-D"):
        emulated.im2col(x[0], 3, 3, 1, 1)
    with pytest.raises(ValueError, match="im2col: filter 7x7 does not fit the padded input 5x5"):
        emulated.im2col(x, 7, 7, 1, 0)
    with pytest.raises(ValueError, match="col2im: dcols must have shape \\(2, 27, 25\\), got \\(2, 27, 24\\)"):
        emulated.col2im(np.zeros((2, 27, 24)), x.shape, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="stride"):
        emulated.maxpool_forward(x, 2, 2, 0)
    out, arg = emulated.maxpool_forward(x, 2, 2, 2)
    with pytest.raises(TypeError, match="maxpool_backward: argmax must be an integer"):
        emulated.maxpool_backward(out, arg.astype(np.float64), x.shape, 2, 2, 2)
    with pytest.raises(ValueError, match="maxpool_backward: dout must have shape \\(2, 3, 2, 2\\)"):
        emulated.maxpool_backward(out[:, :2], arg, x.shape, 2, 2, 2)
    assert emulated.launched == ["maxpool_forward<double>"]


# --------------------------------------------------------------------------- embedding backward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(40, 7, 5, "random"), (30, 6, 4, "equal"), (25, 50, 3, "low"),
                                  (9, 9, 2, "permutation"), (0, 5, 3, "random"), (7, 3, 600, "random")],
                         ids=["repeated", "all-equal", "unused-rows", "every-word-once", "no-positions", "wide-rows"])
def test_embedding_backward_matches_add_at(emulated, case, dtype, rng):
    from test_kernels_embedding import embedding_case, scatter_ref
    M, V, D, pattern = case
    dout, idx = embedding_case(rng, M, V, D, pattern, dtype)
    dW = emulated.embedding_backward(dout, idx, V)
    assert dW.dtype == dtype and dW.shape == (V, D)
    # Each word's rows are added in position order, as np.add.at does: equal up to rounding.
    np.testing.assert_allclose(dW, scatter_ref(dout, idx, V), rtol=1e-6 if dtype == np.float32 else 1e-14,
                               atol=1e-6 if dtype == np.float32 else 1e-14)
    assert np.all(dW[np.setdiff1d(np.arange(V), idx)] == 0)
    assert emulated.launched == [f"embedding_backward<{loader.CTYPES[np.dtype(dtype).name]}>"]


def test_embedding_backward_bad_inputs(emulated):
    dout, idx = np.zeros((4, 3)), np.array([0, 1, 1, 2])
    with pytest.raises(TypeError, match="embedding_backward: dout has dtype float16"):
        emulated.embedding_backward(dout.astype(np.float16), idx, 3)
    with pytest.raises(TypeError, match="embedding_backward: idx must be an integer"):
        emulated.embedding_backward(dout, idx.astype(np.float64), 3)
    with pytest.raises(ValueError, match=r"embedding_backward: idx must have shape \(4,\), got \(3,\)"):
        emulated.embedding_backward(dout, idx[:3], 3)
    assert emulated.launched == []
