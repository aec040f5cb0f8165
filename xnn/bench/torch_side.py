"""The PyTorch path of ``xnn bench`` (imported lazily; xnn never depends on torch).

Forward ops run with autograd recording; backward ops are ``torch.autograd.grad`` on a graph
retained from one forward, so a backward timing covers only the backward. The training step is
the functional equivalent of a ThreeLayerConvNet step: conv -> relu -> 2x2 max-pool -> affine ->
relu -> affine -> softmax cross-entropy (+ 0.5*reg*sum W^2 when reg > 0), gradients by
``torch.autograd.grad``, then an in-place SGD update; an epoch is that step on consecutive batches.

On CUDA the bench runs with TF32 off (:func:`configure_cuda`) so float32 is IEEE float32 in
cuBLAS and cuDNN, like CuPy's default (TF32 only with ``CUPY_TF32=1``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

from .cases import LEARNING_RATE, TRAIN_PARAMS, Case, Prepared

__all__ = ["configure_cuda", "cuda_settings", "import_torch", "prepare_torch", "set_threads", "three_layer_loss",
           "to_host", "torch_device", "torch_sync"]


def import_torch():
    """The torch module, or ``None`` when it is not importable (its rows are then skipped)."""
    try:
        return importlib.import_module("torch")
    except Exception:  # ImportError, or a broken install: no torch rows
        return None


def torch_device(torch, device: str) -> str | None:
    """The torch device serving xnn ``device`` ("cpu" -> "cpu", "gpu" -> "cuda"), or None if unusable."""
    if device == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else None


def torch_sync(torch, tdev: str) -> None:
    """Wait for queued torch work on ``tdev`` (a no-op on the CPU)."""
    if tdev == "cuda":
        torch.cuda.synchronize()


TF32_FLAGS = ("matmul", "cudnn")


def _tf32_modules(torch) -> dict[str, Any]:
    return {"matmul": torch.backends.cuda.matmul, "cudnn": torch.backends.cudnn}


def configure_cuda(torch, tf32: bool | dict[str, bool] = False) -> dict[str, bool]:
    """Set ``torch.backends.cuda.matmul.allow_tf32`` and ``torch.backends.cudnn.allow_tf32`` to
    ``tf32`` (a bool, or the dict this returns, to restore); returns the previous values."""
    old = {}
    for name, module in _tf32_modules(torch).items():
        old[name] = bool(module.allow_tf32)
        module.allow_tf32 = bool(tf32[name] if isinstance(tf32, dict) else tf32)
    return old


def cuda_settings(torch) -> dict[str, Any] | None:
    """torch's CUDA device, cuDNN version and TF32 / cudnn.benchmark flags (None without CUDA)."""
    if not torch.cuda.is_available():
        return None
    return {"device": torch.cuda.get_device_name(), "cudnn": torch.backends.cudnn.version(),
            "allow_tf32": {n: bool(m.allow_tf32) for n, m in _tf32_modules(torch).items()},
            "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)}


def set_threads(torch, n: int | None = None) -> int:
    """Set torch's intra-op threads to ``n`` (default ``os.cpu_count()``); returns the previous value."""
    old = torch.get_num_threads()
    torch.set_num_threads(n or os.cpu_count() or 1)
    return old


def to_host(t: Any) -> np.ndarray:
    """A torch tensor (or number) as a NumPy array."""
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def _tensor(torch, a: np.ndarray, tdev: str, grad: bool = False):
    t = torch.tensor(np.ascontiguousarray(a), device=tdev)
    return t.requires_grad_(grad)


def _prepare_conv(torch, inputs: dict[str, Any], tdev: str) -> Prepared:
    F = torch.nn.functional
    x, w, b = (_tensor(torch, inputs[k], tdev, True) for k in ("x", "w", "b"))
    dout = _tensor(torch, inputs["dout"], tdev)
    state: dict[str, Any] = {}

    def fwd() -> tuple:
        state["out"] = F.conv2d(x, w, b, stride=inputs["stride"], padding=inputs["pad"])
        return (state["out"],)

    def bwd() -> tuple:
        return torch.autograd.grad(state["out"], (x, w, b), dout, retain_graph=True)

    fwd()
    return Prepared({"fwd": fwd, "bwd": bwd})


def _prepare_pool(torch, inputs: dict[str, Any], tdev: str) -> Prepared:
    F = torch.nn.functional
    x = _tensor(torch, inputs["x"], tdev, True)
    dout = _tensor(torch, inputs["dout"], tdev)
    kernel = (inputs["pool_height"], inputs["pool_width"])
    state: dict[str, Any] = {}

    def fwd() -> tuple:
        state["out"] = F.max_pool2d(x, kernel, stride=inputs["stride"])
        return (state["out"],)

    def bwd() -> tuple:
        return torch.autograd.grad(state["out"], (x,), dout, retain_graph=True)

    fwd()
    return Prepared({"fwd": fwd, "bwd": bwd})


def three_layer_loss(torch, params, X, y, pad: int, reg: float = 0.0):
    """ThreeLayerConvNet's loss on ``params`` (W1, b1, W2, b2, W3, b3): conv -> relu -> 2x2 max-pool ->
    affine -> relu -> affine -> softmax cross-entropy, plus ``0.5*reg*sum W^2`` when ``reg`` > 0."""
    F = torch.nn.functional
    W1, b1, W2, b2, W3, b3 = params
    h = F.max_pool2d(F.relu(F.conv2d(X, W1, b1, stride=1, padding=pad)), 2, stride=2)
    h = F.relu(h.reshape(h.shape[0], -1) @ W2 + b2)
    loss = F.cross_entropy(h @ W3 + b3, y)
    if reg:
        loss = loss + 0.5 * reg * sum((W * W).sum() for W in (W1, W2, W3))
    return loss


def _prepare_train(torch, case: Case, inputs: dict[str, Any], tdev: str, reg: float = 0.0) -> Prepared:
    params = [_tensor(torch, inputs["params"][k], tdev, True) for k in TRAIN_PARAMS]
    X = _tensor(torch, inputs["X"], tdev)
    y = torch.tensor(inputs["y"], device=tdev)
    pad = (case.shapes["filter_size"] - 1) // 2

    def update(Xb, yb) -> tuple:
        loss = three_layer_loss(torch, params, Xb, yb, pad, reg)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(LEARNING_RATE * g)
        return loss, grads

    def step() -> tuple:
        loss, grads = update(X, y)
        return (loss,) + tuple(grads)

    def epoch() -> tuple:
        B = case.shapes["batch"]
        for i in range(0, case.shapes["images"], B):
            loss, _ = update(X[i:i + B], y[i:i + B])
        return (loss,) + tuple(p.detach().clone() for p in params)

    return Prepared({"epoch": epoch} if case.kind == "epoch" else {"step": step})


def prepare_torch(torch, case: Case, inputs: dict[str, Any], tdev: str) -> Prepared:
    """The PyTorch path of a case on torch device ``tdev``."""
    if case.kind == "conv":
        return _prepare_conv(torch, inputs, tdev)
    if case.kind == "pool":
        return _prepare_pool(torch, inputs, tdev)
    if case.kind in ("lstm", "caption"):
        from .recurrent import prepare_recurrent_torch
        return prepare_recurrent_torch(torch, case, inputs, tdev)
    if case.kind == "job":
        from .job import prepare_torch_job
        return prepare_torch_job(torch, inputs, tdev)
    return _prepare_train(torch, case, inputs, tdev)
