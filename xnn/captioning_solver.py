"""cs231n's ``CaptioningSolver``: minibatch training of an image-captioning model, plus devices.

Usage is the course's::

    solver = CaptioningSolver(model, data, update_rule="adam", optim_config={"learning_rate": 5e-3},
                              lr_decay=0.95, num_epochs=50, batch_size=25, print_every=10)
    solver.train()
    solver.loss_history

``data`` is the dict of :func:`xnn.data.load_coco_data` (at least ``train_captions``,
``train_image_idxs``, ``train_features`` and ``train_urls``); the model has ``params`` and
``loss(features, captions) -> (loss, grads)``. Keyword arguments (``update_rule="sgd"``,
``optim_config={}``, ``lr_decay=1.0``, ``batch_size=100``, ``num_epochs=10``,
``print_every=10``, ``verbose=True``), the printed ``(Iteration t / T) loss: ...`` lines, the
learning-rate decay at each epoch end and the RNG use (one :func:`xnn.data.sample_coco_minibatch`
draw per step) are the course's; there is no validation and no best-parameter tracking, and
:meth:`CaptioningSolver.check_accuracy` returns 0.0.

It is a :class:`xnn.solver.Solver` with another data layout, so it has the same additions:
``device=``, ``progress=``, ``on_nonfinite=``, ``checkpoint_name=`` (``.npz`` checkpoints at
each epoch end; :meth:`resume` continues on the same loss curve) and Ctrl-C handling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import validation
from .data.coco import sample_coco_minibatch
from .solver import Solver
from .training.solver_args import reject_unknown

__all__ = ["CaptioningSolver"]

# The Solver's keyword arguments less the accuracy subsampling (there is no accuracy check here).
_DEFAULTS: dict[str, Any] = {k: v for k, v in Solver.defaults.items()
                             if k not in ("num_train_samples", "num_val_samples")}

_TRAIN_KEYS = ("train_captions", "train_image_idxs", "train_features", "train_urls")


class CaptioningSolver(Solver):
    """Trains a captioning model (cs231n contract; see the module docstring).

    Attributes: ``model``, ``data``, the keyword arguments (``update_rule`` as a function),
    ``epoch``, ``loss_history``, ``optim_configs`` (+ the unused ``best_val_acc``,
    ``best_params``, ``train_acc_history``, ``val_acc_history`` the course also resets).
    """

    defaults = _DEFAULTS

    def __init__(self, model: Any, data: Mapping[str, Any], **kwargs: Any) -> None:
        reject_unknown(kwargs, self.defaults)  # the course's solver has no accuracy-subsampling arguments
        super().__init__(model, data, **kwargs)

    def _read_data(self, data: Mapping[str, Any]) -> None:
        validation.require_keys("CaptioningSolver", "data", data, _TRAIN_KEYS)
        self.data = data

    def _check_data(self) -> None:
        """Train captions ``(n, T+1)`` integer, one image index per caption, features ``(m, D)``."""
        fn = "CaptioningSolver"
        captions, idxs, features = (self.data[k] for k in _TRAIN_KEYS[:3])
        validation.check_ndim(fn, "data['train_captions']", captions, 2, "(num_captions, T + 1)")
        validation.check_ndim(fn, "data['train_image_idxs']", idxs, 1, "(num_captions,)")
        validation.check_ndim(fn, "data['train_features']", features, 2, "(num_images, D)")
        if idxs.shape[0] != captions.shape[0]:
            raise ValueError(f"{fn}: data['train_image_idxs'] has {idxs.shape[0]} entries but data['train_captions'] "
                             f"has {captions.shape[0]} rows")
        if captions.shape[0] == 0:
            raise ValueError(f"{fn}: data['train_captions'] holds no captions")

    def _num_train(self) -> int:
        return self.data["train_captions"].shape[0]

    def _minibatch(self) -> tuple[Any, Any]:
        """``(features, captions)`` of one :func:`sample_coco_minibatch` draw, on the solver's device."""
        captions, features, _ = sample_coco_minibatch(self.data, batch_size=self.batch_size, split="train")
        return self._on_device(features), self._on_device(captions)

    def _check_and_record(self, bar: Any) -> None:
        """No accuracy to check (the course's stub): only the checkpoint, when one is named."""
        self._save_checkpoint(bar)

    def _finish(self) -> None:
        """The model keeps its last parameters (no best-parameter tracking)."""

    def check_accuracy(self, X: Any, y: Any, num_samples: int | None = None, batch_size: int = 100) -> float:
        """The course's stub: always 0.0."""
        return 0.0
