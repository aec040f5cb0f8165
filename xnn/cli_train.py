"""``xnn train``: build a model, train it with the Solver and write a run directory.

A run directory ``<out>/<model>-<YYYYmmdd-HHMMSS>/`` receives:

* ``config.json``   every setting of the run (defaults filled in), versions, data sizes;
* ``history.json``  ``loss_history``, ``train_acc_history``, ``val_acc_history``, final accuracies, wall time;
* ``history.png``   loss and accuracy curves (:func:`xnn.vis.plot_history`);
* ``filters.png``   first-layer conv filters (cnn), or first-layer weights drawn as 32x32 images
  (fc, twolayer, softmax) when they are image-shaped;
* ``model.npz``     the trained (best validation) parameters, ``model.save``'s format;
* ``checkpoint_epoch_<n>.npz``  while training: the newest Solver checkpoint (older ones are removed),
  for ``xnn train --resume`` after a crash or Ctrl-C (which writes ``..._interrupted.npz``); removed
  when training completes (``model.npz`` holds the result).

Training stops with an error on a NaN/inf loss (``Solver(on_nonfinite="stop")``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, backend

__all__ = ["DEFAULTS", "run_train", "resolve_settings", "make_run_dir"]

# Per-model defaults; command-line options override them. The cnn defaults are sized so that the
# default run (bundled sample, CPU) finishes in about two minutes on a 2-core machine.
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


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings: command-line values where given, else the model's defaults."""
    d = DEFAULTS[args.model]

    def pick(name: str) -> Any:
        return d[name] if getattr(args, name) is None else getattr(args, name)
    settings = {"model": args.model, "epochs": pick("epochs"), "batch_size": pick("batch_size"), "lr": pick("lr"),
                "lr_decay": pick("lr_decay"),
                "update_rule": pick("update_rule"), "reg": pick("reg"), "dtype": args.dtype or "float32",
                "device": backend.resolve_device(args.device), "data": args.data, "data_dir": args.data_dir,
                "num_train": args.num_train, "num_val": args.num_val, "seed": args.seed,
                "model_kwargs": dict(d["model_kwargs"])}
    if args.model == "softmax" and (settings["update_rule"] != "sgd" or settings["lr_decay"] != 1.0):
        raise ValueError("train: the softmax model trains with LinearClassifier.train (plain SGD, no decay); "
                         "--update-rule must be sgd and --lr-decay 1")
    return settings


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
    from .data import get_CIFAR10_data, load_sample
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
    from . import models
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


def _accuracy(predict, X: Any, y: np.ndarray, batch: int = 500) -> float:
    hits = 0
    for start in range(0, X.shape[0], batch):
        hits += int(np.sum(backend.to_numpy(predict(X[start:start + batch])) == y[start:start + batch]))
    return hits / max(X.shape[0], 1)


