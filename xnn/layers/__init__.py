"""Every cs231n layer in one namespace: the names of ``layers.py``, ``fast_layers.py`` and
``layer_utils.py``, plus the ``affine_bn_relu`` / ``affine_ln_relu`` sandwiches.

Each layer is ``forward(...) -> (out, cache)`` and ``backward(dout, cache) -> grads`` with
cs231n's signatures, dict keys and caches, and runs on any Array API namespace (NumPy, CuPy,
array-api-strict): outputs live in the namespace and on the device of the inputs.

Modules: ``affine`` (affine, ReLU), ``losses`` (softmax, SVM), ``norms`` (batch/layer norm),
``spatial_norms`` (spatial batch norm, group norm), ``dropout``, ``conv`` (naive and fast
convolution), ``pool`` (naive and fast max-pool), ``sandwich`` (``layer_utils``).
"""

from __future__ import annotations

from .affine import affine_backward, affine_forward, relu_backward, relu_forward
from .conv import (conv_backward_fast, conv_backward_im2col, conv_backward_naive, conv_backward_strides,
                   conv_forward_fast, conv_forward_im2col, conv_forward_naive, conv_forward_strides)
from .dropout import dropout_backward, dropout_forward
from .losses import softmax_loss, svm_loss
from .norms import (batchnorm_backward, batchnorm_backward_alt, batchnorm_forward, layernorm_backward,
                    layernorm_forward)
from .pool import (max_pool_backward_fast, max_pool_backward_im2col, max_pool_backward_naive,
                   max_pool_backward_reshape, max_pool_forward_fast, max_pool_forward_im2col,
                   max_pool_forward_naive, max_pool_forward_reshape)
from .sandwich import (affine_bn_relu_backward, affine_bn_relu_forward, affine_ln_relu_backward,
                       affine_ln_relu_forward, affine_relu_backward, affine_relu_forward, conv_bn_relu_backward,
                       conv_bn_relu_forward, conv_relu_backward, conv_relu_forward, conv_relu_pool_backward,
                       conv_relu_pool_forward)
from .spatial_norms import (spatial_batchnorm_backward, spatial_batchnorm_forward, spatial_groupnorm_backward,
                            spatial_groupnorm_forward)

__all__ = [
    # layers.py
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
    # fast_layers.py
    "conv_forward_fast", "conv_backward_fast", "conv_forward_strides", "conv_backward_strides",
    "conv_forward_im2col", "conv_backward_im2col",
    "max_pool_forward_fast", "max_pool_backward_fast", "max_pool_forward_reshape", "max_pool_backward_reshape",
    "max_pool_forward_im2col", "max_pool_backward_im2col",
    # layer_utils.py
    "affine_relu_forward", "affine_relu_backward", "conv_relu_forward", "conv_relu_backward",
    "conv_relu_pool_forward", "conv_relu_pool_backward", "conv_bn_relu_forward", "conv_bn_relu_backward",
    # xnn's extra sandwiches
    "affine_bn_relu_forward", "affine_bn_relu_backward", "affine_ln_relu_forward", "affine_ln_relu_backward",
]
