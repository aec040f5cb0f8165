"""``xnn bench``: well-formed results on tiny shapes, the table, the JSON, torch-less runs."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from xnn import bench
from xnn.bench import cases as bench_cases
from xnn.bench import report as bench_report
from xnn.bench import timing as bench_timing
from xnn.bench import xnn_side

ROOT = Path(__file__).resolve().parents[1]
HAS_TORCH = importlib.util.find_spec("torch") is not None
ROW_KEYS = {"case", "label", "op", "dtype", "device", "shapes", "ms", "ms_min", "ratio_fast_torch",
            "ratio_generic_fast", "flops", "gflops", "errors", "max_rel_err", "errors_elementwise", "peak_mem_bytes",
            "im2col_bytes", "target", "repeat", "warmup", "extra"}
EXPECTED_OPS = {"convA": ["fwd", "bwd", "fwd+bwd"], "convB": ["fwd", "bwd", "fwd+bwd"],
                "pool": ["fwd", "bwd", "fwd+bwd"], "train": ["step"]}


@pytest.fixture(scope="module")
def quick_results():
    """All four cases, tiny shapes, float64, one timed run each (shared by several tests)."""
    return bench.run_bench(dtypes=("float64",), repeat=1, warmup=0, quick=True, cases=tuple(EXPECTED_OPS))


def test_quick_run_is_well_formed(quick_results):
    assert [r["case"] for r in quick_results] == [c for c in EXPECTED_OPS for _ in EXPECTED_OPS[c]]
    for r in quick_results:
        assert set(r) == ROW_KEYS
        assert r["op"] in EXPECTED_OPS[r["case"]]
        assert r["dtype"] == "float64" and r["device"] == "cpu"
        assert r["ms"]["fast"] > 0 and r["ms"]["generic"] > 0
        assert set(r["errors"]) == ({"generic", "torch"} if HAS_TORCH else {"generic"})
        if HAS_TORCH:
            assert r["ms"]["torch"] > 0
            assert r["ratio_fast_torch"] == pytest.approx(r["ms"]["fast"] / r["ms"]["torch"])


def test_quick_run_paths_agree(quick_results):
    for r in quick_results:
        for path, errs in r["errors"].items():
            assert errs, (r["case"], r["op"], path)
            assert max(errs.values()) < 1e-5, (r["case"], r["op"], path, errs)
            assert r["max_rel_err"][path] == max(errs.values())
        for path, errs in r["errors_elementwise"].items():
            assert set(errs) == set(r["errors"][path]) and max(errs.values()) < 1e-5
    names = {(r["case"], r["op"]): set(r["errors"]["generic"]) for r in quick_results}
    assert names[("convA", "bwd")] == {"dx", "dw", "db"}
    assert names[("pool", "fwd+bwd")] == {"out", "dx"}
    assert names[("train", "step")] == {"loss", "dW1", "db1", "dW2", "db2", "dW3", "db3"}


def test_conv_rows_carry_flops_and_memory(quick_results):
    conv_a = {r["op"]: r for r in quick_results if r["case"] == "convA"}
    case = bench_cases.make_cases(quick=True, names=("convA",))[0]
    assert conv_a["fwd"]["flops"] == bench_cases.conv_flops(case)["fwd"]
    assert conv_a["fwd+bwd"]["flops"] == 3 * conv_a["fwd"]["flops"]
    assert conv_a["fwd"]["gflops"]["fast"] == pytest.approx(conv_a["fwd"]["flops"] / conv_a["fwd"]["ms"]["fast"] / 1e6)
    assert conv_a["fwd"]["im2col_bytes"] == 3 * 9 * 4 * 5 * 5 * 8
    assert conv_a["fwd"]["peak_mem_bytes"] > 0
    assert conv_a["fwd+bwd"]["ms"]["fast"] == pytest.approx(conv_a["fwd"]["ms"]["fast"] + conv_a["bwd"]["ms"]["fast"])
    assert all(r["flops"] is None for r in quick_results if r["case"] in ("pool", "train"))


def test_full_size_flop_counts_match_the_reference():
    a, b = bench_cases.make_cases(names=("convA", "convB"))
    assert bench_cases.conv_flops(a)["fwd"] == pytest.approx(34.6e6, rel=2e-3)
    assert bench_cases.conv_flops(a)["bwd"] == pytest.approx(69.1e6, rel=2e-3)
    assert bench_cases.conv_flops(b)["fwd"] == pytest.approx(482e6, rel=2e-3)
    assert bench_cases.conv_flops(b)["bwd"] == pytest.approx(963e6, rel=2e-3)
    assert bench_cases.im2col_bytes(a, "float64") == pytest.approx(5.5e6, rel=0.01)


def test_float32_rows_and_case_filter():
    rows = bench.run_bench(dtypes=("float32",), repeat=1, warmup=0, quick=True, cases=("pool",),
                           paths=("fast", "generic"))
    assert [r["op"] for r in rows] == ["fwd", "bwd", "fwd+bwd"]
    assert all(r["dtype"] == "float32" and r["ms"]["torch"] is None for r in rows)
    assert all(max(r["errors"]["generic"].values()) < 1e-5 for r in rows)


def test_format_table(quick_results):
    table = bench.format_table(quick_results)
    lines = table.splitlines()
    assert len(lines) == len(quick_results) + 2
    assert lines[0].startswith("| case | dtype | xnn fast ms | xnn generic ms | torch ms | fast/torch |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "conv B 7x7 s1 fwd+bwd" in table and "ThreeLayerConvNet step" in table


def test_targets():
    row = {"device": "cpu", "case": "convB", "op": "fwd+bwd", "dtype": "float64", "ratio_fast_torch": 0.7}
    assert bench_report.target_for(row) == {"metric": "fast/torch", "cmp": "<=", "limit": 0.5, "value": 0.7,
                                            "met": False}
    assert bench_report.target_for({**row, "dtype": "float32"})["met"] is True
    assert bench_report.target_for({**row, "op": "fwd"}) is None
    assert bench_report.target_for({**row, "ratio_fast_torch": None})["met"] is None
    gpu = {"device": "gpu", "case": "pool", "op": "fwd+bwd", "dtype": "float32", "ratio_generic_fast": 3.5}
    assert bench_report.target_for(gpu)["met"] is True
    busy = {"device": "cpu", "case": "contended", "op": "step", "dtype": "float32", "ratio_fast_torch": 0.9,
            "extra": {"contended_over_idle": 2.5}}
    target = bench_report.target_for(busy)
    assert target["met"] is False and target["also"][0]["metric"] == "contended/idle"
    assert bench_report.target_for({**busy, "extra": {"contended_over_idle": 1.5}})["met"] is True
    assert bench_report.target_for({**busy, "dtype": "float64"}) is None
    cold = {"device": "cpu", "case": "cold", "op": "first call", "dtype": "float64", "extra": {"cold_over_warm": 1.8}}
    assert bench_report.target_for(cold) == {"metric": "cold/warm", "cmp": "<=", "limit": 2.0, "value": 1.8,
                                             "met": True}


def test_main_bench_writes_json_and_the_tool_renders_it(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    out = tmp_path / "sub" / "bench.json"
    args = parser.parse_args(["--dtype", "float64", "--repeat", "1", "--warmup", "0", "--quick",
                              "--cases", "convA", "--paths", "fast", "generic", "--json", str(out)])
    assert bench.main_bench(args) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert set(doc) == {"xnn_bench", "machine", "settings", "results"}
    assert doc["settings"]["repeat"] == 1 and doc["settings"]["dtypes"] == ["float64"]
    assert [r["op"] for r in doc["results"]] == ["fwd", "bwd", "fwd+bwd"]
    machine = doc["machine"]
    assert machine["cores"] == os.cpu_count() and machine["numpy"] == np.__version__
    assert machine["cpu"] and "xnn" in machine and "blas" in machine and "git" in machine and "loadavg" in machine
    assert bench.format_table(doc["results"]) in printed

    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "tools" / "bench_table.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(out)]) == 0
    rendered = capsys.readouterr().out
    assert rendered.startswith("Machine: ") and bench.format_table(doc["results"]) in rendered
    assert tool.main([str(out), "--targets-only"]) == 0
    assert "conv A 3x3 s2 fwd |" not in capsys.readouterr().out


def test_torch_rows_are_skipped_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    rows = bench.run_bench(dtypes=("float64",), repeat=1, warmup=0, quick=True, cases=("convB", "train"))
    assert [r["op"] for r in rows] == ["fwd", "bwd", "fwd+bwd", "step"]
    for r in rows:
        assert r["ms"]["torch"] is None and r["ratio_fast_torch"] is None
        assert set(r["errors"]) == {"generic"}
        assert r["gflops"]["torch"] is None
    table = bench.format_table(rows)
    assert "| – | – |" in table
    assert bench.machine_info()["torch"] is None


def test_error_metrics():
    ref = np.array([1.0, -2.0, 4.0, 1e-3])
    got = ref + np.array([0.0, 0.0, 4e-6, 1e-6])
    assert bench.scaled_error(got, ref) == pytest.approx(1e-6)
    assert bench.rel_error(got, ref) == pytest.approx(1e-6 / 2.001e-3)
    assert bench.scaled_error(ref, ref) == 0.0 and bench.scaled_error(np.zeros(3), np.zeros(3)) == 0.0
    assert bench.scaled_error(np.float32(2.5), 2.5) == 0.0


def test_busy_warning():
    assert bench_report.busy_warning([0.9, 0.5, 0.2], cores=2) is None
    assert "busy" in bench_report.busy_warning([1.5, 0.5, 0.2], cores=2)
    assert bench_report.busy_warning(None) is None


def test_timing_runs_each_path_as_one_block_with_warmups():
    calls = []
    fns = {p: ((lambda p=p: calls.append(p)), (lambda p=p: calls.append(p + "-sync"))) for p in ("a", "b")}
    timed = bench.time_paths(fns, warmup=1, repeat=2)
    # warm-up: run, sync; timed: sync (outside the timing), run, sync
    assert calls == ["a", "a-sync"] + ["a-sync", "a", "a-sync"] * 2 + ["b", "b-sync"] + ["b-sync", "b", "b-sync"] * 2
    assert set(timed) == {"a", "b"}
    assert all(0 <= fastest <= median for median, fastest in timed.values())


def test_generic_path_really_sets_the_env(monkeypatch):
    monkeypatch.delenv("XNN_KERNELS", raising=False)
    seen = []
    wrapped = bench_timing.with_kernels(lambda: seen.append(os.environ.get("XNN_KERNELS")), "generic")
    wrapped()
    assert seen == ["generic"] and "XNN_KERNELS" not in os.environ


def test_kernels_env_is_restored(monkeypatch):
    monkeypatch.setenv("XNN_KERNELS", "something")
    with bench.kernels_env("generic"):
        assert os.environ["XNN_KERNELS"] == "generic"
    assert os.environ["XNN_KERNELS"] == "something"
    with bench.kernels_env(None):
        assert "XNN_KERNELS" not in os.environ
    assert os.environ["XNN_KERNELS"] == "something"


def test_bad_arguments():
    with pytest.raises(ValueError, match="run_bench: unknown paths"):
        bench.run_bench(paths=("fast", "cudnn"), quick=True)
    with pytest.raises(ValueError, match="make_cases: unknown case names"):
        bench.run_bench(cases=("convC",), quick=True)


NEW_CASES = ("convL", "poolL", "epoch50", "epoch256")


def test_default_cases_per_device():
    assert [c.name for c in bench_cases.make_cases()] == ["convA", "convB", "pool", "train", "epoch", "contended",
                                                          "cold"]
    assert [c.name for c in bench_cases.make_cases(device="gpu")] == list(bench_cases.DEFAULT_CASES["gpu"])
    cases = {c.name: c for c in bench_cases.make_cases(names=NEW_CASES)}
    assert cases["convL"].shapes == {"x": (256, 64, 32, 32), "w": (64, 64, 3, 3), "stride": 1, "pad": 1}
    assert cases["poolL"].shapes["x"] == (256, 64, 32, 32)
    for name, batch in (("epoch50", 50), ("epoch256", 256)):
        sh = cases[name].shapes
        assert (sh["batch"], sh["images"], sh["input_dim"]) == (batch, 49_000, (3, 32, 32))
        assert (cases[name].repeat, cases[name].warmup) == (1, 0)


def test_gpu_cases_run_on_the_cpu_with_quick_shapes():
    rows = bench.run_bench(dtypes=("float64",), repeat=1, warmup=0, quick=True, cases=NEW_CASES)
    assert [(r["case"], r["op"]) for r in rows] == [
        ("convL", "fwd"), ("convL", "bwd"), ("convL", "fwd+bwd"), ("poolL", "fwd"), ("poolL", "bwd"),
        ("poolL", "fwd+bwd"), ("epoch50", "epoch"), ("epoch256", "epoch")]
    for r in rows:
        assert set(r) == ROW_KEYS and r["ms"]["fast"] > 0 and r["ms"]["generic"] > 0
        # torch runs its own loop over the batches (the last one partial): same final parameters
        assert max(max(e.values()) for e in r["errors"].values()) < 1e-9, (r["case"], r["errors"])
    epoch = rows[-1]
    assert epoch["repeat"] == 1 and epoch["warmup"] == 0 and epoch["target"] is None
    assert set(epoch["errors"]["generic"]) == {"loss", "W1", "b1", "W2", "b2", "W3", "b3"}


def test_epoch_visits_every_image_once(monkeypatch):
    from xnn.models import ThreeLayerConvNet
    seen = []
    real = ThreeLayerConvNet.loss
    monkeypatch.setattr(ThreeLayerConvNet, "loss", lambda self, X, y=None: seen.append(X.shape[0]) or real(self, X, y))
    case = bench_cases.make_cases(quick=True, names=("epoch256",))[0]
    xnn_side.prepare_xnn(case, bench_cases.host_inputs(case, "float64"), "cpu", "float64").ops["epoch"]()
    assert seen == [6, 4]


def _fake_torch(cuda: bool, calls: list):
    flags = types.SimpleNamespace(allow_tf32=True)
    cudnn = types.SimpleNamespace(allow_tf32=True, benchmark=False, version=lambda: 90100)
    return types.SimpleNamespace(
        backends=types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=flags), cudnn=cudnn),
        cuda=types.SimpleNamespace(is_available=lambda: cuda, synchronize=lambda: calls.append("torch"),
                                   get_device_name=lambda: "Fake GPU"))


def test_configure_cuda_turns_tf32_off_and_restores():
    from xnn.bench import torch_side as bench_torch
    torch = _fake_torch(True, [])
    old = bench_torch.configure_cuda(torch, False)
    assert old == {"matmul": True, "cudnn": True}
    assert torch.backends.cuda.matmul.allow_tf32 is False and torch.backends.cudnn.allow_tf32 is False
    assert bench_torch.cuda_settings(torch) == {"device": "Fake GPU", "cudnn": 90100, "cudnn_benchmark": False,
                                                "allow_tf32": {"matmul": False, "cudnn": False}}
    bench_torch.configure_cuda(torch, old)
    assert torch.backends.cuda.matmul.allow_tf32 is True and torch.backends.cudnn.allow_tf32 is True
    assert bench_torch.cuda_settings(_fake_torch(False, [])) is None


def test_gpu_sync_waits_for_cupy_and_torch(monkeypatch):
    calls = []
    device = types.SimpleNamespace(synchronize=lambda: calls.append("cupy"))
    monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(cuda=types.SimpleNamespace(Device=lambda: device)))
    bench_timing.gpu_sync(_fake_torch(True, calls))()
    bench_timing.gpu_sync(None)()
    assert calls == ["cupy", "torch", "cupy"]


@pytest.mark.gpu
def test_quick_gpu_bench_paths_agree():
    rows = bench.run_bench(device="gpu", dtypes=("float64",), repeat=1, warmup=0, quick=True,
                           cases=("convL", "poolL", "train", "epoch256"))
    assert {r["device"] for r in rows} == {"gpu"}
    for r in rows:
        assert r["ms"]["fast"] > 0 and r["ms"]["generic"] > 0
        assert max(max(e.values()) for e in r["errors"].values()) < 1e-9, (r["case"], r["op"], r["errors"])


def test_user_cases_run_quick_and_carry_their_numbers():
    """epoch (the default train job), contended (a core kept busy) and cold (a fresh process)."""
    rows = bench.run_bench(dtypes=("float64",), repeat=2, warmup=0, quick=True, cases=("epoch", "contended", "cold"))
    by_case = {r["case"]: r for r in rows}
    assert [(r["case"], r["op"]) for r in rows] == [("epoch", "epoch"), ("contended", "step"), ("cold", "first call")]
    for r in rows:
        assert set(r) == ROW_KEYS and r["ms"]["fast"] > 0
    epoch = by_case["epoch"]
    assert set(epoch["errors"]["generic"]) == {"loss", "W1", "b1", "W2", "b2", "W3", "b3"}
    # the same initial weights and minibatches, adam on both sides: the same trained network
    assert max(max(e.values()) for e in epoch["errors"].values()) < 1e-9, epoch["errors"]
    busy = by_case["contended"]
    assert "generic" not in busy["errors"] and busy["extra"]["fast_idle_ms"] > 0
    assert busy["extra"]["contended_over_idle"] == pytest.approx(busy["ms"]["fast"] / busy["extra"]["fast_idle_ms"])
    cold = by_case["cold"]
    assert cold["extra"]["warm_ms"]["fast"] > 0
    assert cold["extra"]["cold_over_warm"] == pytest.approx(cold["ms"]["fast"] / cold["extra"]["warm_ms"]["fast"])
    if HAS_TORCH:
        assert cold["ms"]["torch"] > 0 and epoch["ms"]["torch"] > 0 and busy["ms"]["torch"] > 0


def test_busy_core_process_is_gone_afterwards():
    from xnn.bench.user_cases import busy_core
    with busy_core(settle_s=0.05) as pid:
        os.kill(pid, 0)   # running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_machine_info_records_thread_settings(monkeypatch):
    monkeypatch.setenv("XNN_NUM_THREADS", "2")
    threads = bench.machine_info()["threads"]
    assert threads["xnn_kernel_threads"] == 2 and threads["env"]["XNN_NUM_THREADS"] == "2"
