"""The sweep driver: plan the trials, send them to Dask, record each result as it arrives."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data import get_CIFAR10_data, load_sample
from ..training.guards import deferred_interrupt
from . import cluster
from . import results as files
from .best import write_best_run
from .plot import plot_sweep
from .progress import Progress
from .space import Choice, SweepError, check_space, trial_plan
from .trial import allowed_keys, check_integer_ranges, check_model, check_solver_kwargs, failed_outcome, run_trial

__all__ = ["load_data", "plan_tasks", "run"]

logger = logging.getLogger("xnn.sweep")

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
_DTYPES = ("float32", "float64")


def load_data(data: str | Mapping[str, Any], dtype: str = "float32") -> dict[str, np.ndarray]:
    """``X_train``/``y_train``/``X_val``/``y_val`` host arrays (X in ``dtype``) for a sweep.

    ``data``: ``"sample"`` (the bundled 2000/400 CIFAR-10 sample), ``"cifar10"`` (49000/1000 from
    the default CIFAR-10 directory) or a mapping holding those four arrays.
    """
    if isinstance(data, Mapping):
        missing = [k for k in _DATA_KEYS if k not in data]
        if missing:
            raise SweepError(f"sweep: data is missing {', '.join(missing)}; it needs {', '.join(_DATA_KEYS)}")
        source = data
    elif data == "sample":
        source = load_sample(num_test=0)
    elif data == "cifar10":
        source = get_CIFAR10_data(num_test=0)
    else:
        raise SweepError(f"sweep: data must be 'sample', 'cifar10' or a mapping of {', '.join(_DATA_KEYS)}, "
                         f"got {data!r}")
    return {k: np.ascontiguousarray(source[k], dtype=dtype if k.startswith("X") else None) for k in _DATA_KEYS}


def _fingerprint(arrays: Mapping[str, np.ndarray]) -> str:
    """A content hash of the data, so a resumed sweep cannot silently train on other data."""
    digest = hashlib.sha256()
    for key in _DATA_KEYS:
        a = arrays[key]
        digest.update(f"{key}{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]


def _space_json(dims: Mapping[str, Any]) -> dict[str, Any]:
    return {k: {"values": list(d.values)} if isinstance(d, Choice) else {"range": [d.scale, d.low, d.high]}
            for k, d in dims.items()}


def _check_run_args(epochs: Any, device: Any, dtype: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise SweepError(f"sweep: epochs must be an integer >= 1, got {epochs!r}")
    if device not in cluster.DEVICES:
        raise SweepError(f"sweep: device must be one of {', '.join(cluster.DEVICES)}, got {device!r}")
    if dtype not in _DTYPES:
        raise SweepError(f"sweep: dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")


def _failure(task: Mapping[str, Any], exc: BaseException) -> dict[str, Any]:
    """The result of a trial whose task never returned (e.g. its workers kept dying)."""
    return {"trial": task["trial"], "seed": task["seed"], "config": task["config"], "worker": None,
            **failed_outcome(exc), "seconds": None}


def _execute(client: Any, tasks: list[dict[str, Any]], arrays: Mapping[str, np.ndarray], progress: Progress,
             record: Any) -> None:
    """Run ``tasks`` on ``client``'s workers; ``record(result, task, state)`` for each as it finishes."""
    from distributed import as_completed
    [data] = client.scatter([dict(arrays)], broadcast=True)  # each worker receives the data once
    run_id = uuid.uuid4().hex[:8]
    by_key = {}
    for task in tasks:
        future = client.submit(run_trial, task, data, key=f"xnn-trial-{task['trial']}-{run_id}", pure=False)
        by_key[future.key] = (future, task)
    pending = len(tasks)
    try:
        for future in as_completed([f for f, _ in by_key.values()]):
            task = by_key[future.key][1]
            pending -= 1
            if future.status == "cancelled":
                logger.warning("sweep: trial %d was cancelled (scheduler gone?); it stays unrecorded", task["trial"])
                continue
            result = future.result() if future.status == "finished" else _failure(task, future.exception())
            state = result.pop("state", None)
            running = min(pending, sum(client.nthreads().values()))
            # Ctrl-C waits until this trial's line, the best run and the log line are all written.
            with deferred_interrupt() as interrupted:
                record(result, task, state, progress.finished(result, running))
            if interrupted.hit:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        client.cancel([f for f, _ in by_key.values()])
        logger.warning("sweep: interrupted; %d trial(s) not recorded (run again with the same out to resume them)",
                       pending)
        raise


