"""One trial of a sweep: build the model, train it with the Solver, summarise the outcome.

:func:`run_trial` is what a Dask worker executes (and what a plain loop calls for a sequential
baseline). It never raises for a problem of the trial itself: a bad configuration or a NaN loss
becomes a result with ``status="failed"`` and the error message, so one bad corner of the
space does not stop a sweep.

Where a swept setting goes:

* optimizer settings (:data:`OPTIM_KEYS`, e.g. ``learning_rate``) -> ``Solver(optim_config=...)``;
* :data:`SOLVER_KEYS` (``lr_decay``, ``batch_size``, ``update_rule``) -> ``Solver(...)``;
* everything else -> the model's constructor (:data:`MODEL_KEYS` lists what each model takes).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .. import backend, models
from ..solver import Solver
from .space import SweepError

__all__ = [
    "FIXED_SOLVER_KEYS",
    "MODEL_KEYS",
    "OPTIM_KEYS",
    "SOLVER_KEYS",
    "allowed_keys",
    "build_model",
    "check_model",
    "check_solver_kwargs",
    "run_trial",
]

logger = logging.getLogger("xnn.sweep")

OPTIM_KEYS = ("learning_rate", "momentum", "decay_rate", "beta1", "beta2", "epsilon")
SOLVER_KEYS = ("lr_decay", "batch_size", "update_rule")
MODEL_KEYS: dict[str, tuple[str, ...]] = {
    "fc": ("hidden_dims", "reg", "weight_scale", "normalization", "dropout_keep_ratio"),
    "twolayer": ("hidden_dim", "reg", "weight_scale"),
    "cnn": ("num_filters", "filter_size", "hidden_dim", "reg", "weight_scale"),
}
# Starting points for settings a sweep does not vary (the course notebooks' usual choices).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "fc": {"hidden_dims": [100, 100], "weight_scale": 5e-2, "normalization": "batchnorm"},
    "twolayer": {"hidden_dim": 100, "weight_scale": 1e-3},
    "cnn": {"num_filters": 32, "filter_size": 5, "hidden_dim": 100, "weight_scale": 1e-2},
}
SOLVER_DEFAULTS: dict[str, Any] = {"update_rule": "adam", "lr_decay": 0.95, "batch_size": 100, "on_nonfinite": "stop",
                                   "optim_config": {"learning_rate": 1e-3}}
# Solver arguments the sweep itself sets; the rest may be passed to run() as keyword arguments.
FIXED_SOLVER_KEYS = ("num_epochs", "verbose", "progress", "device", "checkpoint_name", "print_every")
_SOLVER_ARGS = ("update_rule", "optim_config", "lr_decay", "batch_size", "num_train_samples", "num_val_samples",
                "on_nonfinite")

# Trials seed NumPy's process-wide RNG, so two trials must never interleave in one process (a
# worker started with several threads would otherwise mix their minibatch draws).
_TRIAL_LOCK = threading.Lock()


def check_model(model: Any) -> str:
    """``model`` if it names a sweepable model, else :class:`SweepError` listing them."""
    if model not in MODEL_KEYS:
        raise SweepError(f"sweep: unknown model {model!r}; allowed models are {', '.join(MODEL_KEYS)}")
    return model


def allowed_keys(model: str) -> tuple[str, ...]:
    """Every setting name a space may sweep for ``model``."""
    return OPTIM_KEYS + SOLVER_KEYS + MODEL_KEYS[check_model(model)]


def check_solver_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The extra Solver arguments of a sweep; :class:`SweepError` for ones the sweep sets or does not know."""
    bad = sorted(set(kwargs) - set(_SOLVER_ARGS))
    if bad:
        raise SweepError(f"sweep: unknown or sweep-controlled Solver argument(s) {', '.join(map(repr, bad))}; "
                         f"allowed are {', '.join(_SOLVER_ARGS)} (the sweep sets {', '.join(FIXED_SOLVER_KEYS)})")
    return dict(kwargs)


