"""Loss functions of the linear classifiers (cs231n ``softmax.py`` and ``linear_svm.py``).

All four share one signature, ``f(W, X, y, reg) -> (loss, dW)``:

* ``W``: weights ``(D, C)``; ``X``: a minibatch ``(N, D)`` (the notebooks append a bias column
  of ones, so ``D`` is 3073 for CIFAR-10); ``y``: integer labels ``(N,)`` in ``[0, C)``;
  ``reg``: the L2 strength.
* ``loss`` is a Python float: the mean data loss over ``N`` plus ``reg * sum(W * W)``;
  ``dW`` has ``W``'s shape, namespace and dtype (float32 stays float32) and includes the
  ``2 * reg * W`` term.

The ``_naive`` versions loop over samples and classes (readable references); the
``_vectorized`` versions are a few whole-array operations. Both run on any Array API namespace
(NumPy, CuPy, array-api-strict) and agree to rounding.
"""

from __future__ import annotations

import math
from typing import Any

from .. import validation
from ..layers import one_hot
from .base import l2_penalty

__all__ = ["softmax_loss_naive", "softmax_loss_vectorized", "svm_loss_naive", "svm_loss_vectorized"]


def _check_inputs(fn: str, W: Any, X: Any, y: Any):
    """Validate shapes, labels and namespaces; return ``(xp, N, C, dtype)``."""
    xp = validation.checked_namespace(fn, W=W, X=X, y=y)
    validation.check_ndim(fn, "W", W, 2, "(D, C)")
    validation.check_ndim(fn, "X", X, 2, "(N, D)")
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"{fn}: X has {X.shape[1]} features but W expects {W.shape[0]} "
                         f"(X {tuple(X.shape)}, W {tuple(W.shape)})")
    N, C = X.shape[0], W.shape[1]
    validation.check_labels(fn, y, N, C)
    if N == 0:
        raise ValueError(f"{fn}: X holds no samples (X {tuple(X.shape)})")
    return xp, N, C, xp.result_type(W.dtype, X.dtype)


def _add_l2(xp, loss: Any, dW: Any, W: Any, reg: float) -> tuple[float, Any]:
    """Add ``reg * sum(W*W)`` to the loss and ``2 * reg * W`` to the gradient."""
    total = float(loss) + reg * l2_penalty(xp, (W,))
    return total, xp.astype(dW + (2.0 * reg) * W, dW.dtype)


def softmax_loss_naive(W: Any, X: Any, y: Any, reg: float) -> tuple[float, Any]:
    """Softmax (cross-entropy) loss with explicit loops over samples and classes.

    Shapes: ``W (D, C)``, ``X (N, D)``, ``y (N,)`` -> ``(loss: float, dW (D, C))``.
    Scores are shifted by their row maximum before exponentiating (numerically stable).
    """
    xp, N, C, dtype = _check_inputs("softmax_loss_naive", W, X, y)
    columns = [xp.zeros(W.shape[0], dtype=dtype) for _ in range(C)]
    loss = 0.0
    for i in range(N):
        scores = X[i, :] @ W
        scores = scores - xp.max(scores)
        exp_scores = [float(xp.exp(scores[j])) for j in range(C)]
        total = sum(exp_scores)
        label = int(y[i])
        for j in range(C):
            p = exp_scores[j] / total
            if j == label:
                loss -= float(scores[j]) - math.log(total)
                p -= 1.0
            columns[j] = columns[j] + p * X[i, :]
    dW = xp.astype(xp.stack(columns, axis=1) / N, dtype)
    return _add_l2(xp, loss / N, dW, W, reg)


def softmax_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, Any]:
    """Softmax (cross-entropy) loss without loops.

    Shapes: ``W (D, C)``, ``X (N, D)``, ``y (N,)`` -> ``(loss: float, dW (D, C))``.
    """
    xp, N, C, dtype = _check_inputs("softmax_loss_vectorized", W, X, y)
    scores = X @ W
    shifted = scores - xp.max(scores, axis=1, keepdims=True)
    exp_scores = xp.exp(shifted)
    sums = xp.sum(exp_scores, axis=1, keepdims=True)
    log_probs = shifted - xp.log(sums)
    onehot = one_hot(xp, y, C, scores.dtype)
    loss = -xp.sum(log_probs * onehot) / N
    dscores = (exp_scores / sums - onehot) / N
    dW = xp.astype(xp.matrix_transpose(X) @ dscores, dtype)
    return _add_l2(xp, loss, dW, W, reg)


def svm_loss_naive(W: Any, X: Any, y: Any, reg: float) -> tuple[float, Any]:
    """Multiclass hinge (SVM) loss, margin 1, with explicit loops.

    Shapes: ``W (D, C)``, ``X (N, D)``, ``y (N,)`` -> ``(loss: float, dW (D, C))``. The
    correct class is excluded from the sum of margins.
    """
    xp, N, C, dtype = _check_inputs("svm_loss_naive", W, X, y)
    columns = [xp.zeros(W.shape[0], dtype=dtype) for _ in range(C)]
    loss = 0.0
    for i in range(N):
        scores = X[i, :] @ W
        label = int(y[i])
        correct = float(scores[label])
        for j in range(C):
            if j == label:
                continue
            margin = float(scores[j]) - correct + 1.0
            if margin > 0:
                loss += margin
                columns[j] = columns[j] + X[i, :]
                columns[label] = columns[label] - X[i, :]
    dW = xp.astype(xp.stack(columns, axis=1) / N, dtype)
    return _add_l2(xp, loss / N, dW, W, reg)


def svm_loss_vectorized(W: Any, X: Any, y: Any, reg: float) -> tuple[float, Any]:
    """Multiclass hinge (SVM) loss, margin 1, without loops.

    Shapes: ``W (D, C)``, ``X (N, D)``, ``y (N,)`` -> ``(loss: float, dW (D, C))``.
    """
    xp, N, C, dtype = _check_inputs("svm_loss_vectorized", W, X, y)
    scores = X @ W
    onehot = one_hot(xp, y, C, scores.dtype)
    correct = xp.sum(scores * onehot, axis=1, keepdims=True)
    margins = scores - correct + 1.0
    active = xp.astype(margins > 0, scores.dtype) * (1.0 - onehot)
    loss = xp.sum(margins * active) / N
    dscores = (active - onehot * xp.sum(active, axis=1, keepdims=True)) / N
    dW = xp.astype(xp.matrix_transpose(X) @ dscores, dtype)
    return _add_l2(xp, loss, dW, W, reg)
