"""Fully connected networks: cs231n's ``TwoLayerNet`` and ``FullyConnectedNet``.

Both keep cs231n's attributes, parameter names, option dicts and RNG order: the weights are
drawn on the host from NumPy's legacy global RNG (one ``randn(fan_in, fan_out)`` per weight
matrix, in layer order, times ``weight_scale``; nothing else draws), so ``np.random.seed``
gives the notebook's numbers on every device. The parameters are then placed on ``device``
(``"cpu"``, ``"gpu"``, ``"auto"`` or ``None`` for the device in force); ``model.to(device)``
moves them later. ``loss`` returns a Python float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend, layers, validation
from ..choices import valid_and_suggestion
from .base import (
    ModelBase,
    add_weight_decay,
    affine_relu_affine_softmax,
    check_init_scalars,
    check_model_input,
    host_weight,
)

__all__ = ["TwoLayerNet", "FullyConnectedNet"]


def two_layer_pass(params: dict[str, Any], X: Any, y: Any = None) -> Any:
    """affine - relu - affine - softmax on ``params`` ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``.

    ``X`` is ``(N, D)`` (or ``(N, d1, ...)``, flattened). Returns the scores ``(N, C)`` when ``y``
    is None, else ``(data_loss, grads)``: the mean softmax loss without regularization and a
    gradient for each of the four params. Shared by both TwoLayerNet APIs (fc_net and the old
    ``neural_net``), which differ only in their L2 conventions.
    """
    out = affine_relu_affine_softmax(X, y, params["W1"], params["b1"], params["W2"], params["b2"])
    if y is None:
        return out
    data_loss, _, grads = out
    return data_loss, dict(zip(("W1", "b1", "W2", "b2"), grads))


NORMALIZATIONS = (None, "batchnorm", "layernorm")


class TwoLayerNet(ModelBase):
    """affine - relu - affine - softmax, with 0.5 * reg L2 on the weights.

    Parameters: ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``, float64 (cs231n's
    TwoLayerNet has no dtype argument). Attributes ``params``, ``reg``.
    """

    def __init__(self, input_dim: int = 3 * 32 * 32, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, *, device: str | None = None) -> None:
        fn = "TwoLayerNet"
        dims = [validation.check_positive_int(fn, name, v) for name, v in
                (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("num_classes", num_classes))]
        check_init_scalars(fn, weight_scale, reg)
        self.reg = reg
        self.params = {
            "W1": host_weight(weight_scale, dims[0], dims[1]),
            "b1": np.zeros(dims[1]),
            "W2": host_weight(weight_scale, dims[1], dims[2]),
            "b2": np.zeros(dims[2]),
        }
        self.to(device)

    def loss(self, X: Any, y: Any = None) -> Any:
        """Scores, or loss and gradients, for a minibatch.

        Args:
            X: ``(N, d_1, ..., d_k)`` input (flattened to ``(N, D)``).
            y: ``(N,)`` integer labels, or ``None``.

        Returns:
            ``y is None``: scores ``(N, C)``. Otherwise ``(loss, grads)``: the mean softmax loss
            plus ``0.5 * reg * sum(W**2)`` over ``W1, W2`` as a Python float, and a dict with a
            gradient for every parameter (same keys, shapes and namespace).
        """
        check_model_input(self, X, y, features=self.params["W1"].shape[0])
        X, y = self._to_model_device(X), self._to_model_device(y)
        out = two_layer_pass(self.params, X, y)
        if y is None:
            return out
        data_loss, grads = out
        return add_weight_decay(self, data_loss, grads)


class FullyConnectedNet(ModelBase):
    """``{affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax``.

    Attributes (as in cs231n): ``normalization``, ``use_dropout``, ``reg``, ``num_layers``
    (``L = 1 + len(hidden_dims)``), ``dtype``, ``params`` (``W1..WL``, ``b1..bL`` and, with a
    normalization, ``gamma1..gamma(L-1)`` = ones and ``beta1..beta(L-1)`` = zeros),
    ``dropout_param`` (one dict shared by every dropout layer: ``{}`` when unused, else
    ``{'mode': 'train', 'p': dropout_keep_ratio}`` plus ``'seed'`` when ``seed`` is given) and
    ``bn_params`` (one dict per hidden layer: ``{'mode': 'train'}`` for batchnorm, ``{}`` for
    layernorm, none otherwise; batchnorm writes its running statistics there).

    ``dropout_keep_ratio`` is the probability of keeping a unit (1 = no dropout).
    ``normalization`` is ``None``, ``"batchnorm"`` or ``"layernorm"`` (anything else raises
    ``ValueError``). Parameters are cast to ``dtype`` after initialization.

    Hooks for course flavors: the class attribute :attr:`dropout_forward` is the dropout layer the
    hidden blocks call with ``dropout_param`` (a flavor whose ``'p'`` means the drop probability
    sets its own), and :meth:`_set_mode` writes each pass's mode into the option dicts.
    """

    dropout_forward = staticmethod(layers.dropout_forward)

    def __init__(self, hidden_dims: Sequence[int], input_dim: int = 3 * 32 * 32, num_classes: int = 10,
                 dropout_keep_ratio: float = 1, normalization: str | None = None, reg: float = 0.0,
                 weight_scale: float = 1e-2, dtype: Any = np.float32, seed: int | None = None, *,
                 device: str | None = None) -> None:
        fn = "FullyConnectedNet"
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"{fn}: unknown normalization {normalization!r}; "
                             + valid_and_suggestion(normalization, NORMALIZATIONS))
        if not 0 < dropout_keep_ratio <= 1:
            raise ValueError(f"{fn}: dropout_keep_ratio is the probability of keeping a unit and must lie "
                             f"in (0, 1], got {dropout_keep_ratio!r}")
        dims = [validation.check_positive_int(fn, "input_dim", input_dim)]
        dims += [validation.check_positive_int(fn, f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)]
        dims.append(validation.check_positive_int(fn, "num_classes", num_classes))
        check_init_scalars(fn, weight_scale, reg)

        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = self._initial_params(dims, weight_scale, normalization)
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}

        self.dropout_param: dict[str, Any] = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params: list[dict[str, Any]] = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        elif normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]
        self.to(device)

    @staticmethod
    def _initial_params(dims: list[int], weight_scale: float, normalization: str | None) -> dict[str, np.ndarray]:
        """Host float64 parameters; one ``randn`` per weight matrix, in layer order."""
        params: dict[str, np.ndarray] = {}
        for i in range(1, len(dims)):
            params[f"W{i}"] = host_weight(weight_scale, dims[i - 1], dims[i])
            params[f"b{i}"] = np.zeros(dims[i])
            if normalization is not None and i < len(dims) - 1:
                params[f"gamma{i}"] = np.ones(dims[i])
                params[f"beta{i}"] = np.zeros(dims[i])
        return params

    # ------------------------------------------------------------------ forward / backward
    def loss(self, X: Any, y: Any = None) -> Any:
        """Scores, or loss and gradients, for a minibatch.

        Args:
            X: ``(N, d_1, ..., d_k)`` input, cast to the model's dtype (flattened to ``(N, D)``).
            y: ``(N,)`` integer labels, or ``None`` for test mode.

        Returns:
            ``y is None``: scores ``(N, C)`` computed in test mode (running batchnorm statistics,
            no dropout). Otherwise ``(loss, grads)`` from a train-mode pass: the mean softmax loss
            plus ``0.5 * reg * sum(W**2)`` over the weight matrices as a Python float, and a dict
            with a gradient for every parameter (same keys, shapes, dtype and namespace).
        """
        check_model_input(self, X, y, features=self.params["W1"].shape[0])
        X, y = self._to_model_device(X), self._to_model_device(y)
        xp = backend.namespace(X)
        X = xp.astype(X, backend.dtype_named(xp, self.dtype), copy=False)
        mode = "test" if y is None else "train"
        self._set_mode(mode)

        out, caches = X, []
        for i in range(1, self.num_layers):
            out, cache = self._hidden_forward(out, i)
            caches.append(cache)
        L = self.num_layers
        scores, last_cache = layers.affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        if mode == "test":
            return scores

        data_loss, dscores = layers.softmax_loss(scores, y)
        grads: dict[str, Any] = {}
        dout, grads[f"W{L}"], grads[f"b{L}"] = layers.affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            dout = self._hidden_backward(dout, caches[i - 1], i, grads)
        return add_weight_decay(self, data_loss, grads)

    def _set_mode(self, mode: str) -> None:
        """Write the pass's mode (``'train'``/``'test'``) into ``dropout_param`` and every batchnorm ``bn_param``.

        A course flavor whose starter code sets the modes differently overrides this.
        """
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

    def _hidden_forward(self, x: Any, i: int) -> tuple[Any, tuple]:
        """Hidden block ``i`` (1-based): affine, optional norm, relu, optional dropout."""
        p = self.params
        out, affine_cache = layers.affine_forward(x, p[f"W{i}"], p[f"b{i}"])
        norm_cache = None
        if self.normalization == "batchnorm":
            out, norm_cache = layers.batchnorm_forward(out, p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[i - 1])
        elif self.normalization == "layernorm":
            out, norm_cache = layers.layernorm_forward(out, p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[i - 1])
        out, relu_cache = layers.relu_forward(out)
        dropout_cache = None
        if self.use_dropout:
            out, dropout_cache = self.dropout_forward(out, self.dropout_param)
        return out, (affine_cache, norm_cache, relu_cache, dropout_cache)

    def _hidden_backward(self, dout: Any, cache: tuple, i: int, grads: dict[str, Any]) -> Any:
        """Backward through hidden block ``i``; writes its grads into ``grads``, returns dx."""
        affine_cache, norm_cache, relu_cache, dropout_cache = cache
        if self.use_dropout:
            dout = layers.dropout_backward(dout, dropout_cache)
        dout = layers.relu_backward(dout, relu_cache)
        if self.normalization == "batchnorm":
            dout, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward_alt(dout, norm_cache)
        elif self.normalization == "layernorm":
            dout, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.layernorm_backward(dout, norm_cache)
        dx, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dout, affine_cache)
        return dx
