"""``sweep.png``: the course's hyperparameter scatter plus the accuracy of every trial.

Left: one point per finished trial at (learning rate, regularisation) on log axes, coloured by
its best validation accuracy (other swept numbers when those two are not swept). Right: best
validation accuracy per trial index, failed trials marked with a red cross at zero.
Drawn with matplotlib's object API on an Agg canvas (no pyplot state, safe off the main thread).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..npz import write_atomic

__all__ = ["plot_sweep", "scatter_axes"]

_PREFERRED = ("learning_rate", "reg")


def _numeric(results: Sequence[Mapping[str, Any]], key: str) -> bool:
    values = [r["config"].get(key) for r in results]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def scatter_axes(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The (at most two) swept numeric settings to put on the scatter's axes, learning rate and reg first."""
    keys = sorted({k for r in results for k in r.get("config", {})})
    numeric = [k for k in keys if _numeric(results, k)]
    return ([k for k in _PREFERRED if k in numeric] + [k for k in numeric if k not in _PREFERRED])[:2]


def _log_scaled(values: Sequence[float]) -> bool:
    """Log axes when every value is positive and they span at least a factor of ten."""
    return min(values) > 0 and max(values) >= 10 * min(values)


def _draw_scatter(fig: Any, ax: Any, ok: Sequence[Mapping[str, Any]]) -> None:
    axes = scatter_axes(ok)
    acc = [r["best_val_acc"] for r in ok]
    if not axes:
        ax.text(0.5, 0.5, "no numeric setting swept", ha="center", va="center", transform=ax.transAxes)
        return
    xs = [r["config"][axes[0]] for r in ok]
    ys = [r["config"][axes[1]] for r in ok] if len(axes) == 2 else acc
    points = ax.scatter(xs, ys, c=acc, cmap="viridis", s=60, edgecolors="black", linewidths=0.5)
    fig.colorbar(points, ax=ax, label="best validation accuracy")
    if _log_scaled(xs):
        ax.set_xscale("log")
    if len(axes) == 2 and _log_scaled(ys):
        ax.set_yscale("log")
    ax.set(xlabel=axes[0], ylabel=axes[1] if len(axes) == 2 else "best validation accuracy",
           title="Validation accuracy by setting")


def _draw_per_trial(ax: Any, results: Sequence[Mapping[str, Any]]) -> None:
    ok = [r for r in results if r.get("status") == "ok"]
    failed = [r for r in results if r.get("status") != "ok"]
    ax.plot([r["trial"] for r in ok], [r["best_val_acc"] for r in ok], "o", label="best val acc")
    ax.plot([r["trial"] for r in ok], [r["train_acc"] for r in ok], ".", alpha=0.6, label="train acc")
    if failed:
        ax.plot([r["trial"] for r in failed], [0.0] * len(failed), "x", color="red", label="failed")
    ax.set(xlabel="trial", ylabel="accuracy", title="Accuracy per trial")
    ax.legend(loc="best")


def plot_sweep(results: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> None:
    """Write ``sweep.png`` for ``results`` (dicts from :func:`xnn.sweep.run`) to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ok = [r for r in results if r.get("status") == "ok" and r.get("best_val_acc") is not None
          and all(not isinstance(v, float) or math.isfinite(v) for v in r["config"].values())]
    fig = Figure(figsize=(12, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax_scatter, ax_trials = fig.subplots(1, 2)
    if ok:
        _draw_scatter(fig, ax_scatter, ok)
    else:
        ax_scatter.text(0.5, 0.5, "no finished trial yet", ha="center", va="center", transform=ax_scatter.transAxes)
    _draw_per_trial(ax_trials, results)
    fig.tight_layout()
    write_atomic(path, lambda f: fig.savefig(f, format="png"))
