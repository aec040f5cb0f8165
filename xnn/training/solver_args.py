"""The Solver's keyword arguments: the names a class takes, signatures of the flavor subclasses,
the message for unknown names, and ``optim_config`` keys the update rule never reads."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..choices import did_you_mean

__all__ = ["check_optim_config", "keyword_defaults", "keyword_names", "reject_unknown", "rule_config_keys",
           "subclass_signature", "unrecognized_arguments"]


def keyword_defaults(init: Callable) -> dict[str, Any]:
    """``{name: default}`` of the keyword-only parameters of ``init`` (the Solver's keyword arguments)."""
    return {p.name: p.default for p in inspect.signature(init).parameters.values() if p.kind is p.KEYWORD_ONLY}


def keyword_names(cls: type) -> list[str]:
    """The keyword arguments a Solver class takes, as ``inspect.signature(cls)`` shows them."""
    return [p.name for p in inspect.signature(cls).parameters.values()
            if p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and p.name not in ("model", "data"))]


def subclass_signature(init: Callable, base_init: Callable, names: Iterable[str]) -> inspect.Signature:
    """The signature a subclass ``__init__(self, model, data, *, extra=..., **kwargs)`` really has when it
    passes ``**kwargs`` on to ``base_init``: its own parameters, then the base's keyword parameters
    listed in ``names`` (the subclass's ``defaults``), then ``**kwargs``."""
    own = [p for p in inspect.signature(init).parameters.values() if p.kind is not p.VAR_KEYWORD]
    taken, wanted = {p.name for p in own}, set(names)
    base = inspect.signature(base_init).parameters.values()
    params = own + [p for p in base if p.kind is p.KEYWORD_ONLY and p.name in wanted and p.name not in taken]
    params += [p for p in base if p.kind is p.VAR_KEYWORD]
    return inspect.Signature(params)


def reject_unknown(kwargs: Mapping[str, Any], valid: Iterable[str]) -> None:
    """cs231n's ``ValueError('Unrecognized arguments ...')`` for the ``kwargs`` outside ``valid``."""
    valid = list(valid)
    unknown = [k for k in kwargs if k not in valid]
    if unknown:
        raise unrecognized_arguments(unknown, valid)


def unrecognized_arguments(names: list[str], valid: list[str]) -> ValueError:
    """cs231n's ``ValueError('Unrecognized arguments "a", "b"')`` plus a "did you mean" and the valid names."""
    message = "Unrecognized arguments %s" % ", ".join('"%s"' % k for k in names)
    if len(names) == 1 and (hint := did_you_mean(names[0], valid)):
        message += f"; {hint}"
    elif hints := [f'"{n}": {hint}' for n in names if (hint := did_you_mean(n, valid))]:
        message += " (" + "; ".join(hints) + ")"
    return ValueError(message + "; valid arguments: " + ", ".join(valid))


def rule_config_keys(rule: Callable) -> set[str] | None:
    """The ``config`` keys ``rule`` fills in by itself (its hyperparameters and state), or None if unknown.

    Found by running the rule once on a one-element array with an empty config: every rule of the
    course's interface fills in its defaults and state there.
    """
    import numpy as np
    try:
        _, config = rule(np.zeros(1), np.zeros(1), {})
    except Exception:  # a custom rule that needs settings of its own: nothing to compare with
        return None
    return set(config) if isinstance(config, dict) else None


def check_optim_config(solver: Any, rule_name: str | None) -> None:
    """Warn (``UserWarning``) about ``optim_config`` keys that the named update rule never reads."""
    if rule_name is None or not solver.optim_config:
        return
    known = rule_config_keys(solver.update_rule)
    unused = [k for k in solver.optim_config if known is not None and k not in known]
    for key in unused:
        hint = did_you_mean(key, sorted(known))
        warnings.warn(f'Solver: optim_config key "{key}" is not used by update_rule "{rule_name}", which reads '
                      f"{', '.join(sorted(known))}" + (f"; {hint}" if hint else ""), UserWarning, stacklevel=3)
