"""``xnn predict RUN_DIR IMAGE ...``: the most likely classes of image files, with probabilities."""

from __future__ import annotations

import argparse

import numpy as np

from .common import HelpFormatter, add_device_argument, positive_int

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``xnn predict``."""
    p = sub.add_parser("predict", help="classify image files with a trained run",
                       formatter_class=HelpFormatter,
                       description="Read each image (PNG natively; JPEG and others through Pillow), resize it to "
                                   "the run's input size (32x32) when needed, apply the run's preprocessing (the "
                                   "training mean image) and print the most likely classes with probabilities.",
                       epilog="example:\n  xnn predict runs/cnn-20260101-120000 cat.png truck.jpg")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by xnn train")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (RGB or grayscale, any size)")
    p.add_argument("--top", type=positive_int, default=3, help="how many classes to print per image")
    add_device_argument(p, "cpu", "cpu")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print ``<image>: <class> <p>%, ...`` per image (noting any resize)."""
    from ..images import read_image, resize
    from ..training.runs import load_run
    loaded = load_run(args.run_dir, device=args.device)
    C, H, W = loaded.config.get("input_shape", (3, 32, 32))
    originals = [read_image(path) for path in args.images]
    batch = np.stack([resize(img, H, W) for img in originals]).transpose(0, 3, 1, 2)
    proba = loaded.predict_proba(batch)
    top = min(args.top, proba.shape[1])
    for path, img, p in zip(args.images, originals, proba):
        best = np.argsort(-p, kind="stable")[:top]
        resized = f" (resized from {img.shape[1]}x{img.shape[0]})" if img.shape[:2] != (H, W) else ""
        print(f"{path}{resized}: " + ", ".join(f"{loaded.class_names[i]} {100 * p[i]:.1f}%" for i in best))
    return 0
