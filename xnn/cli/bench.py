"""``xnn bench``: the :mod:`xnn.bench` benchmark from the command line."""

from __future__ import annotations

import argparse

from .common import HelpFormatter

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``xnn bench`` with the arguments of :func:`xnn.bench.add_arguments`."""
    from ..bench import add_arguments
    p = sub.add_parser("bench", help="time xnn kernels against the standard-only path and PyTorch",
                       formatter_class=HelpFormatter,
                       description="Time conv, max-pool and a training step (xnn fast, xnn generic, PyTorch) "
                                   "in one process; see benchmarks/README.md.")
    add_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (see :func:`xnn.bench.main_bench`)."""
    from ..bench import main_bench
    return main_bench(args)
