"""``python -m xnn`` / ``xnn``: the command line.

Subcommands, one module each (every module has ``add_parser(subparsers)``, which registers its
arguments and sets ``run``, and ``run(args) -> int``)::

    xnn train [--model cnn|fc|twolayer|softmax] [--device cpu|gpu|auto] [--epochs N] ...   (train)
    xnn eval RUN_DIR [--data sample|cifar10]                                               (eval)
    xnn predict RUN_DIR IMAGE [IMAGE ...]                                                  (predict)
    xnn sweep --model fc --trials 16 --epochs 5 --lr 1e-4:1e-2:log [--scheduler ADDR] ...  (sweep)
    xnn bench ...                                                                          (bench)
    xnn info                                                                               (info)
    xnn data download [--dest DIR]                                                         (data)

``xnn`` alone prints this help. Errors the user can fix (bad data directory, no GPU, failed
download, a file that is not what it should be) are printed as ``xnn: error: ...`` (plus any
note on what to do next) with exit status 2 instead of a traceback (set ``XNN_DEBUG=1`` to get
the traceback). Python warnings are printed as ``xnn: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence

from .. import __version__
from .common import warn

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: The subcommand modules of this package, in the order ``--help`` lists them.
SUBCOMMANDS = ("train", "eval", "predict", "sweep", "bench", "info", "data")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xnn``: one subparser per module of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="xnn", description="xnn: the CS231n layer library on NumPy and CuPy.",
        epilog="start with `xnn train` (trains on the bundled CIFAR-10 sample), then `xnn eval runs/<run>`; "
               "`xnn <command> --help` lists a command's options")
    parser.add_argument("--version", action="version", version=f"xnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show Python warnings as ``xnn: warning: <message>`` lines (no file names and source lines)."""
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        warn(str(message))

    with warnings.catch_warnings():
        # NumPy's floating-point warnings only repeat, less clearly, what the divergence warning and
        # the NaN/inf stop already say.
        warnings.filterwarnings("ignore", message=r"(overflow|invalid value|divide by zero) encountered",
                                category=RuntimeWarning)
        warnings.showwarning = show
        try:
            yield
        finally:
            warnings.showwarning = previous


def _report(exc: BaseException) -> None:
    print(f"xnn: error: {exc}", file=sys.stderr)
    for note in getattr(exc, "__notes__", []):
        print(f"xnn: {note}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xnn`` command line; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("xnn.solver").setLevel(logging.WARNING)  # xnn train prints its own lines for these
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    with _warnings_as_lines():
        try:
            return args.run(args)
        except BrokenPipeError:  # the reader went away (xnn ... | head): stop quietly, as other tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except (OSError, ValueError, RuntimeError, FloatingPointError) as exc:
            if os.environ.get("XNN_DEBUG"):
                raise
            _report(exc)
            return 2
        except KeyboardInterrupt:
            print("xnn: interrupted", file=sys.stderr)
            return 130

if __name__ == "__main__":
    sys.exit(main())
