"""The embedding_backward kernel op: NumPy fast path == standard-only generic == np.add.at, dispatch,
and the CUDA kernel on a real GPU (marker ``gpu``; its CPU emulation is in test_cuda_emulation.py).
"""

from __future__ import annotations

import array_api_compat.numpy as np_xp
import numpy as np
import pytest

from xnn import kernels
from xnn.kernels import generic
from xnn.kernels.cpu import numpy_fast

# (name, M positions, V words, D dims, index pattern)
CASES = [
    ("repeated", 40, 7, 5, "random"),
    ("all-equal", 30, 6, 4, "equal"),
    ("unused-rows", 25, 50, 3, "low"),
    ("one-position", 1, 4, 6, "random"),
    ("no-positions", 0, 5, 3, "random"),
    ("every-word-once", 9, 9, 2, "permutation"),
    ("large-vocab-chunks", 300, 9000, 2, "random"),   # generic needs several one-hot chunks
]


def embedding_case(rng, M: int, V: int, D: int, pattern: str, dtype=np.float64):
    if pattern == "equal":
        idx = np.full(M, V - 1)
    elif pattern == "low":
        idx = rng.integers(0, 3, size=M)
    elif pattern == "permutation":
        idx = rng.permutation(M)
    else:
        idx = rng.integers(0, V, size=M)
    return rng.standard_normal((M, D)).astype(dtype), idx


def scatter_ref(dout: np.ndarray, idx: np.ndarray, V: int) -> np.ndarray:
    dW = np.zeros((V, dout.shape[1]), dtype=dout.dtype)
    np.add.at(dW, idx, dout)
    return dW


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fast_equals_generic_equals_add_at(rng, case, dtype):
    _, M, V, D, pattern = case
    dout, idx = embedding_case(rng, M, V, D, pattern, dtype)
    ref = scatter_ref(dout, idx, V)
    fast = numpy_fast.embedding_backward(dout, idx, V)
    gen = generic.embedding_backward(dout, idx, V)
    for got in (fast, gen):
        assert got.dtype == dtype and got.shape == (V, D)
        np.testing.assert_allclose(got, ref, **_tol(dtype))
    unused = np.setdiff1d(np.arange(V), idx)
    assert np.all(fast[unused] == 0) and np.all(gen[unused] == 0)


def test_generic_serves_array_api_strict(rng):
    import array_api_strict as xs
    dout, idx = embedding_case(rng, 20, 6, 3, "random")
    dW = kernels.embedding_backward(xs.asarray(dout), xs.asarray(idx), 6)
    assert isinstance(dW, type(xs.asarray(0.0)))
    np.testing.assert_allclose(np.asarray(dW), scatter_ref(dout, idx, 6), rtol=1e-13, atol=1e-13)


def test_dispatch_and_forced_generic(rng, monkeypatch):
    import array_api_strict as xs
    monkeypatch.delenv("XNN_KERNELS", raising=False)
    assert "embedding_backward" in kernels.OPS
    assert kernels.op_path("embedding_backward", np_xp) == "numpy_fast"
    assert kernels.op_path("embedding_backward", xs) == "generic"
    dout, idx = embedding_case(rng, 12, 5, 2, "random")
    calls = []
    monkeypatch.setattr(generic, "embedding_backward",
                        lambda *a, **kw: calls.append("generic") or scatter_ref(a[0], a[1], a[2]))
    kernels.embedding_backward(dout, idx, 5)
    assert calls == []
    with kernels.use("generic"):
        kernels.embedding_backward(dout, idx, 5)
    monkeypatch.setenv("XNN_KERNELS", "generic")
    kernels.embedding_backward(dout, idx, 5)
    assert calls == ["generic", "generic"]


def test_numpy_fast_accepts_int32_indices_and_is_deterministic(rng):
    dout, idx = embedding_case(rng, 64, 8, 4, "random", np.float32)
    a = numpy_fast.embedding_backward(dout, idx.astype(np.int32), 8)
    b = numpy_fast.embedding_backward(dout, idx.astype(np.int64), 8)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- CUDA on a GPU
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cuda_matches_generic(rng, case, dtype):
    cp = pytest.importorskip("cupy")
    import xnn.kernels.cuda as cuda
    _, M, V, D, pattern = case
    dout, idx = embedding_case(rng, M, V, D, pattern, dtype)
    dW = cuda.embedding_backward(cp.asarray(dout), cp.asarray(idx), V)
    assert isinstance(dW, cp.ndarray) and dW.dtype == dtype and dW.shape == (V, D)
    np.testing.assert_allclose(cp.asnumpy(dW), generic.embedding_backward(dout, idx, V), **_tol(dtype))


@pytest.mark.gpu
def test_cuda_is_deterministic_and_dispatched(rng, monkeypatch):
    cp = pytest.importorskip("cupy")
    import array_api_compat.cupy as cp_xp
    monkeypatch.delenv("XNN_KERNELS", raising=False)
    assert kernels.kernel_path(cp_xp) == "cuda"
    dout, idx = embedding_case(rng, 4000, 50, 64, "low", np.float32)   # long runs of equal words
    g_dout, g_idx = cp.asarray(dout), cp.asarray(idx)
    first = cp.asnumpy(kernels.embedding_backward(g_dout, g_idx, 50))
    for _ in range(3):
        np.testing.assert_array_equal(cp.asnumpy(kernels.embedding_backward(g_dout, g_idx, 50)), first)
    np.testing.assert_allclose(first, scatter_ref(dout, idx, 50), rtol=1e-4, atol=1e-4)
