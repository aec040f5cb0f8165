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

xnn adds ``device``, ``progress``, ``on_nonfinite``, callable update rules, ``.npz`` checkpoints
with an exact :meth:`Solver.resume`, a Ctrl-C checkpoint, argument checks with "did you mean",
and a divergence warning (every argument is described in :meth:`Solver.__init__`). The course
flavors' extras (Berkeley's ``record_histories_as_npz``, ...) live in :mod:`xnn.compat.solvers`.

Histories hold Python floats. Subclasses with another data layout (the captioning solver)
override the hooks ``defaults``, ``_read_data``, ``_check_data``, ``_num_train``, ``_minibatch``,
``_check_and_record`` and ``_finish``.
"""

from __future__ import annotations

import logging
import math
import os
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import backend, optim, validation
from . import progress as progress_display
from .training import checkpoint
from .training.evaluate import sampled_accuracy
from .training.guards import (
    check_data,
    check_divergence,
    check_print_every,
    check_solver_args,
    deferred_interrupt,
    nonfinite_loss,
    resolve_update_rule,
)
from .training.solver_args import (
    check_optim_config,
    keyword_defaults,
    keyword_names,
    subclass_signature,
    unrecognized_arguments,
)

__all__ = ["Solver"]

logger = logging.getLogger(__name__)

def _copy(a: Any) -> Any:
    """An independent copy of an array in its own namespace."""
    return backend.namespace(a).asarray(a, copy=True)


class Solver:
    """Trains a classification model with minibatch gradient descent (cs231n contract).

    Attributes set from the arguments: ``model, X_train, y_train, X_val, y_val, update_rule
    (a function), optim_config, lr_decay, batch_size, num_epochs, num_train_samples,
    num_val_samples, checkpoint_name, print_every, verbose`` (+ ``device``, ``progress``,
    ``on_nonfinite``). Training state (from ``_reset``): ``epoch, best_val_acc,
    best_params, loss_history, train_acc_history, val_acc_history, optim_configs``.

    ``update_rule`` names are looked up in the class attribute ``optim_module``
    (:mod:`xnn.optim`; the course-flavor Solvers set their own).
    """

    optim_module: types.ModuleType = optim
    #: The keyword arguments this class takes, with their defaults: those of ``__init__``'s signature
    #: (set below the class); a subclass with a narrower contract (the captioning solver) lists fewer.
    defaults: dict[str, Any]

    def __init__(self, model: Any, data: Mapping[str, Any], *, update_rule: str | Callable = "sgd",
                 optim_config: Mapping[str, Any] | None = None, lr_decay: float = 1.0, batch_size: int = 100,
                 num_epochs: int = 10, num_train_samples: int | None = 1000, num_val_samples: int | None = None,
                 checkpoint_name: str | os.PathLike | None = None, print_every: int = 10, verbose: bool = True,
                 device: str | None = None, progress: bool | None = None, on_nonfinite: str = "warn",
                 **kwargs: Any) -> None:
        """Set up training of ``model`` on ``data`` (cs231n's arguments and defaults, plus xnn's).

        ``update_rule``: a name from ``optim_module.UPDATE_RULES`` or a callable ``rule(w, dw, config)
        -> (next_w, config)``; ``optim_config``: its hyperparameters (None: ``{}``; keys the named rule
        never reads warn); ``lr_decay``: factor on ``learning_rate`` after each epoch; epochs have
        ``max(N_train // batch_size, 1)`` steps; ``num_train_samples``/``num_val_samples``: rows
        subsampled per accuracy check (None: all); ``checkpoint_name``: ``<name>_epoch_<n>.npz`` at
        every check (atomic, no pickle; :meth:`resume`; Ctrl-C saves ``..._interrupted.npz``);
        ``print_every`` is read only when ``verbose``; ``device``: ``"cpu"``, ``"gpu"``, ``"auto"`` or
        None (the device in force); ``progress``: None = auto (a live bar on a terminal or in a notebook
        with ipywidgets, one line per epoch in a notebook without, nothing in a file), True or False;
        ``on_nonfinite``: ``"warn"`` (cs231n) or ``"stop"``; a finite loss above 10x ``max(first loss, 1)``
        warns that training diverges. ``**kwargs`` is only for the course flavors' extras; anything
        else raises cs231n's ``ValueError('Unrecognized arguments ...')`` with a "did you mean".
        """
        given = {k: v for k, v in locals().items() if k in Solver.defaults}
        if kwargs:
            raise unrecognized_arguments(list(kwargs), type(self).argument_names())
        self.model = model
        self._read_data(data)
        for key in self.defaults:
            setattr(self, key, given[key])
        if self.optim_config is None:
            self.optim_config = {}
        self.update_rule = resolve_update_rule(self.update_rule, self.optim_module)
        self._check_data()
        check_solver_args(self)
        check_optim_config(self, update_rule if isinstance(update_rule, str) else None)
        self.device = backend.resolve_device(self.device)
        if hasattr(model, "to"):
            model.to(self.device)
        self._reset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass __init__(model, data, *, extra=..., **kwargs) that passes **kwargs on shows its
        # own arguments and the ones of ``cls.defaults`` (inspect.signature, Shift-Tab, help()).
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            init.__signature__ = subclass_signature(init, Solver.__init__, cls.defaults)

    @classmethod
    def argument_names(cls) -> list[str]:
        """The keyword arguments this Solver class takes (as ``inspect.signature(cls)`` shows them)."""
        return keyword_names(cls)

    def _read_data(self, data: Mapping[str, Any]) -> None:  # KeyError naming missing keys
        validation.require_keys("Solver", "data", data, ("X_train", "y_train", "X_val", "y_val"))
        self.X_train, self.y_train, self.X_val, self.y_val = (data[k] for k in ("X_train", "y_train", "X_val", "y_val"))

    def _check_data(self) -> None:  # after the keyword arguments, as before
        check_data(self.X_train, self.y_train, self.X_val, self.y_val)

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
        self._warned_nonfinite = False
        self._warned_divergence = False

    # ------------------------------------------------------------------ one step
    def _on_device(self, a: Any) -> Any:
        return backend.to_device(a, self.device)

    def _minibatch(self) -> tuple[Any, ...]:
        """``model.loss``'s arguments for one step: ``(X_batch, y_batch)`` drawn with replacement."""
        batch_mask = np.random.choice(self.X_train.shape[0], self.batch_size)  # noqa: NPY002  (cs231n's RNG use)
        return (self._on_device(backend.gather_rows(self.X_train, batch_mask)),
                self._on_device(backend.gather_rows(self.y_train, batch_mask)))

    def _step(self, t: int = 0, num_iterations: int = 0) -> None:
        """One update: a minibatch (:meth:`_minibatch`), the model's loss, every parameter's rule.

        A non-finite loss goes to :func:`xnn.training.guards.nonfinite_loss` before the update.
        """
        loss, grads = self.model.loss(*self._minibatch())
        self.loss_history.append(float(loss))
        if not math.isfinite(self.loss_history[-1]):
            nonfinite_loss(self, t, num_iterations)
        check_divergence(self, t, num_iterations)
        for p, w in self.model.params.items():
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    # ------------------------------------------------------------------ accuracy
    def check_accuracy(self, X: Any, y: Any, num_samples: int | None = None, batch_size: int = 100) -> float:
        """Fraction of ``X (N, ...)`` classified as ``y (N,)``, as a Python float.

        With ``num_samples`` and ``N > num_samples`` a subsample of ``num_samples`` rows is drawn
        with ``np.random.choice(N, num_samples)`` (with replacement). Scores come from
        ``model.loss(X_batch)`` in batches of ``batch_size``
        (:func:`xnn.training.evaluate.sampled_accuracy`).
        """
        return sampled_accuracy(lambda batch: self.model.loss(self._on_device(batch)), X, y, num_samples,
                                batch_size)

    # ------------------------------------------------------------------ training
    def train(self) -> None:
        """Run ``num_epochs`` epochs of ``max(N_train // batch_size, 1)`` steps, then keep the best params.

        Checks train/val accuracy after the first step, at every epoch end (after decaying each
        parameter's ``learning_rate`` by ``lr_decay``) and after the last step; saves a
        checkpoint at each check; finally sets ``model.params = best_params``. After
        :meth:`resume` it continues after the checkpoint's step. Ctrl-C saves an
        ``_interrupted`` checkpoint after the current step and re-raises ``KeyboardInterrupt``.
        """
        if self.verbose:
            check_print_every(self)  # verbose may have been switched on after construction
        iterations_per_epoch = max(self._num_train() // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = progress_display.start(self.progress, num_iterations, self.iteration + 1)
        try:
            with deferred_interrupt() as interrupted:
                for t in range(self.iteration + 1, num_iterations):
                    self._step(t, num_iterations)
                    self.iteration = t
                    self._after_step(t, num_iterations, iterations_per_epoch, bar)
                    if interrupted.hit:
                        self._save_interrupted(bar)
                        raise KeyboardInterrupt
        finally:
            bar.close()
        self.iteration = -1
        self._finish()

    def _num_train(self) -> int:
        return self.X_train.shape[0]

    def _finish(self) -> None:  # after the last step the model keeps the best parameters seen
        self.model.params = self.best_params

    def _after_step(self, t: int, num_iterations: int, iterations_per_epoch: int, bar: Any) -> None:
        """Printing, lr decay, accuracy checks and checkpoints after step ``t``."""
        loss = self.loss_history[-1]
        bar.step(loss)
        if self.verbose and t % self.print_every == 0:
            bar.write("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, loss))
        epoch_end = (t + 1) % iterations_per_epoch == 0
        if epoch_end:
            self.epoch += 1
            for config in self.optim_configs.values():
                if "learning_rate" in config:
                    config["learning_rate"] *= self.lr_decay
        if t == 0 or t == num_iterations - 1 or epoch_end:
            self._check_and_record(bar)
        if epoch_end:
            bar.epoch_end(self.epoch, self.num_epochs)

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
            bar.write("(Epoch %d / %d) train acc: %f; val_acc: %f" % (
                self.epoch, self.num_epochs, train_acc, val_acc))

    # ------------------------------------------------------------------ checkpoints
    def _save_checkpoint(self, bar: Any) -> None:
        """Write ``<checkpoint_name>_epoch_<epoch>.npz`` (no-op without a checkpoint_name)."""
        if self.checkpoint_name is None:
            return
        filename = checkpoint.checkpoint_path(self.checkpoint_name, self.epoch)
        if self.verbose:
            bar.write('Saving checkpoint to "%s"' % filename)
        checkpoint.save_solver(self, filename)

    def _save_interrupted(self, bar: Any) -> None:
        """Write ``<checkpoint_name>_epoch_<epoch>_interrupted.npz`` after a Ctrl-C (if named)."""
        if self.checkpoint_name is None:
            logger.warning("Solver: interrupted at iteration %d; no checkpoint_name, nothing saved", self.iteration + 1)
            return
        filename = checkpoint.checkpoint_path(self.checkpoint_name, self.epoch, interrupted=True)
        checkpoint.save_solver(self, filename)
        bar.write(f'Interrupted at iteration {self.iteration + 1}; saved checkpoint to "{filename}"')

    def resume(self, path: str | os.PathLike, restore_rng: bool = True) -> None:
        """Continue from a checkpoint: the next :meth:`train` goes on after the checkpoint's step.

        Build the Solver with the same model architecture, data and arguments first (and the
        same seed is not needed: NumPy's RNG state comes from the file). Restores parameters,
        optimizer state, histories, epoch, iteration, best params and the RNG, so the resumed
        run produces exactly the losses of an uninterrupted one. Raises ``FileNotFoundError``
        for a missing file and ``ValueError`` naming the file for a corrupt, foreign or
        incompatible one (see :func:`xnn.training.checkpoint.restore_solver`).
        """
        checkpoint.restore_solver(self, path, restore_rng=restore_rng)
        logger.info("Solver: resumed from %s (epoch %d, iteration %d)", os.fspath(path), self.epoch,
                    self.iteration + 1)


Solver.defaults = keyword_defaults(Solver.__init__)
