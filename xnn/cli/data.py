"""``xnn data download``: fetch and extract CIFAR-10 into the data directory."""

from __future__ import annotations

import argparse

from .. import data
from .common import HelpFormatter

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``xnn data download`` (``xnn data`` alone prints its help)."""
    p = sub.add_parser("data", help="dataset commands", formatter_class=HelpFormatter)
    data_sub = p.add_subparsers(dest="data_command", metavar="{download}")
    p.set_defaults(run=lambda args: _print_help(p))
    dl = data_sub.add_parser("download", help="download and extract CIFAR-10 (python version, about 163 MB)",
                             formatter_class=HelpFormatter)
    dl.add_argument("--dest", help="directory to put cifar-10-batches-py in (default: $XNN_DATA or the "
                                   "per-user cache)")
    dl.set_defaults(run=run)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run(args: argparse.Namespace) -> int:
    """Download CIFAR-10 (see :func:`xnn.data.download_cifar10`) and say where it is."""
    path = data.download_cifar10(args.dest)
    print(f"CIFAR-10 is in {path}")
    return 0
