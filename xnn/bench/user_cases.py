"""The bench cases that need more than one process: a step with one core busy, and the first call.

* ``contended``: the float32 ThreeLayerConvNet step of xnn and of PyTorch while another process
  spins on one core (started before the timed runs, not pinned, stopped after). xnn's idle time
  is measured first in the same run, so the row also says how much the busy core slows xnn down.
* ``cold``: the first ``conv_forward_fast`` (and ``torch.nn.functional.conv2d``) call of a fresh
  Python process, against the median of the next calls: what a notebook user sees when timing a
  cell once. Each runs in a subprocess of the same interpreter and environment.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from .cases import Case

__all__ = ["busy_core", "cold_times"]

_SPIN = "while True:\n    pass\n"

_COLD = """
import json, sys, time
import numpy as np
x_shape, w_shape, stride, pad, dtype, path, runs = json.loads(sys.argv[1])
rs = np.random.RandomState(231)
x, w = rs.randn(*x_shape).astype(dtype), rs.randn(*w_shape).astype(dtype)
b = rs.randn(w_shape[0]).astype(dtype)
if path == "torch":
    import torch
    F = torch.nn.functional
    x, w, b = (torch.tensor(a) for a in (x, w, b))
    def call():
        return F.conv2d(x, w, b, stride=stride, padding=pad)
else:
    from xnn.layers import conv_forward_fast
    param = {"stride": stride, "pad": pad}
    def call():
        return conv_forward_fast(x, w, b, param)
times = []
for _ in range(runs + 1):
    t0 = time.perf_counter()
    call()
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


@contextlib.contextmanager
def busy_core(settle_s: float = 0.5) -> Iterator[int]:
    """Keep one core busy with a spinning Python process for the duration of the block; yields its pid."""
    proc = subprocess.Popen([sys.executable, "-c", _SPIN])
    try:
        time.sleep(settle_s)   # let the scheduler see it running before anything is timed
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def cold_times(case: Case, dtype: str, path: str, runs: int) -> dict[str, Any] | None:
    """``{"cold_ms", "warm_ms"}``: the first call of a fresh process and the median of the next
    ``runs`` calls, for ``path`` ``"fast"`` (xnn) or ``"torch"``. None when the torch subprocess
    fails (no torch); a failing xnn subprocess raises ``RuntimeError`` with its stderr's tail."""
    sh = case.shapes
    arg = json.dumps([sh["x"], sh["w"], sh["stride"], sh["pad"], dtype, path, runs])
    proc = subprocess.run([sys.executable, "-c", _COLD, arg], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        if path == "fast":   # xnn must run; torch may be missing
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"bench cold: the xnn subprocess failed (exit {proc.returncode}):\n{tail}")
        return None
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    warm = sorted(times[1:])
    return {"cold_ms": times[0] * 1e3, "warm_ms": warm[len(warm) // 2] * 1e3}
