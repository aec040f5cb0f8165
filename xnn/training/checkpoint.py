"""Solver checkpoints as ``.npz`` archives of plain arrays (never pickle).

cs231n pickles the whole Solver state (including the model object and the update-rule
function) to ``<checkpoint_name>_epoch_<epoch>.pkl``. xnn writes
``<checkpoint_name>_epoch_<epoch>.npz`` instead: every value is a host NumPy array, so the file
is read back with ``allow_pickle=False`` and can never execute code. It is written atomically
(a temporary file in the same directory, ``fsync``, then :func:`os.replace`), so a killed process
leaves either the previous file or the complete new one.

Archive keys:

==================================  =====================================================
``format``                          ``"xnn-solver-checkpoint-1"``
``param.<name>``                    the model parameters (host copies)
``bn_param.<i>.running_mean/var``   batch-norm running statistics, when the model has them
``best_param.<name>``               the best parameters so far (strict ``>`` on val acc)
``optim.<name>.<key>``              per-parameter optimizer state arrays (``velocity``, ``m`` ...)
``optim_scalar.<name>.<key>``       per-parameter scalar settings (``learning_rate``, ``t`` ...)
``loss_history`` etc.               the three histories (float64 vectors)
``epoch``, ``iteration``            epochs completed; index of the last step taken
``best_val_acc``                    the best validation accuracy so far
``hyper.<key>``                     update_rule name, lr_decay, batch_size, num_epochs,
                                    num_train_samples, num_val_samples, optim_config.<key>
``rng.*``                           NumPy's legacy global RNG state at save time
==================================  =====================================================

:func:`restore_solver` puts a Solver back in that state, so training resumes on the same loss
curve (the minibatch draws continue from the saved RNG state).
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any

import numpy as np

from .. import backend, npz

__all__ = ["FORMAT", "checkpoint_path", "solver_state_arrays", "save_solver", "restore_solver"]

FORMAT = "xnn-solver-checkpoint-1"
HISTORIES = ("loss_history", "train_acc_history", "val_acc_history")
HYPER_KEYS = ("lr_decay", "batch_size", "num_epochs", "num_train_samples", "num_val_samples")


def checkpoint_path(checkpoint_name: str | os.PathLike, epoch: int, interrupted: bool = False) -> str:
    """``"<checkpoint_name>_epoch_<epoch>.npz"`` (``..._interrupted.npz`` for a Ctrl-C checkpoint)."""
    return f"{os.fspath(checkpoint_name)}_epoch_{epoch}{'_interrupted' if interrupted else ''}.npz"


def _host(value: Any) -> np.ndarray:
    return np.array(backend.to_numpy(value))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (numbers.Number, str, np.generic)) and not isinstance(value, complex)


def _model_arrays(model: Any) -> dict[str, np.ndarray]:
    if hasattr(model, "state_arrays"):
        return model.state_arrays()
    return {f"param.{k}": _host(v) for k, v in model.params.items()}


def _optim_arrays(optim_configs: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Flatten the per-parameter configs; values that are neither arrays nor scalars are skipped."""
    out: dict[str, np.ndarray] = {}
    for name, config in optim_configs.items():
        for key, value in config.items():
            if _is_scalar(value):
                out[f"optim_scalar.{name}.{key}"] = np.asarray(value)
            elif value is not None and hasattr(value, "shape"):
                out[f"optim.{name}.{key}"] = _host(value)
    return out


def _hyper_arrays(solver: Any) -> dict[str, np.ndarray]:
    rule = solver.update_rule
    out = {"hyper.update_rule": np.asarray(getattr(rule, "__name__", type(rule).__name__))}
    for key in HYPER_KEYS:
        value = getattr(solver, key, None)  # the captioning solver has no *_samples
        if value is not None:
            out[f"hyper.{key}"] = np.asarray(value)
    for key, value in solver.optim_config.items():
        if _is_scalar(value):
            out[f"hyper.optim_config.{key}"] = np.asarray(value)
    return out


def _rng_arrays() -> dict[str, np.ndarray]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002  (the state the Solver draws from)
    return {"rng.name": np.asarray(name), "rng.keys": np.asarray(keys), "rng.pos": np.asarray(pos),
            "rng.has_gauss": np.asarray(has_gauss), "rng.cached_gaussian": np.asarray(cached)}


def solver_state_arrays(solver: Any) -> dict[str, np.ndarray]:
    """Everything a checkpoint holds, as host arrays keyed as in the module docstring."""
    arrays = {"format": np.asarray(FORMAT)}
    arrays.update(_model_arrays(solver.model))
    arrays.update({f"best_param.{k}": _host(v) for k, v in solver.best_params.items()})
    arrays.update(_optim_arrays(solver.optim_configs))
    arrays.update({h: np.asarray(getattr(solver, h), dtype=np.float64) for h in HISTORIES})
    arrays["epoch"] = np.asarray(solver.epoch)
    arrays["iteration"] = np.asarray(getattr(solver, "iteration", -1))
    arrays["best_val_acc"] = np.asarray(float(solver.best_val_acc))
    arrays.update(_hyper_arrays(solver))
    arrays.update(_rng_arrays())
    return arrays


