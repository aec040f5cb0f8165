"""What sits around the training loop of :class:`xnn.solver.Solver`.

* :mod:`xnn.training.guards`: argument and data checks, non-finite losses, deferred Ctrl-C,
  update-rule names;
* :mod:`xnn.training.checkpoint`: Solver checkpoints as ``.npz`` archives (atomic, no pickle);
* :mod:`xnn.training.runs`: run directories (``config.json``, ``history.json``, figures,
  ``model.npz``) as written by ``xnn train``, and the models built from their settings.
"""
