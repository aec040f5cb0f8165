"""``xnn bench`` recurrent cases (lstm, caption) on tiny shapes: rows, ops and path agreement."""

from __future__ import annotations

import importlib.util

import pytest

from xnn import bench
from xnn.bench import cases as bench_cases

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_recurrent_cases_are_named_and_gpu_default():
    assert {"lstm", "caption"} <= set(bench_cases.CASE_NAMES)
    assert {"lstm", "caption"} <= set(bench_cases.DEFAULT_CASES["gpu"])
    full = {c.name: c for c in bench_cases.make_cases(names=("lstm", "caption"))}
    assert full["lstm"].shapes == {"N": 50, "T": 16, "D": 512, "H": 512}
    assert full["caption"].shapes["V"] == 1004 and full["caption"].shapes["H"] == 512


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_quick_recurrent_rows_agree_across_paths(dtype, tol):
    rows = bench.run_bench(dtypes=(dtype,), repeat=1, warmup=0, quick=True, cases=("lstm", "caption"))
    assert [(r["case"], r["op"]) for r in rows] == [("lstm", "fwd"), ("lstm", "bwd"), ("lstm", "fwd+bwd"),
                                                   ("caption", "step")]
    names = {(r["case"], r["op"]): set(r["errors"]["generic"]) for r in rows}
    assert names[("lstm", "bwd")] == {"dx", "dh0", "dWx", "dWh", "db"}
    assert names[("caption", "step")] == {"loss", "dW_embed", "dW_proj", "db_proj", "dWx", "dWh", "db",
                                          "dW_vocab", "db_vocab"}
    for r in rows:
        assert set(r["errors"]) == ({"generic", "torch"} if HAS_TORCH else {"generic"})
        for path, err in r["max_rel_err"].items():
            assert err < tol, (r["case"], r["op"], path, r["errors"][path])
