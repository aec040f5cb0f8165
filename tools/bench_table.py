#!/usr/bin/env python3
"""Print the README markdown table of an ``xnn bench --json`` file.

Usage: ``python tools/bench_table.py benchmarks/cpu-2026-11-23.json [--targets-only]``

Prints the machine line, the settings, then the table (``--targets-only``: only the rows that
carry a performance target, i.e. the fwd+bwd and training-step rows).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xnn.bench.report import format_machine, format_table  # noqa: E402


def render(doc: dict, targets_only: bool = False) -> str:
    """The markdown text for one bench JSON document."""
    results = doc["results"]
    if targets_only:
        results = [r for r in results if r.get("target")]
    s = doc.get("settings") or {}
    load = s.get("loadavg_start")
    settings = (f"median of {s.get('repeat')} runs after {s.get('warmup')} warm-ups, device {s.get('device')}, "
                f"{s.get('date', '')}" + (f", load at start {load[0]:.2f}" if load else "")).rstrip(", ")
    return f"Machine: {format_machine(doc['machine'])}\n\n{settings}\n\n{format_table(results)}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file", type=Path)
    parser.add_argument("--targets-only", action="store_true")
    args = parser.parse_args(argv)
    print(render(json.loads(args.json_file.read_text()), args.targets_only), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
