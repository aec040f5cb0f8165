"""Dataset defaults for an alias forced over a real course folder (CIFAR-10 and COCO captioning).

cs231n's ``get_CIFAR10_data()`` reads ``<folder of data_utils.py>/datasets/cifar-10-batches-py``,
where the course's ``get_datasets.sh`` puts CIFAR-10. When :func:`xnn.compat.alias` is forced over
such a folder, the aliased ``data_utils.get_CIFAR10_data`` defaults to that directory whenever it
exists at call time, and to xnn's own default (:func:`xnn.data.default_cifar10_dir`) otherwise.
Likewise ``coco_utils.load_coco_data()`` reads ``<course folder>/datasets/coco_captioning`` (where
the course's ``get_coco_captioning.sh`` puts it) when that exists, else xnn's default.
``XNN_DATA=sample`` is an explicit request for the bundled sample and wins over the folder.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Sequence
from typing import Any

from ..data.paths import sample_requested

__all__ = ["course_cifar10_dir", "course_dataset_dir", "use_course_coco", "use_course_datasets"]


def course_dataset_dir(package_dirs: Sequence[str], name: str) -> str | None:
    """The first ``<dir>/datasets/<name>`` that exists, else None."""
    for d in package_dirs:
        candidate = os.path.join(d, "datasets", name)
        if os.path.isdir(candidate):
            return candidate
    return None


def course_cifar10_dir(package_dirs: Sequence[str]) -> str | None:
    """The first ``<dir>/datasets/cifar-10-batches-py`` that exists, else None."""
    return course_dataset_dir(package_dirs, "cifar-10-batches-py")


def use_course_datasets(module: types.ModuleType, package_dirs: Sequence[str]) -> None:
    """Replace ``module.get_CIFAR10_data`` by one defaulting to the course folder's CIFAR-10 copy."""
    if not package_dirs:
        return
    base = module.get_CIFAR10_data

    @functools.wraps(base)
    def get_CIFAR10_data(num_training: int = 49000, num_validation: int = 1000, num_test: int = 1000,
                         subtract_mean: bool = True, cifar10_dir: Any = None) -> dict[str, Any]:
        if cifar10_dir is None and not sample_requested():
            cifar10_dir = course_cifar10_dir(package_dirs)
        return base(num_training, num_validation, num_test, subtract_mean, cifar10_dir=cifar10_dir)

    module.get_CIFAR10_data = get_CIFAR10_data


def use_course_coco(module: types.ModuleType, package_dirs: Sequence[str]) -> None:
    """Replace ``module.load_coco_data`` by one defaulting to the course folder's COCO copy."""
    if not package_dirs:
        return
    base = module.load_coco_data
    xnn_default = module.BASE_DIR

    @functools.wraps(base)
    def load_coco_data(base_dir: Any = None, max_train: Any = None, pca_features: bool = True) -> dict[str, Any]:
        if base_dir is None:
            base_dir = course_dataset_dir(package_dirs, "coco_captioning") or xnn_default
        return base(base_dir, max_train=max_train, pca_features=pca_features)

    module.load_coco_data = load_coco_data
