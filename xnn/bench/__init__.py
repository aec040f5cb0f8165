"""``xnn bench``: xnn's fast kernels vs its standard-only path vs PyTorch, side by side in one process.

* :mod:`xnn.bench.cases`: the benchmark cases (shapes, seeded inputs, the xnn side of each);
* :mod:`xnn.bench.torch_side`: the same cases in PyTorch (imported lazily; optional);
* :mod:`xnn.bench.timing`: warm-up + median timing, device syncs, the ``XNN_KERNELS`` switch;
* :mod:`xnn.bench.report`: machine description, targets, the markdown table;
* :mod:`xnn.bench.runner`: runs the cases on every path, checks the outputs agree, writes JSON.

``python -m xnn bench`` and ``python -m xnn.bench`` run it; ``benchmarks/README.md`` documents
the cases and what is recorded.
"""

from __future__ import annotations

from .report import format_table, machine_info
from .runner import PATHS, add_arguments, main_bench, run_bench, write_json
from .timing import kernels_env, rel_error, scaled_error, time_paths

__all__ = ["PATHS", "add_arguments", "format_table", "kernels_env", "machine_info", "main_bench", "rel_error",
           "run_bench", "scaled_error", "time_paths", "write_json"]
