"""Shared model machinery: device placement and ``.npz`` save/load.

Every xnn model keeps its parameters in ``self.params`` (name -> array) and, when it uses
batch normalization, its per-layer option dicts in ``self.bn_params`` (the running statistics
live there, as in cs231n). :class:`ModelBase` adds:

* ``to(device)`` / ``device``: move the parameters and the running statistics between the
  host (NumPy) and the GPU (CuPy) with :func:`xnn.backend.to_device`;
* ``save(path)`` / ``load(path, strict=True) -> bool``: the cs231n 2025 contract (prints
  ``"<fname> saved."``, ``"<fname> loaded."`` or ``"<fname> not available."``) but the file is an
  ``.npz`` archive of plain arrays, read back with ``allow_pickle=False`` (no code is ever
  unpickled from disk), and a file that does not fit the model is refused with every missing
  key, unexpected key and shape mismatch named (:mod:`xnn.models.state`);
* ``scores(X)``, ``predict(X)``, ``predict_proba(X)``: batched inference on any device
  (:mod:`xnn.models.inference`).

Archive keys: ``param.<name>`` for every parameter and ``bn_param.<i>.running_mean`` /
``bn_param.<i>.running_var`` for the running statistics of batch-norm layer ``i``. The file is
written exactly at ``path`` (no ``.npz`` suffix is appended), atomically.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .. import backend, layers, npz, validation
from . import inference, state
from .state import BN_PREFIX, BN_STAT_KEYS, PARAM_PREFIX

__all__ = [
    "check_model_input",
    "affine_relu_affine_softmax",
    "check_init_scalars",
    "ModelBase",
    "l2_penalty",
    "add_weight_decay",
    "host_weight",
]

def l2_penalty(xp, arrays: Any) -> float:
    """``sum(a ** 2)`` over every array of ``arrays`` (an iterable), as a Python float."""
    return sum(float(xp.sum(a * a)) for a in arrays)


def add_weight_decay(model: Any, data_loss: float, grads: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Add ``0.5 * model.reg * sum(W**2)`` over the weights ``W1, W2, ...`` to the loss and
    ``model.reg * W`` to their gradients (biases, gamma and beta are not regularized).

    Returns ``(loss as a Python float, grads)``; ``grads`` is updated in place.
    """
    names = [k for k in model.params if k.startswith("W")]
    loss = float(data_loss)
    if model.reg and names:
        xp = backend.namespace(*(model.params[k] for k in names))
        loss += 0.5 * model.reg * l2_penalty(xp, (model.params[k] for k in names))
        for k in names:
            grads[k] = grads[k] + model.reg * model.params[k]
    return loss, grads


