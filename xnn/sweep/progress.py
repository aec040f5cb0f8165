"""Progress of a sweep: trials done / running / failed and the best so far.

Every finished trial gets one log line (``xnn.sweep`` logger, INFO). On a terminal a tqdm bar
underneath shows the counts live; off a terminal (a log file, CI, a batch job) the lines alone
tell the story, one per trial, with no carriage-return noise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

__all__ = ["Progress", "describe_config"]

logger = logging.getLogger("xnn.sweep")


def describe_config(config: Mapping[str, Any]) -> str:
    """``name=value`` pairs, numbers to 3 significant digits."""
    def fmt(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)
    return " ".join(f"{k}={fmt(v)}" for k, v in sorted(config.items()))


class Progress:
    """Counts and the best trial of a sweep of ``total`` trials, ``previous`` of them already recorded."""

    def __init__(self, total: int, previous: Iterable[Mapping[str, Any]] = (), stream: TextIO | None = None) -> None:
        self.total = total
        self.done = self.failed = 0
        self.best: Mapping[str, Any] | None = None
        for result in previous:
            self._count(result)
        self.stream = stream if stream is not None else sys.stderr
        self.bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=self.done, desc="sweep", unit="trial", file=self.stream, leave=True)

    def _count(self, result: Mapping[str, Any]) -> bool:
        """Count ``result``; True when it is the new best."""
        self.done += 1
        if result.get("status") != "ok":
            self.failed += 1
            return False
        if self.best is None or result["best_val_acc"] > self.best["best_val_acc"]:
            self.best = result
            return True
        return False

    def summary(self, running: int) -> str:
        best = "none yet" if self.best is None else f"{self.best['best_val_acc']:.4f} (trial {self.best['trial']})"
        return f"{self.done}/{self.total} done, {running} running, {self.failed} failed; best val acc {best}"

    def finished(self, result: Mapping[str, Any], running: int) -> bool:
        """Record a newly finished trial, write its line; True when it is the new best."""
        improved = self._count(result)
        if result.get("status") == "ok":
            outcome = f"val acc {result['best_val_acc']:.4f} train acc {result['train_acc']:.4f}"
        else:
            outcome = f"FAILED ({result.get('error')})"
        seconds = result.get("seconds") or 0.0
        line = (f"trial {result['trial']}: {outcome} in {seconds:.1f} s on {result.get('worker')} "
                f"[{describe_config(result.get('config', {}))}] | {self.summary(running)}")
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
            self.bar.set_postfix_str(f"running {running}, failed {self.failed}, best "
                                     f"{'-' if self.best is None else format(self.best['best_val_acc'], '.4f')}")
        else:
            logger.info("sweep: %s", line)
        return improved

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
