"""Messages for a value that is not one of a fixed set of names: the valid names and a "did you mean".

Used wherever an argument takes one of a few names (update rules, Solver keywords, devices,
models, normalizations, course flavors, layer modes, command-line choices). It imports nothing
from xnn, so every module can use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean", "valid_and_suggestion"]


def _initials(name: str) -> str:
    """``"learning_rate"`` -> ``"lr"``: the first letter of every underscore- or dash-separated word."""
    return "".join(word[0] for word in name.replace("-", "_").split("_") if word)


def close_matches(value: object, choices: Iterable[object], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``choices`` that ``value`` was probably meant to be, best first.

    Spelling neighbours come from :func:`difflib.get_close_matches` (ratio >= 0.6, case-insensitive);
    a value that is the initials of a multi-word name (``lr`` for ``learning_rate``) matches it too.
    """
    if not isinstance(value, str):
        return []
    names = [str(c) for c in choices]
    lowered = {name.lower(): name for name in names}
    found = [lowered[m] for m in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)]
    found += [name for name in names if "_" in name and _initials(name) == value.lower() and name not in found]
    return found[:n]


def did_you_mean(value: object, choices: Iterable[object]) -> str:
    """``'did you mean "adam"?'`` (or two or three names), or ``""`` when nothing is close."""
    matches = close_matches(value, choices)
    if not matches:
        return ""
    return "did you mean " + " or ".join(f'"{m}"' for m in matches) + "?"


def valid_and_suggestion(value: object, choices: Iterable[object]) -> str:
    """``'valid values: "sgd", "adam"; did you mean "adam"?'``: the tail of an unknown-name message.

    ``None`` among the choices is written as ``None`` (unquoted).
    """
    choices = list(choices)
    listed = ", ".join("None" if c is None else f'"{c}"' for c in choices)
    hint = did_you_mean(value, [c for c in choices if c is not None])
    return f"valid values: {listed}" + (f"; {hint}" if hint else "")
