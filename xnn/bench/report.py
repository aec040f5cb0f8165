"""Reporting for ``xnn bench``: machine info, the performance targets, the markdown table."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

__all__ = ["machine_info", "format_machine", "format_table", "target_for", "load_average", "busy_warning",
           "cpu_model", "CPU_TARGETS"]

# (case, op) -> (metric, {dtype: largest allowed value}); the dtype None applies to every dtype.
CPU_TARGETS: dict[tuple[str, str], tuple[str, dict[str | None, float]]] = {
    ("convB", "fwd+bwd"): ("fast/torch", {"float32": 1.0, "float64": 0.5}),
    ("convA", "fwd+bwd"): ("fast/torch", {None: 0.8}),
    ("pool", "fwd+bwd"): ("fast/torch", {None: 1.0}),
    ("train", "step"): ("fast/torch", {"float32": 1.0, "float64": 0.5}),
    ("epoch", "epoch"): ("fast/torch", {"float32": 1.1}),
    ("contended", "step"): ("fast/torch", {"float32": 1.0}),
    ("cold", "first call"): ("cold/warm", {None: 2.0}),
}
# Second checks of a row, same format.
CPU_EXTRA_TARGETS = {("contended", "step"): ("contended/idle", {"float32": 2.0})}
GPU_SPEEDUP_OVER_GENERIC = 3.0
_METRIC_VALUE = {"fast/torch": lambda r: r.get("ratio_fast_torch"),
                 "cold/warm": lambda r: (r.get("extra") or {}).get("cold_over_warm"),
                 "contended/idle": lambda r: (r.get("extra") or {}).get("contended_over_idle")}


def _check(row: dict, spec: tuple[str, dict] | None) -> dict | None:
    if spec is None:
        return None
    metric, limits = spec
    limit = limits.get(row["dtype"], limits.get(None))
    if limit is None:
        return None
    value = _METRIC_VALUE[metric](row)
    return {"metric": metric, "cmp": "<=", "limit": limit, "value": value,
            "met": None if value is None else bool(value <= limit)}


def target_for(row: dict) -> dict | None:
    """The performance target of a result row and whether it is met, or None.

    CPU: ``{"metric", "cmp": "<=", "limit", "value", "met"}`` with metric ``fast/torch`` (a ratio
    to PyTorch), ``cold/warm`` (first call against the warm median) or, as a second check under
    ``"also"``, ``contended/idle``; ``met`` covers every check. GPU conv/pool fwd+bwd rows:
    ``generic/fast >= 3``. ``met`` is None when a value is missing.
    """
    if row["device"] == "cpu":
        key = (row["case"], row["op"])
        target = _check(row, CPU_TARGETS.get(key))
        also = _check(row, CPU_EXTRA_TARGETS.get(key))
        if target is not None and also is not None:
            target["also"] = [also]
            results = (target["met"], also["met"])
            target["met"] = None if None in results else all(results)
        return target
    if row["op"] == "fwd+bwd":
        value = row.get("ratio_generic_fast")
        return {"metric": "generic/fast", "cmp": ">=", "limit": GPU_SPEEDUP_OVER_GENERIC, "value": value,
                "met": None if value is None else bool(value >= GPU_SPEEDUP_OVER_GENERIC)}
    return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` says)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"name": deps.get("name"), "version": deps.get("version"),
                "config": deps.get("openblas configuration")}
    except Exception:  # older NumPy or an unusual build
        return {"name": None, "version": None, "config": None}


def _torch_info() -> dict[str, Any] | None:
    from .torch_side import import_torch
    torch = import_torch()
    if torch is None:
        return None
    info = {"version": torch.__version__, "threads": torch.get_num_threads(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()), "mkl": bool(torch.backends.mkl.is_available()),
            "cuda": torch.version.cuda if torch.cuda.is_available() else None}
    return info


def _gpu_info() -> dict[str, Any] | None:
    from .. import backend
    if not backend.gpu_available():
        return None
    import importlib
    cupy = importlib.import_module("cupy")
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props.get("name", b"")
    return {"name": name.decode() if isinstance(name, bytes) else str(name), "cupy": cupy.__version__}


def _git_state() -> dict[str, Any] | None:
    """Commit of the xnn checkout and whether its tracked files under ``xnn/`` differ from it (None outside git)."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "xnn"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}