def save_solver(solver: Any, path: str | os.PathLike) -> None:
    """Write :func:`solver_state_arrays` to ``path`` atomically."""
    npz.save_atomic(path, solver_state_arrays(solver))


def _strip(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _restore_optim(arrays: dict[str, np.ndarray], device: str) -> dict[str, dict[str, Any]]:
    configs: dict[str, dict[str, Any]] = {}
    for prefix, convert in (("optim_scalar.", lambda v: v.item()), ("optim.", lambda v: backend.to_device(v, device))):
        for key, value in _strip(arrays, prefix).items():
            name, setting = key.rsplit(".", 1)
            configs.setdefault(name, {})[setting] = convert(value)
    return configs


def _restore_model(model: Any, arrays: dict[str, np.ndarray], device: str) -> None:
    state = {k: v for k, v in arrays.items() if k.startswith(("param.", "bn_param."))}
    if hasattr(model, "load_state_arrays"):
        model.load_state_arrays(state)
    else:
        model.params = {k: backend.to_device(v, device) for k, v in _strip(state, "param.").items()}


def _check_compatible(solver: Any, arrays: dict[str, np.ndarray], path: str) -> None:
    """``ValueError`` when the checkpoint's parameters do not fit the model; a warning when the
    Solver's hyperparameters differ from the saved ones (the resumed curve will differ)."""
    saved = {k: tuple(v.shape) for k, v in _strip(arrays, "param.").items()}
    model = {k: tuple(getattr(v, "shape", ())) for k, v in solver.model.params.items()}
    if saved != model:
        diff = sorted(k for k in set(saved) | set(model) if saved.get(k) != model.get(k))
        raise ValueError(f"{path!r}: checkpoint parameters do not match the model: "
                         + ", ".join(f"{k} saved {saved.get(k)} vs model {model.get(k)}" for k in diff))
    for name in ("update_rule", "lr_decay", "batch_size"):  # num_epochs may grow: train for longer
        key = f"hyper.{name}"
        if key not in arrays:
            continue
        current = getattr(solver.update_rule, "__name__", None) if name == "update_rule" else getattr(solver, name)
        if str(arrays[key]) != str(current) and not _same_number(arrays[key], current):
            warnings.warn(f"Solver.resume: {name} is {current!r} but the checkpoint {path!r} was written with "
                          f"{arrays[key].item()!r}; training will not follow the saved run's curve", stacklevel=3)


def _same_number(saved: np.ndarray, current: Any) -> bool:
    try:
        return float(saved) == float(current)
    except (TypeError, ValueError):
        return False


def restore_solver(solver: Any, path: str | os.PathLike, restore_rng: bool = True) -> dict[str, np.ndarray]:
    """Load a checkpoint written by :func:`save_solver` into ``solver`` (and its model).

    Restores the parameters (and batch-norm statistics), the per-parameter optimizer configs,
    the histories, ``epoch``, ``best_val_acc``/``best_params`` and, with ``restore_rng``, NumPy's
    global RNG; the next :meth:`Solver.train` continues after the saved iteration. The
    Solver's own hyperparameters (batch size, epochs, lr_decay) are not changed: build it with
    the same arguments. Returns the raw arrays (for the ``hyper.*`` entries).
    """
    arrays = npz.load(path)
    fmt = arrays.get("format")
    if fmt is None or str(fmt) != FORMAT:
        raise ValueError(f"{os.fspath(path)!r} is not an xnn Solver checkpoint (format {fmt!r}, "
                         f"expected {FORMAT!r})")
    missing = [k for k in (*HISTORIES, "epoch", "iteration", "best_val_acc") if k not in arrays]
    if restore_rng:
        missing += [k for k in ("rng.name", "rng.keys", "rng.pos", "rng.has_gauss", "rng.cached_gaussian")
                    if k not in arrays]
    if missing:
        raise ValueError(f"{os.fspath(path)!r}: incomplete xnn Solver checkpoint (missing {', '.join(missing)})")
    _check_compatible(solver, arrays, os.fspath(path))
    device = solver.device
    _restore_model(solver.model, arrays, device)
    solver.optim_configs = _restore_optim(arrays, device)
    for name in solver.model.params:
        solver.optim_configs.setdefault(name, dict(solver.optim_config))
    for h in HISTORIES:
        setattr(solver, h, [float(v) for v in arrays[h]])
    solver.epoch = int(arrays["epoch"])
    solver.best_val_acc = float(arrays["best_val_acc"])
    solver.best_params = {k: backend.to_device(v, device) for k, v in _strip(arrays, "best_param.").items()}
    solver.iteration = int(arrays["iteration"])
    if restore_rng:
        np.random.set_state((str(arrays["rng.name"]), arrays["rng.keys"], int(arrays["rng.pos"]),  # noqa: NPY002
                             int(arrays["rng.has_gauss"]), float(arrays["rng.cached_gaussian"])))
    return arrays
