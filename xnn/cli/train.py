"""``xnn train``: build a model, train it with the Solver and write a run directory.

A run directory ``<out>/<model>-<YYYYmmdd-HHMMSS>/`` receives:

* ``config.json``   every setting of the run (defaults filled in), versions, data sizes, input shape,
  class names, and one entry per ``--resume``;
* ``preprocessing.npz``  the training mean image (what ``eval`` and ``predict`` subtract);
* ``history.json``  ``loss_history``, ``train_acc_history``, ``val_acc_history``, best epoch, final accuracies;
* ``history.png``   loss and accuracy curves (:func:`xnn.vis.plot_history`);
* ``filters.png``   first-layer conv filters (cnn), or first-layer weights drawn as 32x32 images
  (fc, twolayer, softmax) when they are image-shaped;
* ``model.npz``     the trained (best validation) parameters, ``model.save``'s format;
* ``checkpoint_epoch_<n>.npz``  while training only: the newest Solver checkpoint (Ctrl-C writes
  ``..._interrupted.npz``), for ``xnn train --resume RUN_DIR``; removed when training completes.

``--resume RUN_DIR`` (or a checkpoint file in one) reads the run's ``config.json`` and continues in
the same directory; only ``--epochs`` (train longer) and ``--device`` may differ from the run's
settings, and ``config.json`` records them. Training stops with an error on a NaN/inf loss.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import backend
from ..training.runs import DEFAULTS, MODEL_NAMES
from .common import (
    HelpFormatter,
    add_data_arguments,
    add_device_argument,
    choice,
    data_source,
    nonneg_float,
    positive_float,
    positive_int,
)

__all__ = ["DEFAULTS", "MODELS", "RESUME_OVERRIDES", "SETTING_FLAGS", "add_parser", "resolve_settings", "run"]

MODELS = MODEL_NAMES  # the models a run directory can hold
MODEL_CLASSES = {"cnn": "ThreeLayerConvNet", "fc": "FullyConnectedNet", "twolayer": "TwoLayerNet", "softmax": "Softmax"}

#: Every flag that is a setting of the run (kept in config.json), with its settings key.
SETTING_FLAGS = {"--model": "model", "--epochs": "epochs", "--batch-size": "batch_size", "--lr": "lr",
                 "--lr-decay": "lr_decay", "--update-rule": "update_rule", "--reg": "reg", "--dtype": "dtype",
                 "--device": "device", "--data": "data", "--data-dir": "data_dir", "--num-train": "num_train",
                 "--num-val": "num_val", "--seed": "seed"}
#: The settings ``--resume`` lets you change (the rest must match the run's config.json).
RESUME_OVERRIDES = ("--epochs", "--device")


EXAMPLES = (("xnn train", "a cnn on the bundled CIFAR-10 sample"),
            ("xnn train --model fc --epochs 20 --lr 5e-4", "another model, other settings"),
            ("xnn train --resume runs/cnn-20260101-120000", "continue after Ctrl-C or a crash"),
            ("xnn eval runs/cnn-20260101-120000", "test accuracy, per class"))


def _defaults_table() -> str:
    rows = [("model", "epochs", "batch", "lr", "lr-decay", "update-rule", "reg", "architecture")]
    for name, d in DEFAULTS.items():
        arch = MODEL_CLASSES[name] + "(" + ", ".join(f"{k}={v}" for k, v in d["model_kwargs"].items()) + ")"
        rows.append((name, str(d["epochs"]), str(d["batch_size"]), f"{d['lr']:g}", f"{d['lr_decay']:g}",
                     d["update_rule"], f"{d['reg']:g}", arch))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows)


def add_parser(sub) -> None:
    """Register ``xnn train``."""
    from ..optim import UPDATE_RULES
    p = sub.add_parser(
        "train", help="train a model and write a run directory", formatter_class=HelpFormatter,
        description="Train a model with the Solver and write config.json, preprocessing.npz, history.json, "
                    "history.png, filters.png and model.npz into <out>/<model>-<timestamp>/.",
        epilog="per-model defaults (used for the options you do not give):\n" + _defaults_table() + "\n\nexamples:\n"
               + "\n".join(f"  {cmd:<46}# {what}" for cmd, what in EXAMPLES))
    p.add_argument("--model", type=choice(MODELS), metavar="{" + ",".join(MODELS) + "}",
                   help="cnn = ThreeLayerConvNet, fc = FullyConnectedNet, twolayer = TwoLayerNet, softmax = linear "
                        "Softmax classifier (default: cnn)")
    add_device_argument(p, None, "cpu")
    p.add_argument("--epochs", type=positive_int, help="number of epochs (default: per model, below)")
    p.add_argument("--batch-size", type=positive_int, help="minibatch size (default: per model)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default: per model)")
    p.add_argument("--lr-decay", type=positive_float,
                   help="learning-rate factor after every epoch (default: per model)")
    p.add_argument("--update-rule", type=choice(UPDATE_RULES), metavar="RULE",
                   help=f"{', '.join(UPDATE_RULES)} (default: per model)")
    p.add_argument("--reg", type=nonneg_float, help="L2 regularization strength (default: per model)")
    add_data_arguments(p, "sample")
    p.add_argument("--num-train", type=positive_int, help="use only this many training images (default: all)")
    p.add_argument("--num-val", type=positive_int, help="use only this many validation images (default: all)")
    p.add_argument("--out", help="parent directory of the run directory (default: runs)")
    p.add_argument("--seed", type=int, help="seed of NumPy's global RNG: initial weights and minibatches (default: 0)")
    p.add_argument("--dtype", type=choice(("float32", "float64")), metavar="{float32,float64}",
                   help="parameter dtype (default: float32)")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar (there is none in a file anyway)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an unfinished run (its directory, or a checkpoint_epoch_<n>.npz in it) with "
                        "its own settings; only " + " and ".join(RESUME_OVERRIDES) + " may change")
    p.set_defaults(run=run)


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings: command-line values where given, else the model's defaults."""
    model = args.model or "cnn"
    d = DEFAULTS[model]

    def pick(name: str) -> Any:
        return d[name] if getattr(args, name) is None else getattr(args, name)
    settings = {"model": model, "epochs": pick("epochs"), "batch_size": pick("batch_size"), "lr": pick("lr"),
                "lr_decay": pick("lr_decay"), "update_rule": pick("update_rule"), "reg": pick("reg"),
                "dtype": args.dtype or "float32", "device": backend.resolve_device(args.device or "cpu"),
                "data": data_source(args, "sample"), "data_dir": args.data_dir, "num_train": args.num_train,
                "num_val": args.num_val, "seed": 0 if args.seed is None else args.seed,
                "model_kwargs": dict(d["model_kwargs"])}
    if model == "softmax" and (settings["update_rule"] != "sgd" or settings["lr_decay"] != 1.0):
        raise ValueError("the softmax model trains with LinearClassifier.train (plain SGD, no decay): "
                         "--update-rule must be sgd and --lr-decay 1")
    return settings


def run(args: argparse.Namespace) -> int:
    """``xnn train``: a new run, or ``--resume`` of an unfinished one; returns the exit status."""
    from . import train_run
    if args.resume is not None:
        return train_run.resume_run(args)
    return train_run.new_run(args)

