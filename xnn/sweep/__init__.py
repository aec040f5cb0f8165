"""Hyperparameter sweeps on ``dask.distributed``: a laptop's cores, every GPU of a box, or a cluster.

    from xnn import sweep
    results = sweep.run({"learning_rate": ("log", 1e-4, 1e-2), "reg": ("log", 1e-5, 1e-1),
                         "hidden_dims": [[100], [200, 100]]},
                        model="fc", trials=16, epochs=5, out="sweeps/fc")
    results[0]  # the best trial: config, seed, best_val_acc, train_acc, ...

Modules: :mod:`.space` (spaces, ranges, the deterministic trial plan), :mod:`.trial` (one trial on
a worker), :mod:`.cluster` (the Dask client and cluster), :mod:`.results` and :mod:`.plot` (the
sweep directory), :mod:`.progress`, :mod:`.driver` (:func:`run`). Needs ``pip install xnn[distributed]``.
"""

from .driver import load_data, plan_tasks, run
from .progress import describe_config
from .space import SCALES, SEARCHES, SweepError, parse_range, trial_plan
from .trial import allowed_keys, run_trial

__all__ = ["SCALES", "SEARCHES", "SweepError", "allowed_keys", "describe_config", "load_data", "parse_range",
           "plan_tasks", "run", "run_trial", "trial_plan"]
