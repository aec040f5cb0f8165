"""Run directories and what a run's settings build: the data, the model, the directory itself.

A run directory ``<out>/<model>-<YYYYmmdd-HHMMSS>/`` (as ``xnn train`` writes it) holds
``config.json`` (every setting, versions, data sizes, ``input_shape``, ``class_names``),
``preprocessing.npz`` (``mean_image (C, H, W)``: the training mean subtracted from every image),
``history.json`` (the Solver's histories and final accuracies), ``history.png``, ``filters.png`` and
``model.npz`` (the model's ``save`` format). ``config.json`` + ``model.npz`` (+ ``preprocessing.npz``)
are what :func:`load_run` needs to rebuild the trained model.

The settings are a dict with the keys ``model`` (``cnn``, ``fc``, ``twolayer``, ``softmax``),
``dtype``, ``device``, ``reg``, ``model_kwargs``, and for the data ``data`` (``sample`` or
``cifar10``), ``data_dir``, ``num_train``, ``num_val``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend, npz
from ..choices import valid_and_suggestion

__all__ = ["DEFAULTS", "MODEL_NAMES", "PREPROCESSING_FILE", "Run", "build_model", "load_data", "load_run",
           "load_test_data", "make_run_dir", "model_inputs", "read_json", "write_json"]

PREPROCESSING_FILE = "preprocessing.npz"
MODEL_NAMES = ("cnn", "fc", "twolayer", "softmax")
DEFAULT_INPUT_SHAPE = (3, 32, 32)

# Per-model defaults of a run's settings (``xnn train`` options and swept settings override them).
# The cnn defaults are sized so that the default run (bundled sample, CPU) finishes in well under
# a minute on a 2-core machine.
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


def train_mean(X: np.ndarray) -> np.ndarray:
    """The mean image ``(C, H, W)`` of NCHW images ``X`` (the same values the course's loaders subtract)."""
    return np.mean(X.transpose(0, 2, 3, 1), axis=0).transpose(2, 0, 1)


def load_data(settings: dict[str, Any]) -> dict[str, Any]:
    """X_train/y_train/X_val/y_val for the chosen data source, plus ``mean_image`` and ``class_names``.

    X: NCHW in ``settings['dtype']``, the training mean image subtracted (exactly what
    ``load_sample`` / ``get_CIFAR10_data`` return); ``mean_image``: ``(C, H, W)`` float64.
    """
    from ..data import get_CIFAR10_data, load_sample
    if settings["data"] == "sample":
        raw = load_sample(settings["num_train"], settings["num_val"], 0, subtract_mean=False)
    else:
        raw = get_CIFAR10_data(settings["num_train"] or 49000, settings["num_val"] or 1000, 0, subtract_mean=False,
                               cifar10_dir=settings["data_dir"])
    mean = train_mean(raw["X_train"])
    dtype = np.dtype(settings["dtype"])
    data: dict[str, Any] = {k: (raw[k] - mean).astype(dtype) if k.startswith("X") else raw[k]
                            for k in ("X_train", "y_train", "X_val", "y_val")}
    from ..data import CIFAR10_CLASSES
    data["mean_image"], data["class_names"] = mean, [str(c) for c in raw.get("classes", CIFAR10_CLASSES)]
    return data


def load_test_data(source: str, data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every test image of ``source`` (``"sample"``: 400; ``"cifar10"``: the whole ``test_batch``) as
    raw NCHW float64 ``(N, 3, 32, 32)`` values 0..255, with int64 labels ``(N,)``."""
    from ..data import default_cifar10_dir, load_CIFAR_batch, load_sample
    from ..data.paths import TEST_FILE
    if source == "sample":
        raw = load_sample(0, 0, None, subtract_mean=False)
        return raw["X_test"], raw["y_test"]
    root = Path(data_dir) if data_dir is not None else default_cifar10_dir()
    X, y = load_CIFAR_batch(root / TEST_FILE)
    return np.ascontiguousarray(X.transpose(0, 3, 1, 2)), y


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
    if settings["model"] == "softmax":
        return models.Softmax().to(device)
    raise ValueError(f"unknown model {settings['model']!r}; " + valid_and_suggestion(settings["model"], MODEL_NAMES))


def model_inputs(model_name: str, X: np.ndarray, device: str) -> Any:
    """What the model takes for mean-subtracted NCHW images ``X``: the images themselves, or for the
    linear ``softmax`` model flattened rows with a bias column of ones appended, on ``device``."""
    if model_name != "softmax":
        return X
    flat = X.reshape(X.shape[0], -1)
    return backend.to_device(np.hstack([flat, np.ones((flat.shape[0], 1), flat.dtype)]), device)


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON at ``path`` (a trailing newline, so the file ends cleanly), written
    atomically: ``--resume`` rewrites ``config.json`` in place, and a crash then must not lose the run."""
    npz.write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def read_json(path: Path, what: str) -> dict[str, Any]:
    """The JSON object at ``path``; ``ValueError`` naming the file and ``what`` it holds when it is not valid JSON."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} ({what}) is not valid JSON: {err}") from err


@dataclass
class Run:
    """A trained run loaded back by :func:`load_run`.

    Attributes: ``path`` (the run directory), ``config`` (``config.json``), ``model`` (rebuilt,
    trained parameters loaded), ``mean_image`` (``(C, H, W)``, subtracted from every input),
    ``class_names``, ``history`` (``history.json``, or ``{}``).
    """

    path: Path
    config: dict[str, Any]
    model: Any
    mean_image: np.ndarray | None  # None: the run does not say which images it was trained on
    class_names: list[str]
    history: dict[str, Any] = field(default_factory=dict)

    def inputs(self, images: Any) -> Any:
        """Model inputs for raw NCHW images ``(N, C, H, W)`` with values 0..255 (the training data's scale):
        the mean image subtracted, cast to the run's dtype (flattened with a bias column for softmax)."""
        if self.mean_image is None:
            raise ValueError(f"{str(self.path)!r} has no {PREPROCESSING_FILE} (the training mean image) and its "
                             f"config.json does not name data xnn can reload (data = {self.config.get('data')!r}), "
                             "so raw images cannot be prepared for its model; run.model still takes "
                             "mean-subtracted NCHW arrays")
        X = np.asarray(backend.to_numpy(images), dtype=np.float64) - self.mean_image
        X = X.astype(np.dtype(self.config.get("dtype", "float32")))
        return model_inputs(self.config["model"], X, self.model.device)

    def predict(self, images: Any) -> np.ndarray:
        """Class labels ``(N,)`` (host NumPy) of raw NCHW images 0..255."""
        return np.asarray(backend.to_numpy(self.model.predict(self.inputs(images))))

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities ``(N, C)`` (host NumPy) of raw NCHW images 0..255."""
        return np.asarray(backend.to_numpy(self.model.predict_proba(self.inputs(images))))


def _mean_image(run: Path, config: dict[str, Any]) -> np.ndarray | None:
    """``preprocessing.npz``'s mean image; else the mean of the training data the config names (run
    directories written before that file existed); None when the config names no such data."""
    if (run / PREPROCESSING_FILE).is_file():
        return npz.load(run / PREPROCESSING_FILE)["mean_image"]
    if config.get("data") not in ("sample", "cifar10"):
        return None
    return load_data({**config, "dtype": "float64"})["mean_image"]


def load_run(run_dir: str | os.PathLike, device: str | None = None) -> Run:
    """Rebuild the trained model of a run directory (``config.json`` + ``model.npz``) in one call.

    ``device``: where to put the model (``None``: the device in force, see
    :func:`xnn.backend.resolve_device`), whatever device it was trained on. The parameters are
    loaded strictly (a ``model.npz`` that does not fit the config raises ``ValueError`` naming every
    difference). Raises ``FileNotFoundError`` naming what is missing for a directory that is not a
    finished run.
    """
    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise FileNotFoundError(f"{str(run)!r} is not a run directory: it has no config.json (xnn train writes "
                                "config.json and model.npz into runs/<model>-<timestamp>/)")
    if not (run / "model.npz").is_file():
        raise FileNotFoundError(f"{str(run)!r} has no model.npz: the run did not finish; continue it with "
                                f"xnn train --resume {run}")
    config = read_json(run / "config.json", "the run's settings")
    settings = {**config, "device": backend.resolve_device(device)}
    model = build_model(settings, tuple(config.get("input_shape", DEFAULT_INPUT_SHAPE)))
    model.load_state_arrays(npz.load(run / "model.npz"), strict=True, fname=run / "model.npz")
    from ..data import CIFAR10_CLASSES
    history = read_json(run / "history.json", "the run's histories") if (run / "history.json").is_file() else {}
    return Run(path=run, config=config, model=model, mean_image=_mean_image(run, config),
               class_names=list(config.get("class_names", CIFAR10_CLASSES)), history=history)
