"""The life of an ``xnn train`` run directory: create it (or reopen it for ``--resume``), train,
write the results, and leave nothing misleading behind when training stops early.

* Completed: ``history.json``, the figures and ``model.npz`` are written and the checkpoints removed.
* Ctrl-C: the newest checkpoint stays and the exact command that continues the run is printed.
* An error: a directory this command created is removed when no checkpoint is worth keeping (none
  was written, or the loss became NaN/inf); otherwise it stays and the error says how to resume.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, npz
from ..training.runs import PREPROCESSING_FILE, build_model, load_data, make_run_dir, write_json
from . import train_loop
from .common import command_name, missing_data_note, quoted, warn
from .resume import latest_checkpoint, plan_resume
from .train import MODEL_CLASSES, resolve_settings

__all__ = ["new_run", "resume_run"]

# Python argument names in data-loading messages, as the command-line flags that set them.
_FLAG_NAMES = ((re.compile(r"\bnum_training\b=?"), "--num-train "), (re.compile(r"\bnum_validation\b=?"), "--num-val "),
               (re.compile(r",? ?\bnum_test=0\b"), ""), (re.compile(r"\bcifar10_dir\b"), "--data-dir"))


def _flag_words(message: str) -> str:
    """``message`` with the loader's Python argument names replaced by the flags that set them."""
    for pattern, flag in _FLAG_NAMES:
        message = pattern.sub(flag, message)
    return message.replace(" ,", ",").replace(" )", ")").replace("  ", " ")


