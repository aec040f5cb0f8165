"""Classification losses on class scores: softmax cross-entropy and multiclass SVM (hinge).

Both take scores ``x`` of shape ``(N, C)`` and integer labels ``y`` of shape ``(N,)`` and return
``(loss, dx)``: the mean loss over the N samples as a Python float, and its gradient with
respect to ``x`` in ``x``'s namespace and dtype.
"""

from __future__ import annotations

from typing import Any

from ..validation import check_labels, check_ndim, checked_namespace

__all__ = ["log_softmax", "one_hot", "softmax_loss", "svm_loss"]

Array = Any


def _check_scores_and_labels(fn: str, x: Array, y: Array):
    """Shared checks; returns the namespace of ``x`` and ``y``."""
    checked_namespace(fn, x=x)
    check_ndim(fn, "x", x, 2, "(N, C) class scores")
    N, C = x.shape
    if N < 1 or C < 1:
        raise ValueError(f"{fn}: x must hold at least one sample and one class, got shape {(N, C)}")
    check_labels(fn, y, N, C)
    return checked_namespace(fn, x=x, y=y)


def one_hot(xp, y: Array, num_classes: int, dtype) -> Array:
    """``(N, C)`` one-hot encoding of integer labels ``y (N,)`` in ``dtype``, on ``y``'s device
    (a comparison with ``arange``: no fancy indexing, so every namespace supports it)."""
    classes = xp.arange(num_classes, dtype=y.dtype, device=y.device)
    return xp.astype(y[:, None] == classes[None, :], dtype)


def log_softmax(xp, x: Array) -> Array:
    """Row-wise log-softmax of scores ``x (N, C)``: ``shifted - log(sum(exp(shifted)))`` with the
    scores shifted by their row maximum first, so no ``exp`` can overflow."""
    shifted = x - xp.max(x, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def softmax_loss(x: Array, y: Array) -> tuple[float, Array]:
    """Softmax cross-entropy loss, averaged over the minibatch.

    Numerically stable: scores are shifted by their row maximum before exponentiating, and the
    log-probabilities are computed as ``shifted - log(sum(exp(shifted)))``.

    Args:
        x: ``(N, C)`` scores; ``x[i, j]`` is the score of class ``j`` for sample ``i``.
        y: ``(N,)`` integer labels with ``0 <= y[i] < C``.

    Returns:
        ``(loss, dx)``: the mean cross-entropy as a Python float and ``dx`` of shape ``(N, C)``,
        ``(softmax(x) - onehot(y)) / N``.

    Raises:
        ValueError: ``x`` not 2-D, ``y`` of the wrong shape or with labels out of range.
        TypeError: non-integer labels, or ``x`` and ``y`` from different namespaces.
    """
    xp = _check_scores_and_labels("softmax_loss", x, y)
    N, C = x.shape
    log_probs = log_softmax(xp, x)
    onehot = one_hot(xp, y, C, x.dtype)
    loss = -xp.sum(log_probs * onehot) / N
    dx = (xp.exp(log_probs) - onehot) / N
    return float(loss), dx


def svm_loss(x: Array, y: Array) -> tuple[float, Array]:
    """Multiclass SVM (hinge) loss with margin 1, correct class excluded, averaged over N.

    ``loss = sum_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + 1) / N``.

    Args:
        x: ``(N, C)`` scores.
        y: ``(N,)`` integer labels with ``0 <= y[i] < C``.

    Returns:
        ``(loss, dx)``: the mean hinge loss as a Python float and ``dx`` of shape ``(N, C)``
        (each positive margin adds ``1/N`` to its class and ``-1/N`` to the correct class).

    Raises:
        ValueError: ``x`` not 2-D, ``y`` of the wrong shape or with labels out of range.
        TypeError: non-integer labels, or ``x`` and ``y`` from different namespaces.
    """
    xp = _check_scores_and_labels("svm_loss", x, y)
    N, C = x.shape
    onehot = one_hot(xp, y, C, x.dtype)
    is_correct = onehot > 0
    correct_scores = xp.sum(xp.where(is_correct, x, xp.zeros_like(x)), axis=1, keepdims=True)
    margins = xp.where(is_correct, xp.zeros_like(x), xp.maximum(x - correct_scores + 1.0, xp.zeros_like(x)))
    loss = xp.sum(margins) / N
    positive = xp.astype(margins > 0, x.dtype)
    dx = (positive - onehot * xp.sum(positive, axis=1, keepdims=True)) / N
    return float(loss), dx
