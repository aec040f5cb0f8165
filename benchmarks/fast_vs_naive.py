"""Fast vs naive conv and max-pool layers, forward + backward, median of 7 runs after one warm-up.

Run: python benchmarks/fast_vs_naive.py
"""
import time

import numpy as np

from xnn.layers import (
    conv_backward_fast,
    conv_backward_naive,
    conv_forward_fast,
    conv_forward_naive,
    max_pool_backward_fast,
    max_pool_backward_naive,
    max_pool_forward_fast,
    max_pool_forward_naive,
)

CONV_CASES = {
    "conv A 100x3x31x31 w25x3x3x3 s2p1": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    "conv B 50x3x32x32 w32x3x7x7 s1p3": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
}
POOL_CASES = {
    "pool 2x2 s2 100x3x32x32": {"pool_height": 2, "pool_width": 2, "stride": 2},
    "pool 3x3 s2 100x3x32x32": {"pool_height": 3, "pool_width": 3, "stride": 2},
}


def median_ms(f, runs: int = 7) -> float:
    """Median wall time of ``f()`` in milliseconds, after one untimed call."""
    f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[runs // 2]


def forward_backward(forward, backward, *inputs):
    """A closure running ``forward(*inputs)`` and ``backward`` on a ones upstream gradient."""
    def run():
        out, cache = forward(*inputs)
        backward(np.ones_like(out), cache)
    return run


def main() -> None:
    rs = np.random.RandomState(231)
    for dt in (np.float64, np.float32):
        for name, (xs, ws, stride, pad) in CONV_CASES.items():
            x, w, b = rs.randn(*xs).astype(dt), rs.randn(*ws).astype(dt), rs.randn(ws[0]).astype(dt)
            args = (x, w, b, {"stride": stride, "pad": pad})
            naive = median_ms(forward_backward(conv_forward_naive, conv_backward_naive, *args))
            fast = median_ms(forward_backward(conv_forward_fast, conv_backward_fast, *args))
            print(f"{dt.__name__} {name}: naive {naive:.1f} ms, fast {fast:.1f} ms, speedup {naive / fast:.1f}x")
        x = rs.randn(100, 3, 32, 32).astype(dt)
        for name, pool_param in POOL_CASES.items():
            naive = median_ms(forward_backward(max_pool_forward_naive, max_pool_backward_naive, x, pool_param))
            fast = median_ms(forward_backward(max_pool_forward_fast, max_pool_backward_fast, x, pool_param))
            print(f"{dt.__name__} {name}: naive {naive:.2f} ms, fast {fast:.2f} ms, speedup {naive / fast:.1f}x")


if __name__ == "__main__":
    main()
