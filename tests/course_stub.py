"""Test helpers: a stub course package folder (the real assignment layout) and a fresh-interpreter runner.

:func:`make_course_package` writes what a course hands out next to its notebooks: ``<name>/``
with starter files xnn replaces (``layers.py``, ``solver.py``, ``data_utils.py``, ...), files only
the course has (``image_utils.py``, ``classifiers/k_nearest_neighbor.py``), course-only functions
inside a file xnn replaces (``data_utils.load_imagenet_val``, ...) and, optionally, its own
``datasets/cifar-10-batches-py``. Every starter function xnn should replace raises, so a test
notices when the course's copy runs instead of xnn's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_REPLACED = "def {f}(*args, **kwargs):\n    raise RuntimeError('the course stub of {f} ran instead of xnn')\n"

FILES = {
    "__init__.py": "",
    "layers.py": _REPLACED.format(f="affine_forward"),
    "layer_utils.py": "from .layers import *\n" + _REPLACED.format(f="affine_relu_forward"),
    "solver.py": "from cs231n import optim\nclass Solver:\n    def __init__(self, *a, **k):\n"
                 "        raise RuntimeError('the course stub Solver ran instead of xnn')\n",
    "optim.py": _REPLACED.format(f="sgd"),
    "gradient_check.py": _REPLACED.format(f="eval_numerical_gradient"),
    "data_utils.py": (
        "print('course data_utils.py executed')\n"
        + _REPLACED.format(f="get_CIFAR10_data")
        + "def load_imagenet_val(num=None):\n    return 'course load_imagenet_val', num\n"
        + "def load_tiny_imagenet(path, dtype=None, subtract_mean=True):\n    return 'course tiny', path\n"
        + "def load_models(models_dir):\n    return {'dir': models_dir}\n"
    ),
    "image_utils.py": "from .layers import *\nCOURSE_ONLY = 'image_utils from the course folder'\n",
    "classifiers/__init__.py": "from cs231n.classifiers.k_nearest_neighbor import *\n",
    "classifiers/k_nearest_neighbor.py": "class KNearestNeighbor:\n    origin = 'course'\n",
    "classifiers/fc_net.py": "from ..layers import *\n" + _REPLACED.format(f="FullyConnectedNet"),
    "datasets/get_datasets.sh": "#!/bin/bash\n# the course's download script (never run in tests)\n",
}


def make_course_package(where: Path, name: str = "cs231n", files: dict[str, str] | None = None) -> Path:
    """Write the stub course package ``<where>/<name>/`` (``cs231n`` imports become ``<name>``); return it."""
    pkg = where / name
    for rel, text in (FILES if files is None else files).items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("cs231n", name))
    return pkg


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True
               ) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``cwd`` first on sys.path, as a notebook next to its folder.

    xnn comes from this checkout (``PYTHONPATH``); ``env`` adds or overrides variables. With
    ``check`` a non-zero exit fails with both output streams shown.
    """
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    full_env.pop("XNN_DATA", None)  # the developer's own data setting must not leak into a test
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120, env=full_env)
    if check:
        assert proc.returncode == 0, f"subprocess failed:\n{proc.stdout}\n{proc.stderr}"
    return proc
