"""The ``cs182`` flavor: Berkeley CS182 ``deeplearning`` and Stanford CS231n 2016-17.

Their starter code differs from Stanford 2018+ in three ways this flavor reproduces:

* ``dropout_param['p']`` is the probability of **dropping** a unit, and the mask keeps a unit where
  ``rand >= p`` (kept units scaled by ``1 / (1 - p)``): with a seed, the course's
  ``np.random.seed(seed); (np.random.rand(*x.shape) >= p) / (1 - p)``, so seeded masks and the
  notebooks' printed figures match the course, not Stanford's ``rand < keep`` draw.
* ``FullyConnectedNet(dropout=0, use_batchnorm=False)``: ``dropout`` is the drop probability
  (0 = off).
* Quirk kept on purpose: the starter's ``FullyConnectedNet.loss`` writes ``bn_param[mode] = mode``
  (the mode string as the key, not ``'mode'``). ``bn_param['mode']`` therefore stays at the
  ``'train'`` written by ``__init__``, and **batchnorm normalizes with the batch statistics in
  test-mode passes too** (``model.loss(X)``, ``Solver.check_accuracy``), updating the running
  averages as it goes. The notebooks' expected numbers (e.g. the bn_drop "initial predictions
  error" check) are built on it. A caller that sets ``bn_param['mode']`` itself gets that mode.
  The starter also writes ``dropout_param['mode']`` when dropout is off (``{}`` becomes
  ``{'mode': ...}``).

Everything here wraps xnn; the layer math is xnn's.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np

from .. import models
from ..layers.dropout import apply_dropout, dropout_backward
from ..validation import require_keys

__all__ = ["FullyConnectedNet", "check_drop_prob", "dropout_backward", "dropout_forward"]

Array = Any


def check_drop_prob(fn: str, name: str, p: Any) -> float:
    """The drop probability as a float; ``ValueError`` unless it lies in ``[0, 1)``."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {name} (the drop probability) must be a number, got {p!r}") from None
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{fn}: {name} is the probability of DROPPING a unit (cs182 flavor) and must lie "
                         f"in [0, 1), got {p!r}")
    return value


def dropout_forward(x: Array, dropout_param: MutableMapping) -> tuple[Array, tuple[MutableMapping, Array | None]]:
    """Inverted dropout where ``dropout_param['p']`` is the probability of DROPPING each unit.

    Args:
        x: array of any shape.
        dropout_param: ``'p'`` (drop probability in [0, 1), required), ``'mode'``
            (``'train'``/``'test'``, required), optional ``'seed'`` (reseeds NumPy's global RNG on
            every call, as the course code does).

    Returns:
        ``out`` (x's shape, dtype and namespace) and ``cache = (dropout_param, mask)``. Train:
        ``mask`` (x's shape) holds ``1/(1-p)`` where ``rand >= p`` and 0 elsewhere, ``out = x * mask``.
        Test: ``out`` is ``x`` and ``mask`` is None.
    """
    fn = "dropout_forward"
    require_keys(fn, "dropout_param", dropout_param, ("p", "mode"))
    drop = check_drop_prob(fn, "dropout_param['p']", dropout_param["p"])
    return apply_dropout(fn, x, dropout_param, 1.0 - drop, drop_prob=drop)


class FullyConnectedNet(models.FullyConnectedNet):
    """xnn's ``FullyConnectedNet`` with the 2016-17 / Berkeley signature.

    ``dropout`` is the drop probability (0 = no dropout); ``use_batchnorm=True`` means
    ``normalization='batchnorm'``. Attributes as in the course: ``use_dropout`` (``dropout > 0``),
    ``use_batchnorm``, ``dropout_param`` (``{'mode': 'train', 'p': dropout}`` plus ``'seed'``, one
    dict shared by every dropout layer), ``bn_params``, ``params``, ``reg``, ``num_layers``,
    ``dtype`` (and xnn's ``normalization``). Initial weights and RNG order are those of the
    cs231n model; the hidden blocks call this flavor's :func:`dropout_forward` (``'p'`` = drop
    probability, mask ``rand >= p``). Test-mode passes keep batchnorm in train mode, as the
    starter does (see the module docstring).
    """

    dropout_forward = staticmethod(dropout_forward)

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32, num_classes: int = 10,
                 dropout: float = 0, use_batchnorm: bool = False, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float32, seed: int | None = None, *,
                 device: str | None = None) -> None:
        drop = check_drop_prob("FullyConnectedNet", "dropout", dropout)
        super().__init__(hidden_dims, input_dim=input_dim, num_classes=num_classes,
                         dropout_keep_ratio=1.0 - drop,
                         normalization="batchnorm" if use_batchnorm else None, reg=reg,
                         weight_scale=weight_scale, dtype=dtype, seed=seed, device=device)
        self.use_batchnorm = bool(use_batchnorm)
        self.use_dropout = drop > 0
        if self.use_dropout:
            self.dropout_param["p"] = dropout  # the course stores the drop probability

    def _set_mode(self, mode: str) -> None:
        """The starter's mode bookkeeping: ``dropout_param['mode'] = mode``, ``bn_param[mode] = mode``.

        The batchnorm line uses the mode string as the key, so ``bn_param['mode']`` is left as it
        was (``'train'`` from ``__init__``) and batchnorm keeps using batch statistics.
        """
        self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param[mode] = mode
