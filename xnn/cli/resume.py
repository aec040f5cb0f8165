"""``xnn train --resume``: find the run and its newest checkpoint, and check the flags against its config.json.

A resumed run keeps the settings it was started with (changing them would silently train something
else than config.json says). The flags of :data:`xnn.cli.train.RESUME_OVERRIDES` may change:
``--epochs`` to train longer and ``--device`` to continue elsewhere; ``config.json`` records both.
Any other setting flag is accepted only when it repeats the run's value.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import backend, npz
from ..training.runs import read_json
from .train import RESUME_OVERRIDES, SETTING_FLAGS
from .train_loop import CHECKPOINT_STEM, checkpoint_files

__all__ = ["ResumePlan", "latest_checkpoint", "plan_resume"]

_CHECKPOINT = re.compile(rf"^{CHECKPOINT_STEM}_epoch_(\d+)(_interrupted)?\.npz$")
SETTING_KEYS = tuple(SETTING_FLAGS.values()) + ("model_kwargs",)


def latest_checkpoint(run: Path) -> Path | None:
    """The newest ``checkpoint_epoch_<n>[_interrupted].npz`` of ``run`` (an interrupted one is newer
    than the epoch-end one of the same epoch), or None."""
    found = []
    for path in checkpoint_files(run):
        m = _CHECKPOINT.match(path.name)
        if m:
            found.append(((int(m.group(1)), m.group(2) is not None), path))
    return max(found)[1] if found else None


@dataclass
class ResumePlan:
    """Where and how a resumed run continues."""

    run: Path                 # the run directory (training continues there)
    checkpoint: Path          # the checkpoint to continue from
    config: dict[str, Any]    # config.json as it will be written (overrides applied, this resume recorded)
    settings: dict[str, Any]  # the training settings (the config's, with the overrides)
    epochs_done: int


def _locate(target: Path) -> tuple[Path, Path]:
    """``(run directory, checkpoint)`` for ``--resume`` of a directory or of a checkpoint file."""
    if not target.exists():
        raise FileNotFoundError(f"--resume {target}: no such run directory or checkpoint")
    run = target if target.is_dir() else target.parent
    if not (run / "config.json").is_file():
        raise ValueError(f"--resume {target}: {run} has no config.json, so it is not a run directory of "
                         "xnn train (continue other Solver checkpoints with Solver.resume)")
    checkpoint = latest_checkpoint(run) if target.is_dir() else target
    if checkpoint is None:
        finished = " it finished (model.npz holds the result); start a new run to train more" \
            if (run / "model.npz").is_file() else " it stopped before its first checkpoint"
        raise ValueError(f"--resume {target}: there is no checkpoint to continue from:{finished}")
    return run, checkpoint


def _same(given: Any, saved: Any) -> bool:
    if isinstance(given, (int, float)) and isinstance(saved, (int, float)):
        return float(given) == float(saved)
    return str(given) == str(saved)


def _conflicts(args: argparse.Namespace, config: dict[str, Any]) -> list[str]:
    """One text per setting flag given with a value other than the run's."""
    found = []
    for flag, key in SETTING_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is None or flag in RESUME_OVERRIDES or _same(value, config.get(key)):
            continue
        found.append(f"{flag} {value} (the run has {key} = {config.get(key)!r})")
    return found


def plan_resume(args: argparse.Namespace, now: str) -> ResumePlan:
    """Check ``--resume`` and the other flags; the plan to continue. ``now`` stamps the config entry.

    Raises ``ValueError`` naming the flag for a conflicting setting, ``--out`` (a resumed run stays in
    its directory), or ``--epochs`` below the epochs already done.
    """
    run, checkpoint = _locate(Path(args.resume))
    config = read_json(run / "config.json", "the run's settings")
    if args.out is not None:
        raise ValueError(f"--out does not apply to --resume: the run continues in its own directory {run}")
    conflicts = _conflicts(args, config)
    if conflicts:
        raise ValueError(f"--resume {run} keeps the run's settings (config.json), but " + "; ".join(conflicts)
                         + f". Only {' and '.join(RESUME_OVERRIDES)} may change; start a new run for other settings.")
    epochs_done = int(npz.load(checkpoint)["epoch"])
    entry: dict[str, Any] = {"at": now, "from": checkpoint.name, "epochs_done": epochs_done}
    if args.epochs is not None and args.epochs != config["epochs"]:
        if args.epochs < epochs_done:
            raise ValueError(f"--epochs {args.epochs}: the run has already finished {epochs_done} epochs")
        entry["epochs"] = [config["epochs"], args.epochs]
        config["epochs"] = args.epochs
    device = backend.resolve_device(args.device) if args.device is not None else config["device"]
    if device != config["device"]:
        entry["device"] = [config["device"], device]
        config["device"] = device
    config.setdefault("resumed", []).append(entry)
    settings = {k: config[k] for k in SETTING_KEYS}
    return ResumePlan(run=run, checkpoint=checkpoint, config=config, settings=settings, epochs_done=epochs_done)
