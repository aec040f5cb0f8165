"""How training shows progress: a live bar where one can be drawn, one line per epoch elsewhere.

A live bar redraws itself many times a second. That is right on a terminal and in a notebook
with ipywidgets, and wrong everywhere else: written to a file it becomes hundreds of ``\\r``
frames, and in a notebook without ipywidgets tqdm warns and prints a fragmented bar. So, for
``progress=None`` (auto) and ``progress=True``:

* terminal (stderr is a TTY): a live bar (both);
* Jupyter kernel with ipywidgets: a live widget bar (both);
* Jupyter kernel without ipywidgets: one line per epoch (both);
* anything else (files, pipes, CI): nothing for ``None``, one line per epoch for ``True``.

``progress=False`` shows nothing. The Solver's own printed lines (``verbose``) are separate and
go through :meth:`Progress.write`, so they stay readable above a live bar.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any

__all__ = ["Progress", "choose_display", "in_notebook", "live_tqdm", "start"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell started by ipykernel), whatever the front end."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _widgets_available() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def choose_display(progress: bool | None) -> str:
    """``"off"``, ``"lines"``, ``"terminal"`` (tqdm on stderr) or ``"notebook"`` (widget) for a setting."""
    if progress is False:
        return "off"
    if in_notebook():
        return "notebook" if _widgets_available() else "lines"
    if _is_terminal(sys.stderr):
        return "terminal"
    return "lines" if progress else "off"


class Progress:
    """No progress display: lines are printed, nothing else happens. Base of the other displays."""

    def step(self, loss: float) -> None:
        """One training iteration finished with ``loss``."""

    def epoch_end(self, epoch: int, num_epochs: int) -> None:
        """Epoch ``epoch`` (1-based) of ``num_epochs`` finished."""

    def write(self, line: str) -> None:
        """Print ``line`` (above a live bar, if there is one)."""
        print(line)

    def close(self) -> None:
        """Training stopped or finished."""


class _Bar(Progress):
    """A tqdm bar over the iterations with the running loss."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def step(self, loss: float) -> None:
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def write(self, line: str) -> None:
        self.bar.write(line)

    def close(self) -> None:
        self.bar.close()


class _EpochLines(Progress):
    """``train: epoch 3 / 10, iteration 120 / 400, loss 1.8342 (epoch mean), 12.3 s, about 28 s left``."""

    def __init__(self, total: int, initial: int) -> None:
        self.total, self.done = total, initial
        self.start_done, self.start = initial, time.perf_counter()
        self.losses: list[float] = []

    def step(self, loss: float) -> None:
        self.done += 1
        self.losses.append(loss)

    def epoch_end(self, epoch: int, num_epochs: int) -> None:
        elapsed = time.perf_counter() - self.start
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        remaining = (self.total - self.done) / rate if rate > 0 else 0.0
        left = f", about {remaining:.0f} s left" if remaining >= 1 else ""
        mean = sum(self.losses) / len(self.losses) if self.losses else float("nan")
        print(f"train: epoch {epoch} / {num_epochs}, iteration {self.done} / {self.total}, loss {mean:.4f} "
              f"(epoch mean), {elapsed:.1f} s{left}", flush=True)
        self.losses = []


def live_tqdm(progress: bool | None) -> Any:
    """The tqdm class that draws a live bar here (terminal: ``tqdm.std``, notebook with ipywidgets:
    ``tqdm.notebook``), or None where no live bar should be drawn. Never ``tqdm.auto``: without
    ipywidgets it warns and falls back to a text bar that fragments in a notebook."""
    display = choose_display(progress)
    if display == "terminal":
        from tqdm.std import tqdm
        return tqdm
    if display == "notebook":
        from tqdm.notebook import tqdm as notebook_tqdm
        return notebook_tqdm
    return None


def start(progress: bool | None, total: int, initial: int = 0, desc: str = "train") -> Progress:
    """The display for ``progress`` (see the module docstring) over ``total`` iterations, ``initial`` done."""
    bar = live_tqdm(progress)
    if bar is not None:
        return _Bar(bar(total=total, initial=initial, desc=desc, unit="it", leave=True))
    if choose_display(progress) == "lines":
        return _EpochLines(total, initial)
    return Progress()
