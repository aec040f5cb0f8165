"""First-order update rules with the cs231n interface, on any Array API namespace.

Every rule has the signature ``rule(w, dw, config=None) -> (next_w, config)``:

* ``w``: the current weights (any shape); ``dw``: the gradient of the loss with respect to ``w``
  (same shape as ``w``).
* ``config``: a dict of hyperparameters and optimizer state. ``None`` creates a fresh dict;
  missing hyperparameters are filled with ``config.setdefault`` and state arrays are created
  lazily as zeros shaped like ``w`` in ``w``'s namespace and dtype. The new state is written
  back into the **same** dict, which is also returned (the Solver keeps one dict per
  parameter and relies on this).

Arrays come back in the namespace of ``w`` and ``dw`` (NumPy, CuPy, array-api-strict).
``sgd`` updates ``w`` in place like cs231n's given code when the dtypes allow it; the other
rules return new arrays and never modify ``w``, ``dw`` or the caller's state arrays.

State key names are Stanford's (``'velocity'``, ``'cache'``, ``'m'``/``'v'``/``'t'``). The math
lives in small step helpers (``_momentum_step``, ``_nesterov_step``, ``_rmsprop_step``,
``_adagrad_step``; Adam's is the kernel op :func:`xnn.kernels.adam_step`, which the NumPy path runs
in cache-sized chunks on xnn's worker threads) and in the public keyed rules (:func:`momentum_rule`,
:func:`rmsprop_rule`, :func:`adam_rule`, :func:`adagrad_rule`) whose state keys are keyword
arguments, so course flavors with other key names (UCLA's ``'a'`` for rmsprop, ``'v'``/``'a'``
for adam) are one-line wrappers. :data:`UPDATE_RULES` names the functions a ``Solver``
``update_rule`` string may pick.
"""

from __future__ import annotations

from typing import Any

from . import backend, kernels
from .validation import check_array, check_shape, shape_of

#: The update rules a ``Solver(update_rule=<name>)`` may name.
UPDATE_RULES = ("sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad")

__all__ = [*UPDATE_RULES, "UPDATE_RULES", "adagrad_rule", "adam_rule", "momentum_rule", "rmsprop_rule"]

Array = Any
Config = dict[str, Any]


# --------------------------------------------------------------------------- shared plumbing
def _prepare(fn: str, w: Array, dw: Array, config: Config | None, defaults: dict[str, Any]):
    """Validate ``w``/``dw``, make ``config`` a dict with the defaults set; return ``(xp, config)``."""
    check_array(fn, "w", w)
    check_array(fn, "dw", dw)
    check_shape(fn, "dw", dw, shape_of(w), f"w {shape_of(w)}")
    xp = backend.namespace(w=w, dw=dw)
    if config is None:
        config = {}
    elif not isinstance(config, dict):
        raise TypeError(f"{fn}: config must be a dict or None, got {type(config).__name__}")
    for key, value in defaults.items():
        config.setdefault(key, value)
    return xp, config


def _state(fn: str, xp, w: Array, config: Config, key: str) -> Array:
    """State array ``config[key]``, or zeros like ``w`` when absent/None; checked against ``w``."""
    value = config.get(key)
    if value is None:
        return xp.zeros_like(w)
    check_array(fn, f"config[{key!r}]", value)
    backend.namespace(w=w, **{f"config[{key!r}]": value})
    check_shape(fn, f"config[{key!r}]", value, shape_of(w), f"w {shape_of(w)}")
    return value


# --------------------------------------------------------------------------- pure math steps
def _momentum_step(w: Array, dw: Array, v: Array, lr: float, mu: float) -> tuple[Array, Array]:
    """Classical momentum: ``v = mu*v - lr*dw``; ``next_w = w + v``. Returns ``(next_w, v)``."""
    v = mu * v - lr * dw
    return w + v, v


def _nesterov_step(w: Array, dw: Array, v: Array, lr: float, mu: float) -> tuple[Array, Array]:
    """Nesterov momentum (UCLA form): ``v_new = mu*v - lr*dw``; ``next_w = w + v_new + mu*(v_new - v)``."""
    v_new = mu * v - lr * dw
    return w + v_new + mu * (v_new - v), v_new


def _rmsprop_step(xp, w: Array, dw: Array, cache: Array, lr: float, decay: float,
                  eps: float) -> tuple[Array, Array]:
    """RMSProp: ``cache = decay*cache + (1-decay)*dw**2``; ``next_w = w - lr*dw/(sqrt(cache)+eps)``."""
    cache = decay * cache + (1 - decay) * (dw * dw)
    return w - lr * dw / (xp.sqrt(cache) + eps), cache


def _adagrad_step(xp, w: Array, dw: Array, cache: Array, lr: float, eps: float) -> tuple[Array, Array]:
    """AdaGrad: ``cache = cache + dw**2``; ``next_w = w - lr*dw/(sqrt(cache)+eps)``."""
    cache = cache + dw * dw
    return w - lr * dw / (xp.sqrt(cache) + eps), cache


# --------------------------------------------------------------------------- keyed rules (state keys as arguments)
def momentum_rule(w: Array, dw: Array, config: Config | None, *, fn: str = "sgd_momentum",
                  step=_momentum_step, velocity_key: str = "velocity") -> tuple[Array, Config]:
    """Momentum-style rule with its velocity under ``velocity_key``; ``step`` is ``_momentum_step`` or
    ``_nesterov_step``."""
    xp, config = _prepare(fn, w, dw, config, {"learning_rate": 1e-2, "momentum": 0.9})
    v = _state(fn, xp, w, config, velocity_key)
    next_w, v = step(w, dw, v, config["learning_rate"], config["momentum"])
    config[velocity_key] = v
    return next_w, config


