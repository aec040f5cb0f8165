"""Worker threads of the NumPy kernels: chunking, BLAS limits, determinism across runs and thread counts."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from xnn import kernels, layers
from xnn.kernels.cpu import numpy_fast, threads
from xnn.models import ThreeLayerConvNet


@pytest.fixture(autouse=True)
def small_work_runs_on_threads(monkeypatch):
    """The inputs here are small; let every kernel split them anyway, so the threads are exercised."""
    monkeypatch.setattr(threads, "MIN_PARALLEL_WORK", 0)


@pytest.fixture
def thread_count(monkeypatch):
    """Set ``XNN_NUM_THREADS`` for the test: ``thread_count(n)``."""
    def set_count(n: int) -> None:
        monkeypatch.setenv("XNN_NUM_THREADS", str(n))
    return set_count


def test_num_threads_reads_the_environment_and_the_affinity(monkeypatch):
    monkeypatch.delenv("XNN_NUM_THREADS", raising=False)
    import os
    assert threads.num_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("XNN_NUM_THREADS", "3")
    assert threads.num_threads() == 3
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv("XNN_NUM_THREADS", bad)
        with pytest.raises(ValueError, match=r"XNN_NUM_THREADS must be a positive integer"):
            threads.num_threads()


@pytest.mark.parametrize("n, parts", [(1, 4), (7, 3), (50, 4), (3, 8), (100, 1)])
def test_chunk_bounds_cover_the_range_in_order(n, parts):
    bounds = threads.chunk_bounds(n, parts)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1 and len(bounds) == min(n, parts)


def test_run_chunks_uses_several_threads_and_keeps_chunk_order(thread_count):
    thread_count(2)
    names = set()
    both_in = threading.Barrier(2, timeout=30)   # the first two chunks wait for each other

    def fn(a, b):
        names.add(threading.current_thread().name)
        if a < 4:   # chunks (0, 2) and (2, 4)
            both_in.wait()
        return (a, b)

    result = threads.run_chunks(fn, 8, work=1 << 20)
    assert result == threads.chunk_bounds(8, 2 * threads.CHUNKS_PER_THREAD)
    assert len(names) == 2


def test_run_chunks_runs_inline_when_small_single_threaded_or_nested(thread_count):
    thread_count(2)
    main = threading.current_thread().name
    seen = []
    threads.MIN_PARALLEL_WORK = 100
    threads.run_chunks(lambda a, b: seen.append(threading.current_thread().name), 8, work=10)
    thread_count(1)
    threads.run_chunks(lambda a, b: seen.append(threading.current_thread().name), 8, work=1 << 20, parts=4)
    assert seen == [main] * 5
    thread_count(2)
    inner = threads.run_chunks(lambda a, b: threads.run_chunks(lambda c, d: (c, d), 6, work=1 << 20), 4,
                               work=1 << 20)
    assert all(result == [(0, 6)] for result in inner)   # nested regions do not fan out again


def test_run_chunks_reraises_a_chunk_error_after_all_chunks_stopped(thread_count):
    thread_count(2)
    done = []

    def fn(a, b):
        if a == 0:
            raise RuntimeError("chunk 0 failed")
        threading.Event().wait(0.01)
        done.append(a)

    with pytest.raises(RuntimeError, match="chunk 0 failed"):
        threads.run_chunks(fn, 4, work=1 << 20)
    assert sorted(done) == [1, 2, 3]


def test_blas_is_single_threaded_inside_and_restored_after(thread_count):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    thread_count(2)
    controller = threadpoolctl.ThreadpoolController()
    before = [lib["num_threads"] for lib in controller.select(user_api="blas").info()]
    seen = []
    threads.run_chunks(lambda a, b: seen.append(
        [lib["num_threads"] for lib in threadpoolctl.ThreadpoolController().select(user_api="blas").info()]),
        4, work=1 << 20)
    assert all(counts == [1] * len(before) for counts in seen)
    assert [lib["num_threads"] for lib in controller.select(user_api="blas").info()] == before


# --------------------------------------------------------------------------- determinism
def _conv_inputs(dtype, N=12):
    rs = np.random.RandomState(3)
    x = rs.randn(N, 3, 12, 12).astype(dtype)
    w = rs.randn(8, 3, 5, 5).astype(dtype)
    b = rs.randn(8).astype(dtype)
    dout = rs.randn(N, 8, 12, 12).astype(dtype)
    return x, w, b, dout


def _conv_pass(x, w, b, dout):
    out, cols = numpy_fast.conv_forward(x, w, b, 1, 2)
    out = out.copy()
    dx, dw, db = numpy_fast.conv_backward(dout, cols, x.shape, w, 1, 2)
    return [out, dx.copy(), dw.copy(), db.copy()]


def _pool_relu_pass(x):
    out, arg = numpy_fast.maxpool_forward(x, 2, 2, 2)
    out, arg = out.copy(), arg.copy()
    dx = numpy_fast.maxpool_backward(out, arg, x.shape, 2, 2, 2).copy()
    return [out, arg, dx, numpy_fast.relu_backward(x[::-1].copy(), x), numpy_fast.im2col(x, 3, 3, 1, 1).copy(),
            numpy_fast.matmul(x.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1).T)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_runs_repeat_bit_for_bit_at_a_thread_count(thread_count, dtype, count):
    thread_count(count)
    inputs = _conv_inputs(dtype)
    first, second = _conv_pass(*inputs), _conv_pass(*inputs)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_forward_and_backward_are_bit_identical_across_thread_counts(thread_count, dtype):
    """Chunks write their own images; the backward's dw sums chunks that depend only on the sizes."""
    results = {}
    for count in (1, 2, 3):
        thread_count(count)
        results[count] = _conv_pass(*_conv_inputs(dtype))
    for count in (2, 3):
        for a, b in zip(results[count], results[1]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_disjoint_chunk_ops_are_bit_identical_across_thread_counts(thread_count, dtype):
    """Pool, ReLU, im2col and row-split products write disjoint outputs per chunk: same bits at any count."""
    x = np.random.RandomState(4).randn(64, 8, 16, 16).astype(dtype)
    results = {}
    for count in (1, 2, 3):
        thread_count(count)
        results[count] = _pool_relu_pass(x)
    for count in (2, 3):
        for a, b in zip(results[count], results[1]):
            np.testing.assert_array_equal(a, b)


def test_the_training_step_is_bit_identical_at_any_thread_count(thread_count):
    def step():
        np.random.seed(0)
        model = ThreeLayerConvNet(num_filters=8, filter_size=5, hidden_dim=20, dtype=np.float32)
        X = np.random.randn(16, 3, 32, 32).astype(np.float32)
        y = np.random.randint(10, size=16)
        return model.loss(X, y)
    losses, grads = {}, {}
    for count in (1, 2, 3):
        thread_count(count)
        losses[count], grads[count] = step()
    for count in (2, 3):
        assert losses[count] == losses[1]
        for k in grads[1]:
            np.testing.assert_array_equal(grads[count][k], grads[1][k])


def test_layers_agree_with_the_generic_path_under_threads(thread_count):
    thread_count(2)
    x, w, b, dout = _conv_inputs(np.float64, N=9)
    conv_param = {"stride": 1, "pad": 2}
    out, cache = layers.conv_forward_fast(x, w, b, conv_param)
    grads = layers.conv_backward_fast(dout, cache)
    with kernels.use("generic"):
        out_g, cache_g = layers.conv_forward_fast(x, w, b, conv_param)
        grads_g = layers.conv_backward_fast(dout, cache_g)
    np.testing.assert_allclose(out, out_g, rtol=1e-12, atol=1e-12)
    for a, g in zip(grads, grads_g):
        np.testing.assert_allclose(a, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_adam_step_fast_path_gives_the_generic_bits_and_leaves_inputs_alone(thread_count, dtype, count):
    from xnn.kernels import generic
    thread_count(count)
    rs = np.random.RandomState(7)
    w, dw, m = (rs.randn(70001).astype(dtype) for _ in range(3))
    v = np.abs(rs.randn(70001)).astype(dtype)
    before = [a.copy() for a in (w, dw, m, v)]
    fast = numpy_fast.adam_step(w, dw, m, v, 5, 1e-3, 0.9, 0.999, 1e-8)
    ref = generic.adam_step(w, dw, m, v, 5, 1e-3, 0.9, 0.999, 1e-8)
    for a, b in zip(fast, ref):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for a, b in zip((w, dw, m, v), before):
        np.testing.assert_array_equal(a, b)


def test_adam_step_mixed_dtypes_take_the_generic_promotion():
    w = np.ones((3, 4), np.float32)
    dw = np.full((3, 4), 0.5)
    next_w, m, v = numpy_fast.adam_step(w, dw, np.zeros_like(w), np.zeros_like(w), 1, 1e-3, 0.9, 0.999, 1e-8)
    assert next_w.dtype == np.float64 and m.dtype == np.float64


@pytest.mark.parametrize("lr, beta1", [(np.float64(3e-3), 0.9), (1e-3, np.float64(0.9)), (np.float32(3e-3), 0.9)])
def test_adam_step_numpy_scalar_hyperparameters_give_the_generic_result(lr, beta1):
    # A course sweep draws lr = 10 ** np.random.uniform(...), a NumPy float64: the update must not
    # depend on the kernel path (dtype and bits), whatever that scalar does to float32 arrays.
    from xnn import optim
    rs = np.random.RandomState(8)
    w, dw, m = (rs.randn(5000).astype(np.float32) for _ in range(3))
    v = np.abs(rs.randn(5000)).astype(np.float32)
    fast = numpy_fast.adam_step(w, dw, m, v, 3, lr, beta1, 0.999, 1e-8)
    ref = kernels.generic.adam_step(w, dw, m, v, 3, lr, beta1, 0.999, 1e-8)
    for a, b in zip(fast, ref):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    config = {"learning_rate": lr, "beta1": beta1}
    next_w, _ = optim.adam(w, dw, dict(config))
    with kernels.use("generic"):
        next_w_generic, _ = optim.adam(w, dw, dict(config))
    assert next_w.dtype == next_w_generic.dtype
    np.testing.assert_array_equal(next_w, next_w_generic)


class _FakeBlas:
    """A threadpoolctl library controller whose ``set_num_threads(1)`` may fail."""

    def __init__(self, threads: int, refuse_one: bool = False) -> None:
        self.threads, self.refuse_one = threads, refuse_one

    def get_num_threads(self) -> int:
        return self.threads

    def set_num_threads(self, n: int) -> None:
        if n == 1 and self.refuse_one:
            raise RuntimeError("this BLAS cannot change its thread count")
        self.threads = n


def test_a_blas_that_refuses_the_limit_leaves_no_library_limited(monkeypatch):
    limit = threads._BlasLimit()
    first, stubborn = _FakeBlas(4), _FakeBlas(3, refuse_one=True)
    limit._controllers = [first, stubborn]
    monkeypatch.setattr(threads, "_blas", limit)
    with pytest.raises(RuntimeError, match="cannot change"):
        with threads.blas_single_threaded():
            pass
    assert first.threads == 4 and limit._depth == 0
    stubborn.refuse_one = False   # the next region limits and restores both again
    with threads.blas_single_threaded():
        with threads.blas_single_threaded():
            assert (first.threads, stubborn.threads) == (1, 1)
        assert (first.threads, stubborn.threads) == (1, 1)
    assert (first.threads, stubborn.threads) == (4, 3) and limit._depth == 0


def test_a_bad_thread_setting_does_not_break_the_import(monkeypatch):
    """Importing xnn.layers starts the workers; a bad XNN_NUM_THREADS is reported at the first call."""
    import subprocess
    import sys
    env = {**__import__("os").environ, "XNN_NUM_THREADS": "two"}
    code = ("import numpy as np, xnn.layers as L\n"
            "try:\n    L.relu_backward(np.ones((1024, 1024)), np.ones((1024, 1024)))\n"
            "except ValueError as e:\n    print('error:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "XNN_NUM_THREADS must be a positive integer" in out
