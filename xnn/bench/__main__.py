"""``python -m xnn.bench``: the benchmark without the ``xnn`` command line."""

import argparse

from .runner import add_arguments, main_bench

parser = argparse.ArgumentParser(prog="python -m xnn.bench",
                                 description="xnn fast kernels vs the standard-only path vs PyTorch.")
add_arguments(parser)
raise SystemExit(main_bench(parser.parse_args()))
