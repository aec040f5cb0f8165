"""Flavored ``Solver`` classes: xnn's :class:`~xnn.solver.Solver` with each course's extras.

* :class:`FlavorSolver`: xnn's Solver, which resolves an ``update_rule`` string against its class
  attribute ``optim_module``; each flavor names its own optimizer module there (an unknown
  name raises cs231n's ``ValueError('Invalid update_rule "<name>"')``).
* :class:`ECE147Solver`: UCLA's ``optim`` (rmsprop state ``'a'``, adam ``'v'``/``'a'``/``'t'``,
  ``sgd_nesterov_momentum``).
* :class:`CS182Solver`: Berkeley's kwarg ``log_acc_iteration=False`` (the iteration ``t`` of
  every accuracy check goes to ``log_acc_iteration_history``), an empty
  ``log_grad_norm_history`` (a student TODO there) and ``record_histories_as_npz(filename)``.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from .. import optim as xnn_optim
from ..solver import Solver
from . import ece147_optim

__all__ = ["CS182Solver", "ECE147Solver", "FlavorSolver"]


class FlavorSolver(Solver):
    """xnn's Solver whose ``update_rule`` names are looked up in ``optim_module``.

    Subclasses set the class attribute ``optim_module`` (a module with ``__all__`` listing its
    update rules). Everything else is xnn's Solver (reference section 7).
    """

    optim_module: types.ModuleType = xnn_optim


class ECE147Solver(FlavorSolver):
    """The Solver of UCLA's ``utils.solver``: update rules from the ece147 ``optim``.

    ``Solver(update_rule='rmsprop')`` keeps its state under ``'a'``, ``'adam'`` under
    ``'v'``/``'a'``/``'t'``; ``'sgd_nesterov_momentum'`` is available.
    """

    optim_module = ece147_optim


class CS182Solver(FlavorSolver):
    """The Solver of Berkeley CS182's ``deeplearning.solver`` (keys as Stanford's).

    Extra kwarg ``log_acc_iteration=False``: when true, the iteration index ``t`` (0-based) of
    every train/val accuracy check is appended to ``log_acc_iteration_history``.
    ``log_grad_norm_history`` exists and stays empty. ``record_histories_as_npz(filename)``
    writes ``train_losses``, ``train_accs`` and ``val_accs`` with ``np.savez``.
    """

    optim_module = xnn_optim

    def __init__(self, model: Any, data: Mapping[str, Any], **kwargs: Any) -> None:
        self.log_acc_iteration = bool(kwargs.pop("log_acc_iteration", False))
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
