"""Dataset defaults for an alias forced over a real course folder.

cs231n's ``get_CIFAR10_data()`` reads ``<folder of data_utils.py>/datasets/cifar-10-batches-py``,
where the course's ``get_datasets.sh`` puts CIFAR-10. When :func:`xnn.compat.alias` is forced over
such a folder, the aliased ``data_utils.get_CIFAR10_data`` defaults to that directory whenever it
exists at call time, and to xnn's own default (:func:`xnn.data.default_cifar10_dir`) otherwise.
``XNN_DATA=sample`` is an explicit request for the bundled sample and wins over the folder.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Sequence
from typing import Any

from ..data.paths import sample_requested

__all__ = ["course_cifar10_dir", "use_course_datasets"]


def course_cifar10_dir(package_dirs: Sequence[str]) -> str | None:
    """The first ``<dir>/datasets/cifar-10-batches-py`` that exists, else None."""
    for d in package_dirs:
        candidate = os.path.join(d, "datasets", "cifar-10-batches-py")
        if os.path.isdir(candidate):
            return candidate
    return None


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
