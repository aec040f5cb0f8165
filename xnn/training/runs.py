"""Run directories and what a run's settings build: the data, the model, the directory itself.

A run directory ``<out>/<model>-<YYYYmmdd-HHMMSS>/`` (as ``xnn train`` writes it) holds
``config.json`` (every setting, versions, data sizes), ``history.json`` (the Solver's histories and
final accuracies), ``history.png``, ``filters.png`` and ``model.npz`` (the model's ``save`` format).
The settings are a dict with the keys ``model`` (``cnn``, ``fc``, ``twolayer``, ``softmax``),
``dtype``, ``device``, ``reg``, ``model_kwargs``, and for the data ``data`` (``sample`` or
``cifar10``), ``data_dir``, ``num_train``, ``num_val``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend

__all__ = ["DEFAULTS", "build_model", "load_data", "make_run_dir", "write_json"]

# Per-model defaults of a run's settings (``xnn train`` options and swept settings override them).
# The cnn defaults are sized so that the default run (bundled sample, CPU) finishes in about two
# minutes on a 2-core machine.
DEFAULTS: dict[str, dict[str, Any]] = {
    "cnn": {"epochs": 10, "batch_size": 50, "lr": 1e-3, "lr_decay": 0.9, "update_rule": "adam", "reg": 1e-3,
            "model_kwargs": {"num_filters": 32, "filter_size": 5, "hidden_dim": 100, "weight_scale": 1e-2}},
    "fc": {"epochs": 10, "batch_size": 100, "lr": 1e-3, "lr_decay": 0.95, "update_rule": "adam", "reg": 1e-2,
           "model_kwargs": {"hidden_dims": [100, 100], "weight_scale": 5e-2, "normalization": "batchnorm"}},
    "twolayer": {"epochs": 10, "batch_size": 100, "lr": 1e-3, "lr_decay": 0.95, "update_rule": "adam", "reg": 1e-2,
                 "model_kwargs": {"hidden_dim": 100, "weight_scale": 1e-3}},
    "softmax": {"epochs": 20, "batch_size": 200, "lr": 1e-6, "lr_decay": 1.0, "update_rule": "sgd", "reg": 5e3,
                "model_kwargs": {}},
}


def make_run_dir(out: str | Path, model: str) -> Path:
    """Create and return a new ``<out>/<model>-<timestamp>[-k]`` directory (never reuses one)."""
    parent = Path(out)
    parent.mkdir(parents=True, exist_ok=True)
    stem = f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"
    for k in range(1000):
        run = parent / (stem if k == 0 else f"{stem}-{k}")
        try:
            run.mkdir()
            return run
        except FileExistsError:
            continue
    raise RuntimeError(f"train: could not create a new run directory under {parent}")


def load_data(settings: dict[str, Any]) -> dict[str, np.ndarray]:
    """X_train/y_train/X_val/y_val (float64 NCHW, mean-subtracted) for the chosen data source."""
    from ..data import get_CIFAR10_data, load_sample
    if settings["data"] == "sample":
        data = load_sample(settings["num_train"], settings["num_val"], 0)
    else:
        data = get_CIFAR10_data(settings["num_train"] or 49000, settings["num_val"] or 1000, 0,
                                cifar10_dir=settings["data_dir"])
    dtype = np.dtype(settings["dtype"])
    return {k: data[k].astype(dtype) if k.startswith("X") else data[k]
            for k in ("X_train", "y_train", "X_val", "y_val")}


def build_model(settings: dict[str, Any], input_shape: tuple[int, ...]) -> Any:
    """The model named by ``settings['model']`` on ``settings['device']``."""
    from .. import models
    kw, dtype, device = settings["model_kwargs"], np.dtype(settings["dtype"]).type, settings["device"]
    dim = int(np.prod(input_shape))
    if settings["model"] == "cnn":
        return models.ThreeLayerConvNet(input_dim=tuple(input_shape), reg=settings["reg"], dtype=dtype,
                                        device=device, **kw)
    if settings["model"] == "fc":
        return models.FullyConnectedNet(input_dim=dim, reg=settings["reg"], dtype=dtype, device=device, **kw)
    if settings["model"] == "twolayer":
        model = models.TwoLayerNet(input_dim=dim, reg=settings["reg"], device=device, **kw)
        xp = backend.namespace_for_device(device)
        model.params = {k: xp.astype(v, getattr(xp, settings["dtype"])) for k, v in model.params.items()}
        return model
    return models.Softmax()


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON at ``path`` (a trailing newline, so the file ends cleanly)."""
    path.write_text(json.dumps(obj, indent=2) + "\n")
