"""COCO captioning data in the course's layout (cs231n ``coco_utils`` contract).

A data directory holds (names fixed by the course's download script):

* ``coco2014_captions.h5``: ``train_captions`` / ``val_captions`` ``(n, 17)`` int32 word indices
  (``<START>``, words, ``<END>``, ``<NULL>`` padding) and ``train_image_idxs`` / ``val_image_idxs``
  ``(n,)`` int32, the feature row of each caption;
* ``train2014_vgg16_fc7_pca.h5`` / ``val2014_vgg16_fc7_pca.h5`` (512-d, key ``features``), or
  ``train2014_vgg16_fc7.h5`` / ``val2014_vgg16_fc7.h5`` (4096-d) without PCA;
* ``coco2014_vocab.json``: ``idx_to_word`` (list) and ``word_to_idx`` (dict), indices 0-3 being
  ``<NULL>``, ``<START>``, ``<END>``, ``<UNK>``;
* ``train2014_urls.txt`` / ``val2014_urls.txt``: one image URL per feature row.

Reading HDF5 needs h5py, an optional extra (``pip install 'xnn[coco]'``); it is imported only
inside :func:`load_coco_data`, so importing this module never needs it. The default directory
is :func:`xnn.data.paths.default_coco_dir`, ``<xnn data root>/coco_captioning`` (``$XNN_DATA``
or the per-user cache).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import backend
from .paths import default_coco_dir

__all__ = ["BASE_DIR", "load_coco_data", "decode_captions", "sample_coco_minibatch", "MissingExtraError"]

CAPTIONS_FILE = "coco2014_captions.h5"
VOCAB_FILE = "coco2014_vocab.json"
SPLITS = ("train", "val")


class MissingExtraError(ImportError):
    """An optional dependency of xnn is not installed; the message names the pip extra."""


BASE_DIR = os.fspath(default_coco_dir())


def _h5py():
    try:
        return importlib.import_module("h5py")
    except ImportError as err:
        raise MissingExtraError("load_coco_data needs h5py to read the COCO HDF5 files: "
                                "pip install 'xnn[coco]' (or pip install h5py)") from err


def _read_h5(h5py: Any, path: str, keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file (or only ``keys``) as NumPy arrays, in the file's order."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_coco_data: {path} not found; expected the course's COCO captioning files "
                                f"(coco2014_captions.h5, *2014_vgg16_fc7*.h5, coco2014_vocab.json, *2014_urls.txt) "
                                f"in {os.path.dirname(path)}")
    try:
        with h5py.File(path, "r") as f:
            names = list(f.keys()) if keys is None else list(keys)
            missing = [k for k in names if k not in f]
            if missing:
                raise ValueError(f"load_coco_data: {path} has no dataset {missing[0]!r} (has {sorted(f.keys())})")
            return {k: np.asarray(f[k]) for k in names}
    except OSError as err:
        raise ValueError(f"load_coco_data: {path} is not a readable HDF5 file ({err})") from None


def _read_urls(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_coco_data: {path} not found (one image URL per line expected)")
    with open(path, encoding="utf-8") as f:
        return np.asarray([line.strip() for line in f])


def _read_vocab(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_coco_data: {path} not found (the vocabulary: idx_to_word, word_to_idx)")
    try:
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"load_coco_data: {path} is not valid JSON ({err})") from None
    if not isinstance(vocab, dict) or not {"idx_to_word", "word_to_idx"} <= set(vocab):
        raise ValueError(f"load_coco_data: {path} must hold 'idx_to_word' and 'word_to_idx'")
    return vocab


def _check_consistent(data: Mapping[str, Any], base_dir: str) -> None:
    """Caption rows point at existing feature rows; one URL per feature row."""
    for split in SPLITS:
        idxs, features, urls = data[f"{split}_image_idxs"], data[f"{split}_features"], data[f"{split}_urls"]
        if idxs.size and (idxs.min() < 0 or idxs.max() >= features.shape[0]):
            raise ValueError(f"load_coco_data: {split}_image_idxs in {base_dir} point at rows "
                             f"{idxs.min()}..{idxs.max()} but {split}_features has {features.shape[0]} rows")
        if urls.shape[0] != features.shape[0]:
            raise ValueError(f"load_coco_data: {split}2014_urls.txt has {urls.shape[0]} lines but {split}_features has "
                             f"{features.shape[0]} rows (in {base_dir})")


def load_coco_data(base_dir: str | os.PathLike = BASE_DIR, max_train: int | None = None,
                   pca_features: bool = True) -> dict[str, Any]:
    """Load the COCO captioning data (see the module docstring for the files).

    Prints ``base dir  <path>`` first, like the course. Returns a dict with, in order, the
    caption file's datasets (``train_captions``, ``train_image_idxs``, ``val_captions``,
    ``val_image_idxs``), ``train_features``, ``val_features``, the vocabulary's keys
    (``idx_to_word``, ``word_to_idx``), ``train_urls`` and ``val_urls`` (NumPy string arrays).

    ``max_train``: keep that many training captions drawn with replacement by one
    ``np.random.randint(num_train, size=max_train)`` (NumPy's global RNG); features and URLs stay
    complete.

    Raises:
        MissingExtraError: h5py is not installed (names the ``coco`` extra).
        FileNotFoundError: a file is missing (named). ValueError: a file is corrupt or the files
        disagree (named).
    """
    base_dir = os.fspath(base_dir)
    print("base dir ", base_dir)
    h5py = _h5py()
    data: dict[str, Any] = dict(_read_h5(h5py, os.path.join(base_dir, CAPTIONS_FILE)))
    suffix = "_pca" if pca_features else ""
    for split in SPLITS:
        path = os.path.join(base_dir, f"{split}2014_vgg16_fc7{suffix}.h5")
        data[f"{split}_features"] = _read_h5(h5py, path, ["features"])["features"]
    data.update(_read_vocab(os.path.join(base_dir, VOCAB_FILE)))
    for split in SPLITS:
        data[f"{split}_urls"] = _read_urls(os.path.join(base_dir, f"{split}2014_urls.txt"))
    _check_consistent(data, base_dir)
    if max_train is not None:
        num_train = data["train_captions"].shape[0]
        mask = np.random.randint(num_train, size=max_train)  # noqa: NPY002  (the course's RNG use)
        data["train_captions"] = data["train_captions"][mask]
        data["train_image_idxs"] = data["train_image_idxs"][mask]
    return data


def decode_captions(captions: Any, idx_to_word: Sequence[str] | Mapping[int, str]) -> str | list[str]:
    """Word indices back to text.

    ``captions`` is one caption ``(T,)`` or a batch ``(N, T)`` (any namespace; copied to the
    host). ``<NULL>`` is skipped, every other token is kept (``<START>`` included) up to and
    including the first ``<END>``; words are joined by single spaces. Returns a str for one
    caption, a list of N str for a batch.
    """
    captions = backend.to_numpy(captions)
    single = captions.ndim == 1
    rows = captions[None, :] if single else captions
    decoded = []
    for row in rows:
        words = []
        for idx in row:
            word = idx_to_word[int(idx)]
            if word != "<NULL>":
                words.append(word)
            if word == "<END>":
                break
        decoded.append(" ".join(words))
    return decoded[0] if single else decoded


def sample_coco_minibatch(data: Mapping[str, Any], batch_size: int = 100,
                          split: str = "train") -> tuple[Any, Any, np.ndarray]:
    """A random minibatch of one split: ``(captions (B, T+1), image_features (B, D), urls (B,))``.

    The caption rows are one ``np.random.choice(num_captions, batch_size)`` (with replacement,
    NumPy's global RNG); the features and URLs are those of each caption's image. Arrays are
    gathered where they live (NumPy or a device), the URLs on the host.
    """
    split_size = data[f"{split}_captions"].shape[0]
    mask = np.random.choice(split_size, batch_size)  # noqa: NPY002  (the course's RNG use)
    captions = backend.gather_rows(data[f"{split}_captions"], mask)
    image_idxs = backend.to_numpy(backend.gather_rows(data[f"{split}_image_idxs"], mask))
    image_features = backend.gather_rows(data[f"{split}_features"], image_idxs)
    urls = np.asarray(data[f"{split}_urls"])[image_idxs]
    return captions, image_features, urls
