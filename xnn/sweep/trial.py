"""One trial of a sweep: build the model, train it with the Solver, summarise the outcome.

:func:`run_trial` is what a Dask worker executes (and what a plain loop calls for a sequential
baseline). It never raises for a problem of the trial itself: a bad configuration or a NaN loss
becomes a result with ``status="failed"`` and the error message, so one bad corner of the
space does not stop a sweep.

A trial's settings have the shape ``xnn train`` writes to a run's ``config.json`` (see
:mod:`xnn.training.runs`), starting from that command's per-model defaults. Where a swept setting goes:

* ``learning_rate`` -> ``lr``; the other optimizer settings (:data:`OPTIM_KEYS`) -> ``optim_config``;
* :data:`SOLVER_KEYS` (``lr_decay``, ``batch_size``, ``update_rule``) and ``reg`` -> the setting of that name;
* everything else -> the model's constructor (:data:`MODEL_KEYS` lists what each model takes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..solver import Solver
from ..training.runs import DEFAULTS, build_model
from .space import SweepError

__all__ = ["INTEGER_KEYS", "MODEL_KEYS", "OPTIM_KEYS", "SOLVER_KEYS", "allowed_keys", "check_integer_ranges",
           "check_model", "check_solver_kwargs", "failed_outcome", "run_trial", "trial_settings"]

logger = logging.getLogger("xnn.sweep")

OPTIM_KEYS = ("learning_rate", "momentum", "decay_rate", "beta1", "beta2", "epsilon")
SOLVER_KEYS = ("lr_decay", "batch_size", "update_rule")
MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "fc": ("hidden_dims", "reg", "weight_scale", "normalization", "dropout_keep_ratio"),
    "twolayer": ("hidden_dim", "reg", "weight_scale"),
    "cnn": ("num_filters", "filter_size", "hidden_dim", "reg", "weight_scale"),
}
#: Settings that only take whole numbers: a range of them must use the ``int`` scale.
INTEGER_KEYS = ("batch_size", "hidden_dim", "num_filters", "filter_size")
# Solver arguments a sweep may fix for all its trials; it sets num_epochs, device, verbose, progress itself.
_SOLVER_ARGS = ("update_rule", "optim_config", "lr_decay", "batch_size", "num_train_samples", "num_val_samples",
                "on_nonfinite")

# Trials seed NumPy's process-wide RNG, so two trials must never interleave in one process (a
# worker started with several threads would otherwise mix their minibatch draws).
_TRIAL_LOCK = threading.Lock()
KERNEL_THREADS_ENV = "XNN_NUM_THREADS"


def check_model(model: Any) -> str:
    """``model`` if it names a sweepable model, else :class:`SweepError` listing them."""
    if model not in MODEL_KEYS:
        raise SweepError(f"sweep: unknown model {model!r}; allowed models are {', '.join(MODEL_KEYS)}")
    return model


def allowed_keys(model: str) -> tuple[str, ...]:
    """Every setting name a space may sweep for ``model``."""
    return OPTIM_KEYS + SOLVER_KEYS + MODEL_KEYS[check_model(model)]


def check_integer_ranges(dims: Mapping[str, Any]) -> None:
    """:class:`SweepError` for a ``log``/``linear`` range of a whole-number setting (every trial would fail)."""
    for key in INTEGER_KEYS:
        scale = getattr(dims.get(key), "scale", "int")
        if scale != "int":
            raise SweepError(f"sweep space {key!r}: {key} takes whole numbers, so its range needs the int scale "
                             f"(e.g. ('int', 50, 200) or 50:200:int), got scale {scale!r}")


def check_solver_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The Solver arguments fixed for every trial; :class:`SweepError` for ones the sweep sets or does not know."""
    bad = sorted(set(kwargs) - set(_SOLVER_ARGS))
    if bad:
        raise SweepError(f"sweep: unknown or sweep-controlled Solver argument(s) {', '.join(map(repr, bad))}; "
                         f"allowed are {', '.join(_SOLVER_ARGS)} (the sweep sets num_epochs, device, verbose "
                         "and progress)")
    return dict(kwargs)


def _apply(settings: dict[str, Any], key: str, value: Any) -> None:
    if key == "learning_rate":
        settings["lr"] = value
    elif key in OPTIM_KEYS:
        settings["optim_config"][key] = value
    elif key in SOLVER_KEYS or key == "reg":
        settings[key] = value
    else:
        settings["model_kwargs"][key] = value


def trial_settings(task: Mapping[str, Any]) -> dict[str, Any]:
    """One trial's run settings: ``xnn train``'s defaults, then the sweep's fixed arguments, then the config.

    Besides the run-settings keys (``model, epochs, batch_size, lr, lr_decay, update_rule, reg,
    dtype, device, seed, model_kwargs``) it holds ``optim_config`` (optimizer settings other than
    the learning rate) and ``solver_kwargs`` (sampling and ``on_nonfinite``, default ``"stop"``).
    """
    defaults = DEFAULTS[task["model"]]
    settings = {"model": task["model"], "epochs": task["epochs"], "dtype": task["dtype"], "device": task["device"],
                "seed": task["seed"], "optim_config": {}, "solver_kwargs": {"on_nonfinite": "stop"},
                "model_kwargs": dict(defaults["model_kwargs"]),
                **{k: defaults[k] for k in ("batch_size", "lr", "lr_decay", "update_rule", "reg")}}
    for key, value in task["solver_kwargs"].items():
        if key == "optim_config":
            for name, v in value.items():
                _apply(settings, name, v)
        elif key in SOLVER_KEYS:
            settings[key] = value
        else:
            settings["solver_kwargs"][key] = value
    for key, value in task["config"].items():
        _apply(settings, key, value)
    return settings


