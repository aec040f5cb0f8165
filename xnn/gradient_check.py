"""Numerical gradients by centered differences (the cs231n ``gradient_check`` contract).

Each function perturbs one element of the input **in place** by ``+h`` and ``-h``, evaluates the
function, and restores the element, so callers may pass an ``f`` that ignores its argument and
closes over the array instead (``lambda _: model.loss(X, y)[0]`` with a parameter array).

NumPy inputs behave exactly like cs231n (same iteration order, same dtype arithmetic, same
printing). CuPy and array-api-strict inputs work too: the element is written on the array
itself (one ``x[idx] = value`` per step), the original values are read from a host NumPy copy,
and the outputs of ``f`` are brought to the host to form the differences. Gradients come back
in the namespace of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from random import randrange
from typing import Any

import numpy as np

from . import backend

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "eval_numerical_gradient_blobs",
    "eval_numerical_gradient_net",
    "grad_check_sparse",
    "rel_error",
]

Array = Any


def _host(value: Any) -> Any:
    """NumPy / Python values unchanged; device arrays (CuPy, array-api-strict) as NumPy copies."""
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return value
    return np.array(backend.to_numpy(value), copy=True)


def _host_copy(value: Any) -> np.ndarray:
    """A NumPy copy of an array's current values (the ``.copy()`` cs231n takes of outputs)."""
    return np.array(backend.to_numpy(value), copy=True)


def _indices(x: Array, host: np.ndarray):
    """Multi-indices of ``x`` in cs231n's order (``np.nditer`` over the NumPy view of ``x``)."""
    it = np.nditer(host, flags=["multi_index"], op_flags=[["readonly"]])
    while not it.finished:
        yield it.multi_index
        it.iternext()


def _set(fn: str, x: Array, idx: tuple[int, ...], value: Any) -> None:
    """``x[idx] = value`` with a clear error for immutable array types."""
    if not isinstance(x, np.ndarray) and isinstance(value, np.generic):
        value = value.item()  # array-api-strict accepts Python scalars only
    try:
        x[idx] = value
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: cannot write into the input array {type(x).__name__} "
                        f"(shape {tuple(x.shape)}); numerical gradients perturb it in place") from exc


def _original(x: Array) -> np.ndarray:
    """Host values of ``x`` to restore from: ``x`` itself for NumPy, else a copy."""
    return x if isinstance(x, np.ndarray) else _host_copy(x)


def _centered(fn: str, x: Array, idx: tuple[int, ...], old: Any, h: float,
              evaluate: Callable[[], Any]) -> tuple[Any, Any]:
    """``(evaluate() at x[idx] = old + h, evaluate() at x[idx] = old - h)``; ``x[idx]`` restored to ``old``."""
    _set(fn, x, idx, old + h)
    plus = evaluate()
    _set(fn, x, idx, old - h)
    minus = evaluate()
    _set(fn, x, idx, old)
    return plus, minus


def eval_numerical_gradient(f: Callable[[Array], Any], x: Array, verbose: bool = True,
                            h: float = 0.00001) -> Array:
    """Numerical gradient of a scalar function ``f`` at ``x``.

    Args:
        f: takes an array shaped like ``x`` and returns a scalar (Python/NumPy number or 0-d array).
        x: the point, any shape; perturbed in place and restored element by element.
        verbose: print each multi-index and its gradient, as cs231n does.
        h: the half step of the centered difference.

    Returns:
        ``grad`` with the shape and dtype of ``x`` in ``x``'s namespace:
        ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)``.
    """
    f(x)  # cs231n evaluates f once at the original point first
    orig = _original(x)
    grad = np.zeros_like(orig)
    for idx in _indices(x, orig):
        fxph, fxmh = _centered("eval_numerical_gradient", x, idx, orig[idx], h, lambda: _host(f(x)))
        grad[idx] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(idx, grad[idx])
    return backend.from_host(grad, like=x)


