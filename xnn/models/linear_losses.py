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


def _loop_loss(fn: str, W: Any, X: Any, y: Any, reg: float, sample_loss) -> tuple[float, Any]:
    """The naive losses' shared loop: one sample at a time, one class column of dW at a time.

    ``sample_loss(xp, scores (C,), label)`` returns the sample's loss and, per class ``j``, the
    factor ``dL_i/dscore_j`` by which ``X[i]`` enters column ``j`` of dW (``dW = X^T dscores``,
    accumulated column by column as the course's loop version does).
    """
    xp, N, C, dtype = _check_inputs(fn, W, X, y)
    columns = [xp.zeros(W.shape[0], dtype=dtype) for _ in range(C)]
    loss = 0.0
    for i in range(N):
        loss_i, factors = sample_loss(xp, X[i, :] @ W, int(y[i]))
        loss += loss_i
        for j, factor in enumerate(factors):
            if factor:
                columns[j] = columns[j] + factor * X[i, :]
    dW = xp.astype(xp.stack(columns, axis=1) / N, dtype)
    return _add_l2(xp, loss / N, dW, W, reg)


def _softmax_sample(xp, scores: Any, label: int) -> tuple[float, list[float]]:
    """Cross-entropy of one sample: ``log(sum exp) - score[label]``; factors ``p_j - [j == label]``."""
    shifted = scores - xp.max(scores)
    exp_scores = [float(xp.exp(shifted[j])) for j in range(shifted.shape[0])]
    total = sum(exp_scores)
    factors = [e / total for e in exp_scores]
    factors[label] -= 1.0
    return math.log(total) - float(shifted[label]), factors


def _svm_sample(xp, scores: Any, label: int) -> tuple[float, list[float]]:
    """Hinge loss of one sample: ``sum_{j != label} max(0, s_j - s_label + 1)``; factor 1 for each
    positive margin and minus their count for the label."""
    correct = float(scores[label])
    margins = [float(scores[j]) - correct + 1.0 for j in range(scores.shape[0])]
    factors = [1.0 if j != label and m > 0 else 0.0 for j, m in enumerate(margins)]
    factors[label] = -sum(factors)
    return sum(m for j, m in enumerate(margins) if j != label and m > 0), factors


def softmax_loss_naive(W: Any, X: Any, y: Any, reg: float) -> tuple[float, Any]:
    """Softmax (cross-entropy) loss with explicit loops over samples and classes.

    Shapes: ``W (D, C)``, ``X (N, D)``, ``y (N,)`` -> ``(loss: float, dW (D, C))``.
    Scores are shifted by their row maximum before exponentiating (numerically stable).
    """
    return _loop_loss("softmax_loss_naive", W, X, y, reg, _softmax_sample)


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
    return _loop_loss("svm_loss_naive", W, X, y, reg, _svm_sample)


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
