"""The xnn side of ``xnn bench``: each case's fast / generic path, from the shared host inputs.

The path (NumPy fast kernels, CUDA kernels, or the standard-only ones) follows the kernel choice in
force when the ops run (the runner sets ``XNN_KERNELS`` around the generic path).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .cases import LEARNING_RATE, TRAIN_PARAMS, Case, Prepared

__all__ = ["prepare_xnn"]


def _on(device: str, a: Any) -> Any:
    return backend.to_device(a, device) if device != "cpu" else a


def _prepare_conv(inputs: dict[str, Any], device: str) -> Prepared:
    from ..layers import conv_backward_fast, conv_forward_fast
    x, w, b, dout = (_on(device, inputs[k]) for k in ("x", "w", "b", "dout"))
    conv_param = {"stride": inputs["stride"], "pad": inputs["pad"]}
    state: dict[str, Any] = {}

    def fwd() -> tuple:
        out, state["cache"] = conv_forward_fast(x, w, b, conv_param)
        return (out,)

    def bwd() -> tuple:
        return tuple(conv_backward_fast(dout, state["cache"]))

    fwd()
    return Prepared({"fwd": fwd, "bwd": bwd})


def _prepare_pool(inputs: dict[str, Any], device: str) -> Prepared:
    from ..layers import max_pool_backward_fast, max_pool_forward_fast
    x, dout = _on(device, inputs["x"]), _on(device, inputs["dout"])
    pool_param = {k: inputs[k] for k in ("pool_height", "pool_width", "stride")}
    state: dict[str, Any] = {}

    def fwd() -> tuple:
        out, state["cache"] = max_pool_forward_fast(x, pool_param)
        return (out,)

    def bwd() -> tuple:
        return (max_pool_backward_fast(dout, state["cache"]),)

    fwd()
    return Prepared({"fwd": fwd, "bwd": bwd})


def _prepare_train(case: Case, inputs: dict[str, Any], device: str, dtype: str) -> Prepared:
    """A training step (``train``) or epoch (``epoch``): ``model.loss`` + ``sgd`` on every parameter."""
    from ..models import ThreeLayerConvNet
    from ..optim import sgd
    sh = case.shapes
    model = ThreeLayerConvNet(input_dim=sh["input_dim"], num_filters=sh["num_filters"],
                              filter_size=sh["filter_size"], hidden_dim=sh["hidden_dim"],
                              num_classes=sh["num_classes"], dtype=np.dtype(dtype).type)
    model.params = {k: _on(device, v.copy()) for k, v in inputs["params"].items()}
    X, y = _on(device, inputs["X"]), _on(device, inputs["y"])
    configs = {k: {"learning_rate": LEARNING_RATE} for k in TRAIN_PARAMS}

    def update(Xb: Any, yb: Any) -> tuple:
        loss, grads = model.loss(Xb, yb)
        for k in TRAIN_PARAMS:
            model.params[k], configs[k] = sgd(model.params[k], grads[k], configs[k])
        return loss, grads

    def step() -> tuple:
        loss, grads = update(X, y)
        return (loss,) + tuple(grads[k] for k in TRAIN_PARAMS)

    def epoch() -> tuple:
        B = sh["batch"]
        for i in range(0, sh["images"], B):   # the data is random: in-order batches are an epoch
            loss, _ = update(X[i:i + B], y[i:i + B])
        return (loss,) + tuple(model.params[k] for k in TRAIN_PARAMS)

    return Prepared({"epoch": epoch} if case.kind == "epoch" else {"step": step})


def prepare_xnn(case: Case, inputs: dict[str, Any], device: str, dtype: str) -> Prepared:
    """The xnn path of a case on ``device`` ("cpu" or "gpu"); the kernel path follows ``XNN_KERNELS``."""
    if case.kind == "conv":
        return _prepare_conv(inputs, device)
    if case.kind == "pool":
        return _prepare_pool(inputs, device)
    if case.kind in ("lstm", "caption"):
        from .recurrent import prepare_recurrent_xnn
        return prepare_recurrent_xnn(case, inputs, device)
    if case.kind == "job":
        from .job import prepare_xnn_job
        return prepare_xnn_job(inputs, device)
    return _prepare_train(case, inputs, device, dtype)
