"""Test helpers: relative error and float64 numerical gradients on NumPy arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xnn import backend


def rel_error(x, y) -> float:
    """The notebooks' relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(backend.to_numpy(x), dtype=np.float64)
    y = np.asarray(backend.to_numpy(y), dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numeric_grad(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray | float = 1.0,
                 h: float = 1e-6) -> np.ndarray:
    """Centered-difference gradient of ``sum(f(x) * dout)`` with respect to ``x`` (float64).

    ``f`` takes and returns NumPy arrays (wrap a layer with ``xp.asarray`` / ``to_numpy``);
    ``x`` is perturbed in place and restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = np.asarray(f(x), dtype=np.float64)
        x[i] = old - h
        fm = np.asarray(f(x), dtype=np.float64)
        x[i] = old
        grad[i] = np.sum((fp - fm) * dout) / (2 * h)
        it.iternext()
    return grad


def assert_namespace(result, xp) -> None:
    """The result lives in the caller's namespace (NumPy in -> NumPy out, and so on)."""
    assert backend.namespace(result) is xp or backend.namespace_name(backend.namespace(result)) == \
        backend.namespace_name(xp), f"result namespace {backend.namespace(result)} != {xp}"


def grad_error(analytic, numeric) -> float:
    """max |analytic - numeric| divided by the largest numeric entry (at least 1).

    For checks on random data: the notebooks' element-wise :func:`rel_error` blows up on entries
    that happen to be tiny, where the centered differences' rounding (~1e-11) dominates.
    """
    a = np.asarray(backend.to_numpy(analytic), dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return float(np.max(np.abs(a - n), initial=0.0)) / max(1.0, float(np.max(np.abs(n), initial=0.0)))


def crash_solver_at(monkeypatch, step_index: int):
    """Make every ``Solver`` raise ``RuntimeError('simulated crash')`` at step ``step_index`` (0-based).

    Returns a function that undoes it (monkeypatch also undoes it at the end of the test).
    """
    from xnn.solver import Solver
    step = Solver._step

    def crash(self, t=0, num_iterations=0):
        if t == step_index:
            raise RuntimeError("simulated crash")
        return step(self, t, num_iterations)

    monkeypatch.setattr(Solver, "_step", crash)
    return lambda: monkeypatch.setattr(Solver, "_step", step)
