"""Shared fixtures: the ``xp`` fixture runs a test on every available array namespace.

NumPy and array-api-strict always; CuPy when a GPU is usable (marker ``gpu``). With
``--require-gpu`` a missing GPU fails the GPU tests instead of skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from xnn import backend

SHARED_CIFAR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifar-10-mini" / "cifar-10-batches-py"


def pytest_addoption(parser):
    parser.addoption("--require-gpu", action="store_true", default=False,
                     help="fail (instead of skip) tests that need a CUDA GPU when none is usable")


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    if backend.gpu_available():
        return
    require = config.getoption("--require-gpu")
    for item in items:
        if "gpu" in item.keywords:
            if require:
                item.add_marker(pytest.mark.xfail(reason="--require-gpu: no usable CUDA GPU", strict=True,
                                                  run=False))
            else:
                item.add_marker(pytest.mark.skip(reason="no usable CUDA GPU (CuPy)"))


def pytest_runtest_setup(item):
    if "gpu" in item.keywords and item.config.getoption("--require-gpu") and not backend.gpu_available():
        pytest.fail("--require-gpu given but no usable CUDA GPU (CuPy) was found")


def _namespaces():
    import array_api_compat.numpy as np_compat
    params = [pytest.param(np_compat, id="numpy")]
    try:
        import array_api_strict
        params.append(pytest.param(array_api_strict, id="strict"))
    except ImportError:  # pragma: no cover - the test extra installs it
        params.append(pytest.param(None, id="strict",
                                   marks=pytest.mark.skip(reason="array-api-strict not installed")))
    params.append(pytest.param("cupy", id="cupy", marks=pytest.mark.gpu))
    return params


@pytest.fixture(params=_namespaces())
def xp(request):
    """An Array API namespace: compat NumPy, array-api-strict, or compat CuPy (GPU only).

    Make inputs with ``xp.asarray(numpy_array)``; read results with ``xnn.backend.to_numpy``.
    """
    if request.param == "cupy":
        import array_api_compat.cupy as cp_compat
        return cp_compat
    return request.param


@pytest.fixture
def rng():
    """A seeded NumPy Generator for test data (independent of the legacy global RNG)."""
    return np.random.default_rng(231)


@pytest.fixture
def cifar_dir():
    """The shared real CIFAR-10 subset; the test is skipped when it is absent."""
    if not SHARED_CIFAR.is_dir():
        pytest.skip(f"shared CIFAR-10 subset not found at {SHARED_CIFAR}")
    return SHARED_CIFAR
