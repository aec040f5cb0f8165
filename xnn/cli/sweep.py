"""``xnn sweep``: a hyperparameter sweep on Dask workers, written to a sweep directory.

    xnn sweep --model fc --trials 16 --epochs 5 --lr 1e-4:1e-2:log --reg 1e-5:1e-1:log [--hidden 100,200]
              [--workers N | --scheduler tcp://HOST:8786] [--device gpu] [--resume DIR]

A swept option takes a range ``LOW:HIGH[:SCALE]`` (scale ``log``, ``linear`` or ``int``; ``log``
when omitted, ``int`` for ``--hidden``) or a comma-separated list of values. ``--hidden`` lists
hidden sizes; for ``fc`` an ``x`` joins the layers of one architecture (``100,200x100`` tries
``[100]`` and ``[200, 100]``).
The sweep directory (default ``sweeps/<model>-<timestamp>/``) receives ``sweep.json``,
``results.jsonl``, ``results.csv``, ``sweep.png``, ``best/`` (a run directory as ``xnn train``
writes it) and ``cli_args.json``, from which ``--resume DIR`` repeats the same sweep and runs only
the trials ``results.jsonl`` does not hold yet.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path
from typing import Any

from .common import data_source

__all__ = ["add_parser", "run", "space_from_args"]

CLI_ARGS = "cli_args.json"
# Options that describe the sweep itself; --resume takes them from the directory.
_SWEEP_OPTIONS = ("model", "trials", "epochs", "lr", "reg", "hidden", "search", "seed", "data", "data_dir",
                  "num_train", "num_val", "dtype", "update_rule", "batch_size")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def add_parser(sub) -> None:
    """Register ``xnn sweep``."""
    p = sub.add_parser("sweep", help="hyperparameter sweep on Dask workers (local cores, GPUs or a cluster)",
                       description="Train many configurations in parallel on dask.distributed and write "
                                   "results.jsonl, results.csv, sweep.png and the best run into a sweep directory.")
    p.add_argument("--model", choices=("fc", "twolayer", "cnn"), default="fc", help="model to sweep (default fc)")
    p.add_argument("--trials", type=int, default=16, help="number of trials (random search; default 16)")
    p.add_argument("--epochs", type=_positive_int, default=5, help="epochs per trial (default 5)")
    p.add_argument("--lr", metavar="RANGE|LIST", help="learning rates, e.g. 1e-4:1e-2:log or 1e-3,5e-4")
    p.add_argument("--reg", metavar="RANGE|LIST", help="L2 regularization, e.g. 1e-5:1e-1:log")
    p.add_argument("--hidden", metavar="LIST", help="hidden sizes to try, e.g. 100,200 (fc: 100,200x100 for "
                                                    "[100] and [200, 100]); twolayer/cnn also take a range, "
                                                    "50:200 (int scale)")
    p.add_argument("--update-rule", help="update rule of every trial (default: xnn train's, adam)")
    p.add_argument("--batch-size", type=_positive_int, help="minibatch size of every trial")
    p.add_argument("--search", choices=("random", "grid"), default="random", help="random (default) or grid")
    p.add_argument("--seed", type=int, default=0, help="sweep seed: trial i depends only on (seed, i)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="local worker processes (default: one per usable CPU, "
                                                   "one per GPU with --device gpu)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://HOST:8786")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where each trial trains (default cpu)")
    p.add_argument("--data", choices=("sample", "cifar10"), help="bundled sample (default) or a CIFAR-10 "
                                                                 "directory (the default with --data-dir)")
    p.add_argument("--data-dir", help="cifar-10-batches-py directory for --data cifar10")
    p.add_argument("--num-train", type=_positive_int, help="use only this many training images")
    p.add_argument("--num-val", type=_positive_int, help="use only this many validation images")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="default float32")
    p.add_argument("--out", help="sweep directory (default sweeps/<model>-<timestamp>)")
    p.add_argument("--resume", metavar="DIR", help="continue the sweep in DIR: its settings, only missing trials")
    p.set_defaults(run=run)


def _values(text: str, option: str, kind: type) -> Any:
    """A range tuple for ``LOW:HIGH[:SCALE]``, else the list of comma-separated values."""
    from ..sweep import SweepError, parse_range
    if ":" in text:
        r = parse_range(text, option)
        return (r.scale, r.low, r.high)
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SweepError(f"{option}: expected LOW:HIGH[:SCALE] or a comma-separated list of numbers, "
                         f"got {text!r}") from None


def _hidden(text: str, model: str) -> Any:
    from ..sweep import SweepError
    if model != "fc":  # hidden sizes are whole numbers: a range without a scale is an int range
        return _values(f"{text}:int" if text.count(":") == 1 else text, "--hidden", int)
    try:
        return [[int(h) for h in arch.split("x")] for arch in text.split(",") if arch.strip()]
    except ValueError:
        raise SweepError(f"--hidden: expected sizes like 100,200x100 (comma between choices, x between "
                         f"layers), got {text!r}") from None


def space_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The sweep space the options describe (at least one of --lr, --reg, --hidden)."""
    from ..sweep import SweepError
    space: dict[str, Any] = {}
    if args.lr:
        space["learning_rate"] = _values(args.lr, "--lr", float)
    if args.reg:
        space["reg"] = _values(args.reg, "--reg", float)
    if args.hidden:
        space["hidden_dims" if args.model == "fc" else "hidden_dim"] = _hidden(args.hidden, args.model)
    if not space:
        raise SweepError("sweep: nothing to sweep; give at least one of --lr, --reg, --hidden")
    return space