def split_config(model: str, config: Mapping[str, Any],
                 solver_kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(model_kwargs, solver_kwargs)`` for one trial: defaults, then fixed arguments, then the config."""
    model_kwargs = dict(MODEL_DEFAULTS[model])
    solver = {**SOLVER_DEFAULTS, **solver_kwargs}
    solver["optim_config"] = dict(solver["optim_config"])
    for key, value in config.items():
        if key in OPTIM_KEYS:
            solver["optim_config"][key] = value
        elif key in SOLVER_KEYS:
            solver[key] = value
        else:
            model_kwargs[key] = value
    return model_kwargs, solver


def build_model(model: str, model_kwargs: Mapping[str, Any], input_shape: tuple[int, ...], dtype: str,
                device: str) -> Any:
    """The named model for inputs of ``input_shape`` (one sample), parameters in ``dtype`` on ``device``."""
    kind = np.dtype(dtype).type
    dim = int(np.prod(input_shape))
    if model == "cnn":
        return models.ThreeLayerConvNet(input_dim=tuple(input_shape), dtype=kind, device=device, **model_kwargs)
    if model == "fc":
        return models.FullyConnectedNet(input_dim=dim, dtype=kind, device=device, **model_kwargs)
    net = models.TwoLayerNet(input_dim=dim, device=device, **model_kwargs)
    xp = backend.namespace_for_device(device)
    net.params = {k: xp.astype(v, getattr(xp, dtype)) for k, v in net.params.items()}
    return net


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools to one thread: each worker is one core's worth of work."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables set for the worker processes still apply
        yield
        return
    with threadpool_limits(limits=1):
        yield


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


def _train(task: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Train one configuration; returns the metrics and the kept model state (host arrays)."""
    np.random.seed(task["seed"])
    model_kwargs, solver_kwargs = split_config(task["model"], task["config"], task["solver_kwargs"])
    model = build_model(task["model"], model_kwargs, tuple(data["X_train"].shape[1:]), task["dtype"], task["device"])
    solver = Solver(model, data, num_epochs=task["epochs"], verbose=False, progress=False, device=task["device"],
                    **solver_kwargs)
    solver.train()
    metrics = {"best_val_acc": float(solver.best_val_acc),
               "final_val_acc": float(solver.val_acc_history[-1]) if solver.val_acc_history else None,
               "train_acc": float(solver.check_accuracy(data["X_train"], data["y_train"])),
               "loss": _loss_summary(solver.loss_history),
               "train_acc_history": list(solver.train_acc_history), "val_acc_history": list(solver.val_acc_history)}
    return metrics, model.state_arrays()


def run_trial(task: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Train the trial ``task`` on ``data`` in this process and return its result.

    ``task``: ``trial``, ``seed``, ``config`` (from :func:`xnn.sweep.space.trial_plan`) plus
    ``model``, ``epochs``, ``dtype``, ``device``, ``solver_kwargs``. ``data``: ``X_train (N, ...)``,
    ``y_train (N,)``, ``X_val``, ``y_val`` host arrays. The result holds ``trial``, ``seed``,
    ``config``, ``status`` (``"ok"``/``"failed"``), ``error``, ``best_val_acc``, ``final_val_acc``,
    ``train_acc`` (kept parameters on the whole training split), ``loss`` (iterations, first, last,
    min), the accuracy histories, ``seconds``, ``worker`` and ``state`` (the kept model arrays, for
    saving the best trial; ``None`` when failed).
    """
    result: dict[str, Any] = {"trial": task["trial"], "seed": task["seed"], "config": task["config"],
                              "worker": _worker_name()}
    start = time.perf_counter()
    with _TRIAL_LOCK, _one_blas_thread():
        try:
            metrics, state = _train(task, data)
            result.update(metrics, status="ok", error=None, state=state)
        except Exception as exc:  # noqa: BLE001 (any failure of this configuration is part of its result)
            logger.warning("sweep trial %d failed: %s: %s", task["trial"], type(exc).__name__, exc)
            result.update(status="failed", error=f"{type(exc).__name__}: {exc}", best_val_acc=None,
                          final_val_acc=None, train_acc=None, loss=None, state=None)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result
