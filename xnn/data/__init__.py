"""Datasets: cs231n's CIFAR-10 ``data_utils`` functions, a safe downloader, the bundled sample, and
the COCO captioning utilities of assignment 3 (``coco_utils``).

* :mod:`xnn.data.cifar`: ``load_pickle``, ``load_CIFAR_batch``, ``load_CIFAR10``, ``load_label_names``;
* :mod:`xnn.data.splits`: ``get_CIFAR10_data`` (plus a ``cifar10_dir=`` argument; on a smaller
  set it uses what exists and warns once);
* :mod:`xnn.data.paths`: ``default_data_root`` (``$XNN_DATA`` or a per-user cache),
  ``default_cifar10_dir`` and ``sample_requested`` (``XNN_DATA=sample``: the bundled sample);
* :mod:`xnn.data.download`: ``download_cifar10`` (md5-checked, resumable, safe extraction);
* :mod:`xnn.data.sample`: ``load_sample``, the real CIFAR-10 subset shipped in the package;
* :mod:`xnn.data.coco`: ``load_coco_data`` (HDF5 through the optional h5py, ``xnn[coco]``),
  ``decode_captions``, ``sample_coco_minibatch``.
"""

from __future__ import annotations

from .cifar import (
    CIFAR10_CLASSES,
    load_CIFAR10,
    load_CIFAR_batch,
    load_label_names,
    load_pickle,
)
from .coco import MissingExtraError, decode_captions, load_coco_data, sample_coco_minibatch
from .download import CIFAR10_MD5, CIFAR10_URL, download_cifar10
from .paths import default_cifar10_dir, default_coco_dir, default_data_root, sample_requested
from .sample import SAMPLE_FILE, load_sample
from .splits import get_CIFAR10_data

__all__ = [
    "load_pickle",
    "load_CIFAR_batch",
    "load_CIFAR10",
    "get_CIFAR10_data",
    "load_sample",
    "load_label_names",
    "default_data_root",
    "default_cifar10_dir",
    "sample_requested",
    "download_cifar10",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "CIFAR10_CLASSES",
    "SAMPLE_FILE",
    "load_coco_data",
    "decode_captions",
    "sample_coco_minibatch",
    "default_coco_dir",
    "MissingExtraError",
]
