"""The training part of ``xnn train``: the Solver (or the linear classifier's SGD) with one line per epoch.

The command line prints its own per-epoch lines instead of the Solver's cs231n lines, keeps only
the newest checkpoint on disk (silently: checkpoints are temporary, removed when training
completes) and leaves the live bar to :mod:`xnn.progress` (a terminal shows one, a file
gets none).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend, progress
from ..solver import Solver
from ..training import checkpoint
from ..training.runs import model_inputs

__all__ = ["CliSolver", "fit_softmax", "fit_solver", "write_filters"]

#: The checkpoint name ``xnn train`` gives the Solver: files ``checkpoint_epoch_<n>[_interrupted].npz``.
CHECKPOINT_STEM = "checkpoint"


def checkpoint_files(run: Path) -> list[Path]:
    """The ``checkpoint_epoch_*.npz`` files in the run directory ``run``."""
    return list(run.glob(f"{CHECKPOINT_STEM}_epoch_*.npz"))


def _prune_checkpoints(keep: str) -> None:
    """Remove every ``checkpoint_epoch_*.npz`` next to ``keep`` except ``keep`` itself."""
    keep_path = Path(keep)
    for path in checkpoint_files(keep_path.parent):
        if path != keep_path:
            path.unlink(missing_ok=True)


class CliSolver(Solver):
    """The Solver as ``xnn train`` runs it: epoch lines, newest checkpoint only, quiet Ctrl-C save."""

    epoch_lines = True

    def _reset(self) -> None:
        super()._reset()
        self._started = time.perf_counter()
        self._reported = 0  # loss_history entries already summarized in an epoch line

    def resume(self, path: str | os.PathLike, restore_rng: bool = True) -> None:
        super().resume(path, restore_rng)
        self._reported = len(self.loss_history)  # epoch lines summarize only the steps run after the resume

    def _check_and_record(self, bar: Any) -> None:
        super()._check_and_record(bar)
        if not self.epoch_lines:
            return
        losses = self.loss_history[self._reported:]
        self._reported = len(self.loss_history)
        bar.write(epoch_line(self.epoch, self.num_epochs, float(np.mean(losses)), self.train_acc_history[-1],
                             self.val_acc_history[-1], time.perf_counter() - self._started))

    def _save_checkpoint(self, bar: Any) -> None:
        if self.checkpoint_name is None:
            return
        path = checkpoint.checkpoint_path(self.checkpoint_name, self.epoch)
        checkpoint.save_solver(self, path)
        _prune_checkpoints(path)

    def _save_interrupted(self, bar: Any) -> None:
        path = checkpoint.checkpoint_path(self.checkpoint_name, self.epoch, interrupted=True)
        checkpoint.save_solver(self, path)
        _prune_checkpoints(path)


def epoch_line(epoch: int, num_epochs: int, loss: float, train_acc: float, val_acc: float, seconds: float) -> str:
    """``epoch  3 / 10  loss 1.8342  train acc 0.5120  val acc 0.4430  12.3 s``."""
    width = len(str(num_epochs))
    shown = f"{loss:.4f}" if abs(loss) < 1e4 else f"{loss:.4g}"  # a diverging loss stays readable
    return (f"epoch {epoch:>{width}} / {num_epochs}  loss {shown}  train acc {train_acc:.4f}  "
            f"val acc {val_acc:.4f}  {seconds:.1f} s")


def _best_epoch(val_acc_history: list[float]) -> int:
    """Index of the first maximum: the check whose parameters the Solver kept (checks are epochs 0..n)."""
    return int(np.argmax(val_acc_history)) if val_acc_history else 0


def fit_solver(model: Any, data: dict[str, Any], settings: dict[str, Any], *, progress_setting: bool | None,
               epoch_lines: bool, checkpoint_name: str, resume: Path | None = None) -> dict[str, Any]:
    """Train with :class:`CliSolver`; the histories, the best epoch and the best parameters' full accuracies.

    Keeps the newest ``<checkpoint_name>_epoch_<n>.npz`` while training; ``resume`` continues from
    one. A NaN/inf loss raises ``FloatingPointError``.
    """
    solver = CliSolver(model, data, update_rule=settings["update_rule"], optim_config={"learning_rate": settings["lr"]},
                       lr_decay=settings["lr_decay"], batch_size=settings["batch_size"], num_epochs=settings["epochs"],
                       verbose=False, device=settings["device"], progress=progress_setting,
                       checkpoint_name=checkpoint_name, on_nonfinite="stop")
    solver.epoch_lines = epoch_lines
    if resume is not None:
        solver.resume(resume)
    solver.train()
    hist: dict[str, Any] = {k: [float(v) for v in getattr(solver, k)]
                            for k in ("loss_history", "train_acc_history", "val_acc_history")}
    hist["best_val_acc"] = float(solver.best_val_acc)
    hist["best_epoch"] = _best_epoch(hist["val_acc_history"])
    hist["final_train_acc"] = float(solver.check_accuracy(data["X_train"], data["y_train"]))
    hist["final_val_acc"] = float(solver.check_accuracy(data["X_val"], data["y_val"]))
    return hist


def _accuracy(model: Any, X: Any, y: np.ndarray) -> float:
    return float(np.mean(backend.to_numpy(model.predict(X)) == y)) if len(y) else 0.0


def fit_softmax(model: Any, data: dict[str, Any], settings: dict[str, Any], *, progress_setting: bool | None,
                epoch_lines: bool) -> dict[str, Any]:
    """Per-epoch minibatch SGD of a linear Softmax on flattened images plus a bias column."""
    Xtr = model_inputs("softmax", data["X_train"], settings["device"])
    Xval = model_inputs("softmax", data["X_val"], settings["device"])
    ytr = backend.to_device(data["y_train"], settings["device"])
    iters = max(Xtr.shape[0] // settings["batch_size"], 1)
    hist: dict[str, Any] = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
    bar, started = progress.start(progress_setting, settings["epochs"], desc="softmax epochs"), time.perf_counter()
    try:
        for epoch in range(1, settings["epochs"] + 1):
            losses = model.train(Xtr, ytr, learning_rate=settings["lr"], reg=settings["reg"], num_iters=iters,
                                 batch_size=settings["batch_size"])
            hist["loss_history"] += losses
            hist["train_acc_history"].append(_accuracy(model, Xtr, data["y_train"]))
            hist["val_acc_history"].append(_accuracy(model, Xval, data["y_val"]))
            bar.step(losses[-1])
            if epoch_lines:
                bar.write(epoch_line(epoch, settings["epochs"], float(np.mean(losses)), hist["train_acc_history"][-1],
                                     hist["val_acc_history"][-1], time.perf_counter() - started))
    finally:
        bar.close()
    hist["best_epoch"] = len(hist["val_acc_history"])  # the linear classifier keeps its last weights
    hist["final_train_acc"], hist["final_val_acc"] = hist["train_acc_history"][-1], hist["val_acc_history"][-1]
    return hist


def write_filters(model: Any, model_name: str, path: Path, class_names: list[str] | None = None) -> str:
    """Draw the first layer into ``path``; returns a note saying what was written (or why not).

    cnn: the conv filters; softmax: one template per class, titled with ``class_names``; fc and
    twolayer: the first-layer weight columns drawn as images (when they are image-shaped).
    """
    from ..vis import first_layer_images, plot_filters, plot_templates
    if model_name == "cnn":
        plot_filters(model.params["W1"], path, title="First-layer conv filters")
        return f"{path.name} (first-layer conv filters)"
    if model_name == "softmax":
        plot_templates(model.W, class_names, path)
        return f"{path.name} (one learned template per class)"
    W = model.params["W1"]
    images = first_layer_images(W)
    if images is None:
        return f"no {path.name} (first-layer weights {tuple(W.shape)} are not 3x32x32 images)"
    plot_filters(images, path, title="First-layer weights as images")
    return f"{path.name} ({images.shape[0]} first-layer weight columns as images)"
