"""The ``cs182`` flavor: Berkeley CS182 ``deeplearning`` and Stanford CS231n 2016-17.

There ``dropout_param['p']`` is the probability of **dropping** a unit (mask ``rand < 1 - p``,
kept units scaled by ``1 / (1 - p)``), and ``FullyConnectedNet`` takes ``dropout=0`` (the drop
probability, 0 = off) and ``use_batchnorm=False``. Everything here wraps xnn: the mask is drawn
by xnn's dropout with keep probability ``1 - p``, so a seed gives the same mask as the course's
``np.random.seed(seed); np.random.rand(*x.shape) < 1 - p``.
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
        ``mask`` (x's shape) holds ``1/(1-p)`` where ``rand < 1 - p`` and 0 elsewhere, ``out = x * mask``.
        Test: ``out`` is ``x`` and ``mask`` is None.
    """
    fn = "dropout_forward"
    require_keys(fn, "dropout_param", dropout_param, ("p", "mode"))
    drop = check_drop_prob(fn, "dropout_param['p']", dropout_param["p"])
    return apply_dropout(fn, x, dropout_param, 1.0 - drop)


class FullyConnectedNet(models.FullyConnectedNet):
    """xnn's ``FullyConnectedNet`` with the 2016-17 / Berkeley signature.

    ``dropout`` is the drop probability (0 = no dropout); ``use_batchnorm=True`` means
    ``normalization='batchnorm'``. Attributes as in the course: ``use_dropout`` (``dropout > 0``),
    ``use_batchnorm``, ``dropout_param`` (``{'mode': 'train', 'p': dropout}`` plus ``'seed'``, one
    dict shared by every dropout layer), ``bn_params``, ``params``, ``reg``, ``num_layers``,
    ``dtype`` (and xnn's ``normalization``). Initial weights, RNG order and the seeded dropout
    masks are those of the cs231n model with ``dropout_keep_ratio = 1 - dropout``; the hidden
    blocks call this flavor's :func:`dropout_forward`, which reads ``'p'`` as a drop probability.
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
