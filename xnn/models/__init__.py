"""Models: linear classifiers, TwoLayerNet, FullyConnectedNet, ThreeLayerConvNet, CaptioningRNN.

Every model takes ``device=`` (``"cpu"``, ``"gpu"``, ``"auto"``; ``None`` = the device in force),
draws its initial weights on the host in cs231n's RNG order, and has ``to(device)``, ``device``,
``save(fname)`` and ``load(fname)`` (``.npz``, never pickle).
"""

from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet, TwoLayerNet
from .linear import LinearClassifier, LinearSVM, Softmax
from .linear_losses import (
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)
from .rnn import CaptioningRNN

__all__ = [
    "TwoLayerNet",
    "FullyConnectedNet",
    "ThreeLayerConvNet",
    "CaptioningRNN",
    "LinearClassifier",
    "Softmax",
    "LinearSVM",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
]