def affine_relu_affine_softmax(X: Any, y: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> Any:
    """affine - relu - affine - softmax: the two-layer head of TwoLayerNet and ThreeLayerConvNet.

    ``X`` ``(N, D)`` (or ``(N, d1, ...)``, flattened), ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``,
    ``b2 (C,)``. Returns the scores ``(N, C)`` when ``y`` is None, else ``(data_loss, dX, (dW1, db1,
    dW2, db2))``: the mean softmax loss (no regularization) and the gradients, ``dX`` shaped like X.
    """
    hidden, cache1 = layers.affine_relu_forward(X, W1, b1)
    scores, cache2 = layers.affine_forward(hidden, W2, b2)
    if y is None:
        return scores
    data_loss, dscores = layers.softmax_loss(scores, y)
    dhidden, dW2, db2 = layers.affine_backward(dscores, cache2)
    dX, dW1, db1 = layers.affine_relu_backward(dhidden, cache1)
    return data_loss, dX, (dW1, db1, dW2, db2)


def check_init_scalars(fn: str, weight_scale: Any, reg: Any) -> None:
    """``weight_scale`` and ``reg`` must be finite numbers, ``reg >= 0`` (``ValueError``/``TypeError``)."""
    validation.check_number(fn, "weight_scale", weight_scale)
    validation.check_number(fn, "reg", reg, low=0.0)


def check_model_input(model: Any, X: Any, y: Any, features: int | None = None,
                      feature_shape: tuple[int, ...] | None = None) -> None:
    """Checks of ``model.loss(X, y)``'s inputs; messages name ``<Model>.loss``.

    ``X`` must be an array ``(N, ...)`` whose trailing dimensions are ``feature_shape`` or
    multiply to ``features``; ``y`` (unless ``None``) an integer ``(N,)`` array. Reads shapes and
    dtypes only (the label range is checked by the loss layer).
    """
    fn = f"{type(model).__name__}.loss"
    validation.checked_namespace(fn, X=X)
    if X.ndim < 2:
        raise ValueError(f"{fn}: X must be a batch (N, ...) of at least 2 dimensions, got shape {tuple(X.shape)}")
    tail = tuple(X.shape[1:])
    if feature_shape is not None and tail != tuple(feature_shape):
        raise ValueError(f"{fn}: X must have shape (N, {', '.join(map(str, feature_shape))}) for this model, "
                         f"got {tuple(X.shape)}" + validation.nchw_hint(tuple(X.shape), feature_shape[0], "X"))
    if features is not None and math.prod(tail) != features:
        raise ValueError(f"{fn}: X must have {features} features per sample for this model, got X "
                         f"{tuple(X.shape)} ({math.prod(tail)} features)")
    if y is None:
        return
    validation.check_array(fn, "y", y)
    if not backend.namespace(y).isdtype(y.dtype, "integral"):
        raise TypeError(f"{fn}: y must hold integer class labels, got dtype {y.dtype}")
    if tuple(y.shape) != (X.shape[0],):
        raise ValueError(f"{fn}: y must have shape ({X.shape[0]},) to match X {tuple(X.shape)}, got {tuple(y.shape)}")


def host_weight(weight_scale: float, *shape: int) -> np.ndarray:
    """``weight_scale * randn(*shape)`` from NumPy's legacy global RNG (cs231n's init), on the host."""
    return weight_scale * backend.host_randn(*shape)


class ModelBase:
    """Mixin for models with ``params`` (and optionally ``bn_params``): devices and save/load."""

    params: dict[str, Any]

    # ------------------------------------------------------------------ devices
    @property
    def device(self) -> str:
        """``"gpu"`` when the parameters are CuPy arrays, else ``"cpu"``."""
        for value in self._device_arrays():
            return backend.device_of(value)
        return getattr(self, "_device", "cpu")

    def to(self, device: str | None = None) -> ModelBase:
        """Move the parameters and batch-norm running statistics to ``device``; returns ``self``.

        ``device`` is ``"cpu"``, ``"gpu"``/``"cuda"``, ``"auto"`` or ``None`` (the device in
        force, see :func:`xnn.backend.resolve_device`).
        """
        dev = backend.resolve_device(device)
        self._move_state(dev)
        self._device = dev
        return self

    def _move_state(self, device: str) -> None:
        """Move every array the model owns to ``device`` (override to add more)."""
        self.params = {k: backend.to_device(v, device) for k, v in self.params.items()}
        for bn_param in getattr(self, "bn_params", []) or []:
            for key in BN_STAT_KEYS:
                if key in bn_param:
                    bn_param[key] = backend.to_device(bn_param[key], device)

    def _device_arrays(self):
        """The arrays whose location defines the model's device."""
        return iter((getattr(self, "params", None) or {}).values())

    def _to_model_device(self, a: Any) -> Any:
        """``a`` moved to the model's device when it lives elsewhere (host data, GPU model)."""
        if a is None or backend.device_of(a) == self.device:
            return a
        return backend.to_device(a, self.device)

    # ------------------------------------------------------------------ save / load
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Host copies of the model state under the archive keys (see the module docstring)."""
        arrays = {PARAM_PREFIX + k: np.array(backend.to_numpy(v)) for k, v in self.params.items()}
        for i, bn_param in enumerate(getattr(self, "bn_params", []) or []):
            for key in BN_STAT_KEYS:
                if key in bn_param:
                    arrays[f"{BN_PREFIX}{i}.{key}"] = np.array(backend.to_numpy(bn_param[key]))
        return arrays

    def expected_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(required, optional)`` archive keys and shapes (see :func:`xnn.models.state.expected_state`)."""
        return state.expected_state(self)

    def load_state_arrays(self, arrays: dict[str, np.ndarray], strict: bool = True,
                          fname: str | os.PathLike | None = None) -> None:
        """Replace the model state from host arrays keyed as by :meth:`state_arrays`.

        The arrays go to the model's device. ``strict``: the keys and shapes must be exactly the
        model's (``ValueError`` naming every difference otherwise); ``strict=False`` loads the
        arrays that fit and warns about the rest. ``fname`` only names the file in messages.
        """
        arrays = state.checked_arrays(self, arrays, fname, strict)
        device = self.device
        for key, value in arrays.items():
            if key.startswith(PARAM_PREFIX):
                self.params[key[len(PARAM_PREFIX):]] = backend.to_device(value, device)
        bn_params = getattr(self, "bn_params", []) or []
        for key, value in arrays.items():
            if key.startswith(BN_PREFIX):
                index, stat = key[len(BN_PREFIX):].split(".", 1)
                bn_params[int(index)][stat] = backend.to_device(value, device)

    def save(self, fname: str | os.PathLike) -> None:
        """Write the model state to ``fname`` (an ``.npz`` archive) and print ``"<fname> saved."``."""
        npz.save_atomic(fname, self.state_arrays())
        print(f"{os.fspath(fname)} saved.")

    def load(self, fname: str | os.PathLike, strict: bool = True) -> bool:
        """Read the state written by :meth:`save`; ``True`` and ``"<fname> loaded."`` on success.

        A missing file prints ``"<fname> not available."`` and returns ``False`` (cs231n's
        contract). A file saved by another architecture (or other sizes) raises ``ValueError``
        naming every missing key, unexpected key and shape mismatch; ``strict=False`` loads the
        arrays that fit instead, keeps the model's own for the rest and warns. The arrays are
        placed on the model's current device.
        """
        if not os.path.exists(fname):
            print(f"{os.fspath(fname)} not available.")
            return False
        self.load_state_arrays(npz.load(fname), strict=strict, fname=fname)
        print(f"{os.fspath(fname)} loaded.")
        return True

    # ------------------------------------------------------------------ inference
    def scores(self, X: Any, batch_size: int = 100) -> Any:
        """Class scores ``(N, C)`` of ``X (N, ...)`` (test mode), computed ``batch_size`` rows at a time.

        ``X`` may live anywhere; the scores are on the model's device.
        """
        batch_size = inference.check_batch_size(f"{type(self).__name__}.scores", batch_size)
        return inference.batched(self.loss, X, batch_size)

    def predict(self, X: Any, batch_size: int = 100) -> Any:
        """Predicted class labels ``(N,)`` of ``X (N, ...)``: the argmax of :meth:`scores`."""
        return inference.predict_labels(self.scores(X, batch_size))

    def predict_proba(self, X: Any, batch_size: int = 100) -> Any:
        """Class probabilities ``(N, C)`` of ``X (N, ...)``: the softmax of :meth:`scores` (rows sum to 1)."""
        return inference.softmax_probabilities(self.scores(X, batch_size))
