"""``xnn predict RUN_DIR IMAGE ...``: the most likely classes of image files, with probabilities."""

from __future__ import annotations

import argparse

import numpy as np

from .common import positive_int, run_dir_parser

__all__ = ["DEFAULT_TOP", "add_parser", "run"]

#: How many classes ``xnn predict`` prints per image unless ``--top`` says otherwise.
DEFAULT_TOP = 3


def add_parser(sub) -> None:
    """Register ``xnn predict``."""
    p = run_dir_parser(sub, "predict", "classify image files with a trained run",
                       "Read each image (PNG natively; JPEG and others through Pillow), resize it to the run's input "
                       "size (32x32) when needed, apply the run's preprocessing (the training mean image) and print "
                       "the most likely classes with probabilities.", "runs/cnn-20260101-120000 cat.png truck.jpg")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (RGB or grayscale, any size)")
    p.add_argument("--top", type=positive_int, default=DEFAULT_TOP, help="how many classes to print per image")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print ``<image>: <class> <p>%, ...`` per image (noting any resize)."""
    from ..data.images import read_image, resize
    from ..training.runs import DEFAULT_INPUT_SHAPE, load_run
    loaded = load_run(args.run_dir, device=args.device)
    C, H, W = loaded.config.get("input_shape", DEFAULT_INPUT_SHAPE)  # the shape load_run built the model for
    originals = [read_image(path) for path in args.images]
    batch = np.stack([resize(img, H, W) for img in originals]).transpose(0, 3, 1, 2)
    proba = loaded.predict_proba(batch)
    top = min(args.top, proba.shape[1])
    for path, img, p in zip(args.images, originals, proba):
        best = np.argsort(-p, kind="stable")[:top]
        resized = f" (resized from {img.shape[1]}x{img.shape[0]})" if img.shape[:2] != (H, W) else ""
        print(f"{path}{resized}: " + ", ".join(f"{loaded.class_names[i]} {100 * p[i]:.1f}%" for i in best))
    return 0
