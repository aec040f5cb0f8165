"""Test-set evaluation of a classifier: accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend
from ..models.inference import predict_labels

__all__ = ["Evaluation", "confusion_matrix", "evaluate", "sampled_accuracy"]


def sampled_accuracy(scores_of: Callable[[Any], Any], X: Any, y: Any, num_samples: int | None = None,
                     batch_size: int = 100) -> float:
    """Fraction of ``X (N, ...)`` classified as ``y (N,)``, as a Python float (cs231n's ``check_accuracy``).

    With ``num_samples`` and ``N > num_samples`` a subsample of ``num_samples`` rows is drawn with
    ``np.random.choice(N, num_samples)`` (with replacement: the draw the course's seeded numbers
    depend on). ``scores_of(X_batch) -> (n, C)`` runs on batches of ``batch_size`` rows.
    """
    N = X.shape[0]
    if num_samples is not None and N > num_samples:
        mask = np.random.choice(N, num_samples)  # noqa: NPY002
        N = num_samples
        X, y = backend.gather_rows(X, mask), backend.gather_rows(y, mask)
    # min(): array-api-strict refuses a slice stop past the end
    predictions = [predict_labels(scores_of(X[start:min(start + batch_size, N), ...]))
                   for start in range(0, N, batch_size)]
    # The predicted labels stay where the model computed them until one host copy at the end
    # (one GPU sync per call, not one per batch).
    y_pred = (backend.to_numpy(backend.namespace(*predictions).concat(predictions)) if predictions
              else np.zeros(0, dtype=np.int64))
    return float(np.mean(y_pred == backend.to_numpy(y)))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Counts ``(num_classes, num_classes)``: entry ``[i, j]`` = images of class ``i`` predicted as ``j``."""
    t = np.asarray(backend.to_numpy(y_true), dtype=np.int64)
    p = np.asarray(backend.to_numpy(y_pred), dtype=np.int64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"confusion_matrix: y_true {t.shape} and y_pred {p.shape} must be matching 1-D label arrays")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"confusion_matrix: labels must lie in [0, {num_classes})")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass
class Evaluation:
    """What :func:`evaluate` measured on ``num_images`` images."""

    accuracy: float
    per_class_accuracy: np.ndarray  # (C,): correct / images of each class (nan for a class with no images)
    confusion: np.ndarray           # (C, C): rows true class, columns predicted class
    class_names: list[str]
    num_images: int

    def report(self) -> str:
        """The accuracy line and one line per class (``cat       41.0%  (41 / 100)``)."""
        width = max(len(n) for n in self.class_names)
        lines = [f"test accuracy: {self.accuracy:.4f} ({int(np.trace(self.confusion))} / {self.num_images} images)"]
        for i, name in enumerate(self.class_names):
            acc, total = self.per_class_accuracy[i], int(self.confusion[i].sum())
            share = "   n/a" if np.isnan(acc) else f"{100 * acc:5.1f}%"
            lines.append(f"  {name:<{width}}  {share}  ({int(self.confusion[i, i])} / {total})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: accuracy, per-class accuracy by name, the confusion matrix, the class names."""
        return {"accuracy": self.accuracy, "num_images": self.num_images,
                "per_class_accuracy": {n: (None if np.isnan(a) else float(a))
                                       for n, a in zip(self.class_names, self.per_class_accuracy)},
                "confusion": self.confusion.tolist(), "class_names": list(self.class_names)}

    def plot(self, path: str | os.PathLike | None = None, *, ax: Any = None):
        """The confusion matrix as a figure (:func:`xnn.vis.plot_confusion`), saved when given a path."""
        from ..vis import plot_confusion
        return plot_confusion(self.confusion, self.class_names, path, ax=ax)


def evaluate(predict: Callable[[Any], Any], X: Any, y: Any, class_names: Sequence[str]) -> Evaluation:
    """Run ``predict(X) -> labels (N,)`` and compare with ``y (N,)``; ``class_names`` fixes C."""
    names = [str(n) for n in class_names]
    y_pred = np.asarray(backend.to_numpy(predict(X)))
    cm = confusion_matrix(y, y_pred, len(names))
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)
    n = int(cm.sum())
    return Evaluation(accuracy=float(np.trace(cm)) / max(n, 1), per_class_accuracy=per_class, confusion=cm,
                      class_names=names, num_images=n)