def train_softmax(model: Any, data: dict[str, np.ndarray], settings: dict[str, Any], progress: bool) -> dict:
    """Per-epoch minibatch SGD of a linear Softmax on flattened images plus a bias column."""
    from tqdm.auto import tqdm

    def flat(X):
        X = X.reshape(X.shape[0], -1)
        return backend.to_device(np.hstack([X, np.ones((X.shape[0], 1), X.dtype)]), settings["device"])
    Xtr, Xval = flat(data["X_train"]), flat(data["X_val"])
    ytr = backend.to_device(data["y_train"], settings["device"])
    iters = max(Xtr.shape[0] // settings["batch_size"], 1)
    hist: dict[str, list[float]] = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
    for _ in tqdm(range(settings["epochs"]), desc="softmax epochs", disable=not progress):
        hist["loss_history"] += model.train(Xtr, ytr, learning_rate=settings["lr"], reg=settings["reg"],
                                            num_iters=iters, batch_size=settings["batch_size"])
        hist["train_acc_history"].append(_accuracy(model.predict, Xtr, data["y_train"]))
        hist["val_acc_history"].append(_accuracy(model.predict, Xval, data["y_val"]))
    hist["final_train_acc"], hist["final_val_acc"] = hist["train_acc_history"][-1], hist["val_acc_history"][-1]
    return hist


def _latest_checkpoint_solver():
    """A Solver subclass that keeps only its newest epoch checkpoint on disk."""
    from .checkpoint import checkpoint_path
    from .solver import Solver

    class LatestCheckpointSolver(Solver):
        def _save_checkpoint(self, bar: Any = None) -> None:
            previous = getattr(self, "_previous_checkpoint", None)
            super()._save_checkpoint(bar)
            current = checkpoint_path(self.checkpoint_name, self.epoch)
            if previous is not None and previous != current:
                Path(previous).unlink(missing_ok=True)
            self._previous_checkpoint = current

    return LatestCheckpointSolver


def train_with_solver(model: Any, data: dict[str, np.ndarray], settings: dict[str, Any], progress: bool,
                      verbose: bool, checkpoint_name: str | None = None, resume: str | None = None) -> dict:
    """Train with :class:`xnn.solver.Solver`; returns the histories and the best-params accuracies.

    ``checkpoint_name``: keep the newest ``<checkpoint_name>_epoch_<n>.npz`` while training (removed
    once it completes); ``resume``: continue from such a checkpoint. A NaN/inf loss raises
    ``FloatingPointError``.
    """
    iters = max(data["X_train"].shape[0] // settings["batch_size"], 1)
    solver = _latest_checkpoint_solver()(
        model, data, update_rule=settings["update_rule"], optim_config={"learning_rate": settings["lr"]},
        lr_decay=settings["lr_decay"], batch_size=settings["batch_size"], num_epochs=settings["epochs"],
        print_every=iters if progress else max(iters // 4, 1), verbose=verbose, device=settings["device"],
        progress=progress, checkpoint_name=checkpoint_name, on_nonfinite="stop")
    if resume:
        solver.resume(resume)
        print(f"resumed from {resume} (epoch {solver.epoch}, iteration {solver.iteration + 1})")
    solver.train()
    if getattr(solver, "_previous_checkpoint", None):
        Path(solver._previous_checkpoint).unlink(missing_ok=True)
    hist = {k: [float(v) for v in getattr(solver, k)] for k in ("loss_history", "train_acc_history",
                                                                "val_acc_history")}
    hist["best_val_acc"] = float(solver.best_val_acc)
    hist["final_train_acc"] = float(solver.check_accuracy(data["X_train"], data["y_train"]))
    hist["final_val_acc"] = float(solver.check_accuracy(data["X_val"], data["y_val"]))
    return hist


def write_filters(model: Any, settings: dict[str, Any], path: Path) -> str:
    """Draw the first layer into ``path``; returns a note saying what was written (or why not)."""
    from .vis import first_layer_images, plot_filters
    if settings["model"] == "cnn":
        plot_filters(model.params["W1"], path, title="First-layer conv filters")
        return f"wrote {path.name}: first-layer conv filters"
    W = model.W if settings["model"] == "softmax" else model.params["W1"]
    images = first_layer_images(W)
    if images is None:
        return f"skipped {path.name}: first-layer weights {tuple(W.shape)} are not 3x32x32 images"
    plot_filters(images, path, title="First-layer weights as images")
    return f"wrote {path.name}: {images.shape[0]} first-layer weight columns as images"


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def run_train(args: argparse.Namespace) -> Path:
    """Run ``xnn train`` with parsed ``args``; returns the run directory."""
    from .vis import plot_history
    settings = resolve_settings(args)
    np.random.seed(settings["seed"])
    data = load_data(settings)
    run = make_run_dir(args.out, settings["model"])
    config = {**settings, "xnn_version": __version__, "numpy_version": np.__version__,
              "python_version": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "num_train_images": int(data["X_train"].shape[0]), "num_val_images": int(data["X_val"].shape[0])}
    _write_json(run / "config.json", config)
    print(f"run directory: {run}")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "model_kwargs")
          + f", model_kwargs={settings['model_kwargs']}")
    model = build_model(settings, data["X_train"].shape[1:])
    progress = not args.no_progress
    start = time.perf_counter()
    resume = getattr(args, "resume", None)
    if settings["model"] == "softmax":
        if resume:
            raise ValueError("train: --resume needs a Solver-trained model (cnn, fc, twolayer), not softmax")
        hist = train_softmax(model, data, settings, progress)
    else:
        hist = train_with_solver(model, data, settings, progress, verbose=not args.quiet,
                                 checkpoint_name=str(run / "checkpoint"), resume=resume)
    hist["wall_time_s"] = round(time.perf_counter() - start, 3)
    _write_json(run / "history.json", hist)
    plot_history(hist, run / "history.png")
    note = write_filters(model, settings, run / "filters.png")
    model.save(run / "model.npz")
    print(note)
    print(f"final train acc: {hist['final_train_acc']:.4f}; val acc: {hist['final_val_acc']:.4f} "
          f"({hist['wall_time_s']:.1f} s training on {settings['device']})")
    return run
