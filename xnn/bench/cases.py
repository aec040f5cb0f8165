"""The cases of ``xnn bench``: shapes, inputs, FLOP counts and the xnn (fast / generic) runners.

A *case* is one layer or training workload (conv A, conv B, the large conv L, max-pool, large
max-pool, one ThreeLayerConvNet step, one training epoch with batch 50 or 256), the recurrent
cases of :mod:`xnn.bench.recurrent` (an LSTM layer and a CaptioningRNN step), and the cases that
measure what users feel: an epoch of the default ``xnn train`` job (``epoch``, see :mod:`.job`),
the training step while another process keeps a core busy (``contended``) and the first conv
forward of a fresh process (``cold``, see :mod:`.user_cases`).
Every path (xnn fast, xnn generic, PyTorch) of a case is prepared from the same host inputs,
drawn from ``np.random.RandomState(231)``, into a :class:`Prepared`: a callable per timed op that
returns that op's outputs (as a tuple, in the order of ``Case.outputs[op]``). The outputs of the
first call are what the harness compares across paths.

This module sits at the CLI level of the layering (it imports layers, models and optim).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import conv_output_hw

__all__ = ["Case", "Prepared", "CASE_NAMES", "DEFAULT_CASES", "make_cases", "host_inputs", "conv_flops",
           "conv_forward_memory", "im2col_bytes"]

CASE_NAMES = ("convA", "convB", "convL", "pool", "poolL", "train", "epoch50", "epoch256", "lstm", "caption",
              "epoch", "contended", "cold")
# The cases run when none are named: the GPU adds the large layers, the 49k-image epochs and the
# recurrent cases; the CPU adds the cases of what users feel.
DEFAULT_CASES = {"cpu": ("convA", "convB", "pool", "train", "epoch", "contended", "cold"),
                 "gpu": ("convA", "convB", "convL", "pool", "poolL", "train", "epoch50", "epoch256", "lstm",
                         "caption")}
EPOCH_IMAGES = 49_000
TRAIN_PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")
LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Case:
    """One benchmark workload.

    ``kind`` is ``"conv"``, ``"pool"``, ``"train"``, ``"epoch"``, ``"job"``, ``"contended"`` (a
    train step timed with one core busy) or ``"cold"``; ``shapes`` holds its geometry:
    conv: ``x`` (N, C, H, W), ``w`` (F, C, HH, WW), ``stride``, ``pad``;
    pool: ``x`` (N, C, H, W), ``pool`` (pool_height, pool_width, stride);
    train: ``batch``, ``input_dim`` (C, H, W), ``num_filters``, ``filter_size``, ``hidden_dim``, ``num_classes``;
    epoch: the same plus ``images`` (one epoch = every image once, in batches of ``batch``, the last
    one partial). ``outputs`` maps each timed op (``fwd``/``bwd``, ``step`` or ``epoch``) to the names
    of what it returns. ``repeat`` / ``warmup`` (None: the run's) override the timing of a case.
    """

    name: str
    label: str
    kind: str
    shapes: dict[str, Any]
    outputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    repeat: int | None = None
    warmup: int | None = None


@dataclass
class Prepared:
    """One path of one case, ready to time: ``ops[op]()`` runs the op and returns its outputs."""

    ops: dict[str, Callable[[], tuple]]


def _conv_case(name: str, label: str, x: tuple, w: tuple, stride: int, pad: int) -> Case:
    return Case(name, label, "conv", {"x": x, "w": w, "stride": stride, "pad": pad},
                {"fwd": ("out",), "bwd": ("dx", "dw", "db")})


def _pool_case(name: str, x: tuple) -> Case:
    label = "max-pool 2x2 s2" + (" large" if name == "poolL" else "")
    return Case(name, label, "pool", {"x": x, "pool": (2, 2, 2)}, {"fwd": ("out",), "bwd": ("dx",)})


def _net_case(name: str, batch: int, net: dict, images: int | None = None) -> Case:
    if images is None:
        return Case(name, "ThreeLayerConvNet", "train", {"batch": batch, **net},
                    {"step": ("loss",) + tuple("d" + p for p in TRAIN_PARAMS)})
    # One epoch per timed run: the first (compared, untimed) epoch is the warm-up, one timed epoch.
    return Case(name, f"ThreeLayerConvNet b{batch}", "epoch", {"batch": batch, "images": images, **net},
                {"epoch": ("loss",) + TRAIN_PARAMS}, repeat=1, warmup=0)


def _user_cases(net: dict, batch: int, cold_conv: Case, job_images: int) -> list[Case]:
    """The ``epoch`` (default train job), ``contended`` (train step, one core busy) and ``cold`` cases."""
    quick = job_images < 100
    job = Case("epoch", "default train job", "job", {"images": job_images, "quick": quick},
               {"epoch": ("loss",) + TRAIN_PARAMS}, repeat=3, warmup=1)
    contended = Case("contended", "ThreeLayerConvNet, 1 core busy", "contended", {"batch": batch, **net},
                     {"step": ("loss",) + tuple("d" + p for p in TRAIN_PARAMS)})
    cold = Case("cold", "conv B fwd, fresh process", "cold", cold_conv.shapes, {"first call": ("out",)})
    return [job, contended, cold]


def make_cases(quick: bool = False, names: tuple[str, ...] | None = None, device: str = "cpu") -> list[Case]:
    """The benchmark cases, or tiny versions of them with ``quick=True``.

    ``names`` filters by case name (see ``CASE_NAMES``); None means ``DEFAULT_CASES[device]``.
    """
    # The cold case times conv B's forward, so it takes conv B's shapes.
    if quick:
        net = {"input_dim": (3, 8, 8), "num_filters": 4, "filter_size": 7, "hidden_dim": 10, "num_classes": 10}
        conv_b = _conv_case("convB", "conv B 7x7 s1", (2, 3, 8, 8), (4, 3, 7, 7), 1, 3)
        cases = [_conv_case("convA", "conv A 3x3 s2", (4, 3, 9, 9), (5, 3, 3, 3), 2, 1), conv_b,
                 _conv_case("convL", "conv L 3x3 s1", (2, 4, 6, 6), (4, 4, 3, 3), 1, 1),
                 _pool_case("pool", (2, 3, 8, 8)), _pool_case("poolL", (2, 4, 8, 8)),
                 _net_case("train", 4, net), _net_case("epoch50", 4, net, 10), _net_case("epoch256", 6, net, 10),
                 *_user_cases(net, 4, conv_b, 40)]
    else:
        net = {"input_dim": (3, 32, 32), "num_filters": 32, "filter_size": 7, "hidden_dim": 100, "num_classes": 10}
        conv_b = _conv_case("convB", "conv B 7x7 s1", (50, 3, 32, 32), (32, 3, 7, 7), 1, 3)
        cases = [_conv_case("convA", "conv A 3x3 s2", (100, 3, 31, 31), (25, 3, 3, 3), 2, 1), conv_b,
                 _conv_case("convL", "conv L 3x3 s1", (256, 64, 32, 32), (64, 64, 3, 3), 1, 1),
                 _pool_case("pool", (100, 3, 32, 32)), _pool_case("poolL", (256, 64, 32, 32)),
                 _net_case("train", 50, net), _net_case("epoch50", 50, net, EPOCH_IMAGES),
                 _net_case("epoch256", 256, net, EPOCH_IMAGES), *_user_cases(net, 50, conv_b, 2000)]
    from .recurrent import recurrent_cases
    cases += recurrent_cases(quick)
    unknown = set(names or ()) - set(CASE_NAMES)
    if unknown:
        raise ValueError(f"make_cases: unknown case names {sorted(unknown)}; expected some of {CASE_NAMES}")
    wanted = DEFAULT_CASES[device] if names is None else names
    return [c for c in cases if c.name in wanted]


# --------------------------------------------------------------------------- geometry
def conv_out_hw(case: Case) -> tuple[int, int]:
    """(Ho, Wo) of a conv case (floor semantics)."""
    _, _, H, W = case.shapes["x"]
    _, _, HH, WW = case.shapes["w"]
    return conv_output_hw(H, W, HH, WW, case.shapes["stride"], case.shapes["pad"])


def conv_flops(case: Case) -> dict[str, int]:
    """FLOPs of a conv case: forward ``2*N*F*Ho*Wo*C*HH*WW``, backward twice that."""
    N, C, _, _ = case.shapes["x"]
    F, _, HH, WW = case.shapes["w"]
    Ho, Wo = conv_out_hw(case)
    fwd = 2 * N * F * Ho * Wo * C * HH * WW
    return {"fwd": fwd, "bwd": 2 * fwd, "fwd+bwd": 3 * fwd}


def im2col_bytes(case: Case, dtype: str) -> int:
    """Size of the im2col matrix ``(C*HH*WW, N*Ho*Wo)`` of a conv case in ``dtype``."""
    N, C, _, _ = case.shapes["x"]
    _, _, HH, WW = case.shapes["w"]
    Ho, Wo = conv_out_hw(case)
    return C * HH * WW * N * Ho * Wo * np.dtype(dtype).itemsize


def conv_forward_memory(inputs: dict[str, np.ndarray]) -> int:
    """Peak bytes NumPy allocates (tracemalloc) during one ``conv_forward_fast`` call, output and cache included."""
    from ..kernels.cpu.buffers import buffer_pool
    from ..kernels.cpu.threads import release_scratch
    from ..layers import conv_forward_fast
    conv_param = {"stride": inputs["stride"], "pad": inputs["pad"]}
    buffer_pool.clear()   # a cold call: reused buffers would hide the footprint
    release_scratch()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = conv_forward_fast(inputs["x"], inputs["w"], inputs["b"], conv_param)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return int(peak)


# --------------------------------------------------------------------------- inputs
def _he(rs: np.random.RandomState, *shape: int, fan_in: int) -> np.ndarray:
    return rs.randn(*shape) * np.sqrt(2.0 / fan_in)


def host_inputs(case: Case, dtype: str) -> dict[str, Any]:
    """Host NumPy inputs of a case in ``dtype``, drawn from ``RandomState(231)`` in a fixed order.

    conv: ``x, w, b, dout`` and ``stride, pad``; pool: ``x, dout`` and the pool geometry;
    train: ``X`` (batch, C, H, W), ``y`` (batch,) int64 and He-scaled ``params`` W1..b3; epoch: the
    same with ``images`` rows in ``X`` and ``y``.
    """
    if case.kind in ("lstm", "caption"):
        from .recurrent import recurrent_inputs
        return recurrent_inputs(case, dtype)
    rs = np.random.RandomState(231)
    sh = case.shapes
    if case.kind in ("conv", "cold"):
        Ho, Wo = conv_out_hw(case)
        x, w = rs.randn(*sh["x"]), rs.randn(*sh["w"])
        b, dout = rs.randn(sh["w"][0]), rs.randn(sh["x"][0], sh["w"][0], Ho, Wo)
        arrays = {"x": x, "w": w, "b": b, "dout": dout}
        return {**{k: v.astype(dtype) for k, v in arrays.items()}, "stride": sh["stride"], "pad": sh["pad"]}
    if case.kind == "pool":
        ph, pw, s = sh["pool"]
        N, C, H, W = sh["x"]
        x = rs.randn(*sh["x"])
        dout = rs.randn(N, C, 1 + (H - ph) // s, 1 + (W - pw) // s)
        return {"x": x.astype(dtype), "dout": dout.astype(dtype), "pool_height": ph, "pool_width": pw, "stride": s}
    if case.kind == "job":
        from .job import job_inputs
        return job_inputs(case, dtype)
    C, H, W = sh["input_dim"]
    F, fs, hid, ncls = sh["num_filters"], sh["filter_size"], sh["hidden_dim"], sh["num_classes"]
    rows = sh.get("images", sh["batch"])
    X = rs.randn(rows, C, H, W).astype(dtype)
    y = rs.randint(ncls, size=rows).astype(np.int64)
    flat = F * (H // 2) * (W // 2)
    params = {"W1": _he(rs, F, C, fs, fs, fan_in=C * fs * fs), "b1": np.zeros(F),
              "W2": _he(rs, flat, hid, fan_in=flat), "b2": np.zeros(hid),
              "W3": _he(rs, hid, ncls, fan_in=hid), "b3": np.zeros(ncls)}
    return {"X": X, "y": y, "params": {k: v.astype(dtype) for k, v in params.items()}}
