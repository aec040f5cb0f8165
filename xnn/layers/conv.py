"""Convolution layers: every cs231n name, in one module.

* :mod:`xnn.layers.conv_naive`: ``conv_forward_naive`` / ``conv_backward_naive`` (loop references).
* :mod:`xnn.layers.conv_fast`: the ``fast``, ``strides`` and ``im2col`` pairs (im2col + one matmul).
"""

from __future__ import annotations

from .conv_fast import (
    conv_backward_fast,
    conv_backward_im2col,
    conv_backward_strides,
    conv_forward_fast,
    conv_forward_im2col,
    conv_forward_strides,
)
from .conv_naive import conv_backward_naive, conv_forward_naive

__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_naive",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_naive",
    "conv_forward_strides",
]