def _threads() -> dict[str, Any]:
    """xnn's kernel threads, the thread variables in force and BLAS's own thread count."""
    from ..kernels.cpu.threads import num_threads
    env = {k: os.environ.get(k) for k in ("XNN_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS")}
    try:
        from threadpoolctl import threadpool_info
        blas = [{"api": i.get("internal_api"), "threads": i.get("num_threads")} for i in threadpool_info()]
    except Exception:  # threadpoolctl missing or unable to inspect this BLAS
        blas = None
    return {"xnn_kernel_threads": num_threads(), "env": env, "pools": blas}


def machine_info() -> dict[str, Any]:
    """CPU model, cores, thread settings, NumPy + BLAS, torch, xnn and its git commit, the load (and
    the GPU when CuPy sees one)."""
    from .. import __version__
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
            "python": platform.python_version(), "platform": platform.platform(),
            "numpy": np.__version__, "blas": _blas(), "torch": _torch_info(), "xnn": __version__,
            "gpu": _gpu_info(), "loadavg": load_average(), "git": _git_state(), "threads": _threads()}


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none): other work skews timings."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def busy_warning(load: list[float] | None, cores: int | None = None) -> str | None:
    """A warning line when the 1-minute load exceeds half the cores, else None."""
    cores = cores or os.cpu_count() or 1
    if load is None or load[0] <= 0.5 * cores:
        return None
    return (f"warning: the machine is busy (1-minute load {load[0]:.2f} on {cores} cores) before the run; "
            "timings will be noisy")


def format_machine(info: dict[str, Any]) -> str:
    """One line naming the machine and the library versions."""
    blas = info.get("blas") or {}
    torch = info.get("torch")
    torch_text = f"torch {torch['version']} ({torch['threads']} threads)" if torch else "torch: not installed"
    gpu = f", GPU {info['gpu']['name']} (CuPy {info['gpu']['cupy']})" if info.get("gpu") else ""
    load = f"; load {info['loadavg'][0]:.2f}" if info.get("loadavg") else ""
    git = info.get("git")
    commit = f" ({git['commit']}{', modified' if git['dirty'] else ''})" if git else ""
    threads = info.get("threads") or {}
    xnn_threads = f" ({threads['xnn_kernel_threads']} kernel threads)" if threads.get("xnn_kernel_threads") else ""
    return (f"{info['cpu']}, {info['cores']} cores{gpu}; NumPy {info['numpy']} ({blas.get('name')} "
            f"{blas.get('version')}); {torch_text}; xnn {info['xnn']}{commit}{xnn_threads}{load}")


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.3g}"


def _err(errs: dict[str, float], path: str) -> str:
    return f"{errs[path]:.1e}" if path in errs else "–"


def _mem(row: dict) -> str:
    if row.get("peak_mem_bytes") is None:
        return ""
    return f"{row['peak_mem_bytes'] / 1e6:.3g} ({row['im2col_bytes'] / 1e6:.3g})"


def _gflops(row: dict) -> str:
    g = row.get("gflops") or {}
    if g.get("fast") is None:
        return ""
    return f"{g['fast']:.1f}" + (f" ({g['torch']:.1f})" if g.get("torch") else "")


def _target(row: dict) -> str:
    t = row.get("target")
    if not t:
        return ""
    parts = []
    for check in (t, *t.get("also", ())):
        value = "–" if check["value"] is None else f"{check['value']:.2f}"
        parts.append(f"{check['metric']} {value} {check['cmp']} {check['limit']:g}")
    verdict = "–" if t["met"] is None else ("met" if t["met"] else "**missed**")
    return "; ".join(parts) + f": {verdict}"


HEADER = ("case", "dtype", "xnn fast ms", "xnn generic ms", "torch ms", "fast/torch", "GFLOP/s fast (torch)",
          "max rel err generic", "max rel err torch", "fwd peak MB (im2col MB)", "target")


def format_table(results: list[dict]) -> str:
    """The results as a markdown table, one line per (case, op, dtype); a device column when not all CPU."""
    with_device = any(r["device"] != "cpu" for r in results)
    header = HEADER[:1] + (("device",) if with_device else ()) + HEADER[1:]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        ratio = r.get("ratio_fast_torch")
        cells = [f"{r['label']} {r['op']}"] + ([r["device"]] if with_device else []) + [
            r["dtype"], _ms(r["ms"]["fast"]), _ms(r["ms"]["generic"]), _ms(r["ms"]["torch"]),
            "–" if ratio is None else f"{ratio:.2f}", _gflops(r), _err(r["max_rel_err"], "generic"),
            _err(r["max_rel_err"], "torch"), _mem(r), _target(r)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
