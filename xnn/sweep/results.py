"""The files of a sweep directory.

* ``sweep.json``     what was swept (model, space, trials, epochs, search, seed, data, Solver
  arguments): a later run with the same directory resumes only when it asks for the same sweep;
* ``results.jsonl``  one JSON line per finished trial, appended and fsync'ed as each finishes, so
  a crash or Ctrl-C loses at most the trials still running; a torn last line (the driver killed
  mid-write) is dropped when the file is read again;
* ``results.csv``    every recorded trial, best first (rewritten atomically);
* ``sweep.png``      see :mod:`xnn.sweep.plot`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..npz import write_text_atomic
from ..training.guards import deferred_interrupt
from .space import SweepError

__all__ = [
    "DEFINITION",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "ResultsLog",
    "open_sweep_dir",
    "sort_results",
    "write_csv",
]

logger = logging.getLogger("xnn.sweep")

DEFINITION = "sweep.json"
RESULTS_JSONL = "results.jsonl"
RESULTS_CSV = "results.csv"
_METRIC_COLUMNS = ("rank", "trial", "status", "best_val_acc", "final_val_acc", "train_acc", "seconds", "seed",
                   "worker", "error")


def sort_results(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Best first: finished trials by best validation accuracy (ties by trial index), failed ones last."""
    def key(r: Mapping[str, Any]) -> tuple:
        ok = r.get("status") == "ok" and r.get("best_val_acc") is not None
        return (0, -r["best_val_acc"], r["trial"]) if ok else (1, 0.0, r["trial"])
    return [dict(r) for r in sorted(results, key=key)]


class ResultsLog:
    """``results.jsonl``: read the recorded trials, append one durably."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def read(self) -> list[dict[str, Any]]:
        """Every complete line's result; a torn last line is cut off the file (it was never recorded)."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        complete = raw[:raw.rfind(b"\n") + 1]
        if len(complete) != len(raw):
            logger.warning("sweep: %s ended in an unfinished line (%d bytes); dropping it", self.path,
                           len(raw) - len(complete))
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
        results = []
        for number, line in enumerate(complete.decode("utf-8").splitlines(), 1):
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SweepError(f"sweep: {self.path} line {number} is not a JSON result ({exc}); "
                                 "move the file away to start the sweep afresh") from exc
        return results

    def append(self, result: Mapping[str, Any]) -> None:
        """Write ``result`` as one line and fsync it; Ctrl-C waits until the line is on disk."""
        line = (json.dumps(result, sort_keys=True) + "\n").encode("utf-8")
        with deferred_interrupt() as interrupted:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        if interrupted.hit:
            raise KeyboardInterrupt


def _canonical(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists), for comparing definitions."""
    return json.loads(json.dumps(obj, sort_keys=True))


def open_sweep_dir(out: str | os.PathLike, definition: Mapping[str, Any]) -> tuple[Path, ResultsLog]:
    """Create ``out`` (or reopen it for the same sweep); returns it and its results log.

    Raises :class:`SweepError` naming the differing settings when ``out`` holds another sweep.
    """
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    stored_file = path / DEFINITION
    wanted = _canonical(definition)
    if stored_file.exists():
        stored = json.loads(stored_file.read_text())
        differing = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
        if differing:
            raise SweepError(f"sweep: {path} holds a different sweep (differs in {', '.join(differing)}); "
                             "resume it with the same settings or choose a new output directory")
    elif (path / RESULTS_JSONL).exists():
        raise SweepError(f"sweep: {path} has {RESULTS_JSONL} but no {DEFINITION}; choose a new output directory")
    else:
        write_text_atomic(stored_file, json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    return path, ResultsLog(path / RESULTS_JSONL)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else ("" if value is None else value)


def write_csv(results: Iterable[Mapping[str, Any]], path: str | os.PathLike) -> None:
    """``results`` best first as CSV: rank, metrics, then one column per swept setting."""
    ranked = sort_results(results)
    settings = sorted({k for r in ranked for k in r.get("config", {})})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*_METRIC_COLUMNS, *settings])
    for rank, r in enumerate(ranked, 1):
        row = {**r, "rank": rank}
        writer.writerow([_cell(row.get(c)) for c in _METRIC_COLUMNS] +
                        [_cell(r.get("config", {}).get(k)) for k in settings])
    write_text_atomic(Path(path), buffer.getvalue())
