"""The Solver's guards: argument and data checks, non-finite losses, and Ctrl-C during training.

Kept apart from :mod:`xnn.solver` so that module stays the cs231n training loop.

* :func:`check_solver_args` / :func:`check_data`: the ``Solver(...)`` arguments and the four
  data arrays (``ValueError`` for values and shapes, ``TypeError`` for types, messages start
  with ``Solver:``). The data checks read shapes, dtypes, the label minimum and whether every
  value is finite (once, at construction, in chunks).
* :func:`check_divergence`: one warning when a finite loss grows far past the first one;
* :func:`nonfinite_loss`: what a NaN/inf loss does under ``on_nonfinite="warn"`` (cs231n keeps
  going; one ``RuntimeWarning`` per Solver) or ``"stop"`` (``FloatingPointError``).
* :func:`deferred_interrupt`: while training in the main thread, Ctrl-C (SIGINT) only sets a
  flag; the Solver finishes the current step, saves a checkpoint and then raises
  ``KeyboardInterrupt``, so the saved state is exactly that after a whole step.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .. import backend, optim, validation
from ..choices import valid_and_suggestion

__all__ = ["DIVERGENCE_FACTOR", "NONFINITE_MODES", "check_data", "check_divergence", "check_print_every",
           "check_solver_args", "deferred_interrupt", "nonfinite_loss", "resolve_update_rule"]

logger = logging.getLogger("xnn.solver")

NONFINITE_MODES = ("warn", "stop")
_FINITE_CHUNK = 1 << 22  # elements per isfinite pass over the data (bounded temporary memory)


def check_print_every(solver: Any) -> None:
    """``print_every`` as a positive ``int``; called only while ``solver.verbose`` is true.

    cs231n reads ``print_every`` only in ``if verbose and t % print_every == 0``, so a quiet Solver
    accepts any value there (``print_every=0, verbose=False`` is common in course code).
    """
    value = solver.print_every
    try:
        solver.print_every = validation.check_positive_int("Solver", "print_every", value)
    except (TypeError, ValueError) as err:
        raise type(err)("Solver: print_every must be a positive integer when verbose (it sets how often the "
                        f"loss is printed), got {value!r}") from None


def check_solver_args(solver: Any) -> None:
    """Validate the Solver's keyword arguments in place (ints become ``int``).

    Each argument is checked as far as cs231n's Solver uses it: ``print_every`` only when
    ``verbose`` (see :func:`check_print_every`), ``optim_config`` as any mapping (cs231n only
    copies its items).
    """
    fn = "Solver"
    if solver.on_nonfinite not in NONFINITE_MODES:
        raise ValueError(f"{fn}: on_nonfinite must be \"warn\" or \"stop\", got {solver.on_nonfinite!r}; "
                         + valid_and_suggestion(solver.on_nonfinite, NONFINITE_MODES))
    if solver.progress not in (None, True, False):
        raise TypeError(f"{fn}: progress must be None (auto), True or False, got {solver.progress!r}")
    solver.batch_size = validation.check_positive_int(fn, "batch_size", solver.batch_size)
    solver.num_epochs = validation.check_nonneg_int(fn, "num_epochs", solver.num_epochs)
    if solver.verbose:
        check_print_every(solver)
    validation.check_number(fn, "lr_decay", solver.lr_decay)
    for name in ("num_train_samples", "num_val_samples"):  # absent from the captioning solver
        if getattr(solver, name, None) is not None:
            setattr(solver, name, validation.check_positive_int(fn, name, getattr(solver, name)))
    if not isinstance(solver.optim_config, Mapping):
        raise TypeError(f"{fn}: optim_config must be a dict (a mapping), got {type(solver.optim_config).__name__}")
    lr = solver.optim_config.get("learning_rate")
    if lr is not None:
        validation.check_number(fn, "optim_config['learning_rate']", lr)
    name = solver.checkpoint_name
    if name is not None and not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"{fn}: checkpoint_name must be a path string or None, got {type(name).__name__}")


def _check_finite(fn: str, name: str, X: Any) -> None:
    xp = backend.namespace(X)
    if not xp.isdtype(X.dtype, "real floating") or X.shape[0] == 0:
        return
    rows = max(1, _FINITE_CHUNK // max(1, math.prod(X.shape[1:])))
    N = X.shape[0]
    for start in range(0, N, rows):
        stop = min(start + rows, N)
        if not bool(xp.all(xp.isfinite(X[start:stop, ...]))):
            raise ValueError(f"{fn}: {name} holds NaN or inf values (in rows {start}..{stop - 1} of {name} "
                             f"{tuple(X.shape)})")


def check_data(X_train: Any, y_train: Any, X_val: Any, y_val: Any) -> None:
    """Arrays, matching row counts and sample shapes, integer non-negative labels, finite data."""
    fn = "Solver"
    for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
        validation.checked_namespace(fn, **{f"X_{split}": X})
        validation.checked_namespace(fn, **{f"y_{split}": y})
        if X.ndim < 2:
            raise ValueError(f"{fn}: X_{split} must be (N, ...) with at least 2 dimensions, got {tuple(X.shape)}")
        if y.ndim != 1:
            raise ValueError(f"{fn}: y_{split} must be 1-D (N,) class labels, got shape {tuple(y.shape)}")
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"{fn}: X_{split} has {X.shape[0]} rows but y_{split} has {y.shape[0]} labels "
                             f"(X_{split} {tuple(X.shape)}, y_{split} {tuple(y.shape)})")
        xp = backend.namespace(y)
        if not xp.isdtype(y.dtype, "integral"):
            raise TypeError(f"{fn}: y_{split} must hold integer class labels, got dtype {y.dtype}")
        if y.shape[0] and int(xp.min(y)) < 0:
            raise ValueError(f"{fn}: y_{split} holds a negative label ({int(xp.min(y))}); labels are 0..C-1")
        _check_finite(fn, f"X_{split}", X)
    if X_train.shape[0] == 0:
        raise ValueError(f"{fn}: X_train holds no samples (X_train {tuple(X_train.shape)})")
    if tuple(X_train.shape[1:]) != tuple(X_val.shape[1:]):
        raise ValueError(f"{fn}: X_train samples are {tuple(X_train.shape[1:])} but X_val samples are "
                         f"{tuple(X_val.shape[1:])}")


def _last_finite(history: list[float]) -> tuple[int, float] | None:
    """``(1-based iteration, loss)`` of the last finite loss before the newest entry, or None."""
    for i in range(len(history) - 2, -1, -1):
        if math.isfinite(history[i]):
            return i + 1, history[i]
    return None


def nonfinite_loss(solver: Any, t: int, num_iterations: int) -> None:
    """Handle a non-finite ``solver.loss_history[-1]`` at step ``t`` (0-based).

    ``"stop"``: sets ``solver.stop_reason`` and raises ``FloatingPointError`` naming the
    iteration and the last finite loss (before the parameters are updated with that step's
    gradients). ``"warn"``: one ``RuntimeWarning`` (and an INFO log record) per Solver, then
    training goes on as in cs231n.
    """
    loss = solver.loss_history[-1]
    last = _last_finite(solver.loss_history)
    before = "no finite loss before it" if last is None else f"last finite loss {last[1]!r} at iteration {last[0]}"
    reason = f"loss is {loss} at iteration {t + 1} / {num_iterations} ({before})"
    if solver.on_nonfinite == "stop":
        # The exception carries the message; logging it too would print it twice.
        solver.stop_reason = reason + "; training stopped"
        raise FloatingPointError(f"Solver: {solver.stop_reason} (on_nonfinite='stop')")
    if not solver._warned_nonfinite:
        solver._warned_nonfinite = True
        message = f"Solver: {reason}; training goes on (pass on_nonfinite='stop' to stop)"
        logger.info(message)  # the warning is what users see; an unconfigured WARNING log would repeat it
        warnings.warn(message, RuntimeWarning, stacklevel=4)


class _Flag:
    """Set by the SIGINT handler; read by the training loop."""

    def __init__(self) -> None:
        self.hit = False


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[_Flag]:
    """Defer Ctrl-C to the end of the current step (main thread with Python's default handler only).

    The first SIGINT sets ``flag.hit``; a second one raises ``KeyboardInterrupt`` at once. Where
    the handler cannot be installed (other threads, a custom handler) the flag never gets set
    and Ctrl-C raises as usual.
    """
    flag = _Flag()
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if flag.hit:
            raise KeyboardInterrupt
        flag.hit = True

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def resolve_update_rule(rule: str | Callable, module: types.ModuleType = optim) -> Callable:
    """A callable update rule: ``rule`` itself, or the function of ``module`` it names.

    ``module`` defaults to :mod:`xnn.optim` (the course flavors pass their own optimizer module);
    the names it accepts are ``module.UPDATE_RULES``. Any other name raises cs231n's
    ``ValueError('Invalid update_rule "<name>"')``, followed by the valid names and a "did you mean".
    """
    if callable(rule):
        return rule
    if not isinstance(rule, str) or rule not in module.UPDATE_RULES:
        raise ValueError('Invalid update_rule "%s"; %s' % (rule, valid_and_suggestion(rule, module.UPDATE_RULES)))
    return getattr(module, rule)


#: A finite loss above ``DIVERGENCE_FACTOR * max(first loss, 1)`` makes the Solver warn that training diverges.
DIVERGENCE_FACTOR = 10.0


def check_divergence(solver: Any, t: int, num_iterations: int) -> None:
    """One ``RuntimeWarning`` per Solver when the newest loss exceeds :data:`DIVERGENCE_FACTOR` times
    ``max(first loss, 1)`` (the 1 keeps a tiny first loss from making ordinary noise look like divergence)."""
    if getattr(solver, "_warned_divergence", False) or not solver.loss_history:
        return
    first, loss = solver.loss_history[0], solver.loss_history[-1]
    if not (math.isfinite(first) and math.isfinite(loss)) or loss <= DIVERGENCE_FACTOR * max(first, 1.0):
        return
    solver._warned_divergence = True
    lr = solver.optim_config.get("learning_rate")
    setting = f" (optim_config['learning_rate'] = {lr!r})" if lr is not None else ""
    warnings.warn(f"Solver: the loss is diverging: {loss:.4g} at iteration {t + 1} / {num_iterations} is more than "
                  f"{DIVERGENCE_FACTOR:g}x the first loss {first:.4g}; the learning rate is probably too high"
                  f"{setting}", RuntimeWarning, stacklevel=4)
