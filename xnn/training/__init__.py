"""What sits around the training loop of :class:`xnn.solver.Solver`.

* :mod:`xnn.training.guards`: argument and data checks, non-finite and diverging losses, deferred
  Ctrl-C, update-rule names;
* :mod:`xnn.training.solver_args`: the Solver's keyword names and signatures, unknown-argument
  messages, ``optim_config`` keys the update rule never reads;
* :mod:`xnn.training.checkpoint`: Solver checkpoints as ``.npz`` archives (atomic, no pickle);
* :mod:`xnn.training.runs`: run directories (``config.json``, ``preprocessing.npz``,
  ``history.json``, figures, ``model.npz``) as written by ``xnn train``, the models built from
  their settings, and :func:`~xnn.training.runs.load_run`;
* :mod:`xnn.training.evaluate`: the Solver's (subsampled) accuracy check, test accuracy, per-class
  accuracy and the confusion matrix.
"""