def _load_data(args: argparse.Namespace) -> Any:
    from ..training.runs import load_data
    if args.data == "sample" and args.num_train is None and args.num_val is None:
        return "sample"
    return load_data({"data": args.data, "data_dir": args.data_dir, "num_train": args.num_train,
                      "num_val": args.num_val, "dtype": args.dtype})


def _resumed(args: argparse.Namespace) -> argparse.Namespace:
    stored_file = Path(args.resume) / CLI_ARGS
    if not stored_file.is_file():
        raise FileNotFoundError(f"sweep --resume: {stored_file} not found (not a sweep directory made by xnn sweep)")
    from ..training.runs import read_json
    stored = read_json(stored_file, "the sweep's options")
    return argparse.Namespace(**{**vars(args), **{k: stored.get(k) for k in _SWEEP_OPTIONS}, "out": args.resume})


def _quiet_dask() -> None:
    """Keep Dask's own INFO chatter (scheduler, nanny, comm lines) out of the sweep's output."""
    if importlib.util.find_spec("distributed") is None:
        raise RuntimeError("xnn sweep needs dask.distributed: pip install 'xnn[distributed]'")
    import distributed  # noqa: F401  (its import sets its loggers' levels; lower them afterwards)
    logging.getLogger("distributed").setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    """``xnn sweep``: run the sweep, print the best trials; exit status 0."""
    from .. import sweep
    from ..training.runs import make_run_dir, write_json
    if args.resume:
        args = _resumed(args)
    args.data = data_source(args, "sample")  # as xnn train: --data-dir alone means cifar10
    space = space_from_args(args)
    sweep.space.check_trials(args.trials)  # before the sweep directory is made
    data = _load_data(args)
    out = Path(args.out) if args.out else make_run_dir("sweeps", args.model)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CLI_ARGS, {k: getattr(args, k) for k in _SWEEP_OPTIONS})
    fixed = {k: getattr(args, k) for k in ("update_rule", "batch_size") if getattr(args, k) is not None}
    _quiet_dask()
    print(f"sweep directory: {out}")
    results = sweep.run(space, model=args.model, data=data, trials=args.trials, epochs=args.epochs,
                        search=args.search, scheduler=args.scheduler, workers=args.workers, device=args.device,
                        seed=args.seed, out=out, dtype=args.dtype, **fixed)
    print("best trials:")
    for r in results[:5]:
        outcome = f"val acc {r['best_val_acc']:.4f}" if r["status"] == "ok" else f"failed: {r['error']}"
        print(f"  trial {r['trial']:>3}: {outcome}  {sweep.describe_config(r['config'])}")
    print(f"results: {out / 'results.csv'}, plot: {out / 'sweep.png'}, best run: {out / 'best'}")
    return 0
