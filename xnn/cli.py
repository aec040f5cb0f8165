"""``python -m xnn`` / ``xnn``: command-line entry point.

Subcommands::

    xnn train [--model cnn|fc|twolayer|softmax] [--device cpu|gpu|auto] [--epochs N] ...
    xnn bench ...
    xnn info
    xnn data download [--dest DIR]

``train`` lives in :mod:`xnn.cli_train`; this module parses arguments and runs ``info`` and
``data``. Errors the user can fix (bad data directory, no GPU, failed download) are printed as
one ``xnn: error: ...`` line with exit status 2 instead of a traceback (set ``XNN_DEBUG=1`` to
get the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata

from . import __version__

__all__ = ["main", "build_parser", "info_text"]

MODELS = ("cnn", "fc", "twolayer", "softmax")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model and write a run directory",
                       description="Train a model with the Solver and write config.json, history.json, "
                                   "history.png, filters.png and model.npz into runs/<model>-<timestamp>/. "
                                   "Defaults not given on the command line are per model (printed at start).")
    p.add_argument("--model", choices=MODELS, default="cnn", help="cnn = ThreeLayerConvNet (default), "
                   "fc = FullyConnectedNet, twolayer = TwoLayerNet, softmax = linear Softmax classifier")
    p.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu", help="where to train (default cpu)")
    p.add_argument("--epochs", type=_positive_int, help="number of epochs")
    p.add_argument("--batch-size", type=_positive_int, help="minibatch size")
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--lr-decay", type=_positive_float, help="learning-rate factor applied after every epoch")
    p.add_argument("--update-rule", help="name of an xnn.optim update rule (sgd, sgd_momentum, rmsprop, adam, ...)")
    p.add_argument("--reg", type=float, help="L2 regularization strength")
    p.add_argument("--data", choices=("sample", "cifar10"), default="sample",
                   help="sample = the bundled 2000-image CIFAR-10 subset (default); cifar10 = a full "
                        "cifar-10-batches-py directory")
    p.add_argument("--data-dir", help="cifar-10-batches-py directory for --data cifar10 "
                                      "(default: $XNN_DATA or the per-user cache)")
    p.add_argument("--num-train", type=_positive_int, help="use only this many training images")
    p.add_argument("--num-val", type=_positive_int, help="use only this many validation images")
    p.add_argument("--out", default="runs", help="parent directory of the run directory (default runs/)")
    p.add_argument("--seed", type=int, default=0, help="seed of NumPy's global RNG (init and minibatches)")
    p.add_argument("--dtype", choices=("float32", "float64"), help="model parameter dtype (default float32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="no per-iteration Solver lines")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint_epoch_<n>.npz of an earlier "
                   "run with the same options (the loss curve continues exactly)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``xnn`` (subcommands train, bench, info, data)."""
    parser = argparse.ArgumentParser(prog="xnn", description="xnn: the CS231n layer library on NumPy and CuPy.")
    parser.add_argument("--version", action="version", version=f"xnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,bench,info,data}")
    sub.required = True
    _add_train_parser(sub)
    from .bench import add_arguments as add_bench_arguments
    add_bench_arguments(sub.add_parser("bench", help="time xnn kernels against the standard-only path and PyTorch",
                                       description="Time conv, max-pool and a training step (xnn fast, xnn "
                                                   "generic, PyTorch) in one process; see benchmarks/README.md."))
    sub.add_parser("info", help="versions, devices and the kernel path of every op",
                   description="Print versions, devices, GPU availability and which kernel path each op takes.")
    data = sub.add_parser("data", help="dataset commands")
    data_sub = data.add_subparsers(dest="data_command", metavar="{download}")
    data_sub.required = True
    dl = data_sub.add_parser("download", help="download and extract CIFAR-10 (python version, about 163 MB)")
    dl.add_argument("--dest", help="directory to put cifar-10-batches-py in (default: $XNN_DATA or the "
                                   "per-user cache)")
    return parser


# --------------------------------------------------------------------------- info
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cupy_lines() -> list[str]:
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:  # ImportError, or a CuPy that fails to load its CUDA libraries
        return [f"cupy             not available ({type(exc).__name__})"]
    lines = [f"cupy             {cupy.__version__}"]
    try:
        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            lines.append(f"  gpu {i}          {name}, {props['totalGlobalMem'] / 2**30:.1f} GiB, "
                         f"compute capability {props['major']}.{props['minor']}")
    except Exception as exc:
        lines.append(f"  no usable CUDA device ({exc})")
    return lines


def _namespaces() -> list[tuple[str, object]]:
    from . import backend
    found = [("numpy", importlib.import_module("array_api_compat.numpy"))]
    try:
        found.append(("array_api_strict", importlib.import_module("array_api_strict")))
    except ImportError:
        pass
    if backend.gpu_available():
        found.append(("cupy", importlib.import_module("array_api_compat.cupy")))
    return found


def _kernel_lines() -> list[str]:
    from . import kernels
    lines = []
    for name, xp in _namespaces():
        try:
            path = kernels.kernel_path(xp)
        except Exception as exc:
            path = f"unavailable ({type(exc).__name__}: {exc})"
        lines.append(f"  {name:<17}" + ", ".join(f"{op}: {path}" for op in kernels.OPS))
    return lines


def info_text() -> str:
    """The report printed by ``xnn info``."""
    from . import backend
    from .data import default_cifar10_dir
    gpu = backend.gpu_available()
    lines = [f"xnn              {__version__}",
             f"python           {platform.python_version()} ({platform.platform()})",
             f"numpy            {_version('numpy')}",
             f"array-api-compat {_version('array-api-compat')}",
             f"array-api-strict {_version('array-api-strict')}",
             f"matplotlib       {_version('matplotlib')}",
             *_cupy_lines(),
             f"devices          cpu{', gpu' if gpu else ''}",
             f"gpu available    {'yes' if gpu else 'no'}",
             f"auto device      {backend.resolve_device('auto')}",
             f"XNN_DEVICE       {os.environ.get('XNN_DEVICE', '(unset)')}",
             f"XNN_KERNELS      {os.environ.get('XNN_KERNELS', '(unset)')}",
             f"cifar10 dir      {default_cifar10_dir()}",
             "kernel paths"] + _kernel_lines()
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def _run(args: argparse.Namespace) -> int:
    if args.command == "info":
        print(info_text())
        return 0
    if args.command == "bench":
        from .bench import main_bench
        return main_bench(args)
    if args.command == "data":
        from .data import download_cifar10
        path = download_cifar10(args.dest)
        print(f"CIFAR-10 is in {path}")
        return 0
    from .cli_train import run_train
    run_train(args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xnn`` command line; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
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
