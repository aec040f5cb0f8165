"""cs231n's ``ThreeLayerConvNet``: conv - relu - 2x2 max pool - affine - relu - affine - softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import layers, validation
from . import base

__all__ = ["ThreeLayerConvNet"]


class ThreeLayerConvNet(base.ModelBase):
    """A three-layer convolutional network on NCHW images.

    The convolution has stride 1 and zero padding ``(filter_size - 1) // 2`` (odd filter sizes
    keep H and W), the pool is 2x2 with stride 2. Parameters (cast to ``dtype``):
    ``W1 (F, C, fs, fs)``, ``b1 (F,)``, ``W2 (F * (H // 2) * (W // 2), hidden_dim)``, ``b2``,
    ``W3 (hidden_dim, num_classes)``, ``b3``. The weights are ``weight_scale * randn`` drawn on the
    host in the order W1, W2, W3 (cs231n's order); biases are zeros. Attributes ``params``,
    ``reg``, ``dtype``.
    """

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32), num_filters: int = 32,
                 filter_size: int = 7, hidden_dim: int = 100, num_classes: int = 10,
                 weight_scale: float = 1e-3, reg: float = 0.0, dtype: Any = np.float32, *,
                 device: str | None = None) -> None:
        fn = "ThreeLayerConvNet"
        if len(tuple(input_dim)) != 3:
            raise ValueError(f"{fn}: input_dim must be (C, H, W), got {tuple(input_dim)!r}")
        C, H, W = (validation.check_positive_int(fn, f"input_dim[{i}]", v) for i, v in enumerate(input_dim))
        F = validation.check_positive_int(fn, "num_filters", num_filters)
        fs = validation.check_positive_int(fn, "filter_size", filter_size)
        hidden = validation.check_positive_int(fn, "hidden_dim", hidden_dim)
        classes = validation.check_positive_int(fn, "num_classes", num_classes)
        base.check_init_scalars(fn, weight_scale, reg)
        self.input_dim = (C, H, W)
        self.filter_size = fs
        self.reg = reg
        self.dtype = dtype
        # Spatial size after the 'same' conv (exact for odd filter sizes) and the 2x2 pool.
        pad = (fs - 1) // 2
        conv_h, conv_w = H + 2 * pad - fs + 1, W + 2 * pad - fs + 1
        if conv_h < 2 or conv_w < 2:
            raise ValueError(f"{fn}: a {fs}x{fs} filter leaves {conv_h}x{conv_w} outputs on a {H}x{W} input; "
                             "the 2x2 pool needs at least 2x2")
        pooled = F * (conv_h // 2) * (conv_w // 2)
        self.params = {
            "W1": base.host_weight(weight_scale, F, C, fs, fs),
            "b1": np.zeros(F),
            "W2": base.host_weight(weight_scale, pooled, hidden),
            "b2": np.zeros(hidden),
            "W3": base.host_weight(weight_scale, hidden, classes),
            "b3": np.zeros(classes),
        }
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.to(device)

    def loss(self, X: Any, y: Any = None) -> Any:
        """Scores, or loss and gradients, for a minibatch.

        Args:
            X: ``(N, C, H, W)`` images. Not cast to the model's dtype (cs231n behaviour: float64
                images meet float32 weights and the layers compute in float64).
            y: ``(N,)`` integer labels, or ``None``.

        Returns:
            ``y is None``: scores ``(N, num_classes)``. Otherwise ``(loss, grads)``: the mean
            softmax loss plus ``0.5 * reg * sum(W**2)`` over ``W1..W3`` as a Python float, and a
            gradient for every parameter (same keys and shapes).
        """
        base.check_model_input(self, X, y, feature_shape=getattr(self, "input_dim", None))
        X, y = self._to_model_device(X), self._to_model_device(y)
        p = self.params
        conv_param = {"stride": 1, "pad": (self.filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        # conv - pool - relu: the same values and gradients as conv - relu - pool (max and relu
        # commute; where a window's max is <= 0 both give it zero gradient), with the ReLU on the
        # 4x smaller pooled array, and the convolution and pool fused where the kernels can.
        pooled, conv_pool_cache = layers.conv_pool_forward(X, p["W1"], p["b1"], conv_param, pool_param)
        out, relu_cache = layers.relu_forward(pooled)
        head = base.affine_relu_affine_softmax(out, y, p["W2"], p["b2"], p["W3"], p["b3"])
        if y is None:
            return head
        data_loss, dout, (dW2, db2, dW3, db3) = head
        grads: dict[str, Any] = {"W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
        # The image gradient nobody reads is skipped (a matmul and col2im saved).
        grads["W1"], grads["b1"] = layers.conv_pool_backward_params(layers.relu_backward(dout, relu_cache),
                                                                   conv_pool_cache)
        return base.add_weight_decay(self, data_loss, grads)