def _load(settings: dict[str, Any]) -> dict[str, Any]:
    """:func:`load_data`, with errors and warnings that name the command-line flags, not Python arguments."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = load_data(settings)
    except FileNotFoundError as exc:
        raise missing_data_note(exc) from None
    except ValueError as err:
        raise ValueError(_flag_words(str(err))) from err
    for w in caught:
        warn(_flag_words(str(w.message)))
    return data


def new_run(args: argparse.Namespace) -> int:
    """Train a new run from the flags; returns the exit status."""
    settings = resolve_settings(args)
    np.random.seed(settings["seed"])  # noqa: NPY002  (init and minibatches draw from the global RNG)
    data = _load(settings)
    run = make_run_dir(args.out or "runs", settings["model"])
    config = {**settings, "xnn_version": __version__, "numpy_version": np.__version__,
              "python_version": platform.python_version(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "num_train_images": int(data["X_train"].shape[0]), "num_val_images": int(data["X_val"].shape[0]),
              "input_shape": [int(d) for d in data["X_train"].shape[1:]], "class_names": data["class_names"]}
    write_json(run / "config.json", config)
    npz.save_atomic(run / PREPROCESSING_FILE, {"mean_image": data["mean_image"]})
    return _train(args, run, settings, data, created=True, resume=None)


def resume_run(args: argparse.Namespace) -> int:
    """Continue the run named by ``--resume`` in its own directory; returns the exit status."""
    plan = plan_resume(args, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    data = _load(plan.settings)
    write_json(plan.run / "config.json", plan.config)
    print(f"resuming {plan.run} from {plan.checkpoint.name} ({plan.epochs_done} of {plan.settings['epochs']} "
          "epochs done)")
    return _train(args, plan.run, plan.settings, data, created=False, resume=plan.checkpoint)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _describe(settings: dict[str, Any], data: dict[str, Any], run: Path) -> str:
    """The readable settings block printed before training."""
    kw = ", ".join(f"{k}={v}" for k, v in settings["model_kwargs"].items())
    source = "bundled CIFAR-10 sample" if settings["data"] == "sample" else \
        f"CIFAR-10 from {settings['data_dir'] or 'the default data directory'}"
    n_train, n_val = data["X_train"].shape[0], data["X_val"].shape[0]
    iters = max(n_train // settings["batch_size"], 1)
    decay = f" x{settings['lr_decay']:g} per epoch" if settings["lr_decay"] != 1 else ""
    checked = "all" if n_train <= 1000 or settings["model"] == "softmax" else "1000 sampled"
    return "\n".join([
        f"model     {settings['model']}: {MODEL_CLASSES[settings['model']]}({kw}), {settings['dtype']} on "
        f"{settings['device']}",
        f"data      {source}: {n_train} training / {n_val} validation images",
        f"training  {_count(settings['epochs'], 'epoch')} x {_count(iters, 'iteration')} of "
        f"{settings['batch_size']} images; "
        f"{settings['update_rule']}, lr {settings['lr']:g}{decay}, reg {settings['reg']:g}, seed {settings['seed']}",
        f"output    {run}/ (holds a checkpoint until training completes)",
        f"each epoch: mean training loss, accuracy on {checked} training images and on all {n_val} validation "
        "images, time so far"])


def _train(args: argparse.Namespace, run: Path, settings: dict[str, Any], data: dict[str, Any], *, created: bool,
           resume: Path | None) -> int:
    if not args.quiet:
        print(_describe(settings, data, run), flush=True)
    model = build_model(settings, data["X_train"].shape[1:])
    progress_setting = False if args.no_progress else None
    start = time.perf_counter()
    try:
        if settings["model"] == "softmax":
            hist = train_loop.fit_softmax(model, data, settings, progress_setting=progress_setting,
                                          epoch_lines=not args.quiet)
        else:
            hist = train_loop.fit_solver(model, data, settings, progress_setting=progress_setting,
                                         epoch_lines=not args.quiet,
                                         checkpoint_name=str(run / train_loop.CHECKPOINT_STEM), resume=resume)
    except KeyboardInterrupt:
        return _interrupted(run, created)
    except BaseException as exc:
        note = _after_failure(run, created, diverged=isinstance(exc, FloatingPointError))
        if note:
            exc.add_note(note)
        raise
    hist["wall_time_s"] = round(time.perf_counter() - start, 3)
    _finish(run, model, settings, data, hist)
    return 0


def _resume_command(run: Path) -> str:
    return f"{command_name()} train --resume {quoted(run)}"


def _interrupted(run: Path, created: bool) -> int:
    """Ctrl-C: say what was kept and how to continue (or remove a directory with nothing in it)."""
    kept = latest_checkpoint(run)
    if kept is None:
        if created:
            shutil.rmtree(run, ignore_errors=True)
        print("xnn: interrupted before the first checkpoint; nothing to resume" +
              (f" (removed {run})" if created else ""), file=sys.stderr)
        return 130
    print(f"xnn: interrupted; {run} keeps {kept.name}\nresume with: {_resume_command(run)}", file=sys.stderr)
    return 130


def _after_failure(run: Path, created: bool, diverged: bool) -> str | None:
    """After an error: remove a new directory with nothing worth resuming, or say how to resume."""
    kept = latest_checkpoint(run)
    if created and (kept is None or diverged):
        shutil.rmtree(run, ignore_errors=True)
        return f"removed the unfinished run directory {run}"
    if kept is not None and not diverged:
        return f"{run} keeps {kept.name}; after fixing the cause, continue with: {_resume_command(run)}"
    return None


def _finish(run: Path, model: Any, settings: dict[str, Any], data: dict[str, Any], hist: dict[str, Any]) -> None:
    """Write the results, remove the checkpoints, print what was written and the final accuracies."""
    from ..vis import plot_history
    write_json(run / "history.json", hist)
    plot_history(hist, run / "history.png")
    note = train_loop.write_filters(model, settings["model"], run / "filters.png", data["class_names"])
    npz.save_atomic(run / "model.npz", model.state_arrays())
    for path in train_loop.checkpoint_files(run):
        path.unlink(missing_ok=True)
    n_train, n_val = data["X_train"].shape[0], data["X_val"].shape[0]
    kept = "weights after the last epoch" if settings["model"] == "softmax" else \
        f"weights of epoch {hist['best_epoch']}, the best validation accuracy"
    print(f"wrote {run}/: model.npz ({kept}), history.json, history.png, {note}")
    print(f"final accuracy of model.npz: train {hist['final_train_acc']:.4f} (all {n_train} images), "
          f"val {hist['final_val_acc']:.4f} (all {n_val} images); {hist['wall_time_s']:.1f} s training on "
          f"{settings['device']}")
    print(f"next: {command_name()} eval {quoted(run)}   (test accuracy, per class)")
