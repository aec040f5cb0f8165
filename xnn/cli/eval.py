"""``xnn eval RUN_DIR``: the test accuracy of a trained run, per class, with a confusion-matrix figure."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import HelpFormatter, add_data_arguments, add_device_argument, data_source

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``xnn eval``."""
    p = sub.add_parser("eval", help="test accuracy of a trained run (overall, per class, confusion matrix)",
                       formatter_class=HelpFormatter,
                       description="Load RUN_DIR (config.json, model.npz, preprocessing.npz), classify every test "
                                   "image of the data set and print the accuracy overall and per class. Writes "
                                   "confusion-<data>.png and eval-<data>.json into RUN_DIR.",
                       epilog="example:\n  xnn eval runs/cnn-20260101-120000 --data cifar10")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by xnn train")
    add_data_arguments(p, "the data the run was trained on")
    add_device_argument(p, "cpu", "cpu")
    p.set_defaults(run=run)


def _source_text(source: str, data_dir: str | None) -> str:
    if source == "sample":
        return "the bundled CIFAR-10 sample's test split"
    return f"the CIFAR-10 test batch in {data_dir or 'the default data directory'}"


def run(args: argparse.Namespace) -> int:
    """Evaluate the run on the test split; print the report and write the figure and the JSON."""
    from ..training.evaluate import evaluate
    from ..training.runs import load_run, load_test_data, write_json
    loaded = load_run(args.run_dir, device=args.device)
    source = data_source(args, loaded.config.get("data", "sample"))
    data_dir = args.data_dir if args.data_dir is not None or source != loaded.config.get("data") \
        else loaded.config.get("data_dir")
    X, y = load_test_data(source, data_dir)
    result = evaluate(loaded.predict, X, y, loaded.class_names)
    print(f"{loaded.path}: {loaded.config['model']} model on {_source_text(source, data_dir)}")
    print(result.report())
    out = Path(loaded.path)
    result.plot(out / f"confusion-{source}.png")
    write_json(out / f"eval-{source}.json", {"data": source, "data_dir": data_dir, **result.to_dict()})
    print(f"wrote {out / f'confusion-{source}.png'} and eval-{source}.json")
    return 0
