"""Search spaces: what may be swept, how values are drawn, and the plan of every trial.

A space maps a setting name to either a list of values (``[[100], [200, 100]]``) or a range
``(scale, low, high)`` with ``scale`` one of :data:`SCALES`:

* ``"log"``     uniform in log space on ``[low, high]`` (both > 0): learning rates, regularisation;
* ``"linear"``  uniform on ``[low, high]``: dropout keep ratios, momentum;
* ``"int"``     a uniform integer in ``low..high`` inclusive: hidden sizes, batch sizes.

Trial ``i`` of a sweep with seed ``s`` takes its configuration and its training seed from
``numpy.random.SeedSequence([s, i])`` alone, so a trial is the same whatever the number of workers,
the order in which trials finish, or whether it runs again after a worker died.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SCALES",
    "SEARCHES",
    "Choice",
    "Range",
    "SweepError",
    "check_space",
    "parse_range",
    "trial_plan",
]

SCALES = ("log", "linear", "int")
SEARCHES = ("random", "grid")


class SweepError(ValueError):
    """A sweep that cannot run as asked (space, range, trial count, settings); the message says what is allowed."""


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values."""

    values: tuple[Any, ...]

    def draw(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)


@dataclass(frozen=True)
class Range:
    """A value between ``low`` and ``high`` on a ``log``, ``linear`` or ``int`` scale."""

    scale: str
    low: float
    high: float

    def draw(self, rng: np.random.Generator) -> float | int:
        if self.scale == "int":
            return int(rng.integers(int(self.low), int(self.high) + 1))
        if self.scale == "log":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def grid(self, points: int) -> list[float | int]:
        """``points`` evenly spaced values including both ends (the middle one for a single point)."""
        fractions = [0.5] if points == 1 else [k / (points - 1) for k in range(points)]
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return [float(math.exp(lo + f * (hi - lo))) for f in fractions]
        values = [self.low + f * (self.high - self.low) for f in fractions]
        if self.scale == "int":
            return sorted({round(v) for v in values})
        return [float(v) for v in values]


def _number(where: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise SweepError(f"{where}: {what} must be a finite number, got {value!r}")
    return float(value)


def make_range(where: str, scale: Any, low: Any, high: Any) -> Range:
    """A checked :class:`Range`; raises :class:`SweepError` starting with ``where`` and saying what is wrong."""
    if scale not in SCALES:
        raise SweepError(f"{where}: unknown scale {scale!r}; allowed scales are {', '.join(SCALES)}")
    lo, hi = _number(where, low, "low"), _number(where, high, "high")
    if not lo < hi:
        raise SweepError(f"{where}: low must be smaller than high, got low={low!r}, high={high!r}")
    if scale == "log" and lo <= 0:
        raise SweepError(f"{where}: a log range needs low > 0, got low={low!r}")
    if scale == "int" and (lo != int(lo) or hi != int(hi)):
        raise SweepError(f"{where}: an int range needs whole-number ends, got {low!r}, {high!r}")
    return Range(scale, lo, hi)


def _dimension(key: str, spec: Any) -> Choice | Range:
    if isinstance(spec, tuple):
        if len(spec) != 3:
            raise SweepError(f"sweep space {key!r}: a range is (scale, low, high), got {spec!r}")
        return make_range(f"sweep space {key!r}", *spec)
    if isinstance(spec, (list, np.ndarray)):
        values = [v.item() if isinstance(v, np.generic) else v for v in spec]
        if not values:
            raise SweepError(f"sweep space {key!r}: the list of values is empty")
        return Choice(tuple(values))
    raise SweepError(f"sweep space {key!r}: expected a list of values or a (scale, low, high) tuple "
                          f"with scale in {SCALES}, got {type(spec).__name__} {spec!r}")


def check_space(space: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Choice | Range]:
    """Validate ``space`` against the ``allowed`` setting names; returns the dimensions by sorted name."""
    if not isinstance(space, Mapping) or not space:
        raise SweepError(f"sweep space must be a non-empty mapping of setting -> values or range, got {space!r}")
    unknown = sorted(set(space) - set(allowed))
    if unknown:
        raise SweepError(f"sweep space: unknown setting(s) {', '.join(map(repr, unknown))}; allowed are "
                              f"{', '.join(sorted(allowed))}")
    return {key: _dimension(key, space[key]) for key in sorted(space)}


def parse_range(text: str, key: str = "range") -> Range:
    """Parse ``LOW:HIGH[:SCALE]`` (scale ``log`` when omitted), e.g. ``1e-4:1e-2:log`` or ``50:200:int``."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise SweepError(f"{key}: expected LOW:HIGH[:SCALE] with SCALE in {', '.join(SCALES)}, got {text!r}")
    scale = parts[2] if len(parts) == 3 else "log"
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise SweepError(f"{key}: LOW and HIGH must be numbers in LOW:HIGH[:SCALE], got {text!r}") from None
    return make_range(key, scale, low, high)


def check_trials(trials: Any) -> int:
    """``trials`` as an int >= 1."""
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise SweepError(f"sweep: trials must be an integer >= 1, got {trials!r}")
    return int(trials)


def trial_seed(seed: int, index: int) -> tuple[np.random.Generator, int]:
    """The config generator and the 31-bit training seed of trial ``index`` of a sweep seeded ``seed``."""
    config_seq, train_seq = np.random.SeedSequence([seed, index]).spawn(2)
    return np.random.default_rng(config_seq), int(train_seq.generate_state(1)[0] & 0x7FFFFFFF)


def _grid(dims: dict[str, Choice | Range], trials: int) -> list[dict[str, Any]]:
    """The cartesian grid: lists as given, each range cut so the grid has about ``trials`` points."""
    fixed = math.prod(len(d.values) for d in dims.values() if isinstance(d, Choice))
    ranges = sum(isinstance(d, Range) for d in dims.values())
    points = max(1, int((trials / fixed) ** (1 / ranges) + 1e-9)) if ranges else 1
    axes = [d.grid(points) for d in dims.values()]
    return [dict(zip(dims, combo)) for combo in itertools.product(*axes)]


def trial_plan(dims: dict[str, Choice | Range], trials: int, search: str, seed: int) -> list[dict[str, Any]]:
    """Every trial of the sweep: ``{"trial": i, "seed": s, "config": {name: value}}`` for i = 0, 1, ...

    ``random``: ``trials`` configurations, each drawn from its own generator. ``grid``: the whole
    grid of list values and range points, in order; ``trials`` only sets how many points each
    range gets (``floor((trials / product of list lengths) ** (1 / number of ranges))``, at least 1),
    so the number of trials is the size of the grid.
    """
    if search not in SEARCHES:
        raise SweepError(f"sweep: search must be one of {', '.join(SEARCHES)}, got {search!r}")
    trials = check_trials(trials)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SweepError(f"sweep: seed must be a non-negative integer, got {seed!r}")
    grid = _grid(dims, trials) if search == "grid" else None
    plan = []
    for i in range(len(grid) if grid is not None else trials):
        rng, train_seed = trial_seed(int(seed), i)
        config = grid[i] if grid is not None else {key: dim.draw(rng) for key, dim in dims.items()}
        plan.append({"trial": i, "seed": train_seed, "config": copy.deepcopy(config)})
    return plan
