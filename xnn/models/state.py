"""Which arrays a model's saved state must hold, and the checks ``load`` runs before using a file.

A model's state is a dict of host arrays keyed ``param.<name>`` (every parameter) and
``bn_param.<i>.running_mean`` / ``bn_param.<i>.running_var`` (batch-norm layer ``i``'s running
statistics, present once the layer has run in train mode). :func:`match_state` compares an archive
with what the model expects and reports every missing key, unexpected key and shape mismatch.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["StateMatch", "checked_arrays", "expected_state", "match_state"]

PARAM_PREFIX = "param."
BN_PREFIX = "bn_param."
BN_STAT_KEYS = ("running_mean", "running_var")


def _shape(a: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(a, "shape", ()))


Shapes = dict[str, "tuple[int, ...] | None"]


def expected_state(model: Any) -> tuple[Shapes, Shapes]:
    """``(required, optional)``: key -> shape (``None``: any shape) of the arrays a file for ``model`` may hold.

    Required: every parameter and every running statistic the model already has. Optional: the
    running statistics of a batch-norm layer (a ``bn_params`` dict with a ``'mode'``) that has not
    run yet; their shape is that of the layer's ``gamma<i+1>``.
    """
    required: Shapes = {PARAM_PREFIX + k: _shape(v) for k, v in model.params.items()}
    optional: Shapes = {}
    for i, bn_param in enumerate(getattr(model, "bn_params", []) or []):
        for stat in BN_STAT_KEYS:
            key = f"{BN_PREFIX}{i}.{stat}"
            if stat in bn_param:
                required[key] = _shape(bn_param[stat])
            elif "mode" in bn_param and f"gamma{i + 1}" in model.params:
                optional[key] = _shape(model.params[f"gamma{i + 1}"])
    return required, optional


@dataclass
class StateMatch:
    """How an archive fits a model: the keys it lacks, the keys the model has no use for, wrong shapes."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        """True when there is any problem."""
        return bool(self.missing or self.unexpected or self.mismatched)

    def describe(self) -> str:
        """One line per kind of problem, every key named."""
        lines = []
        if self.missing:
            lines.append("  missing from the file: " + ", ".join(self.missing))
        if self.unexpected:
            lines.append("  in the file but not in the model: " + ", ".join(self.unexpected))
        for key, saved, wanted in self.mismatched:
            lines.append(f"  {key}: saved {saved}, model needs {wanted}")
        return "\n".join(lines)

    def skipped(self) -> set[str]:
        """The archive keys a lenient load leaves out."""
        return set(self.unexpected) | {key for key, _, _ in self.mismatched}


def match_state(required: Shapes, optional: Shapes, arrays: dict[str, np.ndarray]) -> StateMatch:
    """Compare the archive ``arrays`` with the expected keys and shapes (see :func:`expected_state`)."""
    wanted = {**optional, **required}
    match = StateMatch(missing=sorted(k for k in required if k not in arrays))
    for key in sorted(arrays):
        if key not in wanted:
            match.unexpected.append(key)
        elif wanted[key] is not None and _shape(arrays[key]) != wanted[key]:
            match.mismatched.append((key, _shape(arrays[key]), wanted[key]))
    return match


def checked_arrays(model: Any, arrays: dict[str, np.ndarray], fname: str | os.PathLike | None,
                   strict: bool) -> dict[str, np.ndarray]:
    """The arrays of ``arrays`` to load into ``model``.

    ``strict``: any problem raises ``ValueError`` naming every key. Otherwise the arrays that fit
    are returned and one ``UserWarning`` names the rest (missing ones keep the model's values).
    """
    required, optional = model.expected_state()
    match = match_state(required, optional, arrays)
    if not match:
        return arrays
    name = type(model).__name__
    where = f"{os.fspath(fname)!r}" if fname is not None else "the archive"
    if strict:
        raise ValueError(f"{name}.load: {where} does not fit this model (saved by another architecture or "
                         f"with other sizes?):\n{match.describe()}\nBuild the model with the arguments it was "
                         "saved with, or pass strict=False to load only the arrays that fit.")
    warnings.warn(f"{name}.load(strict=False): {where} only partly fits; loading the arrays that fit and "
                  f"keeping the model's own for the rest:\n{match.describe()}", UserWarning, stacklevel=4)
    skipped = match.skipped()
    return {k: v for k, v in arrays.items() if k not in skipped}