def eval_numerical_gradient_array(f: Callable[[Array], Array], x: Array, df: Array,
                                  h: float = 1e-5) -> Array:
    """Numerical gradient of an array function, contracted with an upstream gradient.

    Args:
        f: takes an array shaped like ``x`` and returns an array shaped like ``df``.
        x: the point, any shape; perturbed in place and restored.
        df: upstream gradient, the shape of ``f(x)``.
        h: the half step.

    Returns:
        ``grad`` shaped like ``x`` in ``x``'s namespace:
        ``grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)``.
    """
    orig = _original(x)
    df_host = backend.to_numpy(df)
    grad = np.zeros_like(orig)
    for idx in _indices(x, orig):
        pos, neg = _centered("eval_numerical_gradient_array", x, idx, orig[idx], h, lambda: _host_copy(f(x)))
        grad[idx] = np.sum((pos - neg) * df_host) / (2 * h)
    return backend.from_host(grad, like=x)


def eval_numerical_gradient_blobs(f: Callable[..., Any], inputs: Sequence[Any], output: Any,
                                  h: float = 1e-5) -> list[Array]:
    """Numerical gradients for blob-style functions (objects with ``.vals`` and ``.diffs``).

    Args:
        f: called as ``f(*inputs, output)``; it writes its result into ``output.vals``.
        inputs: blobs whose ``.vals`` are perturbed in place (each any shape).
        output: blob whose ``.diffs`` holds the upstream gradient (shape of ``output.vals``).
        h: the half step.

    Returns:
        One gradient per input blob, shaped like its ``.diffs``, in the namespace of its ``.vals``.
    """
    args = tuple(inputs) + (output,)

    def run() -> np.ndarray:
        f(*args)
        return _host_copy(output.vals)

    grads = []
    for blob in inputs:
        vals = blob.vals
        orig = _original(vals)
        grad = np.zeros_like(backend.to_numpy(blob.diffs))
        for idx in _indices(vals, orig):
            pos, neg = _centered("eval_numerical_gradient_blobs", vals, idx, orig[idx], h, run)
            grad[idx] = np.sum((pos - neg) * backend.to_numpy(output.diffs)) / (2.0 * h)
        grads.append(backend.from_host(grad, like=vals))
    return grads


def eval_numerical_gradient_net(net: Any, inputs: Sequence[Any], output: Any,
                                h: float = 1e-5) -> list[Array]:
    """:func:`eval_numerical_gradient_blobs` with ``f`` = ``net.forward()`` (arguments ignored)."""
    return eval_numerical_gradient_blobs(lambda *args: net.forward(), inputs, output, h=h)


def grad_check_sparse(f: Callable[[Array], Any], x: Array, analytic_grad: Array,
                      num_checks: int = 10, h: float = 1e-5) -> None:
    """Compare an analytic gradient with centered differences at ``num_checks`` random elements.

    Indices are drawn with Python's ``random.randrange`` (one call per dimension, seed with
    ``random.seed``). Prints ``numerical: %f analytic: %f, relative error: %e`` per check.

    Args:
        f: scalar function of an array shaped like ``x``.
        x: the point, any shape; perturbed in place and restored.
        analytic_grad: the gradient to check, shape of ``x``.
        num_checks: how many random elements to test.
        h: the half step.
    """
    orig = _original(x)
    analytic = backend.to_numpy(analytic_grad)
    for _ in range(num_checks):
        idx = tuple(randrange(m) for m in orig.shape)
        fxph, fxmh = _centered("grad_check_sparse", x, idx, orig[idx], h, lambda: _host(f(x)))
        numerical = float((fxph - fxmh) / (2 * h))
        exact = float(analytic[idx])
        denom = abs(numerical) + abs(exact)
        error = abs(numerical - exact) / denom if denom > 0 else 0.0
        print("numerical: %f analytic: %f, relative error: %e" % (numerical, exact, error))


def rel_error(x: Any, y: Any) -> float:
    """The notebooks' relative error ``max(|x - y| / max(1e-8, |x| + |y|))`` in float64.

    Accepts arrays of any namespace (or scalars) of broadcastable shapes.
    """
    a = np.asarray(backend.to_numpy(x), dtype=np.float64)
    b = np.asarray(backend.to_numpy(y), dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
