"""Every cs231n layer in one namespace: the names of ``layers.py``, ``fast_layers.py`` and
``layer_utils.py``, plus xnn's own additions.

Each layer is ``forward(...) -> (out, cache)`` and ``backward(dout, cache) -> grads`` with
cs231n's signatures, dict keys and caches, and runs on any Array API namespace (NumPy, CuPy,
array-api-strict): outputs live in the namespace and on the device of the inputs.

Modules: ``affine`` (affine, ReLU), ``losses`` (softmax, SVM), ``norms`` (batch/layer norm),
``spatial_norms`` (spatial batch norm, group norm), ``dropout``, ``conv_naive`` / ``conv_fast``
(convolution; shared checks in ``conv``), ``pool`` (naive and fast max-pool), ``sandwich``
(``layer_utils``), ``rnn`` / ``lstm`` / ``temporal`` (the recurrent family of ``rnn_layers``;
shared checks and ``sigmoid`` in ``recurrent_common``).

The name groups below say which course file each name comes from; :mod:`xnn.compat` builds the
course modules from them.
"""

from __future__ import annotations

from .. import kernels as _kernels
from .affine import affine_backward, affine_forward, relu_backward, relu_forward
from .conv_fast import (
    conv_backward_fast,
    conv_backward_im2col,
    conv_backward_params,
    conv_backward_strides,
    conv_forward_fast,
    conv_forward_im2col,
    conv_forward_strides,
)
from .conv_naive import conv_backward_naive, conv_forward_naive
from .conv_pool import conv_pool_backward, conv_pool_backward_params, conv_pool_forward
from .dropout import dropout_backward, dropout_forward
from .losses import one_hot, softmax_loss, svm_loss
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .norms import batchnorm_backward, batchnorm_backward_alt, batchnorm_forward, layernorm_backward, layernorm_forward
from .pool import (
    max_pool_backward_fast,
    max_pool_backward_im2col,
    max_pool_backward_naive,
    max_pool_backward_reshape,
    max_pool_forward_fast,
    max_pool_forward_im2col,
    max_pool_forward_naive,
    max_pool_forward_reshape,
)
from .recurrent_common import sigmoid
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .sandwich import (
    affine_bn_relu_backward,
    affine_bn_relu_forward,
    affine_ln_relu_backward,
    affine_ln_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from .spatial_norms import (
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .temporal import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

# The first layer call of a session should cost what later calls cost (notebooks time one call).
_kernels.preload()

#: cs231n ``layers.py``.
LAYERS_NAMES = (
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
)
#: cs231n ``fast_layers.py``: the ``fast`` pairs every year has ...
FAST_LAYERS_NAMES = ("conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast")
#: ... and the implementation-specific pairs some years export.
FAST_LAYERS_EXTRA_NAMES = (
    "conv_forward_strides", "conv_backward_strides", "conv_forward_im2col", "conv_backward_im2col",
    "max_pool_forward_reshape", "max_pool_backward_reshape", "max_pool_forward_im2col", "max_pool_backward_im2col",
)
#: cs231n ``layer_utils.py``.
LAYER_UTILS_NAMES = (
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_bn_relu_forward", "conv_bn_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward",
)
#: xnn's sandwiches that some courses' ``layer_utils.py`` has (students write them in others).
LAYER_UTILS_EXTRA_NAMES = ("affine_bn_relu_forward", "affine_bn_relu_backward", "affine_ln_relu_forward",
                           "affine_ln_relu_backward")
#: cs231n ``rnn_layers.py`` (assignment 3): the recurrent family (``RECURRENT_NAMES``) plus the affine
#: pair that file defines itself (``__all__`` lists each name once).
RECURRENT_NAMES = (
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid", "lstm_step_forward", "lstm_step_backward",
    "lstm_forward", "lstm_backward", "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
)
RNN_LAYERS_NAMES = ("affine_forward", "affine_backward", *RECURRENT_NAMES)
#: xnn extensions that are no course name: a parameter-only conv backward, a convolution fused with
#: the max-pool after it, one-hot labels.
XNN_EXTRA_NAMES = ("conv_backward_params", "conv_pool_forward", "conv_pool_backward", "conv_pool_backward_params",
                   "one_hot")

__all__ = [*LAYERS_NAMES, *FAST_LAYERS_NAMES, *FAST_LAYERS_EXTRA_NAMES, *LAYER_UTILS_NAMES,
           *LAYER_UTILS_EXTRA_NAMES, *RECURRENT_NAMES, *XNN_EXTRA_NAMES]
