"""The CPU fast kernels' buffer pool: a buffer is reused only once nothing references it."""

from __future__ import annotations

import numpy as np

from xnn.kernels.cpu import numpy_fast
from xnn.kernels.cpu.buffers import BufferPool, buffer_pool


def test_small_requests_are_not_pooled():
    pool = BufferPool(min_bytes=1 << 10)
    a = pool.empty((8,), np.float64)
    del a
    b = pool.empty((8,), np.float64)
    assert b.shape == (8,) and b.dtype == np.float64
    assert not pool._buffers


def test_unreferenced_buffer_is_reused_referenced_one_is_not():
    pool = BufferPool(min_bytes=64, per_key=2)
    a = pool.empty((4, 8), np.float32)
    address = a.ctypes.data
    view = a.reshape(-1)[3:]          # a view keeps its owner alive
    del a
    b = pool.empty((4, 8), np.float32)
    assert b.ctypes.data != address   # the first buffer is still readable through `view`
    del view
    c = pool.empty((4, 8), np.float32)
    assert c.ctypes.data == address   # now nothing references it: reused
    d = pool.empty((4, 8), np.float32)  # both pooled buffers in use: a fresh unpooled one
    assert d.ctypes.data not in (b.ctypes.data, c.ctypes.data)
    assert len(pool._buffers[((4, 8), np.dtype(np.float32).str)]) == 2


def test_dtype_and_shape_are_part_of_the_key():
    pool = BufferPool(min_bytes=64, max_keys=2)
    a = pool.empty((16,), np.float64)
    assert pool.empty((16,), np.float32).dtype == np.float32
    assert pool.empty((2, 8), np.float64).shape == (2, 8)
    assert len(pool._buffers) == 2    # least recently used key dropped
    del a


def test_conv_forward_keeps_held_outputs_intact_across_calls():
    """The conv output comes from the pool: a held output is never reused, a dropped one is."""
    rng = np.random.RandomState(0)
    x1, x2 = rng.randn(2, 2, 2, 6, 6)
    w, b = rng.randn(3, 2, 3, 3), rng.randn(3)
    old = buffer_pool.min_bytes
    buffer_pool.min_bytes = 1          # pool even these tiny outputs
    buffer_pool.clear()
    try:
        out1, state1 = numpy_fast.conv_forward(x1, w, b, 1, 1)
        snapshot, state_snapshot = out1.copy(), state1.copy()
        numpy_fast.conv_forward(x2, w, b, 1, 1)
        np.testing.assert_array_equal(out1, snapshot)              # the held output was not reused
        np.testing.assert_array_equal(state1, state_snapshot)      # nor the backward's state
        address = out1.__array_interface__["data"][0]
        del out1, snapshot
        out3, _ = numpy_fast.conv_forward(x1, w, b, 1, 1)
        assert out3.__array_interface__["data"][0] == address   # the dropped output is reused
    finally:
        buffer_pool.min_bytes = old
        buffer_pool.clear()


def test_total_bytes_are_capped():
    pool = BufferPool(min_bytes=64, per_key=4, max_bytes=3 * 800)
    held = [pool.empty((100,), np.float64) for _ in range(4)]   # 800 bytes each
    assert pool.held_bytes() == 3 * 800                           # the fourth one is not pooled
    addresses = {a.ctypes.data for a in held}
    del held
    again = [pool.empty((100,), np.float64) for _ in range(3)]
    assert {a.ctypes.data for a in again} <= addresses and len({a.ctypes.data for a in again}) == 3


def test_exported_buffers_are_not_reused_while_the_export_lives():
    """memoryview, DLPack and ctypes exports all keep the pooled array referenced."""
    import ctypes
    exports = {"memoryview": memoryview, "dlpack": np.from_dlpack, "asarray": np.asarray,
               "ctypes": lambda a: a.ctypes.data_as(ctypes.c_void_p), "view": lambda a: a.T}
    pool = BufferPool(min_bytes=64, per_key=4)
    for name, export in exports.items():
        a = pool.empty((4, 8), np.float64)
        address = a.ctypes.data
        exported = export(a)
        del a
        b = pool.empty((4, 8), np.float64)
        assert b.ctypes.data != address, name
        del exported, b
        assert pool.empty((4, 8), np.float64).ctypes.data == address, name   # now free again
