"""The ``epoch`` case: one epoch of the default ``python -m xnn train`` job, xnn against plain PyTorch.

The job is what a new user runs first: a ThreeLayerConvNet built exactly as the CLI builds it
(its ``cnn`` defaults, seed 0), trained with adam on the bundled CIFAR-10 sample in batches of the
CLI's size. Both paths start from the same initial weights and see the same minibatches (indices
drawn once from ``RandomState(0)`` like the Solver's ``np.random.choice``); the PyTorch side is
the loop a PyTorch user writes (``torch.optim.Adam``, ``loss.backward()``). Timed: the training
steps of one epoch (the Solver's accuracy checks and checkpoints are not part of it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from .cases import TRAIN_PARAMS, Case, Prepared

__all__ = ["job_inputs", "prepare_torch_job", "prepare_xnn_job"]


def _cli_settings(dtype: str, quick: bool) -> dict[str, Any]:
    from ..training.runs import DEFAULTS
    defaults = DEFAULTS["cnn"]
    kwargs = dict(defaults["model_kwargs"])
    if quick:
        kwargs.update(num_filters=4, hidden_dim=10)
    return {"model": "cnn", "model_kwargs": kwargs, "dtype": dtype, "device": "cpu", "reg": defaults["reg"],
            "lr": defaults["lr"], "batch_size": 10 if quick else defaults["batch_size"]}


def job_inputs(case: Case, dtype: str) -> dict[str, Any]:
    """Sample images, the CLI model's initial weights (seed 0) and one epoch of minibatch indices."""
    from ..data import load_sample
    from ..training.runs import build_model
    settings = _cli_settings(dtype, case.shapes["quick"])
    data = load_sample(case.shapes["images"], 0, 0)
    X, y = data["X_train"].astype(dtype), data["y_train"]
    saved = np.random.get_state()  # noqa: NPY002  (the CLI seeds the global RNG; leave it as found)
    try:
        np.random.seed(0)  # noqa: NPY002
        model = build_model(settings, X.shape[1:])
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    rs = np.random.RandomState(0)
    B = settings["batch_size"]
    batches = [rs.choice(X.shape[0], B) for _ in range(max(X.shape[0] // B, 1))]
    return {"X": X, "y": y, "batches": batches, "settings": settings,
            "params": {k: backend.to_numpy(v).copy() for k, v in model.params.items()}}


def prepare_xnn_job(inputs: dict[str, Any], device: str) -> Prepared:
    """xnn: ``model.loss`` and ``optim.adam`` on every parameter, per minibatch (the Solver's step)."""
    from ..optim import adam
    from ..training.runs import build_model
    settings = inputs["settings"]
    model = build_model({**settings, "device": device}, inputs["X"].shape[1:])
    model.params = {k: backend.to_device(v.copy(), device) for k, v in inputs["params"].items()}
    configs = {k: {"learning_rate": settings["lr"]} for k in TRAIN_PARAMS}
    X, y = inputs["X"], inputs["y"]

    def epoch() -> tuple:
        for idx in inputs["batches"]:
            Xb = backend.to_device(backend.gather_rows(X, idx), device)
            yb = backend.to_device(backend.gather_rows(y, idx), device)
            loss, grads = model.loss(Xb, yb)
            for k in TRAIN_PARAMS:
                model.params[k], configs[k] = adam(model.params[k], grads[k], configs[k])
        return (loss,) + tuple(model.params[k] for k in TRAIN_PARAMS)

    return Prepared({"epoch": epoch})


def prepare_torch_job(torch, inputs: dict[str, Any], tdev: str) -> Prepared:
    """PyTorch: the same network, ``torch.optim.Adam`` and ``loss.backward()`` per minibatch."""
    from .torch_side import three_layer_loss
    settings = inputs["settings"]
    params = [torch.tensor(inputs["params"][k], device=tdev, requires_grad=True) for k in TRAIN_PARAMS]
    optimizer = torch.optim.Adam(params, lr=settings["lr"])
    X = torch.tensor(inputs["X"], device=tdev)
    y = torch.tensor(inputs["y"], device=tdev)
    batches = [torch.tensor(idx, device=tdev) for idx in inputs["batches"]]
    pad, reg = (settings["model_kwargs"]["filter_size"] - 1) // 2, settings["reg"]

    def epoch() -> tuple:
        for idx in batches:
            loss = three_layer_loss(torch, params, X[idx], y[idx], pad, reg)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return (loss.detach(),) + tuple(p.detach().clone() for p in params)

    return Prepared({"epoch": epoch})