def _plan(space: Mapping[str, Any], model: str, trials: int, epochs: int, search: str, seed: int, device: str,
          dtype: str, solver_kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The checked space dimensions, the checked Solver arguments and the tasks (see :func:`plan_tasks`)."""
    check_model(model)
    dims = check_space(space, allowed_keys(model))
    check_integer_ranges(dims)
    fixed = check_solver_kwargs(solver_kwargs)
    _check_run_args(epochs, device, dtype)
    common = {"model": model, "epochs": int(epochs), "dtype": dtype, "device": device, "solver_kwargs": fixed}
    return dims, fixed, [{**t, **common} for t in trial_plan(dims, trials, search, seed)]


def plan_tasks(space: Mapping[str, Any], *, model: str, trials: int, epochs: int, search: str = "random",
               seed: int = 0, device: str = "cpu", dtype: str = "float32",
               **solver_kwargs: Any) -> list[dict[str, Any]]:
    """Every trial of a sweep as a task for :func:`xnn.sweep.run_trial` (arguments as :func:`run`'s).

    Raises :class:`SweepError` for a bad model, space, trial count, epochs, device, dtype or Solver argument.
    """
    return _plan(space, model, trials, epochs, search, seed, device, dtype, solver_kwargs)[2]


def run(space: Mapping[str, Any], *, model: str, data: str | Mapping[str, Any] = "sample", trials: int,
        epochs: int, search: str = "random", scheduler: str | None = None, workers: int | None = None,
        device: str = "cpu", seed: int = 0, out: str | Path | None = None, dtype: str = "float32",
        **solver_kwargs: Any) -> list[dict[str, Any]]:
    """Train ``trials`` configurations of ``model`` drawn from ``space`` on Dask workers; results best first.

    ``space``: setting -> list of values or ``(scale, low, high)`` (see :mod:`xnn.sweep.space`;
    allowed settings: :func:`xnn.sweep.trial.allowed_keys`). ``model``: ``fc``, ``twolayer`` or
    ``cnn``. ``data``: ``"sample"``, ``"cifar10"`` or a mapping of ``X_train, y_train, X_val,
    y_val``. ``search``: ``random`` or ``grid``. ``scheduler``: address of a running Dask scheduler;
    otherwise a local cluster of ``workers`` processes (default: one per usable CPU; one per GPU
    with ``device="gpu"``). ``seed``: trial i's configuration and training seed depend only on
    (seed, i). ``out``: sweep directory (``sweep.json``, ``results.jsonl``, ``results.csv``,
    ``sweep.png``, ``best/``); reusing it for the same sweep runs only the trials not yet recorded.
    ``dtype``: model parameters and images. Other keywords go to every trial's ``Solver``
    (``update_rule``, ``optim_config``, ``lr_decay``, ``batch_size``, ``num_train_samples``,
    ``num_val_samples``, ``on_nonfinite``). Each result: ``trial, seed, config, status, error,
    best_val_acc, final_val_acc, train_acc, loss, train_acc_history, val_acc_history, seconds, worker``.
    Raises :class:`SweepError` for bad arguments, before anything runs.
    """
    dims, solver_kwargs, tasks = _plan(space, model, trials, epochs, search, seed, device, dtype, solver_kwargs)
    cluster.check_placement(scheduler, workers)
    arrays = load_data(data, dtype)
    source = data if isinstance(data, str) else "custom"
    previous: list[dict[str, Any]] = []
    out_dir, log = None, None
    if out is not None:
        definition = {"model": model, "space": _space_json(dims), "trials": int(trials), "epochs": int(epochs),
                      "search": search, "seed": int(seed), "dtype": dtype, "solver_kwargs": solver_kwargs,
                      "data": source, "data_sha256": _fingerprint(arrays)}
        out_dir, log = files.open_sweep_dir(out, definition)
        previous = log.read()
    recorded = {r["trial"] for r in previous}
    todo = [t for t in tasks if t["trial"] not in recorded]
    if previous:
        logger.info("sweep: %d of %d trials already recorded in %s; running the other %d", len(recorded), len(tasks),
                    out_dir, len(todo))
    progress = Progress(len(tasks), previous)
    data_info = {"data": source, "data_dir": None,
                 "num_train": None, "num_val": None, "num_train_images": int(arrays["X_train"].shape[0]),
                 "num_val_images": int(arrays["X_val"].shape[0])}
    finished = list(previous)

    def record(result: dict[str, Any], task: dict[str, Any], state: Any, improved: bool) -> None:
        finished.append(result)
        if log is not None:
            log.append(result)
            if improved and state is not None:
                write_best_run(out_dir, result, state, data_info)

    try:
        if todo:
            with cluster.open_client(scheduler, workers, device) as client:
                _execute(client, todo, arrays, progress, record)
    finally:
        progress.close()
        if out_dir is not None and finished:
            files.write_csv(finished, out_dir / files.RESULTS_CSV)
            plot_sweep(finished, out_dir / "sweep.png")
    logger.info("sweep: %s", progress.summary(0))
    return files.sort_results(finished)
