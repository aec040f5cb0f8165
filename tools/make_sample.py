"""Build ``xnn/data/cifar10_sample.npz``, the real CIFAR-10 subset bundled with xnn.

Usage (from the project root)::

    python tools/make_sample.py [CIFAR_DIR] [--train 2000 --val 400 --test 400]

CIFAR_DIR is a ``cifar-10-batches-py`` directory (default: the shared 1017-images-per-file
subset at ``../shared/data/cifar-10-mini/cifar-10-batches-py``; the full official directory gives
the same file because only the first rows are used). The splits follow ``get_CIFAR10_data``:
train = the first ``--train`` training images, val = the next ``--val``, test = the first
``--test`` test images. Images are stored as uint8 NCHW, labels as uint8, class names as str.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from xnn.data import load_CIFAR10, load_label_names

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "data" / "cifar-10-mini" / "cifar-10-batches-py"
OUT = ROOT / "xnn" / "data" / "cifar10_sample.npz"


def to_uint8_nchw(X: np.ndarray) -> np.ndarray:
    """float64 NHWC images with integer values 0..255 -> uint8 NCHW (exact)."""
    return np.ascontiguousarray(X.transpose(0, 3, 1, 2)).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cifar_dir", nargs="?", default=str(DEFAULT_SRC))
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--val", type=int, default=400)
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    Xtr, ytr, Xte, yte = load_CIFAR10(args.cifar_dir)
    stop = args.train + args.val
    if stop > len(ytr) or args.test > len(yte):
        raise SystemExit(f"{args.cifar_dir} holds {len(ytr)} train / {len(yte)} test images; asked for "
                         f"{stop} / {args.test}")
    np.savez_compressed(
        args.out,
        X_train=to_uint8_nchw(Xtr[:args.train]), y_train=ytr[:args.train].astype(np.uint8),
        X_val=to_uint8_nchw(Xtr[args.train:stop]), y_val=ytr[args.train:stop].astype(np.uint8),
        X_test=to_uint8_nchw(Xte[:args.test]), y_test=yte[:args.test].astype(np.uint8),
        classes=np.array(load_label_names(args.cifar_dir), dtype=str),
    )
    print(f"wrote {args.out}: {Path(args.out).stat().st_size / 1e6:.2f} MB "
          f"({args.train} train, {args.val} val, {args.test} test)")


if __name__ == "__main__":
    main()
