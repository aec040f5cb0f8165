"""Pieces every subcommand shares: argument types with readable errors, the help formatter,
the data and device options, and the ``xnn: ...`` message helpers."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..choices import did_you_mean

__all__ = ["DATA_SOURCES", "DEVICES", "HelpFormatter", "add_data_arguments", "add_device_argument", "choice",
           "command_name", "data_source", "nonneg_float", "positive_float", "positive_int", "quoted",
           "missing_data_note", "run_dir_parser", "warn"]

DATA_SOURCES = ("sample", "cifar10")
DEVICES = ("cpu", "gpu", "auto")


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-paragraph descriptions, keeps texts with line breaks (tables, examples) as written, and
    appends ``(default: ...)`` to every option with a default worth showing (not None, not a store_true
    False)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and not isinstance(action.default, list)
        if shown and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def choice(options: Sequence[str]) -> Callable[[str], str]:
    """An argparse ``type`` accepting one of ``options``; anything else gets the list and a "did you mean"."""
    def parse(text: str) -> str:
        if text in options:
            return text
        hint = did_you_mean(text, options)
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(options)}" + (f"; {hint}" if hint else ""))
    return parse


def _number(text: str, convert: Callable[[str], Any], what: str, ok: Callable[[Any], bool]) -> Any:
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, "a positive integer", lambda v: v >= 1)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, float, "a positive number", lambda v: 0 < v < float("inf"))


def nonneg_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    return _number(text, float, "a number >= 0", lambda v: 0 <= v < float("inf"))


def add_device_argument(parser: argparse.ArgumentParser, default: str | None, help_default: str) -> None:
    """``--device cpu|gpu|auto``; ``help_default`` says what happens without it."""
    parser.add_argument("--device", type=choice(DEVICES), default=default, metavar="{cpu,gpu,auto}",
                        help=f"where to compute: cpu (NumPy), gpu (CuPy), auto (the GPU if usable) "
                             f"(default: {help_default})")


def add_data_arguments(parser: argparse.ArgumentParser, help_default: str) -> None:
    """``--data sample|cifar10`` and ``--data-dir DIR``; ``help_default`` says what happens without --data."""
    parser.add_argument("--data", type=choice(DATA_SOURCES), metavar="{sample,cifar10}",
                        help="sample = the CIFAR-10 subset bundled with xnn; cifar10 = a cifar-10-batches-py "
                             f"directory (see --data-dir) (default: {help_default})")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the cifar-10-batches-py directory for --data cifar10 (implies it) "
                             "(default: $XNN_DATA, else the per-user cache that `xnn data download` fills)")


def run_dir_parser(sub: Any, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    """A subcommand that works on a run directory: ``RUN_DIR`` first, ``--device`` (default cpu) added."""
    p = sub.add_parser(name, help=summary, description=description, epilog=f"example:\n  xnn {name} {example}",
                       formatter_class=HelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by xnn train")
    add_device_argument(p, "cpu", "cpu")
    return p


def data_source(args: argparse.Namespace, default: str) -> str:
    """The data source the flags ask for: ``--data``, else cifar10 when ``--data-dir`` is given, else ``default``.

    ``--data sample`` with ``--data-dir`` is refused (the directory would be ignored).
    """
    if args.data == "sample" and args.data_dir is not None:
        raise ValueError("--data-dir is only read with --data cifar10 (--data sample is the bundled subset); "
                         "drop one of them")
    if args.data is not None:
        return args.data
    return "cifar10" if args.data_dir is not None else default


def missing_data_note(exc: FileNotFoundError) -> FileNotFoundError:
    """``exc`` with a note on how to get CIFAR-10 (for a data file that is not there), unless it says so."""
    if "data download" not in str(exc):
        exc.add_note(f"get CIFAR-10 with `{command_name()} data download`, or pass --data-dir DIR (a "
                     "cifar-10-batches-py directory), or use the bundled sample with --data sample")
    return exc


def command_name() -> str:
    """How the user started xnn: ``python -m xnn`` or the ``xnn`` script (for commands we print)."""
    argv0 = sys.argv[0] if sys.argv else ""
    return "python -m xnn" if argv0.endswith(("__main__.py", "-c")) or not argv0 else "xnn"


def quoted(*words: Any) -> str:
    """Words joined into a command line a shell reads back as the same words."""
    return " ".join(shlex.quote(str(w)) for w in words)


def warn(message: str) -> None:
    """Print ``xnn: warning: <message>`` to stderr."""
    print(f"xnn: warning: {message}", file=sys.stderr, flush=True)
