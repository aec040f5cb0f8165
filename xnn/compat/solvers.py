"""Flavored ``Solver`` classes: xnn's :class:`~xnn.solver.Solver` with each course's extras.

xnn's Solver resolves an ``update_rule`` string against its class attribute ``optim_module``
(an unknown name raises cs231n's ``ValueError('Invalid update_rule "<name>"')``); a flavor whose
optimizer keys differ names its own module there.

* :class:`ECE147Solver`: UCLA's ``optim`` (rmsprop state ``'a'``, adam ``'v'``/``'a'``/``'t'``,
  ``sgd_nesterov_momentum``); :class:`ECE147CaptioningSolver` likewise for captioning.
* :class:`CS182Solver`: Berkeley's kwarg ``log_acc_iteration=False`` (the iteration ``t`` of
  every accuracy check goes to ``log_acc_iteration_history``), an empty
  ``log_grad_norm_history`` (a student TODO there) and ``record_histories_as_npz(filename)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..captioning_solver import CaptioningSolver
from ..solver import Solver
from . import ece147_optim

__all__ = ["CS182Solver", "ECE147CaptioningSolver", "ECE147Solver"]


class ECE147Solver(Solver):
    """The Solver of UCLA's ``utils.solver``: update rules from the ece147 ``optim``.

    ``Solver(update_rule='rmsprop')`` keeps its state under ``'a'``, ``'adam'`` under
    ``'v'``/``'a'``/``'t'``; ``'sgd_nesterov_momentum'`` is available.
    """

    optim_module = ece147_optim


class ECE147CaptioningSolver(CaptioningSolver):
    """xnn's :class:`~xnn.captioning_solver.CaptioningSolver` with update rules from the ece147 ``optim``."""

    optim_module = ece147_optim


class CS182Solver(Solver):
    """The Solver of Berkeley CS182's ``deeplearning.solver`` (keys as Stanford's).

    Extra kwarg ``log_acc_iteration=False``: when true, the iteration index ``t`` (0-based) of
    every train/val accuracy check is appended to ``log_acc_iteration_history``.
    ``log_grad_norm_history`` exists and stays empty. ``record_histories_as_npz(filename)``
    writes ``train_losses``, ``train_accs`` and ``val_accs`` with ``np.savez``.
    """

    def __init__(self, model: Any, data: Mapping[str, Any], *, log_acc_iteration: bool = False,
                 **kwargs: Any) -> None:
        self.log_acc_iteration = bool(log_acc_iteration)
        super().__init__(model, data, **kwargs)

    def _reset(self) -> None:
        super()._reset()
        self.log_acc_iteration_history: list[int] = []
        self.log_grad_norm_history: list[float] = []

    def _check_and_record(self, *args: Any, **kwargs: Any) -> None:
        # xnn's Solver sets self.iteration = t before its post-step bookkeeping runs the check.
        if self.log_acc_iteration:
            self.log_acc_iteration_history.append(self.iteration)
        super()._check_and_record(*args, **kwargs)

    def record_histories_as_npz(self, filename: str) -> None:
        """Save ``train_losses``, ``train_accs``, ``val_accs`` (float64 vectors) with ``np.savez``."""
        np.savez(filename, train_losses=np.asarray(self.loss_history), train_accs=np.asarray(self.train_acc_history),
                 val_accs=np.asarray(self.val_acc_history))
