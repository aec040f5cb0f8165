"""The cs231n ``Solver``: minibatch training of a classification model, plus devices.

Usage is cs231n's::

    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    solver.loss_history, solver.train_acc_history, solver.val_acc_history, solver.best_val_acc

``data`` holds ``X_train (N_train, ...)``, ``y_train (N_train,)``, ``X_val``, ``y_val``. The model
has ``params`` (name -> array) and ``loss(X, y=None)`` returning scores ``(N, C)`` without ``y``
and ``(loss, grads)`` with it. Keyword arguments and defaults, the printed lines, the
checkpoint schedule, the learning-rate decay, the strict best-parameter rule and the RNG
consumption (one ``np.random.choice(N_train, batch_size)`` per step, one
``np.random.choice(N, num_samples)`` per subsampled accuracy check) are exactly cs231n's.

Additions (all optional):

* ``device=None``: ``"cpu"``, ``"gpu"``/``"cuda"``, ``"auto"``, or ``None`` for the device in
  force (:func:`xnn.backend.resolve_device`). A model with ``to()`` is moved there; the data
  stays where it is and each minibatch is gathered with host-drawn indices, then moved.
  Models without ``to()`` must already live on that device.
* ``progress=False``: a tqdm progress bar over the iterations showing the running loss.
* ``update_rule`` may also be a callable ``rule(w, dw, config) -> (next_w, config)``
  (cs231n only takes the name of a function in its ``optim`` module).
* ``stop_on_nonfinite=True``: a NaN/inf loss stops training with a logged warning (the
  reason is kept in ``solver.stop_reason``); ``False`` keeps going like cs231n.
* Checkpoints are ``<checkpoint_name>_epoch_<n>.npz`` archives (see :mod:`xnn.checkpoint`),
  never pickles; :meth:`Solver.load_checkpoint` resumes training on the same loss curve.
* :meth:`Solver.record_histories_as_npz` (Berkeley CS182's name).

Histories hold Python floats.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import backend, checkpoint, optim, validation
from .models.base import gather_rows

__all__ = ["Solver"]

logger = logging.getLogger(__name__)

_DEFAULTS: dict[str, Any] = {
    "update_rule": "sgd",
    "optim_config": {},
    "lr_decay": 1.0,
    "batch_size": 100,
    "num_epochs": 10,
    "num_train_samples": 1000,
    "num_val_samples": None,
    "checkpoint_name": None,
    "print_every": 10,
    "verbose": True,
    # xnn additions
    "device": None,
    "progress": False,
    "stop_on_nonfinite": True,
}


def resolve_update_rule(rule: str | Callable) -> Callable:
    """A callable update rule: ``rule`` itself, or the public function of :mod:`xnn.optim` it names.

    Raises ``ValueError('Invalid update_rule "<name>"')`` for an unknown name.
    """
    if callable(rule):
        return rule
    fn = getattr(optim, rule, None) if isinstance(rule, str) and not rule.startswith("_") else None
    public = getattr(optim, "__all__", ())
    if fn is None or not callable(fn) or not (rule in public or getattr(fn, "__module__", "") == optim.__name__):
        raise ValueError('Invalid update_rule "%s"' % rule)
    return fn


def _copy(a: Any) -> Any:
    """An independent copy of an array in its own namespace."""
    return backend.namespace(a).asarray(a, copy=True)


class Solver:
    """Trains a classification model with minibatch gradient descent (cs231n contract).

    Attributes set from the arguments: ``model, X_train, y_train, X_val, y_val, update_rule
    (a function), optim_config, lr_decay, batch_size, num_epochs, num_train_samples,
    num_val_samples, checkpoint_name, print_every, verbose`` (+ ``device``, ``progress``,
    ``stop_on_nonfinite``). Training state (from ``_reset``): ``epoch, best_val_acc,
    best_params, loss_history, train_acc_history, val_acc_history, optim_configs``.
    """

    def __init__(self, model: Any, data: Mapping[str, Any], **kwargs: Any) -> None:
        validation.require_keys("Solver", "data", data, ("X_train", "y_train", "X_val", "y_val"))
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        for key, default in _DEFAULTS.items():
            setattr(self, key, kwargs.pop(key, dict(default) if isinstance(default, dict) else default))
        if kwargs:
            raise ValueError("Unrecognized arguments %s" % ", ".join('"%s"' % k for k in kwargs))
        self.update_rule = resolve_update_rule(self.update_rule)
        self._check_data()
        self.batch_size = validation.check_positive_int("Solver", "batch_size", self.batch_size)
        self.device = backend.resolve_device(self.device)
        if hasattr(model, "to"):
            model.to(self.device)
        self._reset()

    def _check_data(self) -> None:
        for split in ("train", "val"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.shape[0] != y.shape[0]:
                raise ValueError(f"Solver: X_{split} has {X.shape[0]} rows but y_{split} has {y.shape[0]} labels "
                                 f"(X_{split} {tuple(X.shape)}, y_{split} {tuple(y.shape)})")
        if self.X_train.shape[0] == 0:
            raise ValueError(f"Solver: X_train holds no samples (X_train {tuple(self.X_train.shape)})")

    def _reset(self) -> None:
        """Fresh training state: epoch 0, empty histories, one shallow config copy per parameter."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params: dict[str, Any] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs = {p: {k: v for k, v in self.optim_config.items()} for p in self.model.params}
        self.iteration = -1  # index of the last step taken; train() resumes after it
        self.stop_reason: str | None = None

    # ------------------------------------------------------------------ one step
    def _on_device(self, a: Any) -> Any:
        return backend.to_device(a, self.device)

    def _step(self) -> None:
        """One update: a minibatch drawn with replacement, the model's loss, every parameter's rule."""
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self._on_device(gather_rows(self.X_train, batch_mask))
        y_batch = self._on_device(gather_rows(self.y_train, batch_mask))
        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    # ------------------------------------------------------------------ accuracy
    def check_accuracy(self, X: Any, y: Any, num_samples: int | None = None, batch_size: int = 100) -> float:
        """Fraction of ``X (N, ...)`` classified as ``y (N,)``, as a Python float.

        With ``num_samples`` and ``N > num_samples`` a subsample of ``num_samples`` rows is drawn
        with ``np.random.choice(N, num_samples)`` (with replacement). Scores come from
        ``model.loss(X_batch)`` in batches of ``batch_size``.
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X, y = gather_rows(X, mask), gather_rows(y, mask)
        num_batches = N // batch_size + (1 if N % batch_size != 0 else 0)
        predictions = []
        for i in range(num_batches):
            start, end = i * batch_size, min((i + 1) * batch_size, N)
            scores = self.model.loss(self._on_device(X[start:end, ...]))
            predictions.append(backend.to_numpy(backend.namespace(scores).argmax(scores, axis=1)))
        y_pred = np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)
        return float(np.mean(y_pred == backend.to_numpy(y)))

    # ------------------------------------------------------------------ training
    def train(self) -> None:
        """Run ``num_epochs`` epochs of ``max(N_train // batch_size, 1)`` steps, then keep the best params.

        Checks train/val accuracy after the first step, at every epoch end (after decaying each
        parameter's ``learning_rate`` by ``lr_decay``) and after the last step; saves a
        checkpoint at each check; finally sets ``model.params = best_params``.
        """
        iterations_per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = self._progress_bar(num_iterations, self.iteration + 1)
        try:
            for t in range(self.iteration + 1, num_iterations):
                self._step()
                self.iteration = t
                if not self._after_step(t, num_iterations, iterations_per_epoch, bar):
                    break
        finally:
            if bar is not None:
                bar.close()
        self.iteration = -1
        self.model.params = self.best_params

    def _after_step(self, t: int, num_iterations: int, iterations_per_epoch: int, bar: Any) -> bool:
        """Printing, lr decay, accuracy checks and checkpoints after step ``t``; False to stop."""
        loss = self.loss_history[-1]
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        if self.verbose and t % self.print_every == 0:
            self._print("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, loss), bar)
        if self.stop_on_nonfinite and not math.isfinite(loss):
            self.stop_reason = f"loss is {loss} at iteration {t + 1} / {num_iterations}; training stopped"
            logger.warning("Solver: %s", self.stop_reason)
            return False
        epoch_end = (t + 1) % iterations_per_epoch == 0
        if epoch_end:
            self.epoch += 1
            for config in self.optim_configs.values():
                if "learning_rate" in config:
                    config["learning_rate"] *= self.lr_decay
        if t == 0 or t == num_iterations - 1 or epoch_end:
            self._check_and_record(bar)
        return True

    def _check_and_record(self, bar: Any) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:  # strict, as cs231n
            self.best_val_acc = val_acc
            self.best_params = {k: _copy(v) for k, v in self.model.params.items()}
        self._save_checkpoint(bar)
        if self.verbose:
            self._print("(Epoch %d / %d) train acc: %f; val_acc: %f" % (
                self.epoch, self.num_epochs, train_acc, val_acc), bar)

    # ------------------------------------------------------------------ output helpers
    def _progress_bar(self, total: int, initial: int) -> Any:
        if not self.progress:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError as err:  # pragma: no cover - tqdm is a dependency
            raise ImportError("Solver(progress=True) needs tqdm: pip install tqdm") from err
        return tqdm(total=total, initial=initial, desc="train", unit="it", leave=True)

    @staticmethod
    def _print(line: str, bar: Any) -> None:
        if bar is not None:
            bar.write(line)
        else:
            print(line)

    # ------------------------------------------------------------------ checkpoints
    def _save_checkpoint(self, bar: Any = None) -> None:
        """Write ``<checkpoint_name>_epoch_<epoch>.npz`` (no-op without a checkpoint_name)."""
        if self.checkpoint_name is None:
            return
        filename = checkpoint.checkpoint_path(self.checkpoint_name, self.epoch)
        if self.verbose:
            self._print('Saving checkpoint to "%s"' % filename, bar)
        checkpoint.save_solver(self, filename)

    def load_checkpoint(self, path: str, restore_rng: bool = True) -> None:
        """Resume from a checkpoint of this setup: the next :meth:`train` continues after its step.

        Build the Solver with the same model architecture, data and arguments first. See
        :func:`xnn.checkpoint.restore_solver`.
        """
        checkpoint.restore_solver(self, path, restore_rng=restore_rng)

    def record_histories_as_npz(self, filename: str) -> None:
        """Save ``train_losses``, ``train_accs``, ``val_accs`` with ``np.savez`` (Berkeley CS182)."""
        np.savez(filename, train_losses=np.asarray(self.loss_history), train_accs=np.asarray(self.train_acc_history),
                 val_accs=np.asarray(self.val_acc_history))