@contextlib.contextmanager
def _thread_limit(limit: int | None) -> Iterator[None]:
    """Run xnn's CPU kernels and BLAS on ``limit`` threads (None: leave both as they are).

    One thread per trial makes a worker one core's worth of work, and makes a trial's numbers the
    same on every machine: the kernels' chunked sums depend on their thread count.
    """
    if limit is None:
        yield
        return
    saved = os.environ.get(KERNEL_THREADS_ENV)
    os.environ[KERNEL_THREADS_ENV] = str(limit)  # read by the kernels at every call
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # the environment variables set for the worker processes still apply
            yield
            return
        with threadpool_limits(limits=limit):
            yield
    finally:
        if saved is None:
            os.environ.pop(KERNEL_THREADS_ENV, None)
        else:
            os.environ[KERNEL_THREADS_ENV] = saved


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _loss_summary(losses: list[float]) -> dict[str, Any]:
    finite = [v for v in losses if np.isfinite(v)]
    return {"iterations": len(losses), "first": losses[0] if losses else None, "last": losses[-1] if losses else None,
            "min": min(finite) if finite else None}


def failed_outcome(exc: BaseException) -> dict[str, Any]:
    """The status, error and (empty) metrics of a trial that failed with ``exc``: the same fields whether
    it failed inside :func:`run_trial` or its task never returned (the driver records those)."""
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "best_val_acc": None,
            "final_val_acc": None, "train_acc": None, "loss": None}


def _train(task: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one configuration; returns the metrics and what saving it as a run needs (host arrays, losses)."""
    settings = trial_settings(task)
    np.random.seed(settings["seed"])  # noqa: NPY002  (init and minibatches draw from the global RNG)
    model = build_model(settings, tuple(data["X_train"].shape[1:]))
    solver = Solver(model, data, update_rule=settings["update_rule"],
                    optim_config={"learning_rate": settings["lr"], **settings["optim_config"]},
                    lr_decay=settings["lr_decay"], batch_size=settings["batch_size"], num_epochs=settings["epochs"],
                    verbose=False, progress=False, device=settings["device"], **settings["solver_kwargs"])
    solver.train()
    metrics = {"best_val_acc": float(solver.best_val_acc),
               "final_val_acc": float(solver.val_acc_history[-1]) if solver.val_acc_history else None,
               "train_acc": float(solver.check_accuracy(data["X_train"], data["y_train"])),
               "loss": _loss_summary(solver.loss_history),
               "train_acc_history": list(solver.train_acc_history), "val_acc_history": list(solver.val_acc_history)}
    final_val_acc = float(solver.check_accuracy(data["X_val"], data["y_val"]))  # kept parameters, whole split
    return metrics, {"arrays": model.state_arrays(), "loss_history": [float(v) for v in solver.loss_history],
                     "settings": settings, "final_val_acc": final_val_acc}


def run_trial(task: Mapping[str, Any], data: Mapping[str, Any], threads: int | None = 1) -> dict[str, Any]:
    """Train the trial ``task`` on ``data`` in this process and return its result.

    ``task``: ``trial``, ``seed``, ``config`` (from :func:`xnn.sweep.space.trial_plan`) plus
    ``model``, ``epochs``, ``dtype``, ``device``, ``solver_kwargs``. ``data``: ``X_train (N, ...)``,
    ``y_train (N,)``, ``X_val``, ``y_val`` host arrays. The result holds ``trial``, ``seed``,
    ``config``, ``status`` (``"ok"``/``"failed"``), ``error``, ``best_val_acc``, ``final_val_acc``,
    ``train_acc`` (kept parameters on the whole training split), ``loss`` (iterations, first, last,
    min), the accuracy histories, ``seconds``, ``worker`` and ``state`` (for saving the best trial
    as a run: ``arrays``, the kept model state; ``loss_history``; ``settings``; ``final_val_acc`` of the kept
    parameters on the whole validation split; ``None`` when failed). ``threads``: xnn kernel and BLAS
    threads while training (default 1: one core per trial, the same numbers on every machine;
    ``None`` keeps the process's settings).
    """
    result: dict[str, Any] = {"trial": task["trial"], "seed": task["seed"], "config": task["config"],
                              "worker": _worker_name()}
    start = time.perf_counter()
    with _TRIAL_LOCK, _thread_limit(threads):
        try:
            metrics, state = _train(task, data)
            result.update(metrics, status="ok", error=None, state=state)
        except Exception as exc:  # any failure of this configuration is part of its result
            logger.warning("sweep trial %d failed: %s: %s", task["trial"], type(exc).__name__, exc)
            result.update(failed_outcome(exc), state=None)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result
