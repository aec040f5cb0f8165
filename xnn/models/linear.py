"""Linear classifiers trained with minibatch SGD (cs231n ``linear_classifier.py``).

``LinearClassifier`` holds one weight matrix ``W (D, C)``; subclasses choose the loss:
``Softmax`` (cross-entropy) and ``LinearSVM`` (multiclass hinge). The weights are created
lazily by the first :meth:`LinearClassifier.train` call as ``0.001 * randn(D, C)`` drawn from
NumPy's legacy global RNG on the host (cs231n's order, so ``np.random.seed`` reproduces the
notebook numbers), then placed in the namespace and on the device of ``X``. Minibatch indices
are drawn on the host with ``np.random.choice`` (with replacement); the rows are gathered where
``X`` lives.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import backend, validation
from . import inference, state
from .base import ModelBase
from .linear_losses import softmax_loss_vectorized, svm_loss_vectorized

__all__ = ["LinearClassifier", "Softmax", "LinearSVM"]


class LinearClassifier(ModelBase):
    """A linear score function ``X @ W`` trained by SGD; subclasses implement :meth:`loss`.

    Attribute ``W``: ``None`` until the first :meth:`train`, then ``(D, C)``.
    ``save(fname)`` / ``load(fname)`` store ``{"W": W}`` in an ``.npz`` archive.
    """

    def __init__(self) -> None:
        self.W = None

    # ------------------------------------------------------------------ training
    def train(self, X: Any, y: Any, learning_rate: float = 1e-3, reg: float = 1e-5, num_iters: int = 100,
              batch_size: int = 200, verbose: bool = False) -> list[float]:
        """Minibatch SGD on ``X (N, D)``, ``y (N,)`` (labels in ``[0, C)``, ``C = max(y) + 1``).

        Each iteration draws ``batch_size`` row indices with ``np.random.choice(N, batch_size)``
        (with replacement), evaluates :meth:`loss` and steps ``W -= learning_rate * dW``. With
        ``verbose`` it prints ``iteration %d / %d: loss %f`` every 100 iterations. Returns the
        list of the per-iteration losses (Python floats).
        """
        fn = f"{type(self).__name__}.train"
        xp = validation.checked_namespace(fn, X=X, y=y)
        validation.check_ndim(fn, "X", X, 2, "(N, D)")
        num_train, dim = X.shape
        if num_train == 0:
            raise ValueError(f"{fn}: X holds no samples (X {tuple(X.shape)})")
        num_classes = int(xp.max(y)) + 1
        validation.check_labels(fn, y, num_train, num_classes)
        batch_size = validation.check_positive_int(fn, "batch_size", batch_size)
        if self.W is None:
            self.W = self._initial_weights(X, dim, num_classes)
        loss_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)  # noqa: NPY002  (the course's minibatch draw)
            loss, grad = self.loss(backend.gather_rows(X, idx), backend.gather_rows(y, idx), reg)
            loss_history.append(float(loss))
            self.W = self.W - learning_rate * grad
            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))
        return loss_history

    @staticmethod
    def _initial_weights(X: Any, dim: int, num_classes: int) -> Any:
        """``0.001 * randn(dim, num_classes)`` on the host, moved next to ``X`` in its float dtype."""
        W = backend.from_host(0.001 * backend.host_randn(dim, num_classes), like=X)
        xp = backend.namespace(W)
        if xp.isdtype(X.dtype, "real floating") and X.dtype != W.dtype:
            W = xp.astype(W, X.dtype)
        return W

    def scores(self, X: Any, batch_size: int = 1000) -> Any:
        """Class scores ``X (N, D) @ W``, ``(N, C)``, computed ``batch_size`` rows at a time."""
        fn = f"{type(self).__name__}.predict"
        if self.W is None:
            raise ValueError(f"{fn}: the classifier is not trained yet (W is None)")
        validation.check_ndim(fn, "X", X, 2, "(N, D)")
        batch_size = inference.check_batch_size(fn, batch_size)
        backend.namespace(X=X, W=self.W)  # one namespace and device (TypeError naming both otherwise)
        return inference.batched(lambda Xb: Xb @ self.W, X, batch_size)

    def predict(self, X: Any, batch_size: int = 1000) -> Any:
        """Predicted labels ``(N,)``: the argmax over classes of ``X (N, D) @ W`` (in row batches)."""
        return inference.predict_labels(self.scores(X, batch_size))

    def loss(self, X_batch: Any, y_batch: Any, reg: float) -> tuple[float, Any]:
        """Loss and gradient for a minibatch ``X_batch (N, D)``, ``y_batch (N,)``.

        Returns ``(loss: float, dW)`` with ``dW`` shaped like ``W``. Subclasses implement it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define a loss; use Softmax or LinearSVM")

    # ------------------------------------------------------------------ ModelBase hooks
    def _device_arrays(self):
        return iter(() if self.W is None else (self.W,))

    def _move_state(self, device: str) -> None:
        if self.W is not None:
            self.W = backend.to_device(self.W, device)

    def state_arrays(self) -> dict[str, np.ndarray]:
        """``{"W": host copy of W}`` (empty before training)."""
        return {} if self.W is None else {"W": np.array(backend.to_numpy(self.W))}

    def expected_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``W``: required with its shape once trained; an untrained classifier accepts any ``W``."""
        return {"W": None if self.W is None else tuple(self.W.shape)}, {}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], strict: bool = True,
                          fname: str | os.PathLike | None = None) -> None:
        """Set ``W`` from ``arrays["W"]`` on the classifier's device (checked as in :meth:`ModelBase.load`)."""
        arrays = state.checked_arrays(self, arrays, fname, strict)
        if "W" in arrays:
            self.W = backend.to_device(arrays["W"], self.device)


class Softmax(LinearClassifier):
    """Linear classifier with the softmax (cross-entropy) loss."""

    def loss(self, X_batch: Any, y_batch: Any, reg: float) -> tuple[float, Any]:
        """:func:`softmax_loss_vectorized` of the current ``W``."""
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)

    def predict_proba(self, X: Any, batch_size: int = 1000) -> Any:
        """Class probabilities ``(N, C)``: the softmax of ``X (N, D) @ W``."""
        return inference.softmax_probabilities(self.scores(X, batch_size))


class LinearSVM(LinearClassifier):
    """Linear classifier with the multiclass hinge (SVM) loss."""

    def loss(self, X_batch: Any, y_batch: Any, reg: float) -> tuple[float, Any]:
        """:func:`svm_loss_vectorized` of the current ``W``."""
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)

    def predict_proba(self, X: Any, batch_size: int = 1000) -> Any:
        """Not available: SVM scores are margins, not probabilities (use :meth:`scores` or :meth:`predict`)."""
        raise NotImplementedError("LinearSVM.predict_proba: a hinge-loss classifier's scores are margins, not "
                                  "probabilities; use scores(X) or predict(X), or train a Softmax")
