"""Numerical gradient helpers: cs231n behaviour on NumPy, and the same results on every backend."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from helpers import assert_namespace

from xnn import backend
from xnn.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
    rel_error,
)


def _cubic(xp):
    """f(x) = sum(x**3 + 2x): gradient 3x**2 + 2."""
    return lambda a: xp.sum(a ** 3 + 2 * a)


# --------------------------------------------------------------------------- eval_numerical_gradient
def test_scalar_gradient_numpy_matches_centered_difference_exactly(rng):
    x = rng.standard_normal((2, 3))
    f = lambda a: float(np.sum(np.sin(a) * a))  # noqa: E731
    grad = eval_numerical_gradient(f, x, verbose=False)
    h = 1e-5
    for i in np.ndindex(x.shape):
        xp_, xm = x.copy(), x.copy()
        xp_[i] += h
        xm[i] -= h
        assert grad[i] == (f(xp_) - f(xm)) / (2 * h)


def test_scalar_gradient_every_backend(xp, rng):
    x_host = rng.standard_normal((3, 4))
    x = xp.asarray(x_host.copy())
    grad = eval_numerical_gradient(_cubic(xp), x, verbose=False)
    assert_namespace(grad, xp)
    assert grad.dtype == xp.float64 and grad.shape == (3, 4)
    assert rel_error(grad, 3 * x_host ** 2 + 2) < 1e-8
    assert np.array_equal(backend.to_numpy(x), x_host)  # restored exactly


def test_perturbs_x_in_place_so_closures_work(xp, rng):
    """cs231n callers pass f = lambda _: loss(params) and rely on x being mutated in place."""
    x_host = rng.standard_normal(5)
    x = xp.asarray(x_host.copy())
    seen = []

    def f(arg):
        seen.append(arg is x)
        return xp.sum(x * x)  # ignores its argument, reads the closed-over array

    grad = eval_numerical_gradient(f, x, verbose=False)
    assert all(seen) and len(seen) == 2 * 5 + 1  # one evaluation at x, two per element
    assert rel_error(grad, 2 * x_host) < 1e-8


def test_verbose_prints_index_and_value(capsys):
    x = np.array([[1.0, 2.0]])
    grad = eval_numerical_gradient(lambda a: float(np.sum(a ** 2)), x)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split(")")[0] + ")" for ln in lines] == ["(0, 0)", "(0, 1)"]
    assert [float(ln.split(")")[1]) for ln in lines] == pytest.approx(list(grad.ravel()))
    eval_numerical_gradient(lambda a: float(np.sum(a ** 2)), x, verbose=False)
    assert capsys.readouterr().out == ""


def test_float32_input_keeps_dtype(xp):
    x = xp.asarray(np.array([0.5, -1.0], dtype=np.float32))
    grad = eval_numerical_gradient(lambda a: xp.sum(a * a), x, verbose=False, h=1e-2)
    assert grad.dtype == xp.float32
    assert rel_error(grad, [1.0, -2.0]) < 1e-3


# --------------------------------------------------------------------------- array version
def test_array_gradient_every_backend(xp, rng):
    x_host, w_host = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    df_host = rng.standard_normal((2, 4))
    x, w = xp.asarray(x_host.copy()), xp.asarray(w_host)
    grad = eval_numerical_gradient_array(lambda a: xp.tanh(a @ w), x, xp.asarray(df_host))
    expected = ((1 - np.tanh(x_host @ w_host) ** 2) * df_host) @ w_host.T
    assert_namespace(grad, xp)
    assert rel_error(grad, expected) < 1e-6
    assert np.array_equal(backend.to_numpy(x), x_host)


def test_array_gradient_copies_outputs_that_alias_x():
    """f returning x itself must still give the identity (outputs are copied before x changes)."""
    x = np.array([1.0, 2.0, 3.0])
    grad = eval_numerical_gradient_array(lambda a: a, x, np.ones(3))
    assert np.allclose(grad, 1.0)


# --------------------------------------------------------------------------- blobs / net
class Blob:
    def __init__(self, vals, diffs=None):
        self.vals = vals
        self.diffs = diffs if diffs is not None else vals * 0


def test_blobs_product(xp, rng):
    a_host, b_host, d_host = (rng.standard_normal((2, 2)) for _ in range(3))
    a, b = Blob(xp.asarray(a_host.copy())), Blob(xp.asarray(b_host.copy()))
    out = Blob(xp.asarray(np.zeros((2, 2))), xp.asarray(d_host))

    def f(x, y, o):
        o.vals = x.vals * y.vals

    da, db = eval_numerical_gradient_blobs(f, (a, b), out)
    assert_namespace(da, xp)
    assert rel_error(da, d_host * b_host) < 1e-8
    assert rel_error(db, d_host * a_host) < 1e-8
    assert np.array_equal(backend.to_numpy(a.vals), a_host)


def test_net_wrapper_calls_forward_without_arguments(rng):
    a = Blob(rng.standard_normal(3))
    out = Blob(np.zeros(3), np.ones(3))

    class Net:
        def forward(self):
            out.vals = np.exp(a.vals)

    (da,) = eval_numerical_gradient_net(Net(), [a], out)
    assert rel_error(da, np.exp(a.vals)) < 1e-8


# --------------------------------------------------------------------------- grad_check_sparse
LINE = re.compile(r"^numerical: (-?\d+\.\d{6}) analytic: (-?\d+\.\d{6}), relative error: (\S+)$")


def test_sparse_format_and_python_random_indices(xp, rng, capsys):
    x_host = rng.standard_normal((4, 5))
    x = xp.asarray(x_host.copy())
    touched = []

    def f(a):
        diff = backend.to_numpy(a) - x_host
        touched.append(tuple(int(i) for i in np.argwhere(diff != 0)[0]) if diff.any() else None)
        return xp.sum(a ** 3 + 2 * a)

    random.seed(231)
    grad_check_sparse(f, x, xp.asarray(3 * x_host ** 2 + 2), num_checks=4)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    for ln in lines:
        m = LINE.match(ln)
        assert m, ln
        assert float(m.group(3)) < 1e-7
    random.seed(231)
    expected = [tuple(random.randrange(n) for n in (4, 5)) for _ in range(4)]
    assert touched == [i for i in expected for _ in (0, 1)]
    assert np.array_equal(backend.to_numpy(x), x_host)


def test_sparse_reports_a_wrong_gradient(capsys):
    x = np.ones(3)
    grad_check_sparse(lambda a: float(np.sum(a ** 2)), x, np.zeros(3), num_checks=2)
    for ln in capsys.readouterr().out.strip().splitlines():
        assert float(LINE.match(ln).group(3)) == pytest.approx(1.0)


# --------------------------------------------------------------------------- rel_error
def test_rel_error_values(xp):
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(xp.asarray(np.array([0.0])), np.array([0.0])) == 0.0
    assert rel_error(xp.asarray(np.array([1e-9])), np.array([0.0])) == pytest.approx(0.1)
