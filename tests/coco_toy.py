"""A tiny synthetic captioning set, in memory or written in the course's COCO file layout.

Each image has one caption (so a model can fit it exactly): ``<START>``, 2..T-2 random words,
``<END>``, ``<NULL>`` padding to ``T + 1`` columns. Features are random float32 vectors; URLs are
``http://images.invalid/<split>/<i>.jpg``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SPECIALS = ["<NULL>", "<START>", "<END>", "<UNK>"]


def vocabulary(num_words: int = 12) -> list[str]:
    return SPECIALS + [f"word{i}" for i in range(num_words)]


def _split(rng: np.random.Generator, split: str, n: int, D: int, T: int, V: int) -> dict[str, np.ndarray]:
    captions = np.zeros((n, T + 1), dtype=np.int32)
    for i in range(n):
        length = int(rng.integers(2, T - 1))
        captions[i, 0] = 1
        captions[i, 1:length + 1] = rng.integers(len(SPECIALS), V, size=length)
        captions[i, length + 1] = 2
    return {f"{split}_captions": captions,
            f"{split}_image_idxs": rng.permutation(n).astype(np.int32),
            f"{split}_features": rng.standard_normal((n, D)).astype(np.float32),
            f"{split}_urls": np.asarray([f"http://images.invalid/{split}/{i}.jpg" for i in range(n)])}


def toy_data(seed: int = 0, num_train: int = 20, num_val: int = 6, D: int = 16, T: int = 8,
             num_words: int = 12) -> dict:
    """The dict :func:`xnn.data.load_coco_data` would return for this set (same key order)."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(num_words)
    train = _split(rng, "train", num_train, D, T, len(vocab))
    val = _split(rng, "val", num_val, D, T, len(vocab))
    data = {k: train[k] for k in ("train_captions", "train_image_idxs")}
    data.update({k: val[k] for k in ("val_captions", "val_image_idxs")})
    data.update(train_features=train["train_features"], val_features=val["val_features"])
    data.update(idx_to_word=vocab, word_to_idx={w: i for i, w in enumerate(vocab)})
    data.update(train_urls=train["train_urls"], val_urls=val["val_urls"])
    return data


def write_coco_layout(base_dir: Path, data: dict, pca_features: bool = True) -> Path:
    """Write ``data`` as the course's files (HDF5 + JSON + text) under ``base_dir``; needs h5py."""
    import h5py
    base_dir.mkdir(parents=True, exist_ok=True)
    with h5py.File(base_dir / "coco2014_captions.h5", "w") as f:
        for key in ("train_captions", "train_image_idxs", "val_captions", "val_image_idxs"):
            f.create_dataset(key, data=data[key])
    suffix = "_pca" if pca_features else ""
    for split in ("train", "val"):
        with h5py.File(base_dir / f"{split}2014_vgg16_fc7{suffix}.h5", "w") as f:
            f.create_dataset("features", data=data[f"{split}_features"])
        (base_dir / f"{split}2014_urls.txt").write_text("".join(u + "\n" for u in data[f"{split}_urls"]))
    (base_dir / "coco2014_vocab.json").write_text(json.dumps(
        {"idx_to_word": data["idx_to_word"], "word_to_idx": data["word_to_idx"]}))
    return base_dir
