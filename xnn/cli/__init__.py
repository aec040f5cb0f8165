"""``python -m xnn`` / ``xnn``: the command line.

Subcommands, one module each (every module has ``add_parser(subparsers)``, which registers its
arguments and sets ``run``, and ``run(args) -> int``)::

    xnn train [--model cnn|fc|twolayer|softmax] [--device cpu|gpu|auto] [--epochs N] ...   (train)
    xnn sweep --model fc --trials 16 --epochs 5 --lr 1e-4:1e-2:log [--scheduler ADDR] ...  (sweep)
    xnn bench ...                                                                          (bench)
    xnn info                                                                               (info)
    xnn data download [--dest DIR]                                                         (data)

Errors the user can fix (bad data directory, no GPU, failed download) are printed as one
``xnn: error: ...`` line with exit status 2 instead of a traceback (set ``XNN_DEBUG=1`` to get
the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: The subcommand modules of this package, in the order ``--help`` lists them.
SUBCOMMANDS = ("train", "sweep", "bench", "info", "data")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xnn``: one subparser per module of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(prog="xnn", description="xnn: the CS231n layer library on NumPy and CuPy.")
    parser.add_argument("--version", action="version", version=f"xnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xnn`` command line; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError, FloatingPointError) as exc:
        if os.environ.get("XNN_DEBUG"):
            raise
        print(f"xnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
