"""``xnn eval RUN_DIR``: the test accuracy of a trained run, per class, with a confusion-matrix figure."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import DATA_SOURCES, add_data_arguments, data_source, missing_data_note, run_dir_parser

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``xnn eval``."""
    p = run_dir_parser(sub, "eval", "test accuracy of a trained run (overall, per class, confusion matrix)",
                       "Load RUN_DIR (config.json, model.npz, preprocessing.npz), classify every test image of the "
                       "data set and print the accuracy overall and per class. Writes confusion-<data>.png and "
                       "eval-<data>.json into RUN_DIR.", "runs/cnn-20260101-120000 --data cifar10")
    add_data_arguments(p, "the data the run was trained on")
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
    trained_on = loaded.config.get("data")
    source = data_source(args, trained_on if trained_on in DATA_SOURCES else "sample")
    data_dir = args.data_dir if args.data_dir is not None or source != loaded.config.get("data") \
        else loaded.config.get("data_dir")
    try:
        X, y = load_test_data(source, data_dir)
    except FileNotFoundError as exc:
        raise missing_data_note(exc) from None
    result = evaluate(loaded.predict, X, y, loaded.class_names)
    print(f"{loaded.path}: {loaded.config['model']} model on {_source_text(source, data_dir)}")
    print(result.report())
    out = Path(loaded.path)
    result.plot(out / f"confusion-{source}.png")
    write_json(out / f"eval-{source}.json", {"data": source, "data_dir": data_dir, **result.to_dict()})
    print(f"wrote {out / f'confusion-{source}.png'} and eval-{source}.json")
    return 0
