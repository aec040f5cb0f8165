"""The best trial of a sweep as a run directory, in the format ``xnn train`` writes.

``<sweep>/best/`` holds ``config.json`` (the trial's run settings, data, versions, which trial),
``history.json`` (loss and accuracy histories, best/final accuracies, wall time), ``history.png``
and ``model.npz`` (the kept parameters in the models' ``save`` format). It is rewritten whenever a
better trial finishes, so after an interrupted sweep it still holds the best trial so far.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, npz
from ..training.runs import write_json

__all__ = ["BEST_DIR", "write_best_run"]

BEST_DIR = "best"


def write_best_run(out: Path, result: Mapping[str, Any], state: Mapping[str, Any],
                   data_info: Mapping[str, Any]) -> Path:
    """Write ``out/best/`` for a finished trial; ``state`` is the ``state`` of :func:`xnn.sweep.run_trial`.

    ``data_info``: ``data``, ``data_dir``, ``num_train``, ``num_val`` of the run settings plus
    ``num_train_images`` and ``num_val_images``.
    """
    from ..vis import plot_history
    run = out / BEST_DIR
    run.mkdir(exist_ok=True)
    npz.save_atomic(run / "model.npz", dict(state["arrays"]))
    config = {**state["settings"], **data_info, "xnn_version": __version__, "numpy_version": np.__version__,
              "python_version": platform.python_version(), "sweep_trial": result["trial"],
              "sweep_config": result["config"], "worker": result.get("worker")}
    write_json(run / "config.json", config)
    history = {"loss_history": list(state["loss_history"]), "train_acc_history": result["train_acc_history"],
               "val_acc_history": result["val_acc_history"], "best_val_acc": result["best_val_acc"],
               "final_train_acc": result["train_acc"], "final_val_acc": state["final_val_acc"],
               "wall_time_s": result.get("seconds")}
    write_json(run / "history.json", history)
    plot_history(history, run / "history.png")
    return run
