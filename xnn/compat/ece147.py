"""The ``ece147`` flavor's models: UCLA ECE C147/C247 (``nndl`` and ``utils`` packages).

Dropout ``p`` is the keep probability, as in Stanford 2018+ (so the layers are xnn's as is). What
differs: ``FullyConnectedNet(dropout=1, use_batchnorm=False)`` (``dropout`` = keep probability,
1 = off) and ``ThreeLayerConvNet(..., use_batchnorm=False)``. The optimizer keys live in
:mod:`xnn.compat.ece147_optim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import models

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet"]


class FullyConnectedNet(models.FullyConnectedNet):
    """xnn's ``FullyConnectedNet`` with UCLA's signature.

    ``dropout`` is the keep probability (1 = no dropout); ``use_batchnorm=True`` means
    ``normalization='batchnorm'``. Attributes: ``use_dropout`` (``dropout != 1``),
    ``use_batchnorm``, ``dropout_param`` (``{'mode': 'train', 'p': dropout}`` plus ``'seed'``),
    ``bn_params``, ``params``, ``reg``, ``num_layers``, ``dtype`` (and xnn's ``normalization``).
    Weights, RNG order and seeded masks equal the cs231n model with ``dropout_keep_ratio=dropout``.
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32, num_classes: int = 10,
                 dropout: float = 1, use_batchnorm: bool = False, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float32, seed: int | None = None, *,
                 device: str | None = None) -> None:
        super().__init__(hidden_dims, input_dim=input_dim, num_classes=num_classes, dropout_keep_ratio=dropout,
                         normalization="batchnorm" if use_batchnorm else None, reg=reg,
                         weight_scale=weight_scale, dtype=dtype, seed=seed, device=device)
        self.use_batchnorm = bool(use_batchnorm)


class ThreeLayerConvNet(models.ThreeLayerConvNet):
    """xnn's ``ThreeLayerConvNet`` accepting UCLA's extra ``use_batchnorm=False`` argument.

    UCLA's starter architecture (conv - relu - 2x2 pool - affine - relu - affine - softmax) has no
    batch normalization; ``use_batchnorm`` is stored as an attribute. ``True`` raises
    ``NotImplementedError`` rather than silently training a network without it.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32,
                 use_batchnorm: bool = False, *, device: str | None = None) -> None:
        if use_batchnorm:
            raise NotImplementedError(
                "ThreeLayerConvNet(use_batchnorm=True): the ece147 flavor serves the course's "
                "conv - relu - pool - affine - relu - affine network, which has no batchnorm; build a "
                "batchnorm CNN from conv_bn_relu_forward/backward in layer_utils instead")
        super().__init__(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                         hidden_dim=hidden_dim, num_classes=num_classes, weight_scale=weight_scale,
                         reg=reg, dtype=dtype, device=device)
        self.use_batchnorm = False
