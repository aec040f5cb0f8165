"""The ``ece147`` flavor: UCLA ECE C147/C247 (``nndl`` and ``utils`` packages).

Dropout ``p`` is the keep probability, as in Stanford 2018+ (so the layers are xnn's as is). What
differs: ``FullyConnectedNet(dropout=1, use_batchnorm=False)`` (``dropout`` = keep probability,
1 = off), ``ThreeLayerConvNet(..., use_batchnorm=False)``, and the optimizer state keys:
``rmsprop`` keeps its running average of squared gradients under ``'a'``; ``adam`` keeps the
first moment under ``'v'``, the second under ``'a'`` and the step under ``'t'``. This module is
also the ``optim`` module the flavor's Solver resolves ``update_rule`` names against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import models
from ..optim import _adam_rule, _rmsprop_rule, adagrad, sgd, sgd_momentum, sgd_nesterov_momentum

__all__ = ["sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad",
           "FullyConnectedNet", "ThreeLayerConvNet", "OPTIM_RULES"]

Array = Any
Config = dict[str, Any]

OPTIM_RULES = ("sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad")


def rmsprop(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """RMSProp with UCLA's state key: ``a = decay_rate*a + (1-decay_rate)*dw**2``.

    ``next_w = w - learning_rate*dw/(sqrt(a)+epsilon)``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-2), ``decay_rate`` (0.99), ``epsilon`` (1e-8), state ``a``
            (shape of ``w``, zeros when absent).

    Returns:
        ``(next_w, config)`` with the new ``config['a']``.
    """
    return _rmsprop_rule(w, dw, config, cache_key="a")


def adam(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Adam with UCLA's state keys: first moment ``v``, second moment ``a``, step ``t``.

    ``t += 1``; ``v = beta1*v + (1-beta1)*dw``; ``a = beta2*a + (1-beta2)*dw**2``;
    ``next_w = w - learning_rate * v_hat / (sqrt(a_hat) + epsilon)`` with bias-corrected hats.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon`` (1e-8),
            state ``v`` and ``a`` (shape of ``w``) and ``t`` (0).

    Returns:
        ``(next_w, config)`` with the new ``v``, ``a`` and ``t``.
    """
    return _adam_rule(w, dw, config, m_key="v", v_key="a")


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
