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
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, backend
from ..training.runs import DEFAULTS, build_model, load_data, make_run_dir, write_json

__all__ = ["DEFAULTS", "MODELS", "add_parser", "resolve_settings", "run", "run_train"]

MODELS = ("cnn", "fc", "twolayer", "softmax")

def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_parser(sub) -> None:
    """Register ``xnn train``."""
    p = sub.add_parser("train", help="train a model and write a run directory",
                       description="Train a model with the Solver and write config.json, history.json, "
                                   "history.png, filters.png and model.npz into runs/<model>-<timestamp>/. "
                                   "Defaults not given on the command line are per model (printed at start).")
    p.add_argument("--model", choices=MODELS, default="cnn", help="cnn = ThreeLayerConvNet (default), "
                   "fc = FullyConnectedNet, twolayer = TwoLayerNet, softmax = linear Softmax classifier")
    p.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu", help="where to train (default cpu)")
    p.add_argument("--epochs", type=_positive_int, help="number of epochs")
    p.add_argument("--batch-size", type=_positive_int, help="minibatch size")
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--lr-decay", type=_positive_float, help="learning-rate factor applied after every epoch")
    p.add_argument("--update-rule", help="name of an xnn.optim update rule (sgd, sgd_momentum, rmsprop, adam, ...)")
    p.add_argument("--reg", type=float, help="L2 regularization strength")
    p.add_argument("--data", choices=("sample", "cifar10"), default="sample",
                   help="sample = the bundled 2000-image CIFAR-10 subset (default); cifar10 = a full "
                        "cifar-10-batches-py directory")
    p.add_argument("--data-dir", help="cifar-10-batches-py directory for --data cifar10 "
                                      "(default: $XNN_DATA or the per-user cache)")
    p.add_argument("--num-train", type=_positive_int, help="use only this many training images")
    p.add_argument("--num-val", type=_positive_int, help="use only this many validation images")
    p.add_argument("--out", default="runs", help="parent directory of the run directory (default runs/)")
    p.add_argument("--seed", type=int, default=0, help="seed of NumPy's global RNG (init and minibatches)")
    p.add_argument("--dtype", choices=("float32", "float64"), help="model parameter dtype (default float32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="no per-iteration Solver lines")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint_epoch_<n>.npz of an earlier "
                   "run with the same options (the loss curve continues exactly)")
    p.set_defaults(run=run)


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
    from ..solver import Solver
    from ..training.checkpoint import checkpoint_path

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
    from ..vis import first_layer_images, plot_filters
    if settings["model"] == "cnn":
        plot_filters(model.params["W1"], path, title="First-layer conv filters")
        return f"wrote {path.name}: first-layer conv filters"
    W = model.W if settings["model"] == "softmax" else model.params["W1"]
    images = first_layer_images(W)
    if images is None:
        return f"skipped {path.name}: first-layer weights {tuple(W.shape)} are not 3x32x32 images"
    plot_filters(images, path, title="First-layer weights as images")
    return f"wrote {path.name}: {images.shape[0]} first-layer weight columns as images"


def run(args: argparse.Namespace) -> int:
    """``xnn train``: :func:`run_train`, exit status 0."""
    run_train(args)
    return 0


def run_train(args: argparse.Namespace) -> Path:
    """Run ``xnn train`` with parsed ``args``; returns the run directory."""
    from ..vis import plot_history
    settings = resolve_settings(args)
    np.random.seed(settings["seed"])  # noqa: NPY002  (init and minibatches draw from the global RNG)
    data = load_data(settings)
    run = make_run_dir(args.out, settings["model"])
    config = {**settings, "xnn_version": __version__, "numpy_version": np.__version__,
              "python_version": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "num_train_images": int(data["X_train"].shape[0]), "num_val_images": int(data["X_val"].shape[0])}
    write_json(run / "config.json", config)
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
    write_json(run / "history.json", hist)
    plot_history(hist, run / "history.png")
    note = write_filters(model, settings, run / "filters.png")
    model.save(run / "model.npz")
    print(note)
    print(f"final train acc: {hist['final_train_acc']:.4f}; val acc: {hist['final_val_acc']:.4f} "
          f"({hist['wall_time_s']:.1f} s training on {settings['device']})")
    return run
