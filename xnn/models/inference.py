"""Batched inference for trained models: class scores, labels and probabilities.

Every function takes ``X (N, ...)`` in any namespace and on any device; the model moves each batch
to its own device (as ``model.loss`` does), so results come back in the model's namespace and on
its device. Batches keep memory bounded on large inputs.
"""

from __future__ import annotations

from typing import Any

from .. import backend, validation

__all__ = ["batched", "check_batch_size", "predict_labels", "softmax_probabilities"]


def check_batch_size(fn: str, batch_size: Any) -> int:
    """``batch_size`` as a positive ``int`` (``ValueError``/``TypeError`` naming ``fn`` otherwise)."""
    return validation.check_positive_int(fn, "batch_size", batch_size)


def batched(score_fn: Any, X: Any, batch_size: int) -> Any:
    """``score_fn`` applied to ``X`` in row batches of ``batch_size``, the results concatenated.

    ``score_fn(X_batch) -> (n, C)``. An empty ``X`` gives ``score_fn(X)`` itself (shape ``(0, C)``).
    """
    N = X.shape[0]
    if N <= batch_size:
        return score_fn(X)
    parts = [score_fn(X[start:start + batch_size, ...]) for start in range(0, N, batch_size)]
    return backend.namespace(*parts).concat(parts, axis=0)


def predict_labels(scores: Any) -> Any:
    """``argmax`` over the classes of ``scores (N, C)``: integer labels ``(N,)``."""
    return backend.namespace(scores).argmax(scores, axis=1)


def softmax_probabilities(scores: Any) -> Any:
    """Row-wise softmax of ``scores (N, C)`` (shifted by the row max, so large scores cannot overflow)."""
    xp = backend.namespace(scores)
    shifted = scores - xp.max(scores, axis=1, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=1, keepdims=True)
