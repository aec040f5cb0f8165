"""The old assignment-1 ``classifiers/neural_net.py`` ``TwoLayerNet`` (Stanford 2016-2020, CS280 2025).

Its API differs from ``fc_net.TwoLayerNet``: ``TwoLayerNet(input_size, hidden_size, output_size,
std=1e-4)``, ``loss(X, y=None, reg=0.0)`` with the L2 penalty ``reg * sum(W**2)`` (no 1/2, so
the weight gradient gains ``2 * reg * W``), its own ``train`` loop (vanilla SGD with a per-epoch
learning-rate decay) and ``predict``. The forward and backward passes are xnn's layers; the
weights are drawn like cs231n's (``std * randn``, W1 then W2) on the host. Arrays are NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models.base import host_weight, l2_penalty
from ..models.fc_net import two_layer_pass

__all__ = ["TwoLayerNet"]


class TwoLayerNet:
    """input - affine - relu - affine - softmax; ``params`` ``W1 (D, H)``, ``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4) -> None:
        self.params = {
            "W1": host_weight(std, input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": host_weight(std, hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0) -> Any:
        """Scores ``(N, C)`` for ``X (N, D)`` when ``y`` is None; else ``(loss, grads)``.

        The loss is the mean softmax cross-entropy plus ``reg * (sum(W1**2) + sum(W2**2))``;
        ``grads`` has a gradient for each of ``W1, b1, W2, b2`` (same shapes).
        """
        p = self.params
        out = two_layer_pass(p, X, y)
        if y is None:
            return out
        data_loss, grads = out
        for name in ("W1", "W2"):
            grads[name] = grads[name] + 2 * reg * p[name]
        return float(data_loss) + reg * l2_penalty(np, (p["W1"], p["W2"])), grads

    def train(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
              learning_rate: float = 1e-3, learning_rate_decay: float = 0.95, reg: float = 5e-6,
              num_iters: int = 100, batch_size: int = 200, verbose: bool = False) -> dict[str, list[float]]:
        """Minibatch SGD for ``num_iters`` steps.

        Each step draws ``np.random.choice(N, batch_size)`` (with replacement) and does
        ``W -= learning_rate * dW``. Once per epoch (``max(N / batch_size, 1)`` steps, from step
        0) it records the minibatch and validation accuracy and multiplies the learning rate by
        ``learning_rate_decay``. With ``verbose`` it prints ``iteration %d / %d: loss %f`` every
        100 steps. Returns ``{'loss_history', 'train_acc_history', 'val_acc_history'}``.
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)
        history: dict[str, list[float]] = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)  # noqa: NPY002  (the course's minibatch draw)
            X_batch, y_batch = X[idx], y[idx]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            history["loss_history"].append(loss)
            for name in self.params:
                self.params[name] = self.params[name] - learning_rate * grads[name]
            if verbose and it % 100 == 0:
                print("iteration %d / %d: loss %f" % (it, num_iters, loss))  # noqa: UP031 (cs231n line)
            if it % iterations_per_epoch == 0:
                history["train_acc_history"].append(float(np.mean(self.predict(X_batch) == y_batch)))
                history["val_acc_history"].append(float(np.mean(self.predict(X_val) == y_val)))
                learning_rate *= learning_rate_decay
        return history

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels ``(N,)``: the argmax of the scores for ``X (N, D)``."""
        return np.argmax(self.loss(X), axis=1)
