"""Models: linear classifiers, TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet."""

from .linear import LinearClassifier, LinearSVM, Softmax
from .linear_losses import softmax_loss_naive, softmax_loss_vectorized, svm_loss_naive, svm_loss_vectorized

__all__ = [
    "LinearClassifier",
    "Softmax",
    "LinearSVM",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
]