def rmsprop_rule(w: Array, dw: Array, config: Config | None, *, fn: str = "rmsprop",
                 cache_key: str = "cache") -> tuple[Array, Config]:
    """RMSProp with its running average of squared gradients stored under ``cache_key``."""
    xp, config = _prepare(fn, w, dw, config, {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8})
    cache = _state(fn, xp, w, config, cache_key)
    next_w, cache = _rmsprop_step(xp, w, dw, cache, config["learning_rate"], config["decay_rate"],
                                  config["epsilon"])
    config[cache_key] = cache
    return next_w, config


def adam_rule(w: Array, dw: Array, config: Config | None, *, fn: str = "adam", m_key: str = "m",
               v_key: str = "v", t_key: str = "t") -> tuple[Array, Config]:
    """Adam with first moment under ``m_key``, second under ``v_key`` and step count under ``t_key``."""
    defaults = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, t_key: 0}
    xp, config = _prepare(fn, w, dw, config, defaults)
    m = _state(fn, xp, w, config, m_key)
    v = _state(fn, xp, w, config, v_key)
    t = config[t_key] + 1  # cs231n increments t before the update
    next_w, m, v = kernels.adam_step(w, dw, m, v, t, config["learning_rate"], config["beta1"], config["beta2"],
                                     config["epsilon"], xp=xp)
    config[m_key], config[v_key], config[t_key] = m, v, t
    return next_w, config


def adagrad_rule(w: Array, dw: Array, config: Config | None, *, fn: str = "adagrad",
                 cache_key: str = "cache") -> tuple[Array, Config]:
    """AdaGrad with the running sum of squared gradients stored under ``cache_key``."""
    xp, config = _prepare(fn, w, dw, config, {"learning_rate": 1e-2, "epsilon": 1e-8})
    cache = _state(fn, xp, w, config, cache_key)
    next_w, cache = _adagrad_step(xp, w, dw, cache, config["learning_rate"], config["epsilon"])
    config[cache_key] = cache
    return next_w, config


# --------------------------------------------------------------------------- public rules
def sgd(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Vanilla stochastic gradient descent: ``w -= learning_rate * dw``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (default 1e-2). No state.

    Returns:
        ``(next_w, config)``. Like cs231n (NumPy's in-place ``-=``), ``w`` is updated **in
        place**, keeps its dtype and is returned: a float64 ``dw`` is cast to a float32 ``w``'s
        dtype, so a float32 model stays float32 when it meets float64 data.
    """
    xp, config = _prepare("sgd", w, dw, config, {"learning_rate": 1e-2})
    w -= xp.astype(config["learning_rate"] * dw, w.dtype, copy=False)
    return w, config


def sgd_momentum(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """SGD with momentum: ``v = momentum*v - learning_rate*dw``; ``next_w = w + v``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-2), ``momentum`` (0.9), state ``velocity`` (shape of ``w``,
            zeros when absent).

    Returns:
        ``(next_w, config)`` with the new ``config['velocity']``.
    """
    return momentum_rule(w, dw, config)


def sgd_nesterov_momentum(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """SGD with Nesterov momentum (UCLA ``nndl`` form).

    ``v_old = v``; ``v = momentum*v - learning_rate*dw``; ``next_w = w + v + momentum*(v - v_old)``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-2), ``momentum`` (0.9), state ``velocity`` (shape of ``w``).

    Returns:
        ``(next_w, config)`` with the new ``config['velocity']``.
    """
    return momentum_rule(w, dw, config, fn="sgd_nesterov_momentum", step=_nesterov_step)


def rmsprop(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """RMSProp: a decaying average of squared gradients scales each step.

    ``cache = decay_rate*cache + (1-decay_rate)*dw**2``; ``next_w = w - lr*dw/(sqrt(cache)+epsilon)``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-2), ``decay_rate`` (0.99), ``epsilon`` (1e-8), state
            ``cache`` (shape of ``w``).

    Returns:
        ``(next_w, config)`` with the new ``config['cache']``.
    """
    return rmsprop_rule(w, dw, config)


def adam(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Adam: bias-corrected moving averages of the gradient and its square.

    ``t += 1`` first (cs231n's notebook requires it); ``m = beta1*m + (1-beta1)*dw``;
    ``v = beta2*v + (1-beta2)*dw**2``; ``next_w = w - lr*m_hat/(sqrt(v_hat)+epsilon)`` with
    ``m_hat = m/(1-beta1**t)`` and ``v_hat = v/(1-beta2**t)``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon`` (1e-8),
            state ``m`` and ``v`` (shape of ``w``) and the step count ``t`` (0).

    Returns:
        ``(next_w, config)`` with the new ``m``, ``v`` and ``t``.
    """
    return adam_rule(w, dw, config)


def adagrad(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """AdaGrad: steps scaled by the running sum of squared gradients.

    ``cache = cache + dw**2``; ``next_w = w - learning_rate*dw/(sqrt(cache)+epsilon)``.

    Args:
        w: weights, any shape. dw: gradient, same shape as ``w``.
        config: ``learning_rate`` (1e-2), ``epsilon`` (1e-8), state ``cache`` (shape of ``w``).

    Returns:
        ``(next_w, config)`` with the new ``config['cache']``.
    """
    return adagrad_rule(w, dw, config)
