"""The ``ece147`` flavor's optimizer module (UCLA ``nndl/optim.py``): UCLA's state keys.

``rmsprop`` keeps its running average of squared gradients under ``'a'`` (Stanford: ``'cache'``);
``adam`` keeps the first moment under ``'v'``, the second under ``'a'`` and the step under ``'t'``
(Stanford: ``'m'``/``'v'``/``'t'``). ``sgd``, ``sgd_momentum``, ``sgd_nesterov_momentum`` and
``adagrad`` are xnn's. The math is xnn's keyed rule bodies; only the keys differ. This is also the
module the ece147 Solver resolves ``update_rule`` names against (:data:`UPDATE_RULES`).
"""

from __future__ import annotations

from typing import Any

from ..optim import adagrad, adam_rule, rmsprop_rule, sgd, sgd_momentum, sgd_nesterov_momentum

#: The update rules a ``Solver(update_rule=<name>)`` of this flavor may name.
UPDATE_RULES = ("sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad")

__all__ = ["UPDATE_RULES", "adagrad", "adam", "rmsprop", "sgd", "sgd_momentum", "sgd_nesterov_momentum"]

Array = Any
Config = dict[str, Any]


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
    return rmsprop_rule(w, dw, config, cache_key="a")


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
    return adam_rule(w, dw, config, m_key="v", v_key="a")
